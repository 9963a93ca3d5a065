"""Rate limits (429 in the envelope, Retry-After), metrics, request ids, CORS."""

import pytest
from conftest import run_dbt
from test_api_auth import PASSWORD, bearer, body_of, make_app

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def symbols_mart(module_warehouse):
    """The symbol search reads ``marts.dim_symbols`` (empty here, but built)."""
    run_dbt(module_warehouse, "run", "--select", "+dim_symbols")


@pytest.fixture
def app(module_warehouse):
    app = make_app(
        module_warehouse,
        RATE_LIMIT_ANON="3/minute",
        RATE_LIMIT_TIERS={"basic": "6/minute", "premium": "6/minute", "pro": "6/minute"},
        CORS_ORIGINS=["https://app.example"],
    )
    yield app
    app.extensions["db"].close()


def test_anonymous_callers_are_limited_per_ip_users_per_identity(app):
    client = app.test_client()
    for _ in range(2):
        body_of(client.get("/api/market/symbols"), 200)
    token = body_of(
        client.post(
            "/api/auth/register",
            json={"email": "limits@example.com", "password": PASSWORD, "fullName": "L"},
        ),
        201,
    )["data"]["accessToken"]
    limited = client.get("/api/market/symbols")
    body = body_of(limited, 429)
    assert body["message"].startswith("rate limit exceeded") and body["code"] == 429
    assert 0 < int(limited.headers["Retry-After"]) <= 61  # the window's end, rounded up
    assert body["data"]["retryAfter"] == int(limited.headers["Retry-After"])
    # the signed-in user has a limit of their own, not the exhausted IP's
    for _ in range(6):
        body_of(client.get("/api/auth/profile", headers=bearer(token)), 200)
    body_of(client.get("/api/auth/profile", headers=bearer(token)), 429)


def test_metrics_request_ids_and_cors(app):
    client = app.test_client()
    reply = client.get(
        "/api/health", headers={"X-Request-ID": "abc123", "Origin": "https://app.example"}
    )
    assert reply.headers["X-Request-ID"] == "abc123"
    assert reply.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert len(client.get("/api/health").headers["X-Request-ID"]) == 32
    metrics = client.get("/metrics").get_data(as_text=True)
    assert (
        'stockmind_api_requests_total{endpoint="/api/health",method="GET",status="200"} 2.0'
        in metrics
    )
    assert "stockmind_api_request_seconds_bucket" in metrics


def test_the_docs_page_loads_nothing_from_the_internet(app):
    client = app.test_client()
    page = client.get("/api/docs").get_data(as_text=True)
    assert "http://" not in page and "https://" not in page  # no CDN
    for asset in ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"):
        assert f"/api/docs/assets/{asset}" in page
        reply = client.get(f"/api/docs/assets/{asset}")
        assert reply.status_code == 200 and len(reply.data) > 10_000
        reply.close()
    assert client.get("/api/docs/assets/../config.py").status_code == 404


def test_before_dbt_has_built_the_marts_a_503_says_what_to_do(app):
    """Only dim_symbols is built in this warehouse: the stock endpoint's marts are missing,
    a state of the platform (run dbt), not a bug."""
    client = app.test_client()
    reply = client.get("/api/market/stock/AAPL")
    body = body_of(reply, 503)
    assert "marts are not built yet" in body["message"] and body["code"] == 503
    assert reply.headers["Retry-After"] == "60"
