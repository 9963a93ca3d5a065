"""Holdings and watchlists: owner-only CRUD, valuation at the latest close, clean 4xx."""

import datetime as dt

import psycopg2
import pytest
from conftest import load_sample, run_dbt
from test_api_auth import PASSWORD, bearer, body_of, make_app

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def app(module_warehouse):
    load_sample(module_warehouse, ["AAPL", "MSFT"], dt.date(2024, 6, 3), dt.date(2024, 6, 28))
    run_dbt(module_warehouse, "run", "--select", "+fct_prices_daily", "+dim_symbols")
    app = make_app(module_warehouse)
    yield app
    app.extensions["db"].close()


@pytest.fixture(scope="module")
def users(app):
    client = app.test_client()
    tokens = {}
    for name in ("alice", "bob"):
        reply = client.post(
            "/api/auth/register",
            json={"email": f"{name}@example.com", "password": PASSWORD, "fullName": name},
        )
        tokens[name] = bearer(body_of(reply, 201)["data"]["accessToken"])
    return tokens


@pytest.fixture
def client(app):
    return app.test_client()


def latest_close(dsn, symbol):
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(
            "select close from raw.prices_daily where symbol = %s order by trade_date desc limit 1",
            (symbol,),
        )
        return cur.fetchone()[0]


def test_holding_lifecycle_and_valuation(client, users, module_warehouse):
    alice = users["alice"]
    made = body_of(
        client.post(
            "/api/portfolio/holdings",
            headers=alice,
            json={
                "symbol": "aapl",
                "shares": 10,
                "averagePrice": 50.5,
                "purchaseDate": "2024-06-03",
            },
        ),
        201,
    )["data"]
    price = latest_close(module_warehouse, "AAPL")
    assert made["symbol"] == "AAPL" and made["totalCost"] == pytest.approx(505.0)
    assert made["currentValue"] == pytest.approx(10 * price)
    assert made["profitLoss"] == pytest.approx(10 * (price - 50.5))
    # percentages are sent with 2 decimals, money with 4 (stockmind_api.precision)
    assert made["profitLossPercent"] == pytest.approx(100 * (price - 50.5) / 50.5, abs=0.005)
    assert made["priceDate"] == "2024-06-28"
    path = f"/api/portfolio/holdings/{made['id']}"
    patched = body_of(client.patch(path, headers=alice, json={"shares": 12, "notes": "core"}), 200)[
        "data"
    ]
    assert (patched["shares"], patched["notes"]) == (12, "core")
    assert [
        h["symbol"]
        for h in body_of(client.get("/api/portfolio/holdings", headers=alice), 200)["data"]
    ] == ["AAPL"]
    body_of(client.delete(path, headers=alice), 200)
    body_of(client.get(path, headers=alice), 404)


def test_other_users_rows_are_invisible(client, users):
    made = body_of(
        client.post(
            "/api/portfolio/holdings",
            headers=users["alice"],
            json={"symbol": "MSFT", "shares": 1, "averagePrice": 10},
        ),
        201,
    )["data"]
    path = f"/api/portfolio/holdings/{made['id']}"
    bob = users["bob"]
    assert body_of(client.get(path, headers=bob), 404)["message"] == body_of(
        client.get("/api/portfolio/holdings/999999", headers=bob), 404
    )["message"].replace("999999", str(made["id"]))
    body_of(client.patch(path, headers=bob, json={"shares": 99}), 404)
    body_of(client.delete(path, headers=bob), 404)
    assert body_of(client.get("/api/portfolio/holdings", headers=bob), 200)["data"] == []
    assert body_of(client.get(path, headers=users["alice"]), 200)["data"]["shares"] == 1


@pytest.mark.parametrize(
    ("payload", "code", "field"),
    [
        ({"symbol": "ZZZZ", "shares": 1, "averagePrice": 1}, 422, "symbol"),
        ({"symbol": "AAPL", "shares": -1, "averagePrice": 1}, 422, "shares"),
        ({"symbol": "AAPL", "shares": 1}, 422, "averagePrice"),
        ({"symbol": "AAPL", "shares": "many", "averagePrice": 1}, 422, "shares"),
    ],
)
def test_holding_validation(client, users, payload, code, field):
    assert (
        field
        in body_of(
            client.post("/api/portfolio/holdings", headers=users["bob"], json=payload), code
        )["errors"]
    )


def test_duplicate_symbol_is_a_conflict(client, users):
    first = {"symbol": "AAPL", "shares": 1, "averagePrice": 1}
    body_of(client.post("/api/portfolio/holdings", headers=users["bob"], json=first), 201)
    body_of(client.post("/api/portfolio/holdings", headers=users["bob"], json=first), 409)


def test_watchlist_alerts_and_consistency(client, users, module_warehouse):
    alice = users["alice"]
    price = latest_close(module_warehouse, "MSFT")
    made = body_of(
        client.post(
            "/api/portfolio/watchlist",
            headers=alice,
            json={"symbol": "MSFT", "alertPriceAbove": price * 2, "alertPriceBelow": price * 1.1},
        ),
        201,
    )["data"]
    assert (made["aboveAlert"], made["belowAlert"]) == (False, True)
    bad = {"symbol": "AAPL", "alertPriceAbove": 10, "alertPriceBelow": 20}
    assert (
        "alertPriceBelow"
        in body_of(client.post("/api/portfolio/watchlist", headers=alice, json=bad), 422)["errors"]
    )
    # a patch that crosses the stored level is caught by the table's constraint: still a 422
    body_of(
        client.patch(
            f"/api/portfolio/watchlist/{made['id']}",
            headers=alice,
            json={"alertPriceBelow": price * 3},
        ),
        422,
    )
    body_of(client.get(f"/api/portfolio/watchlist/{made['id']}", headers=users["bob"]), 404)


def test_portfolio_needs_authentication(client):
    body_of(client.get("/api/portfolio/holdings"), 401)
    body_of(client.post("/api/portfolio/watchlist", json={"symbol": "AAPL"}), 401)


def test_what_a_user_typed_comes_back_as_stored(client, users):
    """Entered values (numeric(20, 6)) are echoed as stored, not cut to a price's 4
    decimals; computed ones (value, P&L) follow the price rule."""
    made = body_of(
        client.post(
            "/api/portfolio/watchlist",
            headers=users["bob"],
            json={"symbol": "AAPL", "alertPriceAbove": 10.00006, "alertPriceBelow": 10.00004},
        ),
        201,
    )["data"]
    assert (made["alertPriceAbove"], made["alertPriceBelow"]) == (10.00006, 10.00004)
    held = body_of(
        client.post(
            "/api/portfolio/holdings",
            headers=users["bob"],
            json={"symbol": "MSFT", "shares": 3, "averagePrice": 12.345678},
        ),
        201,
    )["data"]
    assert held["averagePrice"] == 12.345678 and held["totalCost"] == 37.037
