"""Auth flows against a real PostgreSQL: register, login, profile, refresh rotation,
revocation, API keys, expiry — every failure a 4xx in the API's envelope."""

import time

import pytest

pytestmark = pytest.mark.slow
PASSWORD = "Correct-Horse-42"


def make_app(dsn, **overrides):
    from stockmind_api import create_app
    from stockmind_api.config import Config

    config = Config()
    config.DATABASE_URL = dsn
    config.JWT_SECRET_KEY = "test-secret-" + "x" * 32
    for key, value in overrides.items():
        setattr(config, key, value)
    app = create_app(config)
    app.testing = True
    return app


@pytest.fixture(scope="module")
def app(module_warehouse):
    app = make_app(module_warehouse)
    yield app
    app.extensions["db"].close()


@pytest.fixture
def client(app):
    return app.test_client()


def body_of(response, code):
    body = response.get_json()
    assert response.status_code == code, body
    assert body["success"] is (code < 400)
    return body


def register(client, email, password=PASSWORD, name="Ada Lovelace"):
    return client.post(
        "/api/auth/register", json={"email": email, "password": password, "fullName": name}
    )


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_register_login_profile_and_patch(client):
    data = body_of(register(client, "ada@example.com"), 201)["data"]
    assert (
        data["user"]["email"] == "ada@example.com" and data["user"]["subscriptionTier"] == "basic"
    )
    assert "passwordHash" not in data["user"]
    login = body_of(
        client.post("/api/auth/login", json={"email": "ADA@example.com", "password": PASSWORD}), 200
    )
    access = login["data"]["accessToken"]
    profile = body_of(client.get("/api/auth/profile", headers=bearer(access)), 200)["data"]
    assert profile["fullName"] == "Ada Lovelace"
    patched = body_of(
        client.patch(
            "/api/auth/profile",
            headers=bearer(access),
            json={"fullName": "Ada King", "notificationPreferences": {"priceAlerts": True}},
        ),
        200,
    )["data"]
    assert (
        patched["fullName"],
        patched["subscriptionTier"],
        patched["notificationPreferences"],
    ) == ("Ada King", "basic", {"priceAlerts": True})


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "not-an-email", "password": PASSWORD, "fullName": "X"}, "email"),
        ({"email": "weak@example.com", "password": "password", "fullName": "X"}, "password"),
        ({"email": "weak@example.com", "password": "Weakling-123"}, "fullName"),
    ],
)
def test_registration_validation(client, payload, field):
    body = body_of(client.post("/api/auth/register", json=payload), 422)
    assert field in body["errors"]


def test_duplicate_email_and_wrong_password(client):
    register(client, "dup@example.com")
    assert "email" in body_of(register(client, "DUP@example.com"), 409)["errors"]
    body_of(
        client.post(
            "/api/auth/login", json={"email": "dup@example.com", "password": "Wrong-Pass-99"}
        ),
        401,
    )
    body_of(
        client.post("/api/auth/login", json={"email": "nobody@example.com", "password": PASSWORD}),
        401,
    )


def test_refresh_rotation_and_logout_revocation(client):
    tokens = body_of(register(client, "rot@example.com"), 201)["data"]
    fresh = body_of(client.post("/api/auth/refresh", headers=bearer(tokens["refreshToken"])), 200)[
        "data"
    ]
    assert fresh["accessToken"] != tokens["accessToken"]
    body_of(
        client.post("/api/auth/refresh", headers=bearer(tokens["accessToken"])), 401
    )  # wrong type
    newer = body_of(client.post("/api/auth/refresh", headers=bearer(fresh["refreshToken"])), 200)
    body_of(client.post("/api/auth/logout", headers=bearer(newer["data"]["accessToken"])), 200)
    for token in (newer["data"]["accessToken"], fresh["accessToken"], tokens["accessToken"]):
        reply = client.get("/api/auth/profile", headers=bearer(token))
        assert "revoked" in body_of(reply, 401)["message"]  # the whole session ended
    reply = client.post("/api/auth/refresh", headers=bearer(newer["data"]["refreshToken"]))
    assert "revoked" in body_of(reply, 401)["message"]


def test_api_key_is_an_alternative_and_regenerating_replaces_it(client):
    access = body_of(register(client, "key@example.com"), 201)["data"]["accessToken"]
    first = body_of(client.post("/api/auth/api-key", headers=bearer(access)), 201)["data"]["apiKey"]
    assert (
        body_of(client.get("/api/auth/profile", headers={"X-API-Key": first}), 200)["data"]["email"]
        == "key@example.com"
    )
    refused = body_of(client.post("/api/auth/api-key", headers={"X-API-Key": first}), 401)
    assert "API key cannot" in refused["message"]  # a key cannot replace itself
    second = body_of(client.post("/api/auth/api-key", headers=bearer(access)), 201)["data"][
        "apiKey"
    ]
    body_of(client.get("/api/auth/profile", headers={"X-API-Key": first}), 401)
    body_of(client.get("/api/auth/profile", headers={"X-API-Key": second}), 200)


def test_missing_malformed_and_expired_tokens(module_warehouse, client):
    assert "authentication required" in body_of(client.get("/api/auth/profile"), 401)["message"]
    body_of(client.get("/api/auth/profile", headers=bearer("not.a.jwt")), 401)
    import datetime as dt

    # exp has one-second granularity: 3 s leaves at least 2 s of validity for the first call
    short = make_app(module_warehouse, JWT_ACCESS_TOKEN_EXPIRES=dt.timedelta(seconds=3))
    try:
        c = short.test_client()
        access = body_of(register(c, "short@example.com"), 201)["data"]["accessToken"]
        body_of(c.get("/api/auth/profile", headers=bearer(access)), 200)
        time.sleep(3.5)
        assert (
            body_of(c.get("/api/auth/profile", headers=bearer(access)), 401)["message"]
            == "token has expired"
        )
    finally:
        short.extensions["db"].close()
