"""No page reads a whole table: SQLite's plan for every query a dashboard page makes searches
an index (EXPLAIN QUERY PLAN says SEARCH, or SCAN of a covering index), for sessions, guests and
rollups alike. A full scan is what makes self-hosted dashboards slow as the data grows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

BIG_TABLES = (
    "sessions_app_session",
    "sessions_app_guest",
    "sessions_app_sessionrollup",
    "sessions_app_agentrollup",
)
PAGES = [
    "/?preset=custom&start={a}&end={b}",
    "/sessions/?preset=custom&start={a}&end={b}",
    "/sessions/?preset=custom&start={a}&end={b}&page=3",
    "/agents/?preset=custom&start={a}&end={b}",
    "/geography/?preset=custom&start={a}&end={b}",
    "/charts/sessions-over-time/?preset=custom&start={a}&end={b}",
    "/charts/outcomes/?preset=custom&start={a}&end={b}",
    "/charts/durations/?preset=custom&start={a}&end={b}",
    "/charts/heatmap/?preset=custom&start={a}&end={b}",
    "/charts/countries/?preset=custom&start={a}&end={b}",
    # One agent: the agents' own rollup rows and their sessions.
    "/?preset=custom&start={a}&end={b}&agent={agent}",
    "/geography/?preset=custom&start={a}&end={b}&agent={agent}",
    "/sessions/?preset=custom&start={a}&end={b}&agent={agent}",
    "/charts/heatmap/?preset=custom&start={a}&end={b}&agent={agent}",
    "/agents/{agent}/?preset=custom&start={a}&end={b}",
]


def full_scans(sql: str, params) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = [row[-1] for row in cursor.fetchall()]
    return [
        step
        for step in plan
        if step.startswith("SCAN ")
        and any(f"SCAN {table}" in step for table in BIG_TABLES)
        and "COVERING INDEX" not in step
    ]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="EXPLAIN QUERY PLAN is SQLite's")
@pytest.mark.parametrize("page", PAGES)
def test_no_page_scans_a_whole_table(client, world, page):
    from django.utils import timezone

    # The test's tables are tiny, and statistics of tiny tables make a scan the best plan;
    # without them SQLite plans as it would for big ones.
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS sqlite_stat1")
    client.force_login(world.users["analyst"])
    today = timezone.now().date()
    agent = world.a.agents.order_by("pk").first()
    first = today.replace(day=1) if today.day > 3 else today
    url = page.format(a=first, b=today, agent=agent.pk)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    scans = {
        query["sql"][:200]: full_scans(query["sql"], None)
        for query in queries.captured_queries
        if any(table in query["sql"] for table in BIG_TABLES)
    }
    assert {sql: steps for sql, steps in scans.items() if steps} == {}
