"""The `world` of the dashboard tests: partners A and B synced from the simulator over real HTTP,
and the personas. Building it costs two syncs, so the tests of a module share one (in each
pytest-xdist worker that runs some of them).

How the sharing works (tests/conftest.py wires it up):

- pytest-django runs the tests that use the database in a transaction first; within each
  module's run of them, those that use `world` go first (pytest_collection_modifyitems).
- Before such a test's fixtures, SharedWorld opens a transaction and builds the world in it, by
  the same syncs. Each test then runs in a savepoint inside it (pytest-django's
  non-transactional tests nest), which is rolled back after it: every test starts from the same
  rows, and reads fresh instances of them (SharedWorld.view).
- Before a test of another module, a test that uses the database without `world`, or a test with
  transaction=True (which commits, and flushes after), the transaction is rolled back: nothing
  of the world is ever committed, so no other test can see it, nor another connection.
- A test with transaction=True that asks for `world` builds its own, committed, in the test; so
  does the first test of the session that asks for it (the keeper is not set up before it).
"""

from dataclasses import dataclass

from django.db import connection, transaction
from django.test import TestCase, TransactionTestCase
from django.test.utils import override_settings
from pytest_django.fixtures import validate_django_db

from sessions_app.models import Partner
from tests.helpers.glance import FAST_GLANCE, OTHER_ID, OTHER_KEY, make_partner


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


def build_world(glance) -> World:
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


# --- which tests share it --------------------------------------------------------------------


def database_use(item) -> str | None:
    """The test's use of the database as pytest-django decides it: "transactional", "db" or
    None."""
    fixtures = getattr(item, "fixturenames", ())
    marker = item.get_closest_marker("django_db")
    transactional = uses_db = False
    if marker:
        transaction_, reset_sequences, *_ = validate_django_db(marker)
        uses_db, transactional = True, transaction_ or reset_sequences
    if "transactional_db" in fixtures or "live_server" in fixtures:
        transactional = True
    # Django's own test classes reach the database without a mark or a fixture.
    cls = getattr(item, "cls", None)
    if cls is not None and issubclass(cls, TransactionTestCase):
        uses_db, transactional = True, not issubclass(cls, TestCase)
    uses_db = uses_db or transactional or "db" in fixtures
    return "transactional" if transactional else "db" if uses_db else None


def shares_world(item) -> bool:
    return "world" in getattr(item, "fixturenames", ()) and database_use(item) == "db"


def module_of(item) -> str:
    return item.nodeid.split("::", 1)[0]


def world_tests_first(items) -> None:
    """Within each module's run of consecutive tests, those that share the world go first (the
    sort is stable: the order is otherwise kept)."""
    start = 0
    for end in range(1, len(items) + 1):
        if end == len(items) or module_of(items[end]) != module_of(items[start]):
            items[start:end] = sorted(items[start:end], key=lambda item: not shares_world(item))
            start = end


# --- the shared world ------------------------------------------------------------------------


class SharedWorld:
    """One world at a time, in an open transaction on the test connection (see the top)."""

    current: "SharedWorld | None" = None  # set while the session's keeper is alive

    def __init__(self, blocker, glance):
        self._blocker, self._glance = blocker, glance
        self._atomic = None
        self._module = None
        self._ids = None

    def is_open_for(self, item) -> bool:
        return (
            self._atomic is not None
            and self._module == module_of(item)
            and connection.in_atomic_block
            and shares_world(item)
        )

    def before(self, item) -> None:
        """Runs before each test's fixtures: opens the world for it, or closes it."""
        use = database_use(item)
        if shares_world(item):
            self.open_for(item)
        elif use is not None:
            self.close()

    def open_for(self, item) -> None:
        module = module_of(item)
        if self._atomic is not None and self._module == module and connection.in_atomic_block:
            return
        self.close()
        with self._blocker.unblock():
            if connection.in_atomic_block:  # not ours: the test builds its own world
                return
            self._atomic = transaction.atomic()
            self._atomic.__enter__()
            try:
                self._glance.sim.wait_idle()
                self._glance.restart()
                with override_settings(**FAST_GLANCE):
                    world = build_world(self._glance)
            except BaseException:
                self.close()
                raise
        self._module = module
        self._ids = (world.a.pk, world.b.pk, {name: u.pk for name, u in world.users.items()})

    def close(self) -> None:
        if self._atomic is None:
            return
        atomic, self._atomic, self._module, self._ids = self._atomic, None, None, None
        with self._blocker.unblock():
            if connection.in_atomic_block:
                transaction.set_rollback(True)
                atomic.__exit__(None, None, None)

    def view(self) -> World:
        """Fresh instances of the world's rows, so no test sees another's changes to them."""
        from django.contrib.auth.models import User

        a, b, user_ids = self._ids
        partners = Partner.objects.in_bulk([a, b])
        users = User.objects.in_bulk(user_ids.values())
        return World(
            a=partners[a],
            b=partners[b],
            users={name: users[pk] for name, pk in user_ids.items()},
        )
