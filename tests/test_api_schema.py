"""schemathesis against the API's own OpenAPI schema: requests drawn from the schema, each
answered by a status the schema lists, with a body its schema describes, and never a 500."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from sessions_app.api import endpoints

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())

EXAMPLES = 60  # per operation; the same ones each run (derandomized), like the fuzz test


@pytest.fixture
def auth(world):
    """The analyst's token; and the test's database connection kept open across the WSGI calls,
    which would close it at each request's end (Django's test client does the same)."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield {
        "Authorization": f"Bearer {endpoints.new_token(world.users['analyst'], 'schemathesis')[1]}"
    }
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_answers_as_its_schema_says(case, auth):
    # Every answer must have a status the schema lists, a body its schema describes, and never
    # be a 500, for well-formed and malformed requests alike. Two checks are left out, on
    # purpose: "every schema-valid request is accepted" (an id the user cannot see, or a start
    # without an end, is well-formed and still a 400, as the schema says it may be) and "every
    # malformed one is refused" (like the pages, an empty parameter means "not given").
    case.call_and_validate(
        headers=auth, excluded_checks=[positive_data_acceptance, negative_data_rejection]
    )
