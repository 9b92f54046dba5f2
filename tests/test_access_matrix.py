"""Every URL the product has, for every persona: each sees exactly what its role allows.

The URL list comes from the URL conf, so a new page without a rule here fails
test_every_url_has_a_rule. Partner A is granted to the admin, analyst and viewer personas;
partner B to nobody. "own" URLs name partner A's objects, "other" ones partner B's.
"""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from sessions_app.api import endpoints
from sessions_app.figures import charts
from sessions_app.models import (
    AlertRule,
    ExportJob,
    KioskLink,
    Membership,
    ReportSchedule,
    SavedView,
    Team,
)

LOGIN = "login"  # anonymous: sent to the login page
ANYONE = {p: 200 for p in ("anonymous", "admin", "analyst", "viewer", "outsider", "superuser")}


def members(ok, *, outsider=404, others=403, superuser=None):
    """Rule of a partner-scoped page: `ok` for roles allowed, `others` for A's roles that aren't,
    `outsider` for users without partner A."""
    return lambda allowed: {
        "anonymous": LOGIN,
        **{role: ok if role in allowed else others for role in ("admin", "analyst", "viewer")},
        "outsider": outsider,
        "superuser": superuser or ok,
    }


ALL_ROLES = ("admin", "analyst", "viewer")
ADMIN_ONLY = ("admin",)

LOGGED_IN = {**dict.fromkeys(ANYONE, 200), "anonymous": LOGIN}


KIOSK = {"valid": dict.fromkeys(ANYONE, 200), "revoked": dict.fromkeys(ANYONE, 404)}


def analysts_only(ok):
    """Something of the analyst's own: theirs alone, not even a superuser's."""
    return {**dict.fromkeys(ANYONE, 404), "anonymous": LOGIN, "analyst": ok}


OWN_OR_OTHER = {
    "own": members(200)(ALL_ROLES),
    "other": {**members(404, others=404)(()), "superuser": 200},
}


def partner_of(world, variant):
    return world.a if variant == "own" else world.b


