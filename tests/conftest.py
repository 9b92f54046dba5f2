"""Shared fixtures: the Glance simulator over real HTTP, partners, and the persona users."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from glance_sim import PartnerSpec, Simulator, serve_in_thread
from sessions_app.models import Partner

# The simulator's clock stands still during the run (so its ground truth does not move), on the
# hour before the real clock, which the sync reads: the look-back arithmetic then holds.
SIM_NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
PARTNER_ID, PARTNER_KEY = 4242, "test-key-4242-secret"
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
    sim = Simulator(
        partners=[
            PartnerSpec(
                partner_id=PARTNER_ID,
                api_key=PARTNER_KEY,
                sessions_per_day=24,
                agents=6,
                name="Acme",
            ),
            PartnerSpec(
                partner_id=OTHER_ID, api_key=OTHER_KEY, sessions_per_day=8, agents=3, name="Other"
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
    _glance_server.sim.reset()


@pytest.fixture(autouse=True)
def _fast_glance_settings(settings):
    """Small pages so paging is exercised; retries that wait milliseconds, not minutes."""
    settings.GLANCE_PAGE_SIZE = 50
    settings.GLANCE_BACKOFF_BASE = 0.01
    settings.GLANCE_BACKOFF_MAX = 0.05
    settings.GLANCE_MAX_RETRIES = 3
    settings.GLANCE_READ_TIMEOUT = 5


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
