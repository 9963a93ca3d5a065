"""Contract fuzzing: schemathesis generates requests from the API's own OpenAPI document
and checks that no response is a 5xx and every documented response matches its schema."""

import datetime as dt

import pytest
import schemathesis
from conftest import load_sample, run_dbt
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from test_api_auth import PASSWORD, bearer, body_of, make_app

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def contract_app(module_warehouse):
    load_sample(module_warehouse, ["AAPL", "MSFT"], dt.date(2024, 1, 2), dt.date(2024, 6, 28))
    run_dbt(module_warehouse, "build")
    app = make_app(module_warehouse, RATE_LIMIT_ENABLED=False)
    app.config["RATELIMIT_ENABLED"] = False
    yield app
    app.extensions["db"].close()


@pytest.fixture(scope="module")
def auth_headers(contract_app):
    client = contract_app.test_client()
    reply = client.post(
        "/api/auth/register",
        json={"email": "fuzz@example.com", "password": PASSWORD, "fullName": "F"},
    )
    return bearer(body_of(reply, 201)["data"]["accessToken"])


@pytest.fixture(scope="module")
def api_schema(contract_app):
    return schemathesis.openapi.from_wsgi("/api/openapi.json", contract_app)


def test_no_server_errors_and_responses_match_the_schema(api_schema, auth_headers):
    """Every operation, 15 generated cases each (hypothesis drives schemathesis directly:
    its pytest plugin does not run on this pytest)."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:
        fuzz(operation, auth_headers)


def fuzz(operation, auth_headers) -> None:
    """Generated cases of one operation; a function per operation binds its headers."""
    # revoking or rotating the shared token would turn every later case into a 401
    no_token = operation.path in ("/api/auth/logout", "/api/auth/refresh")
    headers = {} if no_token else auth_headers

    @given(case=operation.as_strategy())
    @settings(
        max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    def check(case):
        case.call_and_validate(
            headers=headers, checks=[not_a_server_error, response_schema_conformance]
        )

    check()