# name: (method, kwargs builder (world, variant) or None, {variant: expected status by persona})
RULES = {
    "overview": ("GET", None, {"": LOGGED_IN}),
    "geography": ("GET", None, {"": LOGGED_IN}),
    "agent_list": ("GET", None, {"": LOGGED_IN}),
    "agent_detail": (
        "GET",
        lambda w, v: {"pk": w.session_of(partner_of(w, v)).agent_id},
        OWN_OR_OTHER,
    ),
    "sync_overview": ("GET", None, {"": members(200, outsider=403)(("admin", "analyst"))}),
    "chart": ("GET", lambda w, v: {"name": v}, dict.fromkeys(charts.CHARTS, LOGGED_IN)),
    "session_timeline": (
        "GET",
        lambda w, v: {"pk": w.session_of(partner_of(w, v)).pk},
        OWN_OR_OTHER,
    ),
    "healthz": ("GET", None, {"": ANYONE}),
    "healthz_json": ("GET", None, {"": ANYONE}),
    "favicon": ("GET", None, {"": dict.fromkeys(ANYONE, 302)}),
    "login": ("GET", None, {"": {**dict.fromkeys(ANYONE, 302), "anonymous": 200}}),
    "logout": ("POST", None, {"": dict.fromkeys(ANYONE, 302)}),
    "preferences": ("GET", None, {"": LOGGED_IN}),
    "password_change": ("GET", None, {"": LOGGED_IN}),
    "password_change_done": ("GET", None, {"": LOGGED_IN}),
    "password_reset": ("GET", None, {"": ANYONE}),
    "password_reset_done": ("GET", None, {"": ANYONE}),
    "password_reset_confirm": (
        "GET",
        lambda w, v: {"uidb64": "MQ", "token": "set-password"},
        {"": ANYONE},
    ),
    "password_reset_complete": ("GET", None, {"": ANYONE}),
    "session_list": ("GET", None, {"": LOGGED_IN}),
    "export": (
        "GET",
        lambda w, v: {"file_format": v},
        dict.fromkeys(
            ["csv", "xlsx", "ndjson"], members(200, others=403, outsider=403)(("admin", "analyst"))
        ),
    ),
    **{
        name: (
            "GET",
            lambda w, v: {"pk": analysts_job(w).pk},
            {"": {**dict.fromkeys(ANYONE, 404), "anonymous": LOGIN, "analyst": 200}},
        )
        for name in ("export_job", "export_job_status", "export_job_download")
    },
    "session_detail": ("GET", lambda w, v: {"pk": w.session_of(partner_of(w, v)).pk}, OWN_OR_OTHER),
    "audit_list": ("GET", None, {"": members(200, outsider=403)(ADMIN_ONLY)}),
    "partner_list": ("GET", None, {"": members(200, outsider=403)(ADMIN_ONLY)}),
    # Adding a partner is the operator's act: a partner admin may not name a Glance id.
    "partner_create": ("GET", None, {"": members(200, outsider=403)(())}),
    **{
        name: (
            method,
            lambda w, v: {"pk": partner_of(w, v).pk},
            {
                "own": members(ok)(ADMIN_ONLY),
                "other": {**members(404, others=404)(()), "superuser": ok},
            },
        )
        for name, method, ok in [
            ("partner_detail", "GET", 200),
            ("partner_edit", "GET", 200),
            ("partner_status", "GET", 200),
            ("partner_test", "POST", 302),
            ("partner_sync", "POST", 302),
            ("access_grant", "POST", 302),
            ("agent_names", "GET", 200),
            ("team_add", "POST", 302),
        ]
    },
    "saved_view_list": ("GET", None, {"": LOGGED_IN}),
    # An empty form: refused, and sent back to the overview, for anyone logged in.
    "saved_view_create": ("POST", None, {"": {**dict.fromkeys(ANYONE, 302), "anonymous": LOGIN}}),
    "saved_view_open": (
        "GET",
        lambda w, v: {"pk": shared_view(w, partner_of(w, v)).pk},
        {
            "own": members(302)(ALL_ROLES),
            "other": {**members(404, others=404)(()), "superuser": 302},
        },
    ),
    "saved_view_delete": (
        "POST",
        lambda w, v: {"pk": shared_view(w, partner_of(w, v)).pk},
        {
            "own": members(302)(("admin", "analyst")),  # its owner, and the partner's admin
            "other": {**members(404, others=404)(()), "superuser": 302},
        },
    ),
    **{
        name: (
            "POST",
            lambda w, v: {"pk": partner_of(w, v).pk},
            {
                "own": members(302)(ADMIN_ONLY),
                "other": {**members(404, others=404)(()), "superuser": 302},
            },
        )
        for name in ("alert_create", "alert_check")
    },
    "team_remove": (
        "POST",
        lambda w, v: {"pk": partner_of(w, v).pk, "team_pk": team_of(w, partner_of(w, v)).pk},
        {
            "own": members(302)(ADMIN_ONLY),
            "other": {**members(404, others=404)(()), "superuser": 302},
        },
    ),
    "alert_delete": (
        "POST",
        lambda w, v: {"pk": partner_of(w, v).pk, "rule_pk": alert_rule(w, partner_of(w, v)).pk},
        {
            "own": members(302)(ADMIN_ONLY),
            "other": {**members(404, others=404)(()), "superuser": 302},
        },
    ),
    # Anyone who can open the view may have it emailed; the grant form's data is no report.
    "report_create": (
        "POST",
        lambda w, v: {"pk": shared_view(w, partner_of(w, v)).pk},
        {
            "own": members(302)(ALL_ROLES),
            "other": {**members(404, others=404)(()), "superuser": 302},
        },
    ),
    "report_preview": ("GET", lambda w, v: {"pk": analysts_report(w).pk}, {"": analysts_only(200)}),
    "report_send": ("POST", lambda w, v: {"pk": analysts_report(w).pk}, {"": analysts_only(302)}),
    "report_delete": ("POST", lambda w, v: {"pk": analysts_report(w).pk}, {"": analysts_only(302)}),
    "wallboard": ("GET", None, {"": LOGGED_IN}),
    "wallboard_data": ("GET", None, {"": LOGGED_IN}),
    # A kiosk link is its own key: anyone holding it, logged in or not, and nobody else.
    **{
        name: ("GET", lambda w, v: {"token": kiosk_token(w, v)}, KIOSK)
        for name in ("kiosk_page", "kiosk_data")
    },
    # The new link is shown in the answer's body (200), never passed on in a cookie.
    "kiosk_create": (
        "POST",
        lambda w, v: {"pk": partner_of(w, v).pk},
        {
            "own": members(200)(ADMIN_ONLY),
            "other": {**members(404, others=404)(()), "superuser": 200},
        },
    ),
    "kiosk_revoke": (
        "POST",
        lambda w, v: {"pk": partner_of(w, v).pk, "link_pk": kiosk_link(w, partner_of(w, v))[0].pk},
        {
            "own": members(302)(ADMIN_ONLY),
            "other": {**members(404, others=404)(()), "superuser": 302},
        },
    ),
    # An invitation's link is its own key, like a kiosk link: it shows the invitation to anyone
    # holding it (joining needs a POST, as the invited person).
    "invitation_accept": ("GET", lambda w, v: {"token": invitation_token(w)}, {"": ANYONE}),
    "api_schema": ("GET", None, {"": ANYONE}),
    # The API knows tokens only: a session cookie, even a superuser's, is no way in.
    "api_aggregates": ("GET", None, {"": dict.fromkeys(ANYONE, 401)}),
    "api_sessions": ("GET", None, {"": dict.fromkeys(ANYONE, 401)}),
    "api_tokens": ("GET", None, {"": LOGGED_IN}),
    # A link that is no token: back to the preferences with the reason, for anyone logged in.
    "email_confirm": (
        "GET",
        lambda w, v: {"token": "not-a-token"},
        {"": {**dict.fromkeys(ANYONE, 302), "anonymous": LOGIN}},
    ),
    "api_token_revoke": (
        "POST",
        lambda w, v: {"pk": endpoints.new_token(w.users["analyst"], "matrix")[0].pk},
        {"": analysts_only(302)},
    ),
    "access_revoke": (
        "POST",
        lambda w, v: {
            "pk": partner_of(w, v).pk,
            "membership_pk": membership_of(w, partner_of(w, v)).pk,
        },
        {
            "own": members(302)(ADMIN_ONLY),
            "other": {**members(404, others=404)(()), "superuser": 302},
        },
    ),
}


