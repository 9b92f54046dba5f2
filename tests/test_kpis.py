"""KPI cards: the arrow agrees with the change shown, and empty periods say so."""

from sessions_app import kpis
from sessions_app.stats import Totals


def totals(sessions=100, connected=80, median=300):
    return Totals(sessions, connected, 2.0, 5, 3, median, 900)


def test_a_change_that_rounds_to_zero_is_flat():
    card = kpis.cards(totals(median=301), totals(median=300), "vs before")[2]
    assert (card.change, card.direction) == ("+0%", "flat")


def test_changes_point_the_right_way():
    cards = kpis.cards(totals(sessions=150, connected=90), totals(), "vs before")
    assert (cards[0].value, cards[0].change, cards[0].direction) == ("150", "+50%", "up")
    assert (cards[1].value, cards[1].change, cards[1].direction) == ("60.0%", "-20.0 pts", "down")


def test_no_sessions_before_or_now_is_said_plainly():
    empty = Totals(0, 0, None, 0, 0, None, None)
    assert kpis.cards(empty, empty, "vs before")[2].note == "no sessions"
    assert kpis.cards(totals(), empty, "vs before")[0].note == "none vs before"
