"""Contract fuzzing: schemathesis generates requests from the API's own OpenAPI document
and checks that no response is a 5xx and every documented response matches its schema.

Dates get a deterministic pass on top: random dates rarely land on the edges of the
calendar, where date arithmetic overflows (``end - 365 days`` with ``end=0001-01-02`` was
a 500), so every date parameter and date body field is also sent each of
``BOUNDARY_DATES`` on its own, with the path's symbol a known one (an unknown symbol is a
404 before any date is used)."""

import datetime as dt

import pytest
import schemathesis
from conftest import api_reader_dsn, load_sample, run_dbt
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from test_api_auth import PASSWORD, bearer, body_of, make_app

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def contract_app(module_warehouse):
    load_sample(module_warehouse, ["AAPL", "MSFT"], dt.date(2024, 1, 2), dt.date(2024, 6, 28))
    run_dbt(module_warehouse, "build")
    # as the API's least-privilege role: any endpoint reading beyond its contract (marts,
    # app, the minute-quote cache) fails here with "permission denied"
    app = make_app(api_reader_dsn(module_warehouse), RATE_LIMIT_ENABLED=False)
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


CHECKS = [not_a_server_error, response_schema_conformance]
EXAMPLES = 15
DATE_EXAMPLES = 30  # operations taking dates: more random cases besides the boundaries
BOUNDARY_DATES = [
    "0001-01-01",
    "0001-01-02",
    "0001-12-31",
    "1899-12-31",
    "1900-01-01",
    "1970-01-01",
    "2100-12-31",
    "2101-01-01",
    "9999-12-31",
]
KNOWN_PATH_VALUES = {"symbol": "AAPL"}


@pytest.fixture(scope="module")
def api_schema(contract_app):
    return schemathesis.openapi.from_wsgi("/api/openapi.json", contract_app)


def date_fields(spec: dict, path: str, method: str) -> tuple[list[str], list[str]]:
    """Names of an operation's date query parameters and of its JSON body's date fields."""
    operation = spec["paths"][path][method.lower()]
    query = [
        p["name"]
        for p in operation.get("parameters", [])
        if p["in"] == "query" and p["schema"].get("format") == "date"
    ]
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    ref = body.get("schema", {}).get("$ref", "")
    properties = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"] if ref else {}
    dates = [name for name, prop in properties.items() if prop.get("format") == "date"]
    return query, dates


def test_no_server_errors_and_responses_match_the_schema(api_schema, auth_headers, contract_app):
    """Every operation: 15 generated cases (30 where it takes dates), then each date at
    each boundary (hypothesis drives schemathesis directly: its pytest plugin does not run
    on this pytest)."""
    spec = contract_app.test_client().get("/api/openapi.json").get_json()
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 20
    dated = 0
    for operation in operations:
        query_dates, body_dates = date_fields(spec, operation.path, operation.method)
        dated += bool(query_dates or body_dates)
        fuzz(operation, auth_headers, query_dates, body_dates)
    assert dated >= 6  # stock, indicators, scanner, analytics, holdings post and patch


def fuzz(operation, auth_headers, query_dates: list[str], body_dates: list[str]) -> None:
    """Generated cases of one operation; a function per operation binds its headers."""
    # revoking or rotating the shared token would turn every later case into a 401
    no_token = operation.path in ("/api/auth/logout", "/api/auth/refresh")
    headers = {} if no_token else auth_headers
    examples = DATE_EXAMPLES if query_dates or body_dates else EXAMPLES

    @given(case=operation.as_strategy())
    @settings(
        max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    def check(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    @given(case=operation.as_strategy())
    @settings(max_examples=1, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check_boundaries(case):
        for variant in boundary_variants(case, query_dates, body_dates):
            variant.call_and_validate(headers=headers, checks=CHECKS)

    check()
    if query_dates or body_dates:
        check_boundaries()


def boundary_variants(case, query_dates: list[str], body_dates: list[str]):
    """``case`` with one date at one boundary: query dates alone (the others left to their
    defaults), body dates within the generated body; known values in the path."""
    others = {k: v for k, v in case.query.items() if k not in query_dates}
    for value in BOUNDARY_DATES:
        for name in query_dates:
            yield with_known_path(case.derive(query={**others, name: value}))
        for name in body_dates:
            variant = with_known_path(case.derive())
            if isinstance(variant.body, dict):
                variant.body[name] = value
                yield variant


def with_known_path(case):
    for name, value in KNOWN_PATH_VALUES.items():
        if name in case.path_parameters:
            case.path_parameters[name] = value
    return case