def analysts_report(world):
    return ReportSchedule.objects.get_or_create(
        saved_view=shared_view(world, world.a),
        owner=world.users["analyst"],
        defaults={"frequency": "daily", "recipients": "analyst@example.com"},
    )[0]


def invitation_token(world):
    from sessions_app import crypto
    from sessions_app.models import Invitation

    token = "matrix-invitation-token"
    Invitation.objects.get_or_create(
        token_sha256=crypto.digest(token),
        defaults={"partner": world.a, "email": "new@example.com", "role": "viewer"},
    )
    return token


def kiosk_link(world, partner):
    from sessions_app.notify import wallboard

    return wallboard.new_kiosk_link(partner, "TV", "UTC", world.users["admin"])


def kiosk_token(world, variant):
    link, token = kiosk_link(world, world.a)
    if variant == "revoked":
        KioskLink.objects.filter(pk=link.pk).update(revoked_at=timezone.now())
    return token


def alert_rule(world, partner):
    return AlertRule.objects.get_or_create(
        partner=partner, kind="sync_failing", defaults={"webhook_url": "https://hooks.example/x"}
    )[0]


def team_of(world, partner):
    return Team.objects.get_or_create(partner=partner, name="Matrix team")[0]


def shared_view(world, partner):
    """A view shared with `partner`'s users: partner A's is the analyst's, B's someone else's."""
    owner = (
        world.users["analyst"]
        if partner == world.a
        else type(world.users["admin"]).objects.get_or_create(username="b-lead")[0]
    )
    return SavedView.objects.get_or_create(
        owner=owner, name="Shared", defaults={"path": "/", "query": "preset=7d", "partner": partner}
    )[0]


def analysts_job(world):
    """A finished export of the analyst's: only they may see or fetch it."""
    path = Path(settings.DATA_DIR) / "exports" / "matrix-test.xlsx"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"PK")
    return ExportJob.objects.get_or_create(
        user=world.users["analyst"],
        defaults={
            "query": "",
            "time_zone": "UTC",
            "state": "done",
            "path": str(path),
            "file_name": "x.xlsx",
            "partner_ids": [world.a.pk],
        },
    )[0]


def membership_of(world, partner):
    """A membership on `partner` that revoking does not disturb the other personas' access."""
    extra, _ = type(world.users["admin"]).objects.get_or_create(username=f"extra-{partner.pk}")
    return Membership.objects.get_or_create(
        user=extra, partner=partner, defaults={"role": "viewer"}
    )[0]


def product_url_names():
    names = set()

    def walk(patterns, namespace=None):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace != "admin":
                    walk(pattern.url_patterns, pattern.namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)

    walk(get_resolver().url_patterns)
    return names


def cases():
    for name, (method, kwargs, variants) in RULES.items():
        for variant, expected in variants.items():
            for persona, status in expected.items():
                yield pytest.param(
                    name,
                    method,
                    kwargs,
                    variant,
                    persona,
                    status,
                    id=f"{name}-{variant or 'page'}-{persona}",
                )


def test_every_url_has_a_rule():
    assert product_url_names() == set(RULES)


def fetch(client, world, name, method, kwargs, variant, persona):
    if persona != "anonymous":
        client.force_login(world.users[persona])
    url = reverse(name, kwargs=kwargs(world, variant) if kwargs else None)
    data = {"username": "newbie", "email": "newbie@example.com", "role": "viewer"}
    return client.post(url, data) if method == "POST" else client.get(url)


@pytest.mark.parametrize("name, method, kwargs, variant, persona, expected", list(cases()))
def test_each_persona_gets_what_its_role_allows(
    client, world, settings, name, method, kwargs, variant, persona, expected
):
    settings.GLANCE_MAX_RETRIES = 0
    response = fetch(client, world, name, method, kwargs, variant, persona)
    if expected == LOGIN:
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    else:
        assert response.status_code == expected


