"""Shared fixtures: the Glance simulator over real HTTP, partners, and the persona users.

`pytest --clock=2027-03-14T08:30:00Z` starts the whole session's wall clock at that instant and
lets it tick on (time-machine), for this process and every process the suite starts (manage.py
commands, the simulator: glancedash/test_clock.py). The suite must pass on any clock.

The helpers the test modules share live in tests/helpers/ (no test module imports another, nor
this file): the simulator and make_partner in helpers/glance.py, the world in helpers/world.py.
"""

import os
import time
from datetime import UTC, datetime

import pytest
import time_machine

from glancedash import test_clock
from tests.helpers import glance as glance_helpers
from tests.helpers.glance import FAST_GLANCE, make_partner, serve_glance
from tests.helpers.world import SharedWorld, build_world, world_tests_first


def pytest_addoption(parser):
    parser.addoption(
        "--clock",
        metavar="INSTANT",
        help="start the wall clock of the whole run at this ISO 8601 instant (it ticks on)",
    )


def pytest_configure(config):
    """Moves the clock before any test module is imported, then fixes SIM_NOW by it."""
    instant = config.getoption("--clock")
    if instant:
        moved = datetime.fromisoformat(instant.replace("Z", "+00:00"))
        if moved.tzinfo is None:
            raise pytest.UsageError("--clock needs an instant with its offset, e.g. …T08:30:00Z")
        os.environ[test_clock.ENV] = str(moved.timestamp() - time.time())
        time_machine.travel(moved, tick=True).start()
    glance_helpers.fix_sim_now()


def pytest_report_header(config):
    return f"wall clock: {datetime.now(UTC).isoformat(timespec='seconds')}"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """After pytest-django's order (tests in a rolled-back transaction first, then those with
    transaction=True, then those without a database): within each module, the tests that share
    the world first, so the module builds it once (helpers/world.py)."""
    world_tests_first(items)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Before the test's fixtures (and so outside its transaction): opens the shared world for a
    test that reads it, rolls it back before any other test that uses the database."""
    if SharedWorld.current is not None:
        SharedWorld.current.before(item)


@pytest.fixture(scope="session")
def _glance_server():
    glance, server = serve_glance()
    yield glance
    server.stop()


@pytest.fixture
def glance(_glance_server):
    _glance_server.restart()
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
    for name, value in FAST_GLANCE.items():
        setattr(settings, name, value)


@pytest.fixture
def partner(glance, db):
    return make_partner(glance)


@pytest.fixture
def archive_partner(partner):
    """A partner that keeps everything, for the seed's 2016 and 2020 records."""
    partner.retain_ip_days = partner.retain_contact_days = partner.retain_sessions_days = 10_000
    partner.save()
    return partner


@pytest.fixture(scope="session")
def _shared_world(django_db_setup, django_db_blocker, _glance_server):
    """The keeper of the world the tests of a module share (helpers/world.py)."""
    keeper = SharedWorld(django_db_blocker, _glance_server)
    SharedWorld.current = keeper
    yield keeper
    SharedWorld.current = None
    keeper.close()


@pytest.fixture
def world(request, glance, db, _shared_world):
    """Partners A and B synced from the simulator, and the personas (helpers/world.py): the
    module's shared world, fresh copies of its rows; a test with transaction=True (or the
    session's first) builds its own."""
    if _shared_world.is_open_for(request.node):
        return _shared_world.view()
    return build_world(glance)
