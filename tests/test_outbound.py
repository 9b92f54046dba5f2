"""The one outbound-request policy (sessions_app/outbound.py), held against real local servers:
one that answers with a secret, one that redirects, one that hangs. Under production's setting
(no address allowed but public ones) the server calls none of them, says why in its own words,
and never shows a foreign answer's text; no redirect is followed, so an API key is never re-sent
to another host."""

import ipaddress
import socket

import pytest

from sessions_app import outbound
from sessions_app.glance.client import GlanceClient, GlanceError
from sessions_app.models import AlertRule, AuditEvent
from sessions_app.notify import alerts
from sessions_app.sync.status import check_connection
from tests.helpers.servers import LocalServer

SECRET = b"aws_secret_access_key=AKIAEXAMPLE123"
ENDPOINT = "/services/activityservice.asmx"


@pytest.fixture
def secret_server():
    server = LocalServer(status=404, body=SECRET, headers={"Content-Type": "text/plain"})
    yield server
    server.stop()


@pytest.fixture
def production(settings):
    settings.OUTBOUND_ALLOWED_ADDRESSES = []  # production's default: public addresses only
    return settings


REFUSED = [
    "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
    "224.0.0.1", "0.0.0.0", "240.0.0.1", "255.255.255.255",
    "::1", "fe80::1", "fc00::1", "ff02::1", "::", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
]  # fmt: skip
PUBLIC = ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:93.184.216.34"]


@pytest.mark.parametrize("text", REFUSED)
def test_internal_addresses_are_refused(production, text):
    assert outbound.refusal(ipaddress.ip_address(text))


@pytest.mark.parametrize("text", PUBLIC)
def test_public_addresses_are_allowed(production, text):
    assert outbound.refusal(ipaddress.ip_address(text)) is None


def test_listed_networks_are_allowed(production):
    production.OUTBOUND_ALLOWED_ADDRESSES = ["10.0.0.0/8"]
    assert outbound.refusal(ipaddress.ip_address("10.1.2.3")) is None
    assert outbound.refusal(ipaddress.ip_address("192.168.1.1"))


def test_the_connection_test_calls_no_internal_address(world, production, secret_server):
    world.a.api_url = secret_server.url + ENDPOINT
    world.a.save(update_fields=["api_url"])
    result = check_connection(world.a)
    assert not result.ok and "AKIAEXAMPLE" not in result.message
    assert "refused to call 127.0.0.1: it is a loopback address" in result.message
    assert secret_server.requests == []  # not even a connection: its answer cannot leak


def test_a_closed_port_and_a_listening_one_read_alike(world, production, secret_server):
    """Nothing connects, so the message cannot tell a service from a closed port."""
    messages = []
    for url in (secret_server.url, "http://127.0.0.1:9", "http://127.0.0.1:6379"):
        world.a.api_url = url + ENDPOINT
        world.a.save(update_fields=["api_url"])
        messages.append(check_connection(world.a).message)
    assert len(set(messages)) == 1 and "loopback" in messages[0]


def test_a_name_that_resolves_inside_is_refused(world, production, secret_server):
    world.a.api_url = f"http://localhost:{secret_server.server.server_port}{ENDPOINT}"
    world.a.save(update_fields=["api_url"])
    said = check_connection(world.a).message
    assert "refused to call localhost: it is a loopback address" in said
    assert "127.0.0.1" not in said  # what a name resolves to is not told
    assert secret_server.requests == []


def test_the_connection_goes_to_the_address_that_was_checked(world, production, monkeypatch):
    """No second lookup of the name (DNS rebinding): the socket connects to the checked address.
    Here "localhost" is made to resolve to 127.0.0.2, the only address allowed; a second lookup
    would land on 127.0.0.1, where nothing may be called."""
    production.OUTBOUND_ALLOWED_ADDRESSES = ["127.0.0.2/32"]
    checked = LocalServer(status=404, host="127.0.0.2")
    port = checked.server.server_port
    answer = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.2", port))]
    monkeypatch.setattr(outbound, "_resolve", lambda *args, **kwargs: answer)
    try:
        client = GlanceClient(f"http://localhost:{port}{ENDPOINT}", 4242, "k-1234", max_retries=0)
        with pytest.raises(GlanceError, match="HTTP 404, not found"):
            client.call("PartnerSessionCounts", {})
    finally:
        checked.stop()
    assert len(checked.requests) == 1


