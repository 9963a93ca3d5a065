"""Input validation found wanting by the security review: every malformed, hostile or
out-of-range request gets a 4xx in the API's envelope (never a 500, never stored), and the
OpenAPI document states the rules the server enforces.

Longer than ~300 lines on purpose: a catalogue of independent cases, a few lines each,
over one loaded warehouse and app (module fixtures) — split, each part would reload it."""

import datetime as dt
import json
import socket
from urllib.parse import urlsplit

import jsonschema
import pandas as pd
import pytest
from conftest import live_api, load_sample, read_frame, run_dbt
from test_api_auth import PASSWORD, bearer, body_of, make_app

pytestmark = pytest.mark.slow
TODAY = dt.date.today()
TOMORROW = TODAY + dt.timedelta(days=1)


@pytest.fixture(scope="module")
def app(module_warehouse):
    load_sample(module_warehouse, ["AAPL", "MSFT"], dt.date(2024, 1, 2), dt.date(2024, 6, 28))
    run_dbt(module_warehouse, "run")  # the marts behind the market endpoints
    app = make_app(module_warehouse, RATE_LIMIT_ENABLED=False)
    yield app
    app.extensions["db"].close()


@pytest.fixture
def client(app):
    return app.test_client()


_accounts = iter(range(1_000_000))


@pytest.fixture
def user(client):
    """Headers of a fresh account (tests change holdings and profiles: one user each)."""
    email = f"user{next(_accounts)}@example.com"
    reply = client.post(
        "/api/auth/register", json={"email": email, "password": PASSWORD, "fullName": "U"}
    )
    return bearer(body_of(reply, 201)["data"]["accessToken"])


def error(response, code):
    """The error envelope with ``code``, as JSON."""
    assert response.status_code == code, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert (body["code"], body["status"], body["success"], body["data"]) == (
        code,
        "error",
        False,
        None,
    )
    assert body["message"]
    return body


def holding(client, headers, **values):
    body = {"symbol": "AAPL", "shares": 1, "averagePrice": 1, **values}
    return client.post("/api/portfolio/holdings", headers=headers, json=body)


# -- 6: dates ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/market/stock/AAPL/indicators?end=0001-01-02", "end"),
        ("/api/analytics/portfolio?end=0001-01-01", "end"),
        ("/api/analytics/portfolio?start=1899-12-31", "start"),
        ("/api/market/stock/AAPL?start=0001-01-01", "start"),
        ("/api/market/stock/AAPL?end=9999-12-31", "end"),
        ("/api/market/scanner?date=2101-01-01", "date"),
        ("/api/analytics/portfolio?start=2100-12-31", "start"),  # after the default end
        (f"/api/market/stock/AAPL/indicators?start={TOMORROW}", "start"),
    ],
)
def test_dates_outside_the_calendar_or_after_the_default_end_are_422(client, user, url, field):
    assert field in error(client.get(url, headers=user), 422)["errors"]


def test_dates_at_the_bounds_are_accepted(client, user):
    body_of(client.get("/api/market/stock/AAPL/indicators?end=1900-01-01", headers=user), 200)
    body_of(client.get("/api/analytics/portfolio?end=1900-01-01", headers=user), 200)
    body_of(client.get(f"/api/analytics/portfolio?start={TODAY}", headers=user), 200)
    body_of(client.get("/api/market/stock/AAPL?end=2100-12-31", headers=user), 200)


@pytest.mark.parametrize("day", ["0001-01-01", "1899-12-31", str(TOMORROW), "2101-01-01"])
def test_purchase_dates_must_be_real_and_past(client, user, day):
    assert "purchaseDate" in error(holding(client, user, purchaseDate=day), 422)["errors"]


def test_purchase_today_is_accepted(client, user):
    assert body_of(holding(client, user, purchaseDate=str(TODAY)), 201)["data"]["purchaseDate"]


