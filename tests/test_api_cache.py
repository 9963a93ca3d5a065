"""The response cache of the endpoints that read dbt's tables only (scanner, symbols):
``ETag``/``If-None-Match`` → 304, ``Cache-Control``, and invalidation by the build's real
NOTIFY — in process, and in every worker of a real gunicorn."""

import datetime as dt
import http.client
import json
import re
import time

import psycopg2
import pytest
from conftest import api_reader_dsn, live_api, load_sample, run_dbt
from stockmind import events
from stockmind.announce import announce_indicators
from stockmind.universe import resolve_universe
from test_api_auth import make_app
from test_metrics_multiprocess import gunicorn_pids, serving_pid

pytestmark = pytest.mark.slow
SCANNER = "/api/market/scanner"
LAST_DAY = "2024-06-21"  # the warehouse's newest bar before the live test adds a week


@pytest.fixture(scope="module")
def warehouse(module_warehouse):
    symbols = resolve_universe("sample")
    load_sample(module_warehouse, symbols, dt.date(2024, 1, 2), dt.date(2024, 6, 21), True)
    run_dbt(module_warehouse, "build")
    return module_warehouse


@pytest.fixture(scope="module")
def app(warehouse):
    app = make_app(api_reader_dsn(warehouse), RATE_LIMIT_ENABLED=False)
    yield app
    app.extensions["db"].close()


@pytest.fixture
def client(app):
    return app.test_client()


def listening(app) -> None:
    """Start the app's listener (under a server the first cacheable request does; the
    test client leaves it to the test) and wait until the cache trusts it."""
    app.extensions["hub"].start()
    cache = app.extensions["response_cache"]
    deadline = time.monotonic() + 10
    while not cache.listening:
        assert time.monotonic() < deadline, "the hub's listener never came up"
        time.sleep(0.02)


def execute(dsn: str, statement: str, *params) -> None:
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(statement, params)
    finally:
        conn.close()


BUMP = """update marts.fct_market_overview_daily set bullish = bullish + %s
          where period_start = (select max(period_start) from marts.fct_market_overview_daily)"""


def bullish(response) -> int:
    return response.get_json()["data"]["marketOverview"]["bullish"]


# -- HTTP caching ---------------------------------------------------------------------
@pytest.mark.parametrize("url", [SCANNER, "/api/market/symbols?pageSize=5"])
def test_strong_etag_and_if_none_match_answers_304(client, url):
    first = client.get(url)
    etag = first.headers["ETag"]
    assert first.status_code == 200 and re.fullmatch(r'"[0-9a-f]{32}"', etag)
    assert first.headers["Cache-Control"] == "public, max-age=60"
    assert "Origin" in first.headers.get_all("Vary")
    for sent in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = client.get(url, headers={"If-None-Match": sent})
        assert again.status_code == 304 and again.data == b"", sent
        assert again.headers["ETag"] == etag and again.headers["Cache-Control"]
    changed = client.get(url, headers={"If-None-Match": '"something-else"'})
    assert changed.status_code == 200 and changed.data == first.data
    assert changed.headers["ETag"] == etag


def test_the_key_is_the_parsed_query(client):
    plain = client.get(SCANNER)
    assert client.get(SCANNER + "?timeframe=daily").headers["ETag"] == plain.headers["ETag"]
    weekly = client.get(SCANNER + "?timeframe=weekly")
    assert weekly.status_code == 200 and weekly.headers["ETag"] != plain.headers["ETag"]
    assert weekly.get_json()["data"]["timeframe"] == "weekly"


def test_errors_are_neither_cached_nor_cacheable(client):
    missing = client.get(SCANNER + "?date=2030-01-02")
    assert missing.status_code == 404 and "ETag" not in missing.headers
    assert "Cache-Control" not in missing.headers
    invalid = client.get(SCANNER + "?timeframe=hourly")
    assert invalid.status_code == 422 and "ETag" not in invalid.headers


# -- invalidation in process ------------------------------------------------------------
def test_a_build_event_replaces_the_cached_scan(app, client, warehouse):
    listening(app)
    before = client.get(SCANNER)
    execute(warehouse, BUMP, 100)  # the marts change; nobody has announced it yet
    try:
        cached = client.get(SCANNER)
        assert cached.data == before.data  # served from the cache
        assert announce_indicators(warehouse) >= 1  # what the transform pipeline sends
        deadline = time.monotonic() + 5
        while (after := client.get(SCANNER)).data == before.data:
            assert time.monotonic() < deadline, "the event never reached the cache"
            time.sleep(0.02)
        assert bullish(after) == bullish(before) + 100
        assert after.headers["ETag"] != before.headers["ETag"]
        stale = client.get(SCANNER, headers={"If-None-Match": before.headers["ETag"]})
        assert stale.status_code == 200 and stale.data == after.data
    finally:
        execute(warehouse, BUMP, -100)
        announce_indicators(warehouse)


