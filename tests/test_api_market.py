"""The public market API on a real warehouse filled by the real ingestion and dbt."""

import datetime as dt

import pytest
from conftest import api_reader_dsn, load_sample, run_dbt
from stockmind.trading_calendar import trading_days
from stockmind.universe import resolve_universe

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client(module_warehouse):
    from stockmind_api import create_app
    from stockmind_api.config import Config

    symbols = resolve_universe("sample")
    load_sample(module_warehouse, symbols, dt.date(2023, 6, 1), dt.date(2024, 6, 28), profiles=True)
    run_dbt(module_warehouse, "build")
    config = Config()
    config.DATABASE_URL = api_reader_dsn(module_warehouse)  # reads its contract only
    app = create_app(config)
    app.testing = True
    yield app.test_client()
    app.extensions["db"].close()


def ok(response):
    body = response.get_json()
    assert response.status_code == 200, body
    assert body["status"] == "success" and body["success"] is True
    return body["data"]


def error(response, code):
    body = response.get_json()
    assert response.status_code == code, body
    assert body["status"] == "error" and body["success"] is False and body["code"] == code
    assert body["data"] is None and body["message"]
    return body


def test_health(client):
    reply = client.get("/api/health")
    data = ok(reply)
    assert data["database"] == "ok" and data["latestTradeDate"] == "2024-06-28"
    # no data-quality check has run on this warehouse yet: healthy, and says so
    assert reply.get_json()["message"] == data["status"] == "healthy" and data["reasons"] == []
    assert data["quality"] == {"status": "not_run", "checkedAt": None, "checks": []}


def test_symbols_search_sector_and_pagination(client):
    data = ok(client.get("/api/market/symbols?pageSize=5&page=2"))
    assert data["pagination"] == {"page": 2, "pageSize": 5, "total": 16, "totalPages": 4}
    assert [s["symbol"] for s in data["items"]] == ["JPM", "KO", "META", "MSFT", "NFLX"]
    assert (
        ok(client.get("/api/market/symbols?search=ms"))["items"][0]["name"]
        == "Microsoft Corporation"
    )
    tech = ok(client.get("/api/market/symbols?sector=Information%20Technology"))["items"]
    assert {s["symbol"] for s in tech} == {"AAPL", "MSFT", "NVDA"}
    beyond = ok(client.get("/api/market/symbols?page=9"))
    assert beyond["items"] == [] and beyond["pagination"]["total"] == 16


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/market/symbols?pageSize=5000", "pageSize"),
        ("/api/market/symbols?page=0", "page"),
        ("/api/market/stock/AAPL?start=2024-05-01&end=2024-04-01", "start"),
        ("/api/market/stock/AAPL?interval=5m", "interval"),
        ("/api/market/scanner?timeframe=hourly", "timeframe"),
        ("/api/market/stock/AAPL/indicators?start=yesterday", "start"),
    ],
)
def test_bad_input_is_a_422_in_the_envelope(client, url, field):
    body = error(client.get(url), 422)
    assert field in body["errors"]


def test_stock_summary_history_and_indicators(client):
    data = ok(client.get("/api/market/stock/aapl?start=2024-06-01&end=2024-06-28"))
    assert (
        data["symbol"] == "AAPL"
        and data["name"] == "Apple Inc."
        and data["tradeDate"] == "2024-06-28"
    )
    assert data["price"] == data["historicalData"][-1]["close"]
    assert len(data["historicalData"]) == 19  # trading days in June 2024 from the 1st
    assert data["low52w"] <= data["price"] <= data["high52w"]
    assert set(data["indicators"]) >= {"sma20", "rsi14", "macdSignal", "bbUpper", "atr14", "obv"}
    weekly = ok(client.get("/api/market/stock/AAPL?interval=1w&start=2024-06-01&end=2024-06-28"))
    assert len(weekly["historicalData"]) == 4
    series = ok(client.get("/api/market/stock/AAPL/indicators?start=2024-01-01&end=2024-06-28"))
    assert len(series) == len(trading_days(dt.date(2024, 1, 1), dt.date(2024, 6, 28)))
    assert series[-1]["tradeDate"] == "2024-06-28"


def test_unknown_and_invalid_symbols(client):
    assert "unknown symbol" in error(client.get("/api/market/stock/ZZZZ"), 404)["message"]
    error(client.get("/api/market/stock/ZZZZ/indicators"), 404)
    error(client.get("/api/market/stock/%24%24%24"), 422)


def test_scanner_daily_weekly_and_dates(client):
    daily = ok(client.get("/api/market/scanner"))
    assert daily["tradeDate"] == "2024-06-28" and daily["marketOverview"]["totalScanned"] == 16
    assert 0 < len(daily["gainers"]) <= 10 and all(g["changePercent"] > 0 for g in daily["gainers"])
    assert [m["rank"] for m in daily["mostActive"]] == list(range(1, 11))
    weekly = ok(client.get("/api/market/scanner?timeframe=weekly&date=2024-06-12"))
    assert weekly["periodStart"] == "2024-06-10" and weekly["tradeDate"] == "2024-06-14"
    assert (
        "no daily scan" in error(client.get("/api/market/scanner?date=2030-01-01"), 404)["message"]
    )