def test_value_over_time_counts_a_holding_from_its_purchase_date(client, user, module_warehouse):
    holding(client, user, symbol="AAPL", shares=10, purchaseDate="2024-04-01")
    holding(client, user, symbol="MSFT", shares=5)
    data = body_of(
        client.get("/api/analytics/portfolio?start=2024-03-01&end=2024-06-28", headers=user), 200
    )["data"]
    prices = read_frame(
        module_warehouse,
        "select symbol, trade_date, close from staging.stg_prices_daily "
        "where trade_date between '2024-03-01' and '2024-06-28'",
    ).pivot(index="trade_date", columns="symbol", values="close")
    days = pd.to_datetime(prices.index)
    held = (days >= pd.Timestamp("2024-04-01")).astype(float)
    expected = 5 * prices["MSFT"] + 10 * prices["AAPL"] * held
    assert [p["date"] for p in data["valueOverTime"]] == list(days.strftime("%Y-%m-%d"))
    assert [p["value"] for p in data["valueOverTime"]] == pytest.approx(expected.tolist())


# -- 7: nesting ----------------------------------------------------------------------
def post_raw(client, url, text, headers, method="post"):
    call = getattr(client, method)
    return call(url, data=text, headers={**headers, "Content-Type": "application/json"})


@pytest.mark.parametrize("text", ["[" * 1000, "[" * 1000 + "]" * 1000])
def test_deeply_nested_json_is_a_400(client, user, text):
    body = error(post_raw(client, "/api/portfolio/holdings", text, user), 400)
    assert "deeper than" in body["message"]


def test_deeply_nested_profile_preferences_are_a_400(client, user):
    text = '{"notificationPreferences": ' + "[" * 1000 + "]" * 1000 + "}"
    error(post_raw(client, "/api/auth/profile", text, user, method="patch"), 400)


def nested(depth):
    """``{"symbol": …, "notes": [[…]]}``: a body of ``depth`` levels, the object included."""
    notes = "[" * (depth - 1) + "]" * (depth - 1)
    return f'{{"symbol": "AAPL", "shares": 1, "averagePrice": 1, "notes": {notes}}}'


def test_nesting_limit_is_ten_levels(client, user):
    """Ten levels reach the schema (notes must be text: 422); eleven are refused unread."""
    assert (
        "notes"
        in error(post_raw(client, "/api/portfolio/holdings", nested(10), user), 422)["errors"]
    )
    error(post_raw(client, "/api/portfolio/holdings", nested(11), user), 400)


def test_recursion_in_validation_is_a_400_not_a_500():
    """Whatever a schema does, a RecursionError while parsing is the request's fault."""
    from flask import Flask
    from flask_smorest import Api
    from marshmallow import Schema, fields, validates_schema
    from stockmind_api.errors import register_error_handlers
    from stockmind_api.parsing import Blueprint

    class Endless(Schema):
        name = fields.String()

        @validates_schema
        def recurse(self, data, **kwargs):
            def down(n):
                return down(n + 1)

            down(0)

    app = Flask("recursion")
    app.config.update(API_TITLE="t", API_VERSION="1", OPENAPI_VERSION="3.0.3")
    api = Api(app)
    register_error_handlers(app)
    blp = Blueprint("endless", "endless", url_prefix="/endless")

    @blp.route("/", methods=["POST"])
    @blp.arguments(Endless)
    def endless(body):
        return body

    api.register_blueprint(blp)
    error(app.test_client().post("/endless/", json={"name": "x"}), 400)


def test_unstorable_text_check_does_not_recurse():
    from stockmind_api.schemas import _unstorable

    value: list = ["ok"]
    for _ in range(100_000):
        value = [value]
    assert _unstorable(value) is False
    assert _unstorable([[{"k": ["a\x00b"]}]]) is True


# -- 9: profile data and body size ---------------------------------------------------
def test_notification_preferences_know_their_keys(client, user):
    known = {"priceAlerts": True, "dailyDigest": False, "weeklyReport": True}
    saved = body_of(
        client.patch("/api/auth/profile", headers=user, json={"notificationPreferences": known}),
        200,
    )["data"]
    assert saved["notificationPreferences"] == known
    many = {f"k{i}": True for i in range(3000)}  # ~30 KB: under the body limit
    body = error(
        client.patch("/api/auth/profile", headers=user, json={"notificationPreferences": many}),
        422,
    )
    assert "notificationPreferences" in body["errors"]
    profile = body_of(client.get("/api/auth/profile", headers=user), 200)["data"]
    assert profile["notificationPreferences"] == known