def test_other_events_leave_the_cache_alone(app, warehouse):
    listening(app)
    cache = app.extensions["response_cache"]
    heard = []  # what the hub told its watchers, listener drops and reconnects included
    app.extensions["hub"].watch(lambda kind, up: heard.append(kind))
    generation = cache.generation
    conn = psycopg2.connect(warehouse)
    try:
        quote = {"symbol": "AAPL", "price": 1.0}
        for kind in (events.STOCK_UPDATE, events.SENTIMENT_UPDATE, events.INDICATOR_UPDATE):
            with conn, conn.cursor() as cur:  # one transaction each, delivered in order
                events.publish(cur, kind, [quote])
    finally:
        conn.close()
    deadline = time.monotonic() + 5
    while cache.generation == generation:
        assert time.monotonic() < deadline, "the indicator_update never arrived"
        time.sleep(0.02)
    assert events.STOCK_UPDATE in heard and events.SENTIMENT_UPDATE in heard
    # the quote and the sentiment changed nothing: one bump per build event heard (ours,
    # and any the fixture's setup sent late) and per listener drop or reconnect
    bumps = heard.count(None) + heard.count(events.INDICATOR_UPDATE)
    assert cache.generation == generation + bumps, heard


def test_a_lost_listener_trusts_nothing_it_kept(app, client, warehouse):
    """Notifications sent while the listener is down are lost: after it reconnects the
    cache starts empty, so a change it never heard of is served."""
    listening(app)
    before = client.get(SCANNER)
    execute(warehouse, BUMP, 7)
    try:
        execute(
            warehouse,
            "select pg_terminate_backend(pid) from pg_stat_activity "
            "where application_name = 'stockmind-hub' and datname = current_database()",
        )
        deadline = time.monotonic() + 10
        while (after := client.get(SCANNER)).data == before.data:
            assert time.monotonic() < deadline, "still serving what was kept before the loss"
            time.sleep(0.05)
        assert bullish(after) == bullish(before) + 7
    finally:
        execute(warehouse, BUMP, -7)
        announce_indicators(warehouse)


# -- every worker of a real gunicorn --------------------------------------------------------
def worker_connections(base: str) -> dict[int, http.client.HTTPConnection]:
    """One keep-alive connection to each of the two workers."""
    host, port = base.removeprefix("http://").split(":")
    pids, found = gunicorn_pids(base), {}
    for _ in range(60):
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        conn.request("GET", "/api/health")  # accepted: a worker holds its socket now
        conn.getresponse().read()
        pid = serving_pid(base, conn.sock.getsockname()[1], pids)
        if pid in found:
            conn.close()
        else:
            found[pid] = conn
        if len(found) == 2:
            return found
    raise AssertionError(f"one worker took every connection: {list(found)}")


def get(conn: http.client.HTTPConnection, etag: str | None = None) -> tuple[int, str, dict]:
    conn.request("GET", SCANNER, headers={"If-None-Match": etag} if etag else {})
    response = conn.getresponse()
    body = response.read()
    return response.status, response.headers["ETag"], json.loads(body) if body else {}


def scan_day(answer: tuple) -> str:
    return answer[2]["data"]["tradeDate"]


def test_every_worker_serves_the_new_build_after_its_event(warehouse):
    with live_api(api_reader_dsn(warehouse), workers=2) as base:
        workers = worker_connections(base)
        for conn in workers.values():
            get(conn)  # starts this worker's listener
        time.sleep(0.5)  # both listeners up (milliseconds), then the entries are kept
        first = {pid: get(conn) for pid, conn in workers.items()}
        assert {etag for _, etag, _ in first.values()} == {first[min(first)][1]}  # one ETag
        assert all(body["data"]["tradeDate"] == LAST_DAY for _, _, body in first.values())
        old = first[min(first)][1]

        execute(warehouse, BUMP, 3)  # unannounced: every worker keeps its entry
        assert all(get(conn)[1] == old for conn in workers.values())
        execute(warehouse, BUMP, -3)  # (the mart is incremental: dbt keeps old periods)

        symbols = resolve_universe("sample")  # a new week of bars, built by dbt
        load_sample(warehouse, symbols, dt.date(2024, 6, 24), dt.date(2024, 6, 28))
        run_dbt(warehouse, "build")
        api_reader_dsn(warehouse)  # the API's grants on the tables dbt has made anew
        assert announce_indicators(warehouse) >= 1  # the transform pipeline's event

        for conn in workers.values():
            conn.close()  # idle past gunicorn's keep-alive during the build: new ones
        workers = worker_connections(base)
        deadline = time.monotonic() + 10
        for pid, conn in workers.items():
            while (answer := get(conn))[0] != 200 or scan_day(answer) != "2024-06-28":
                assert answer[0] == 200, answer
                assert time.monotonic() < deadline, f"worker {pid} kept the old scan"
                time.sleep(0.05)
            status, etag, _ = get(conn, old)  # the old validator no longer matches
            assert status == 200 and etag == answer[1] != old
        new = {get(conn)[1] for conn in workers.values()}
        assert len(new) == 1  # strong: the same bytes, the same ETag, whichever worker
        (etag,) = new
        for conn in workers.values():
            assert get(conn, etag)[0] == 304
            conn.close()
