"""Shared fixtures: the Glance simulator over real HTTP, partners, and the persona users.

`pytest --clock=2027-03-14T08:30:00Z` starts the whole session's wall clock at that instant and
lets it tick on (time-machine), for this process and every process the suite starts (manage.py
commands, the simulator: glancedash/test_clock.py). The suite must pass on any clock.
"""

import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from glance_sim import PartnerSpec, Simulator, serve_in_thread
from glancedash import test_clock
from sessions_app.models import Partner


def pytest_addoption(parser):
    parser.addoption(
        "--clock",
        metavar="INSTANT",
        help="start the wall clock of the whole run at this ISO 8601 instant (it ticks on)",
    )


def pytest_configure(config):
    """Moves the clock before any test module is imported, then fixes SIM_NOW by it."""
    global SIM_NOW
    instant = config.getoption("--clock")
    if instant:
        moved = datetime.fromisoformat(instant.replace("Z", "+00:00"))
        if moved.tzinfo is None:
            raise pytest.UsageError("--clock needs an instant with its offset, e.g. …T08:30:00Z")
        os.environ[test_clock.ENV] = str(moved.timestamp() - time.time())
        time_machine.travel(moved, tick=True).start()
    SIM_NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def pytest_report_header(config):
    return f"wall clock: {datetime.now(UTC).isoformat(timespec='seconds')}"


# The simulator's clock stands still during the run (so its ground truth does not move), on the
# hour before the wall clock, which the sync reads: the look-back arithmetic then holds. Set in
# pytest_configure, after --clock has moved the clock; test modules import it after that.
SIM_NOW: datetime = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
PARTNER_ID, PARTNER_KEY = 4242, "test-key-4242-secret"
# Steady traffic unless `make screenshots` asks for a working week's, for the README's pictures.
STEADY = os.environ.get("GLANCEDASH_TEST_TRAFFIC", "steady") == "steady"
OTHER_ID, OTHER_KEY = 5151, "other-key-5151-secret"


@dataclass
class Glance:
    sim: Simulator
    url: str

    def served(self, partner_id, start, end):
        """The ground truth: what the simulator serves for that range, by Glance id."""
        return {s["id"]: s for s in self.sim.completed_sessions(partner_id, start, end)}

    def calls(self, operation="PartnerCompletedSessions"):
        return [r for r in self.sim.request_log if r.operation == operation]


@pytest.fixture(scope="session")
def _glance_server():
    # Steady traffic: every hour holds the same sessions, so no test's data grows or shrinks with
    # the weekday or hour the suite runs at (a working week's curve would).
    sim = Simulator(
        partners=[
            PartnerSpec(
                partner_id=PARTNER_ID,
                api_key=PARTNER_KEY,
                sessions_per_day=24,
                agents=6,
                name="Acme",
                steady=STEADY,
            ),
            PartnerSpec(
                partner_id=OTHER_ID,
                api_key=OTHER_KEY,
                sessions_per_day=8,
                agents=3,
                name="Other",
                steady=STEADY,
            ),
        ],
        seed=7,
        now=SIM_NOW,
        history_days=200,
    )
    server = serve_in_thread(sim, host="127.0.0.1", port=0)
    yield Glance(sim=sim, url=server.url)
    server.stop()


@pytest.fixture
def glance(_glance_server):
    _glance_server.sim.reset()
    _glance_server.sim.now = SIM_NOW
    yield _glance_server
    _glance_server.sim.wait_idle()  # requests a test's client gave up on end before the next test
    _glance_server.sim.reset()


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test's database starts again at the same primary keys and data generations, so a
    chart cached by one test would answer the next."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fast_glance_settings(settings):
    """Small pages so paging is exercised; retries that wait milliseconds, not minutes."""
    settings.GLANCE_PAGE_SIZE = 50
    settings.GLANCE_BACKOFF_BASE = 0.01
    settings.GLANCE_BACKOFF_MAX = 0.05
    settings.GLANCE_MAX_RETRIES = 3
    settings.GLANCE_READ_TIMEOUT = 5
    settings.GLANCE_ALLOW_HTTP = True  # the simulator speaks plain http on loopback
    # Hashing test passwords slowly protects nothing and costs a quarter second a user.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_partner(glance, *, glance_id=PARTNER_ID, key=PARTNER_KEY, backfill_days=20, **extra):
    partner = Partner(
        name=f"Partner {glance_id}",
        glance_partner_id=glance_id,
        api_url=glance.url,
        backfill_start=(SIM_NOW - timedelta(days=backfill_days)).date(),
        **extra,
    )
    partner.set_api_key(key)
    partner.save()
    return partner


@pytest.fixture
def partner(glance, db):
    return make_partner(glance)


@pytest.fixture
def archive_partner(partner):
    """A partner that keeps everything, for the seed's 2016 and 2020 records."""
    partner.retain_ip_days = partner.retain_contact_days = partner.retain_sessions_days = 10_000
    partner.save()
    return partner


@dataclass
class World:
    """Partner A and partner B with synced data, and the personas: an admin, an analyst and a
    viewer of partner A, an outsider with no partner, and a superuser."""

    a: Partner
    b: Partner
    users: dict

    def session_of(self, partner):
        return partner.sessions.order_by("pk").first()


PERSONAS = ("admin", "analyst", "viewer", "outsider", "superuser")


@pytest.fixture
def world(glance, db):
    from django.contrib.auth.models import User

    from sessions_app.models import Membership
    from sessions_app.sync.run import sync_partner

    a = make_partner(glance, backfill_days=3)
    b = make_partner(glance, glance_id=OTHER_ID, key=OTHER_KEY, backfill_days=3)
    for partner in (a, b):
        assert sync_partner(partner).state == "succeeded"
    users = {
        name: User.objects.create_user(name, f"{name}@example.com", f"pw-{name}-Xy9!")
        for name in PERSONAS
    }
    users["superuser"].is_superuser = users["superuser"].is_staff = True
    users["superuser"].save()
    for role in ("admin", "analyst", "viewer"):
        Membership.objects.create(user=users[role], partner=a, role=role)
    return World(a=a, b=b, users=users)