def test_not_yet_available_data_and_unknown_routes(client):
    assert (
        error(client.get("/api/market/predictions/AAPL"), 404)["message"]
        == "no prediction yet for AAPL"
    )
    assert error(client.get("/api/market/predictions/ZZZZ"), 404)["message"] == (
        "unknown symbol ZZZZ"
    )
    error(client.get("/api/market/sentiment/AAPL"), 404)
    error(client.get("/api/market/news/AAPL"), 404)
    error(client.get("/api/nothing-here"), 404)
    error(client.post("/api/market/symbols"), 405)


def test_openapi_document_lists_every_route(client):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert {
        "/api/health",
        "/api/market/symbols",
        "/api/market/stock/{symbol}",
        "/api/market/stock/{symbol}/indicators",
        "/api/market/scanner",
    } <= set(spec["paths"])


READ_PATHS = [
    "/api/health",
    "/api/market/symbols?sector=Financials",
    "/api/market/stock/AAPL",
    "/api/market/stock/AAPL?interval=1w&start=2024-01-01",
    "/api/market/stock/AAPL/indicators?start=2024-01-01",
    "/api/market/scanner",
    "/api/market/scanner?timeframe=weekly&date=2024-03-13",
]


def plan_nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)


def test_read_queries_use_indexes(client, module_warehouse):
    """EXPLAIN every statement the market endpoints send, with sequential scans priced out
    (``enable_seqscan = off``): a Seq Scan left in a plan means no index can serve it.
    The symbol search is the one exception: it counts every match (the page's total) and
    matches names with ``ilike '%…%'``, so it reads the ~500-row ``marts.dim_symbols`` whole."""
    import psycopg2

    pool = client.application.extensions["db"]
    pool.statement_log = []
    client.application.extensions["response_cache"].clear()  # every path reads the database
    try:
        for path in READ_PATHS:
            ok(client.get(path))
        statements = pool.statement_log
    finally:
        pool.statement_log = None
    assert len(statements) >= len(READ_PATHS)
    scans = {}
    with psycopg2.connect(module_warehouse) as conn, conn.cursor() as cur:
        cur.execute("set enable_seqscan = off")
        for statement in statements:
            cur.execute("explain (format json) " + statement)
            plan = cur.fetchone()[0][0]["Plan"]
            nodes = list(plan_nodes(plan))
            seq = [n["Relation Name"] for n in nodes if n["Node Type"] == "Seq Scan"]
            if "with matches as" in statement:
                seq.remove("dim_symbols")
            assert not seq, f"sequential scan of {seq} in: {statement[:300]}"
            if "with matches as" not in statement and any("Relation Name" in n for n in nodes):
                scans[statement[:40]] = {n["Node Type"] for n in nodes if "Index" in n["Node Type"]}
    assert len(scans) >= 5 and all(scans.values()), scans
    conn.close()


# -- numbers a person can read (stockmind_api.precision) ---------------------------------
PLACES = {  # wire key → decimals sent; volumes are integers
    **dict.fromkeys(
        ["open", "high", "low", "close", "price", "change", "high52w", "low52w", "priorHigh"],
        4,
    ),
    **dict.fromkeys(["priorLow", "sma20", "sma50", "sma200", "ema12", "ema26", "macd"], 4),
    **dict.fromkeys(["macdSignal", "macdHist", "bbUpper", "bbMiddle", "bbLower", "atr14"], 4),
    **dict.fromkeys(["changePercent", "avgChangePercent", "rsi14"], 2),
    "volumeRatio": 4,
    **dict.fromkeys(["volume", "avgVolume", "obv", "marketCap", "unusualVolume"], 0),
    **dict.fromkeys(["breakoutsUp", "breakoutsDown"], 0),
}


