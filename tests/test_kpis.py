"""KPI cards: the arrow agrees with the change shown, and empty periods say so."""

from django.utils import timezone

from sessions_app.figures import Totals, kpis


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


# --- no comparison where the data starts inside the previous period ---------------------------


def _overview(client, user, query=""):
    client.force_login(user)
    return client.get(f"/?{query}").content.decode()


def _months_of_a(world):
    """Partner A with sessions from long before the previous period, as after a deep backfill."""
    from datetime import timedelta

    from django.utils import timezone

    from tests.factories import record, store

    long_ago = timezone.now() - timedelta(days=75)
    store(world.a, *[record(60000 + i, long_ago + timedelta(days=i)) for i in range(70)])


def test_a_partner_whose_data_starts_late_gets_no_change_but_a_reason(client, world):
    _months_of_a(world)
    body = _overview(client, world.users["superuser"])  # sees A and B
    starts = f"{world.b.backfill_start:%b %-d}"
    if world.b.backfill_start.year != timezone.now().date().year:  # the product adds the year
        starts += f", {world.b.backfill_start:%Y}"
    assert (
        f"No comparison with the previous period: {world.b.name}&#x27;s data starts {starts}."
        in body
    )
    assert 'class="kpi-change' not in body  # no arrow, no percentage


def test_a_partner_with_data_before_the_previous_period_shows_its_changes(client, world):
    _months_of_a(world)
    body = _overview(client, world.users["superuser"], f"partner={world.a.pk}")
    assert "no comparison" not in body and 'class="kpi-change' in body
    assert "vs " in body


def test_an_agent_page_says_when_its_partner_has_no_comparison(client, world):
    agent = world.session_of(world.a).agent
    client.force_login(world.users["analyst"])
    body = client.get(f"/agents/{agent.pk}/").content.decode()
    assert f"No comparison with the previous period: {world.a.name}&#x27;s data starts" in body
    assert 'class="kpi-change' not in body


def test_data_that_starts_inside_the_previous_period_is_no_comparison_either(client, world):
    """Sessions from 45 days ago: the last 30 days are whole, the 30 before them are not."""
    from datetime import timedelta

    from django.utils import timezone

    from tests.factories import record, store

    start = timezone.now() - timedelta(days=45)
    store(world.a, *[record(61000 + i, start + timedelta(days=i)) for i in range(40)])
    body = _overview(client, world.users["analyst"])
    assert f"{world.a.name}&#x27;s data starts {start:%b %-d}" in body
    assert 'class="kpi-change' not in body
    longer = _overview(client, world.users["analyst"], "preset=7d")  # both weeks are whole
    assert "No comparison" not in longer and 'class="kpi-change' in longer


def test_the_data_start_is_said_in_the_users_time_zone(client, world):
    """Tokyo is nine hours ahead: a start late in the UTC evening is the next day there."""
    from datetime import UTC, datetime, time, timedelta
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    from sessions_app.models import Profile
    from tests.factories import record, store

    evening = datetime.combine(timezone.now().date() - timedelta(days=40), time(20), tzinfo=UTC)
    store(world.a, record(62000, evening))
    Profile.objects.create(user=world.users["analyst"], time_zone="Asia/Tokyo")
    body = _overview(client, world.users["analyst"])
    local = evening.astimezone(ZoneInfo("Asia/Tokyo"))
    assert f"data starts {local:%b %-d}" in body and local.date() != evening.date()


def test_a_partner_the_page_does_not_show_takes_no_comparison_away(client, world):
    """Filtered to one of A's agents, B's late start is no reason to drop A's changes."""
    _months_of_a(world)
    agent = world.session_of(world.a).agent
    body = _overview(client, world.users["superuser"], f"agent={agent.pk}")
    assert "No comparison" not in body and 'class="kpi-change' in body
