"""Upgrading a database that already holds sessions: the migrations that add rollups (0008),
their places (0009) and the agents' own rows (0011) sum them, so the dashboard reads the same
figures before and after."""

from datetime import UTC, datetime

import numpy as np
import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from sessions_app.rollups.write import PLACE_PAIR

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
