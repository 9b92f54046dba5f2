"""Upgrading a database that already holds sessions: the migrations that add rollups (0008),
their places (0009) and the agents' own rows (0011) sum them, so the dashboard reads the same
figures before and after."""

from datetime import UTC, datetime

import numpy as np
import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from sessions_app.rollups.write import PLACE_PAIR, WAIT

BEFORE = [("sessions_app", "0007_export_job")]
AFTER = [("sessions_app", "0009_rollup_places_agents")]


@pytest.mark.django_db(transaction=True)
def test_the_rollup_migration_sums_the_sessions_already_stored():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    partner = old.get_model("sessions_app", "Partner").objects.create(
        name="old", glance_partner_id=5
    )
    agent = old.get_model("sessions_app", "Agent").objects.create(partner=partner, user_name="a")
    session_model = old.get_model("sessions_app", "Session")
    guest_model = old.get_model("sessions_app", "Guest")
    for glance_id, (day, status, duration) in enumerate(
        [(1, "C", 30), (1, "Q", 400), (2, "C", 4000)], start=1
    ):
        start = datetime(2026, 2, day, 10, tzinfo=UTC)
        session = session_model.objects.create(
            partner=partner,
            agent=agent if status == "C" else None,
            glance_id=glance_id,
            session_type="C",
            status=status,
            start_time=start,
            end_time=start,
            duration=duration,
            guest_count=1,
        )
        guest_model.objects.create(
            session=session, position=0, guest_type="visitor", country_code="FR", city="Lyon"
        )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    rows = new.get_model("sessions_app", "SessionRollup").objects.filter(partner_id=partner.pk)
    got = {(r.status, r.sessions, r.seconds, r.country_codes) for r in rows}
    assert got == {("C", 1, 30, '["FR"]'), ("Q", 1, 400, '["FR"]'), ("C", 1, 4000, '["FR"]')}
    assert rows.count() == 3  # day 1 C, day 1 Q, day 2 C
    place = new.get_model("sessions_app", "Place").objects.get()
    assert (place.country_code, place.region, place.city) == ("FR", None, "Lyon")
    assert {bytes(r.places) for r in rows} == {np.array([(place.pk, 1)], PLACE_PAIR).tobytes()}

    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())  # as the suite expects it, with 0011
    latest = executor.loader.project_state(executor.loader.graph.leaf_nodes()).apps
    by_agent = latest.get_model("sessions_app", "AgentRollup").objects.filter(agent_id=agent.pk)
    # The agent's two connected sessions; the third had no agent and has no agent row.
    assert sorted((r.day, r.sessions, r.seconds) for r in by_agent) == [
        (20485, 1, 30),  # 2026-02-01
        (20486, 1, 4000),
    ]
    # 0019 counts each session once at each level of its visitors' places: France, and Lyon in
    # any region (the visitor gave none), keyed upper-cased as the filter matches.
    places = latest.get_model("sessions_app", "Place").objects
    france, lyon = places.get(country_code="FR", city=None), places.get(city="LYON")
    expected = np.array(sorted([(france.pk, 1), (lyon.pk, 1)]), PLACE_PAIR).tobytes()
    partner_rows = latest.get_model("sessions_app", "SessionRollup").objects
    assert {bytes(r.place_sessions) for r in partner_rows.filter(partner_id=partner.pk)} == {
        expected
    }