def test_a_body_over_the_limit_is_a_413(client, user, app):
    limit = app.config["MAX_CONTENT_LENGTH"]
    assert limit == 64 * 1024
    body = error(holding(client, user, notes="x" * limit), 413)
    assert str(limit) in body["message"]


# -- 13: LIKE wildcards --------------------------------------------------------------
@pytest.mark.parametrize(
    ("search", "found"),
    [("%", []), ("A_PL", []), ("_", []), ("\\", []), ("aap", ["AAPL"]), ("MS", ["MSFT"])],
)
def test_symbol_search_matches_wildcards_literally(client, search, found):
    reply = client.get("/api/market/symbols", query_string={"search": search})
    assert [s["symbol"] for s in body_of(reply, 200)["data"]["items"]] == found


# -- 15: passwords and e-mails -------------------------------------------------------
def register(client, email, password=PASSWORD):
    return client.post(
        "/api/auth/register", json={"email": email, "password": password, "fullName": "R"}
    )


def test_passwords_in_any_script_are_accepted(client):
    body_of(register(client, "umlaut@example.com", "ÄÖÜäöü1234!x"), 201)


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("        Aa1!", "besides spaces"),
        (" Correct-Horse-42", "start or end with a space"),
        ("Correct-Horse-42 ", "start or end with a space"),
        ("Aa1!Aa1!Aa1!Aa1!", "different characters"),
        ("ÄÖÜÄÖÜ1234!X", "lower-case"),
        ("abcdefgh-42", "upper-case"),
    ],
)
def test_weak_passwords_are_refused_with_the_rule(client, password, rule):
    body = error(register(client, "weak@example.com", password), 422)
    assert rule in " ".join(body["errors"]["password"])


@pytest.mark.parametrize("email", ["root@localhost", "root@[127.0.0.1]", "root@10.0.0.12"])
def test_emails_need_a_dotted_domain(client, email):
    assert "email" in error(register(client, email), 422)["errors"]


def test_emails_are_nfkc_normalized_and_trimmed(client):
    made = body_of(register(client, "  wide@example.com "), 201)["data"]["user"]
    assert made["email"] == "wide@example.com"
    full_width = "ｗｉｄｅ@ｅｘａｍｐｌｅ.ｃｏｍ"
    assert "email" in error(register(client, full_width), 409)["errors"]
    login = client.post("/api/auth/login", json={"email": full_width, "password": PASSWORD})
    assert body_of(login, 200)["data"]["user"]["email"] == "wide@example.com"


# -- 18: the contract ----------------------------------------------------------------
def test_delete_returns_the_deleted_entry(client, user):
    made = body_of(holding(client, user, symbol="MSFT", shares=3, notes="n"), 201)["data"]
    path = f"/api/portfolio/holdings/{made['id']}"
    before = body_of(client.get(path, headers=user), 200)["data"]
    assert body_of(client.delete(path, headers=user), 200)["data"] == before
    watch = body_of(
        client.post("/api/portfolio/watchlist", headers=user, json={"symbol": "AAPL"}), 201
    )["data"]
    gone = body_of(client.delete(f"/api/portfolio/watchlist/{watch['id']}", headers=user), 200)
    assert gone["data"] == watch
    error(client.delete(path, headers=user), 404)


@pytest.mark.parametrize(
    "path", ["/api/auth/profile", "/api/portfolio/holdings/{h}", "/api/portfolio/watchlist/{w}"]
)
def test_patch_needs_something_to_change(client, user, path):
    h = body_of(holding(client, user), 201)["data"]["id"]
    w = body_of(
        client.post("/api/portfolio/watchlist", headers=user, json={"symbol": "MSFT"}), 201
    )["data"]["id"]
    url = path.format(h=h, w=w)
    assert "nothing to change" in str(error(client.patch(url, headers=user, json={}), 422))
    error(client.patch(url, headers=user), 415)
    error(client.patch(url, headers=user, data="fullName=x"), 415)


