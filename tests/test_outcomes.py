"""The outcome filter, written out by hand from Glance's status letters: connected is C
(completed) and X (completed without a clean close); not connected is Q (quit before anyone
joined) and T (timed out waiting); every other letter is "other". The session list and the
rollups must each select exactly those, since both are built from one rule."""

from datetime import date
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.http import QueryDict

from sessions_app import figures
from sessions_app.figures import selection
from sessions_app.figures.filters import SessionFilter
from sessions_app.models import Membership, Partner
from tests.factories import record, store

LETTERS = "ACDEJKLQTUWX"
EXPECTED = {
    "connected": set("CX"),
    "not_connected": set("QT"),
    "other": set("ADEJKLUW"),
}


@pytest.fixture
def analyst(db):
    partner = Partner.objects.create(name="Outcomes", glance_partner_id=31)
    # One session of each status, two days inside the range, so the rollups serve whole days.
    store(
        partner,
        *[record(i, f"2026-03-0{2 + i % 2}T10:00:00", status=s) for i, s in enumerate(LETTERS)],
    )
    user = User.objects.create_user("outcomes")
    Membership.objects.create(user=user, partner=partner, role="analyst")
    return user


def _filter(user, outcome):
    query = QueryDict(f"start=2026-03-01&end=2026-03-05&outcome={outcome}")
    flt = SessionFilter(query, user=user, tz=ZoneInfo("UTC"), today=date(2026, 3, 10))
    assert flt.is_valid(), flt.errors
    return flt


@pytest.mark.parametrize("outcome", sorted(EXPECTED))
def test_each_outcome_selects_its_statuses_in_the_list_and_the_rollups(analyst, outcome):
    flt = _filter(analyst, outcome)
    sel = selection.select(flt)
    listed = set(sel.sessions.values_list("status", flat=True))
    assert listed == EXPECTED[outcome]
    assert sel.uses_rollups  # the other path, summed from rollup rows
    assert figures.session_count(sel) == len(EXPECTED[outcome])
    by_type = figures.outcomes_by_type(sel)
    assert by_type == {"C": {outcome: len(EXPECTED[outcome])}}