def test_a_foreign_answer_is_described_in_our_words_only(world, secret_server):
    # Development allows loopback, so the call is made: the answer's text must still not show.
    world.a.api_url = secret_server.url + ENDPOINT
    world.a.save(update_fields=["api_url"])
    result = check_connection(world.a)
    assert "HTTP 404, not found" in result.message and "AKIAEXAMPLE" not in result.message
    assert len(secret_server.requests) == 1


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_no_redirect_is_followed_so_the_key_is_never_resent(world, secret_server, status):
    redirector = LocalServer(status=status, headers={"Location": secret_server.url + "/x"})
    try:
        world.a.api_url = redirector.url + ENDPOINT
        world.a.save(update_fields=["api_url"])
        result = check_connection(world.a)
    finally:
        redirector.stop()
    assert not result.ok and f"answered with a redirect (HTTP {status})" in result.message
    assert len(redirector.requests) == 1 and secret_server.requests == []


def test_a_webhook_to_an_internal_address_is_not_delivered(world, production, secret_server):
    rule = AlertRule.objects.create(
        partner=world.a, kind="sync_failing", webhook_url=secret_server.url + "/admin/"
    )
    problems = alerts.deliver(rule, "FIRING: test")
    assert problems == [
        "webhook: refused to call 127.0.0.1: it is a loopback address; glancedash calls "
        "public addresses only (OUTBOUND_ALLOWED_ADDRESSES lists exceptions)"
    ]
    assert secret_server.requests == []


def test_a_webhook_redirect_is_not_followed(world, secret_server):
    redirector = LocalServer(status=307, headers={"Location": secret_server.url + "/admin/"})
    try:
        rule = AlertRule.objects.create(
            partner=world.a, kind="sync_failing", webhook_url=redirector.url + "/hook"
        )
        problems = alerts.deliver(rule, "FIRING: test")
    finally:
        redirector.stop()
    assert problems and "answered with a redirect (HTTP 307)" in problems[0]
    assert secret_server.requests == []


def test_a_webhook_failure_says_the_status_not_the_body(world, secret_server):
    rule = AlertRule.objects.create(
        partner=world.a, kind="sync_failing", webhook_url=secret_server.url + "/hook"
    )
    assert alerts.deliver(rule, "FIRING: test") == ["webhook: HTTP 404, not found"]


def test_changing_the_endpoint_audits_the_old_and_new_address(client, world, glance):
    client.force_login(world.users["admin"])
    old = world.a.api_url
    new = glance.url.replace("127.0.0.1", "localhost")
    client.post(
        f"/partners/{world.a.pk}/edit/",
        {"name": world.a.name, "api_url": new, "api_key": "test-key-4242-secret",
         "enabled": "on", "sync_interval_minutes": 15, "retain_ip_days": 90,
         "retain_contact_days": 180, "retain_sessions_days": 730,
         "service_level_percent": 80, "service_level_seconds": 30},
    )  # fmt: skip
    event = AuditEvent.objects.filter(partner=world.a, action="partner_changed").latest("pk")
    assert old in event.summary + str(event.details) and new in event.summary + str(event.details)


def test_adding_and_removing_a_webhook_audits_where_it_goes_not_its_secret(client, world):
    client.force_login(world.users["admin"])
    hook = "https://hooks.example.com/services/T000/B000/s3cr3tT0ken"
    client.post(
        f"/partners/{world.a.pk}/alerts/",
        {
            "kind": "sync_failing",
            "hours": 2,
            "webhook_url": hook,
            "business_days": "12345",
            "business_start": 9,
            "business_end": 17,
            "time_zone": "UTC",
        },
    )
    rule = AlertRule.objects.get(partner=world.a)
    client.post(f"/partners/{world.a.pk}/alerts/{rule.pk}/delete/")
    events = AuditEvent.objects.filter(partner=world.a, action="alert_changed").order_by("pk")
    assert [e.details.get("webhook") for e in events] == ["https://hooks.example.com"] * 2
    assert not any("s3cr3t" in e.summary + str(e.details) for e in events)


@pytest.mark.parametrize(
    "text", ["2002:7f00:1::", "2002:a00:1::", "2001:0:4136:e378:8000:63bf:80ff:fffe"]
)
def test_an_ipv4_address_carried_in_ipv6_is_judged_as_itself(production, text):
    """6to4 of 127.0.0.1 and of 10.0.0.1, and Teredo whose client is 127.0.0.1: not public."""
    assert outbound.refusal(ipaddress.ip_address(text))


def test_a_redirect_names_the_host_not_the_urls_secret(world, secret_server):
    redirector = LocalServer(status=307, headers={"Location": secret_server.url + "/x"})
    try:
        port = redirector.server.server_port
        rule = AlertRule.objects.create(
            partner=world.a,
            kind="sync_failing",
            webhook_url=f"http://hook:s3cret@127.0.0.1:{port}/h",
        )
        problems = alerts.deliver(rule, "FIRING: test")
    finally:
        redirector.stop()
    assert problems and "127.0.0.1 answered with a redirect" in problems[0]
    assert "s3cret" not in problems[0]