def numbers(value, key=None):
    """(key, number) for every number in a JSON document."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from numbers(v, k)
    elif isinstance(value, list):
        for item in value:
            yield from numbers(item, key)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield key, value


def test_numbers_are_sent_with_their_precision(client, module_warehouse):
    """Prices, indicators and percentages at their fixed decimals, volumes as integers,
    on both JSON paths: PostgreSQL-built (stock, scanner) and marshmallow (indicators)."""
    import psycopg2

    with psycopg2.connect(module_warehouse) as conn, conn.cursor() as cur:
        # a day whose scan lists unusual volume (avgVolume is sent only there)
        cur.execute("select max(period_start) from marts.fct_scanner_daily where is_unusual_volume")
        (unusual_day,) = cur.fetchone()
    assert unusual_day is not None, "the sample year has no unusual-volume day"
    seen = {}
    for path in (
        "/api/market/stock/AAPL?start=2024-01-02",
        "/api/market/stock/MSFT?interval=1w",
        "/api/market/stock/AAPL/indicators?start=2024-01-02",
        "/api/market/scanner",
        "/api/market/scanner?timeframe=weekly",
        f"/api/market/scanner?date={unusual_day.isoformat()}",
    ):
        for key, number in numbers(ok(client.get(path))):
            if key in ("page", "pageSize", "total", "totalPages", "rank") or key.startswith(
                ("total", "bull", "bear", "neutral", "advancers", "decliners", "unchanged")
            ):
                continue
            places = PLACES.get(key)
            assert places is not None, f"{path}: {key} has no decided precision"
            if places == 0:
                assert isinstance(number, int), (path, key, number)
            else:
                assert round(number, places) == number, (path, key, number)
            seen[key] = seen.get(key, 0) + 1
    assert {"close", "changePercent", "rsi14", "volume", "sma200", "avgVolume"} <= set(seen)
    # averages of prices have more decimals than the prices: the rule cut them to 4
    series = ok(client.get("/api/market/stock/AAPL/indicators?start=2024-01-02"))
    decimals = {len(repr(row["sma20"]).split(".")[1]) for row in series if row["sma20"]}
    assert max(decimals) == 4


def test_the_precision_is_documented(client):
    schemas = client.get("/api/openapi.json").get_json()["components"]["schemas"]
    assert "Rounded to 4 decimal places" in schemas["Bar"]["properties"]["close"]["description"]
    change = schemas["Stock"]["properties"]["changePercent"]["description"]
    assert "Rounded to 2 decimal places" in change
    assert schemas["Bar"]["properties"]["volume"]["type"] == "integer"


def test_the_api_role_cannot_read_beyond_its_contract(module_warehouse):
    """The role these suites run the API as: marts yes, raw bars and staging no."""
    import psycopg2

    conn = psycopg2.connect(api_reader_dsn(module_warehouse))
    try:
        with conn.cursor() as cur:
            cur.execute("select count(*) from marts.fct_prices_daily")  # a view: allowed
            assert cur.fetchone()[0] > 0
            cur.execute("select count(*) from raw.quotes_minute")
        for relation in ("raw.prices_daily", "raw.symbols", "staging.stg_prices_daily"):
            with conn.cursor() as cur, pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute(f"select 1 from {relation} limit 1")
            conn.rollback()
    finally:
        conn.close()


def response_schemas(app):
    """Every schema a route answers with (flask-smorest's records), nested ones included."""
    from marshmallow import fields

    views = []
    for view in app.view_functions.values():
        cls = getattr(view, "view_class", None)
        views += [getattr(cls, m) for m in ("get", "post", "patch", "delete") if hasattr(cls, m)]
        views.append(view)
    found, stack = {}, []
    for view in views:
        records = getattr(view, "_apidoc", {}).get("response", {}).get("responses", {})
        for answers in records.values():
            answers = answers if isinstance(answers, list) else [answers]
            stack += [a["schema"] for a in answers if isinstance(a, dict) and a.get("schema")]
    while stack:
        schema = stack.pop()
        schema = schema() if isinstance(schema, type) else schema
        if type(schema).__name__ in found:
            continue
        found[type(schema).__name__] = schema
        for field in schema.fields.values():
            inner = getattr(field, "inner", None) or field
            if isinstance(inner, fields.Nested):
                stack.append(inner.schema)
    return found


def test_every_float_the_api_sends_has_a_decided_precision(client):
    from marshmallow import fields
    from stockmind_api.precision import Rounded

    schemas = response_schemas(client.application)
    assert {"Stock", "Holding", "Watch", "Analytics", "Health"} <= {
        name.removesuffix("Schema") for name in schemas
    }
    loose = [
        f"{name}.{key}"
        for name, schema in schemas.items()
        for key, field in schema.fields.items()
        if isinstance(field, fields.Float) and not isinstance(field, Rounded)
    ]
    assert loose == []


def test_query_arguments_are_parsed_once_per_query_string(client):
    """The parser's memo (parsing.py): a repeated query is served from it with the same
    answer; a rejected one is never kept and is rejected again."""
    from stockmind_api import parsing
    from stockmind_api.market.schemas import StockArgsSchema

    path = "/api/market/stock/AAPL?start=2024-01-02&interval=1d"
    first = ok(client.get(path))
    key = (StockArgsSchema, b"start=2024-01-02&interval=1d")
    assert any(k[:2] == key for k in parsing._PARSED_QUERIES)
    assert ok(client.get(path)) == first
    for _ in range(2):
        error(client.get("/api/market/stock/AAPL?interval=1y"), 422)
    assert not any(k[1] == b"interval=1y" for k in parsing._PARSED_QUERIES)
