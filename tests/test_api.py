"""The read-only JSON API: tokens made and revoked in the browser, the pages' filters, aggregates
that equal the pages' figures, sessions with guests a page at a time by cursor, the same access
rules and personal-data masking as the pages, and errors as JSON."""

import re

import pytest

from sessions_app.api import endpoints
from sessions_app.models import ApiToken, AuditEvent, Guest, Session


def bearer(secret):
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


@pytest.fixture
def token_of(world):
    def make(persona):
        return endpoints.new_token(world.users[persona], f"{persona}'s script")[1]

    return make


def test_a_token_is_made_in_the_browser_shown_once_and_revoked(client, world):
    client.force_login(world.users["analyst"])
    page = client.post("/account/tokens/", {"name": "Power BI"}, follow=True).content.decode()
    secret = re.search(r"(gd_[\w-]+)", page).group(1)
    token = ApiToken.objects.get()
    assert token.name == "Power BI" and secret not in token.token_sha256
    assert (
        secret[:8] == token.prefix and secret not in client.get("/account/tokens/").content.decode()
    )
    client.logout()
    assert client.get("/api/v1/sessions", **bearer(secret)).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None
    client.force_login(world.users["analyst"])
    client.post(f"/account/tokens/{token.pk}/revoke/")
    client.logout()
    events = list(AuditEvent.objects.filter(action__startswith="api_token").order_by("pk"))
    assert [e.action for e in events] == ["api_token_created", "api_token_revoked"]
    assert all(secret not in e.summary + str(e.details) for e in events)
    assert events[0].summary == f"API token “Power BI” ({secret[:8]}…) made"
    refused = client.get("/api/v1/sessions", **bearer(secret))
    assert refused.status_code == 401 and refused.json()["error"].startswith("This API token")


@pytest.mark.parametrize(
    "headers", [{}, {"HTTP_AUTHORIZATION": "Bearer "}, {"HTTP_AUTHORIZATION": "Basic eDp5"}]
)
def test_without_a_token_the_api_says_how_to_send_one(client, db, headers):
    response = client.get("/api/v1/aggregates", **headers)
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")
    assert "Authorization: Bearer" in response.json()["error"]


def test_a_session_cookie_is_not_a_token_and_only_get_reads(client, world, token_of):
    client.force_login(world.users["analyst"])
    assert client.get("/api/v1/sessions").status_code == 401
    assert client.post("/api/v1/sessions", **bearer(token_of("analyst"))).status_code == 405


def test_aggregates_by_type_equal_the_stored_sessions(client, world, token_of):
    body = client.get("/api/v1/aggregates?by=type&preset=30d", **bearer(token_of("analyst"))).json()
    assert body["by"] == "type" and body["filter"]["time_zone"] == "UTC"
    sessions = Session.objects.filter(partner=world.a)  # the analyst's partner only
    assert sum(row["sessions"] for row in body["rows"]) == sessions.count() > 0
    for row in body["rows"]:
        of_type = sessions.filter(session_type=row["key"])
        assert row["sessions"] == of_type.count()
        assert row["connected"] == of_type.filter(status__in=("C", "X")).count()
        assert row["seconds"] == sum(of_type.values_list("duration", flat=True))
    assert sum(row["sessions"] for row in body["rows"]) == sessions.count()


@pytest.mark.parametrize("by", ["day", "status", "agent", "country"])
def test_every_grouping_covers_every_session_once(client, world, token_of, by):
    body = client.get(f"/api/v1/aggregates?by={by}&preset=30d", **bearer(token_of("admin"))).json()
    if by == "country":
        visitors = Guest.objects.filter(session__partner=world.a).exclude(
            guest_type__in=("agent", "host")
        )
        assert sum(row["guests"] for row in body["rows"]) == visitors.count()
    else:
        assert sum(row["sessions"] for row in body["rows"]) == world.a.sessions.count()


def test_sessions_come_a_page_at_a_time_newest_first_each_once(client, world, token_of):
    auth = bearer(token_of("analyst"))
    url, seen = "/api/v1/sessions?preset=30d&limit=7", []
    while url:
        body = client.get(url, **auth).json()
        seen += body["results"]
        url = body["next"]
    stored = list(world.a.sessions.order_by("-start_time", "-pk").values_list("pk", flat=True))
    assert [row["id"] for row in seen] == stored
    first = seen[0]
    session = Session.objects.get(pk=first["id"])
    assert (first["glance_id"], first["type"], len(first["guests"])) == (
        session.glance_id,
        session.session_type,
        session.guests.count(),
    )