@pytest.mark.parametrize(
    ("content_type", "data"),
    [
        ("application/x-www-form-urlencoded", "symbol=AAPL&shares=1&averagePrice=1"),
        ("text/plain", '{"symbol": "AAPL", "shares": 1, "averagePrice": 1}'),
        ("application/json", ""),
        (None, None),
    ],
)
def test_json_endpoints_refuse_other_bodies_with_415(client, user, content_type, data):
    headers = {**user, **({"Content-Type": content_type} if content_type else {})}
    error(client.post("/api/portfolio/holdings", headers=headers, data=data), 415)


def test_endpoints_without_a_body_do_not_demand_one(client):
    tokens = body_of(register(client, "nobody-body@example.com"), 201)["data"]
    fresh = body_of(client.post("/api/auth/refresh", headers=bearer(tokens["refreshToken"])), 200)[
        "data"
    ]
    body_of(client.post("/api/auth/api-key", headers=bearer(fresh["accessToken"])), 201)
    body_of(client.post("/api/auth/logout", headers=bearer(fresh["accessToken"])), 200)


def test_unsupported_methods_say_what_is_allowed(client):
    reply = client.open("/api/market/symbols", method="TRACE")
    error(reply, 405)
    assert set(reply.headers["Allow"].split(", ")) >= {"GET", "HEAD", "OPTIONS"}


def test_openapi_states_the_enforced_rules(client):
    from schemathesis.specs.openapi.definitions import OPENAPI_30

    reply = client.get("/api/openapi.json")
    assert reply.status_code == 200
    spec = reply.get_json()
    jsonschema.Draft4Validator(OPENAPI_30).validate(spec)  # still a valid document
    schemas = spec["components"]["schemas"]
    holding_in = schemas["HoldingIn"]["properties"]
    assert (holding_in["shares"]["minimum"], holding_in["shares"]["exclusiveMinimum"]) == (0, True)
    assert holding_in["averagePrice"]["minimum"] == 0
    assert "exclusiveMinimum" not in holding_in["averagePrice"]
    assert "today" in holding_in["purchaseDate"]["description"]
    for name in ("alertPriceAbove", "alertPriceBelow"):
        assert schemas["WatchIn"]["properties"][name]["exclusiveMinimum"] is True
    from stockmind.universe import SYMBOL_RE
    from stockmind_api.schemas import SYMBOL_PATTERN

    assert (
        holding_in["symbol"]["pattern"]
        == schemas["WatchIn"]["properties"]["symbol"]["pattern"]
        == SYMBOL_PATTERN
    )
    assert SYMBOL_PATTERN.replace("a-z", "") == SYMBOL_RE.pattern
    path = spec["paths"]["/api/market/stock/{symbol}/indicators"]
    assert path["parameters"][0]["schema"]["pattern"] == SYMBOL_PATTERN
    params = {p["name"]: p for p in path["get"]["parameters"]}
    assert "not after end" in params["start"]["description"]
    for name in ("start", "end"):
        assert "1900-01-01" in params[name]["description"]
        assert "2100-12-31" in params[name]["description"]
    assert "NotificationPreferences" in schemas
    assert schemas["NotificationPreferences"]["additionalProperties"] is False
    body_errors = spec["paths"]["/api/portfolio/holdings"]["post"]["responses"]
    assert {"400", "413", "415", "422"} <= set(body_errors)


def raw_http(base: str, request: bytes) -> tuple[int, dict]:
    """Send raw bytes (requests/urllib refuse such requests); the status and JSON body."""
    address = urlsplit(base)
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    assert headers["Content-Type"] == "application/json", answer[:300]
    return int(lines[0].split()[1]), json.loads(body)


def test_the_server_refuses_malformed_requests_in_the_envelope(module_warehouse, app):
    """gunicorn's own refusals (before Flask) are JSON too: needs ``api_command`` to start
    the worker class ``stockmind_api.server.EnvelopeThreadWorker``."""
    with live_api(module_warehouse) as base:
        long_line = b"GET /api/health?" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
        status, body = raw_http(base, long_line)
        assert (status, body["code"], body["success"]) == (400, 400, False)
        assert "too large" in body["message"]
        many = b"".join(b"X-H%d: 1\r\n" % i for i in range(150))
        status, body = raw_http(base, b"GET /api/health HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
        assert (status, body["code"]) == (431, 431)
        status, body = raw_http(base, b"NONSENSE\r\n\r\n")
        assert (status, body["status"]) == (400, "error")
