"""The shared world (tests/helpers/world.py) is seen only by the tests that ask for it: a test
that changes it leaves the next one a pristine copy, and a Django TestCase, which reaches the
database without pytest-django's mark or fixtures, finds an empty database."""

from django.test import TestCase

from sessions_app.models import Partner, Session


def test_a_world_test_may_change_everything(world):
    world.a.sessions.all().delete()
    Partner.objects.filter(pk=world.b.pk).update(name="Renamed")
    assert not world.a.sessions.exists()


def test_the_next_world_test_sees_it_as_built(world):
    assert world.a.sessions.exists()
    assert Partner.objects.get(pk=world.b.pk).name != "Renamed"


class AfterTheWorld(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.partners_at_setup = list(Partner.objects.values_list("name", flat=True))

    def test_a_django_test_case_sees_no_world(self):
        self.assertEqual(self.partners_at_setup, [])
        self.assertFalse(Session.objects.exists())
