"""The Glance simulator the suite syncs from over real HTTP, its two partners, and partners that
point at it.

SIM_NOW is fixed by tests/conftest.py's pytest_configure, after `--clock` has moved the wall
clock; test modules are imported after that, so `from tests.helpers.glance import SIM_NOW` reads
the right instant (and make_partner reads it when called).
"""

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from glance_sim import PartnerSpec, Simulator, serve_in_thread
from sessions_app.models import Partner


def _on_the_hour() -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


# The simulator's clock stands still during the run (so its ground truth does not move), on the
# hour before the wall clock, which the sync reads: the look-back arithmetic then holds.
SIM_NOW: datetime = _on_the_hour()
PARTNER_ID, PARTNER_KEY = 4242, "test-key-4242-secret"
OTHER_ID, OTHER_KEY = 5151, "other-key-5151-secret"
# Steady traffic unless `make screenshots` asks for a working week's, for the README's pictures.
STEADY = os.environ.get("GLANCEDASH_TEST_TRAFFIC", "steady") == "steady"

# Small pages so paging is exercised; retries that wait milliseconds, not minutes.
FAST_GLANCE = {
    "GLANCE_PAGE_SIZE": 50,
    "GLANCE_BACKOFF_BASE": 0.01,
    "GLANCE_BACKOFF_MAX": 0.05,
    "GLANCE_MAX_RETRIES": 3,
    "GLANCE_READ_TIMEOUT": 5,
    "GLANCE_ALLOW_HTTP": True,  # the simulator speaks plain http on loopback
    # Hashing test passwords slowly protects nothing and costs a quarter second a user.
    "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
}


def fix_sim_now() -> datetime:
    """Sets SIM_NOW by the wall clock as it stands now (pytest_configure calls it)."""
    global SIM_NOW
    SIM_NOW = _on_the_hour()
    return SIM_NOW


@dataclass
class Glance:
    sim: Simulator
    url: str

    def served(self, partner_id, start, end):
        """The ground truth: what the simulator serves for that range, by Glance id."""
        return {s["id"]: s for s in self.sim.completed_sessions(partner_id, start, end)}

    def calls(self, operation="PartnerCompletedSessions"):
        return [r for r in self.sim.request_log if r.operation == operation]

    def restart(self):
        """As a test finds it: no faults, no calls logged, the clock at SIM_NOW."""
        self.sim.reset()
        self.sim.now = SIM_NOW


def serve_glance():
    """Starts the simulator on a free loopback port; returns (Glance, server)."""
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
    return Glance(sim=sim, url=server.url), server


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