ADMIN_PAGES = ["admin:index"] + [
    f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"
    for model in admin.site._registry
]


@pytest.mark.parametrize("page", ADMIN_PAGES)
@pytest.mark.parametrize("persona", ["admin", "analyst", "viewer", "outsider"])
def test_the_django_admin_is_for_staff_only(client, world, page, persona):
    client.force_login(world.users[persona])
    response = client.get(reverse(page))
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_a_superuser_opens_every_admin_page(client, world, page):
    client.force_login(world.users["superuser"])
    assert client.get(reverse(page)).status_code == 200


@pytest.mark.parametrize("persona", ["admin", "analyst", "viewer"])
def test_partner_a_roles_see_partner_a_sessions_and_never_b(client, world, persona):
    client.force_login(world.users[persona])
    body = client.get("/sessions/").content.decode()
    newest = world.a.sessions.order_by("-start_time", "-glance_id").first()
    other = world.session_of(world.b)
    assert f">{newest.glance_id}<" in body
    assert world.b.name not in body and f">{other.glance_id}<" not in body
    assert f"{world.a.sessions.count():,} sessions" in body


def test_the_outsider_sees_no_session_at_all(client, world):
    client.force_login(world.users["outsider"])
    body = client.get("/sessions/").content.decode()
    assert "You have no partners yet" in body
    assert world.a.name not in body and world.b.name not in body


def test_no_page_parameter_reveals_another_partner(client, world):
    client.force_login(world.users["analyst"])
    other = world.session_of(world.b)
    for url in (
        f"/sessions/{other.pk}/",
        f"/partners/{world.b.pk}/",
        f"/sessions/?partner={world.b.pk}",
        f"/sessions/?page=2&partner={world.b.pk}",
    ):
        body = client.get(url).content.decode()
        # Glance numbers sessions per partner, so A may hold a session with the same glance
        # id as B's: look for B's name and for B's session's own page link.
        assert world.b.name not in body and f"/sessions/{other.pk}/" not in body


# --- figures, not only status codes -----------------------------------------------------------
# Each aggregate answer a user of partner A gets, with partner B's data in the same tables, must
# be the answer over A's rows alone: asked again once B's sessions and rollups are gone, it is
# the same to the number. A query that lost its partner scope shows B's sessions in the first.

AGGREGATE_URLS = [
    "/",
    "/?preset=90d",
    "/geography/",
    "/agents/",
    "/agents/?type=C&preset=7d",
    "/sessions/",
    "/sessions/?country=US",
    *[f"/charts/{name}/" for name in charts.CHARTS],
    *[f"/charts/{name}/?preset=7d&type=V" for name in charts.CHARTS],
    "/sessions/export.csv",
    "/sessions/export.csv?rows=guests",
    "/sessions/export.ndjson",
    "/sessions/export.xlsx?rows=guests",
    *[f"/api/v1/aggregates?by={by}" for by in endpoints.GROUPINGS],
    "/api/v1/aggregates?by=country&preset=90d",
    "/api/v1/sessions?limit=500",
]
_CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"|data-csrf="[^"]*"')


def _answers(client, urls, headers) -> dict:
    from django.core.cache import cache

    cache.clear()  # a cached chart would answer from before the change
    out = {}
    for url in urls:
        response = client.get(url, headers=headers if url.startswith("/api/") else {})
        assert response.status_code == 200, url
        body = b"".join(response.streaming_content) if response.streaming else response.content
        out[url] = _xlsx_rows(body) if ".xlsx" in url else _CSRF.sub(b"", body)
    return out


def _xlsx_rows(body: bytes) -> list:
    import io

    import openpyxl

    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


@pytest.mark.parametrize("persona", ["analyst", "viewer"])
def test_a_user_of_a_gets_the_figures_of_a_alone_with_b_present(client, world, persona):
    from sessions_app.models import AgentRollup, Session, SessionRollup

    user = world.users[persona]
    client.force_login(user)
    headers = {"authorization": f"Bearer {endpoints.new_token(user, 'matrix')[1]}"}
    # Exports are for analysts; a viewer's answers are all the others.
    urls = [url for url in AGGREGATE_URLS if persona == "analyst" or "/export." not in url]
    with_b = _answers(client, urls, headers)
    assert world.b.sessions.exists() and world.a.sessions.exists()
    Session.objects.filter(partner=world.b).delete()
    for model in (SessionRollup, AgentRollup):
        model.objects.filter(partner=world.b).delete()
    a_alone = _answers(client, urls, headers)
    assert [url for url in urls if with_b[url] != a_alone[url]] == []