@pytest.mark.django_db(transaction=True)
def test_the_waiting_migration_times_each_stored_session_from_its_guests():
    before = [("sessions_app", "0023_invitations")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    partner = old.get_model("sessions_app", "Partner").objects.create(
        name="old", glance_partner_id=6
    )
    agent = old.get_model("sessions_app", "Agent").objects.create(partner=partner, user_name="a")
    start = datetime(2026, 2, 3, 22, 17, 51, tzinfo=UTC)
    guests = {  # the seed's cobrowse sample (29 s), and one whose sides are unknown
        1: [("visitor", datetime(2026, 2, 3, 22, 17, 22, tzinfo=UTC)), ("agent", start)],
        2: [("", start), ("", start)],
    }
    for glance_id, pairs in guests.items():
        session = old.get_model("sessions_app", "Session").objects.create(
            partner=partner, agent=agent, glance_id=glance_id, session_type="C", status="C",
            start_time=start, end_time=start, duration=60, guest_count=2,
        )  # fmt: skip
        for position, (kind, moment) in enumerate(pairs):
            old.get_model("sessions_app", "Guest").objects.create(
                session=session, position=position, guest_type=kind, start_time=moment
            )

    executor.loader.build_graph()
    leaf = executor.loader.graph.leaf_nodes()
    executor.migrate(leaf)
    new = executor.loader.project_state(leaf).apps
    sessions = new.get_model("sessions_app", "Session").objects.filter(partner_id=partner.pk)
    assert dict(sessions.values_list("glance_id", "wait_seconds")) == {1: 29, 2: None}
    (row,) = new.get_model("sessions_app", "SessionRollup").objects.filter(partner_id=partner.pk)
    quarter = 22 * 4 + 17 // 15
    assert np.frombuffer(bytes(row.waits), WAIT).tolist() == [(quarter, 29, 1)]
    partner_row = new.get_model("sessions_app", "Partner").objects.get(pk=partner.pk)
    assert (partner_row.service_level_percent, partner_row.service_level_seconds) == (80, 30)


@pytest.mark.django_db(transaction=True)
def test_the_quick_sync_migration_schedules_a_quick_pass_and_moves_the_old_default():
    before = [("sessions_app", "0026_report_to_owner")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    partners = old.get_model("sessions_app", "Partner").objects
    at_default = partners.create(name="default", glance_partner_id=7, sync_interval_minutes=15)
    chosen = partners.create(name="chosen", glance_partner_id=8, sync_interval_minutes=5)
    off = partners.create(name="off", glance_partner_id=9, enabled=False, sync_interval_minutes=15)
    schedule = old.get_model("django_q", "Schedule").objects
    for partner in (at_default, chosen):
        schedule.create(name=f"glance-sync-partner-{partner.pk}", func="x", schedule_type="I",
                        minutes=partner.sync_interval_minutes, repeats=-1)  # fmt: skip

    executor.loader.build_graph()
    leaf = executor.loader.graph.leaf_nodes()
    executor.migrate(leaf)
    new = executor.loader.project_state(leaf).apps
    intervals = dict(
        new.get_model("sessions_app", "Partner").objects.values_list("pk", "sync_interval_minutes")
    )
    assert intervals == {at_default.pk: 60, chosen.pk: 5, off.pk: 15}
    schedules = dict(
        new.get_model("django_q", "Schedule")
        .objects.filter(name__startswith="glance-")
        .values_list("name", "minutes")
    )
    assert schedules == {
        f"glance-sync-partner-{at_default.pk}": 60,
        f"glance-sync-partner-{chosen.pk}": 5,
        f"glance-quick-sync-partner-{at_default.pk}": 1,
        f"glance-quick-sync-partner-{chosen.pk}": 1,
    }


@pytest.mark.django_db(transaction=True)
def test_the_visitor_countries_migration_writes_what_ingest_would():
    """Sessions stored before 0028 get their visitors' countries from their guests: upper case,
    each once, sorted, the Glance user's own seat left out, as ingest now writes them."""
    from sessions_app.models.sessions import countries_of

    before = [("sessions_app", "0027_quick_sync")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    partner = old.get_model("sessions_app", "Partner").objects.create(
        name="old", glance_partner_id=10
    )
    start = datetime(2026, 2, 3, 22, 17, 51, tzinfo=UTC)
    guests = {
        1: [("agent", "us"), ("visitor", "gb"), ("guest", "US"), ("visitor", "gb")],
        2: [("host", "fr")],
        3: [(None, "de"), ("visitor", ""), ("visitor", None)],
        4: [],
    }
    for glance_id, pairs in guests.items():
        session = old.get_model("sessions_app", "Session").objects.create(
            partner=partner, glance_id=glance_id, session_type="C", status="C",
            start_time=start, end_time=start, duration=60, guest_count=len(pairs),
        )  # fmt: skip
        for position, (kind, country) in enumerate(pairs):
            old.get_model("sessions_app", "Guest").objects.create(
                session=session, position=position, guest_type=kind, country_code=country
            )

    executor.loader.build_graph()
    leaf = executor.loader.graph.leaf_nodes()
    executor.migrate(leaf)
    new = executor.loader.project_state(leaf).apps
    sessions = new.get_model("sessions_app", "Session").objects.filter(partner_id=partner.pk)
    stored = dict(sessions.values_list("glance_id", "visitor_countries"))
    assert stored == {1: "GB US", 2: "", 3: "DE", 4: ""}
    assert stored == {glance_id: countries_of(pairs) for glance_id, pairs in guests.items()}


@pytest.mark.django_db(transaction=True)
def test_the_scorecard_migration_drops_the_session_lists_and_keeps_every_figure():
    """A database from before 0032, whose day rows keep each session's (agent, duration) and
    (agent, wait): after it the lists are gone, the rows' sums stay, and the scorecards read
    from the rows and the sessions of one band give what the raw sessions give."""
    from datetime import date

    from django.contrib.auth import get_user_model
    from django.http import QueryDict
    from django.test import override_settings

    from sessions_app import figures
    from sessions_app.figures import selection
    from sessions_app.figures.filters import SessionFilter
    from sessions_app.models import Membership, Role
    from sessions_app.rollups import write

    before = [("sessions_app", "0031_stale_month_end")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    partner = old.get_model("sessions_app", "Partner").objects.create(
        name="old", glance_partner_id=11
    )
    agents = [
        old.get_model("sessions_app", "Agent").objects.create(partner=partner, user_name=name)
        for name in ("ann", "bob")
    ]
    plan = [(agents[0], 601), (agents[0], 599), (agents[0], 4000), (agents[1], 45), (None, 7)]
    for glance_id, (agent, duration) in enumerate(plan, start=1):
        start = datetime(2026, 2, glance_id, 10, tzinfo=UTC)
        old.get_model("sessions_app", "Session").objects.create(
            partner=partner, agent=agent, glance_id=glance_id, session_type="C", status="C",
            start_time=start, end_time=start, duration=duration, guest_count=1,
        )  # fmt: skip
    write.rebuild(partner.pk, date(2026, 2, 1), date(2026, 2, 28), apps=old)
    for model in ("SessionRollup", "AgentRollup"):  # the lists as the old code kept them
        rows = old.get_model("sessions_app", model).objects.filter(partner_id=partner.pk)
        assert rows.count() and all(bytes(row.agent_durations) == b"" for row in rows)
        rows.update(agent_durations=b"\x01\x00\x00\x00\x2c\x01\x00\x00", agent_waits=b"")
    day_rows = old.get_model("sessions_app", "SessionRollup").objects.count()

    executor.loader.build_graph()
    leaf = executor.loader.graph.leaf_nodes()
    executor.migrate(leaf)
    with connection.cursor() as cursor:
        columns = {
            column.name
            for column in connection.introspection.get_table_description(
                cursor, "sessions_app_sessionrollup"
            )
        }
    assert "agent_durations" not in columns and "agent_waits" not in columns
    new = executor.loader.project_state(leaf).apps
    assert new.get_model("sessions_app", "SessionRollup").objects.count() == day_rows

    user = get_user_model().objects.create_user("m", password="pw-m-Xy9!")
    Membership.objects.create(user=user, partner_id=partner.pk, role=Role.VIEWER)
    data = QueryDict("start=2026-02-01&end=2026-02-28")

    def scorecard():
        sel = selection.select(SessionFilter(data, user=user, tz=UTC, today=date(2026, 3, 20)))
        rows = {
            row.agent.user_name if row.agent else None: (row.sessions, row.median_duration)
            for row in figures.agent_scorecard(sel)
        }
        return sel.uses_rollups, rows

    used_rollups, rows = scorecard()
    assert used_rollups
    assert rows == {"ann": (3, 601), "bob": (1, 45), None: (1, 7)}
    with override_settings(GLANCEDASH_ROLLUPS=False):
        assert scorecard() == (False, rows)