def test_guest_personal_data_is_masked_for_a_viewer_as_on_the_pages(client, world, token_of):
    guest = Guest.objects.filter(session__partner=world.a).exclude(ip=None).first()
    query = f"/api/v1/sessions?preset=30d&key={guest.session.key}"
    as_viewer = client.get(query, **bearer(token_of("viewer"))).json()["results"]
    as_analyst = client.get(query, **bearer(token_of("analyst"))).json()["results"]
    ips_viewer = {g["ip"] for row in as_viewer for g in row["guests"] if g["ip"]}
    ips_analyst = {g["ip"] for row in as_analyst for g in row["guests"] if g["ip"]}
    assert ips_viewer == {"•••"} and guest.ip in ips_analyst


def test_a_token_reads_only_its_users_partners(client, world, token_of):
    outsider = client.get("/api/v1/sessions?preset=30d", **bearer(token_of("outsider"))).json()
    assert outsider["results"] == []
    other = client.get(f"/api/v1/sessions?partner={world.b.pk}", **bearer(token_of("analyst")))
    assert other.status_code == 400 and "partner" in other.json()["fields"]


@pytest.mark.parametrize(
    "query, field",
    [
        ("by=week", "by"),
        ("min_duration=soon", "min_duration"),
        ("limit=0", "limit"),
        ("cursor=not-ours", "cursor"),
        ("country=Narnia", "country"),
    ],
)
def test_a_wrong_parameter_is_a_400_that_names_it(client, world, token_of, query, field):
    path = "/api/v1/aggregates" if query.startswith("by") else "/api/v1/sessions"
    response = client.get(f"{path}?{query}", **bearer(token_of("analyst")))
    assert response.status_code == 400 and field in response.json()["fields"]


def test_the_schema_describes_both_endpoints_and_every_filter(client, db):
    schema = client.get("/api/openapi.json").json()
    assert schema["openapi"].startswith("3.") and set(schema["paths"]) == {
        "/aggregates",
        "/sessions",
    }
    names = {p["name"] for p in schema["paths"]["/sessions"]["get"]["parameters"]}
    from sessions_app.figures.filters import SessionFilter

    assert set(SessionFilter.base_fields) <= names and {"cursor", "limit"} <= names


def test_visitors_by_country_are_the_maps_numbers(client, world, token_of):
    answer = client.get("/api/v1/aggregates?by=country", **bearer(token_of("analyst"))).json()
    rows = {row["key"]: row for row in answer["rows"] if row["key"]}
    client.force_login(world.users["analyst"])
    figure = client.get("/charts/countries/").json()["data"][0]
    from sessions_app.figures.geo import ALPHA3

    mapped = {code: rows[code] for code in rows if code in ALPHA3}
    assert len(mapped) > 3
    for location, (_, hover) in zip(figure["locations"], figure["customdata"], strict=True):
        code = next(c for c, alpha3 in ALPHA3.items() if alpha3 == location)
        said = re.fullmatch(r"([\d,]+) visitors? in ([\d,]+) sessions?", hover).groups()
        assert [int(n.replace(",", "")) for n in said] == [
            mapped[code]["guests"],
            mapped[code]["sessions"],
        ]
    assert set(figure["locations"]) == {ALPHA3[c] for c in mapped}


def test_each_countrys_sessions_are_what_country_selects(client, world, token_of):
    answer = client.get("/api/v1/aggregates?by=country", **bearer(token_of("analyst"))).json()
    client.force_login(world.users["analyst"])
    rows = [row for row in answer["rows"] if row["key"]]
    assert len(rows) > 3
    for row in rows:
        listed = client.get(f"/sessions/?country={row['key']}").content.decode()
        count = re.search(r"([\d,]+) sessions\. Times in", listed).group(1).replace(",", "")
        assert int(count) == row["sessions"] <= row["guests"], row
    unlocated = [row for row in answer["rows"] if not row["key"]]
    assert all(row["sessions"] is None for row in unlocated)  # no place: nothing to select


def test_a_new_token_is_shown_in_the_answers_body_never_in_a_cookie(client, world):
    client.force_login(world.users["analyst"])
    made = client.post("/account/tokens/", {"name": "Power BI"})
    secret = re.search(r"gd_[\w-]+", made.content.decode()).group(0)
    assert made.status_code == 200 and "no-store" in made["Cache-Control"]
    assert all(secret not in morsel.value for morsel in made.cookies.values())
    answer = client.get("/api/v1/aggregates?by=type", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert answer.status_code == 200
    assert secret not in client.get("/account/tokens/").content.decode()  # shown once
