"""``/metrics`` under the real gunicorn (``api_command``, two workers) over real sockets:
totals summed across workers, stable between scrapes, and the warehouse's DAG-run,
freshness and data-quality figures, read as the API's least-privilege role.

Which worker served a connection is read from the kernel, not from the app: the server
side of the connection in ``/proc/net/tcp`` and the worker holding that socket.
"""

from __future__ import annotations

import datetime as dt
import http.client
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import api_reader_dsn, live_api, load_sample, run_dbt
from prometheus_client.parser import text_string_to_metric_families
from simple_websocket import Client
from stockmind.db import connect
from stockmind.loader import ensure_partitions
from stockmind.run_log import record_run

pytestmark = pytest.mark.slow
SYMBOLS = ["AAPL", "MSFT"]


@pytest.fixture(scope="module")
def warehouse_dsn(module_warehouse):
    load_sample(module_warehouse, SYMBOLS, dt.date(2026, 1, 5), dt.date(2026, 3, 31), True)
    marts = ("+fct_indicators_daily", "+fct_news_articles", "+dim_symbols")  # the freshness
    run_dbt(module_warehouse, "run", "--select", *marts)
    return module_warehouse


@pytest.fixture(scope="module")
def server(warehouse_dsn):
    with live_api(api_reader_dsn(warehouse_dsn), workers=2, WS_IDLE_SECONDS="60") as base:
        yield base


# -- reading /metrics and the kernel -----------------------------------------------------
def scrape(base: str) -> dict[tuple[str, tuple], float]:
    """Every sample of ``/metrics``: (name, sorted labels) → value."""
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("GET", "/metrics")
    reply = conn.getresponse()
    assert reply.status == 200
    text = reply.read().decode()
    conn.close()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def total(samples: dict, name: str, **labels: str) -> float:
    """The sum of ``name`` over the series matching ``labels``."""
    return sum(
        value
        for (sample, series), value in samples.items()
        if sample == name and set(labels.items()) <= set(series)
    )


def socket_inodes(base: str, client_port: int | None = None) -> set[str]:
    """Inodes of the server's sockets: the listening one, or the server side of the
    connection from ``client_port``."""
    server_port = int(base.rsplit(":", 1)[1])
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = int(fields[1].split(":")[1], 16), int(fields[2].split(":")[1], 16)
        listening = fields[3] == "0A"
        if local == server_port and (remote == client_port if client_port else listening):
            found.add(fields[9])
    return found


def holders(inodes: set[str], pids=None) -> set[int]:
    """The processes holding any of these sockets open."""
    links = {f"socket:[{inode}]" for inode in inodes}
    found = set()
    for entry in pids or [int(e.name) for e in Path("/proc").iterdir() if e.name.isdigit()]:
        try:
            fds = list(Path(f"/proc/{entry}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(fd) in links:
                    found.add(entry)
                    break
            except OSError:
                continue
    return found


def gunicorn_pids(base: str) -> set[int]:
    """gunicorn's master and workers: every process holding the listening socket (the
    process titles are rewritten by setproctitle, so not found by command line)."""
    return holders(socket_inodes(base))


def serving_pid(base: str, client_port: int, pids: set[int]) -> int:
    """The worker holding the server side of the connection from ``client_port``."""
    inodes = socket_inodes(base, client_port)
    assert inodes, f"no server side for port {client_port}"
    (pid,) = holders(inodes, pids)
    return pid


def metrics_dir_of(base: str) -> Path:
    """The multiprocess directory, from the files a worker holds open in it."""
    for pid in gunicorn_pids(base):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = Path(os.readlink(fd))
            except OSError:
                continue
            if target.suffix == ".db" and target.name.startswith(("counter_", "gauge_")):
                return target.parent
    raise AssertionError("no worker holds a metrics file open")


def requests_from_both_workers(base: str, per_connection: int = 5) -> dict[int, int]:
    """GET /api/health over keep-alive connections, 8 at a time, until both workers have
    answered (at least 3 rounds): the requests made, by the pid that served them."""
    host, port = base.removeprefix("http://").split(":")
    served: dict[int, int] = {}
    pids = gunicorn_pids(base)
    for round_ in range(40):
        if round_ >= 3 and len(served) >= 2:
            return served
        conns = [http.client.HTTPConnection(host, int(port), timeout=10) for _ in range(8)]
        for conn in conns:
            conn.connect()
        for conn in conns:
            conn.request("GET", "/api/health")
            conn.getresponse().read()
            pid = serving_pid(base, conn.sock.getsockname()[1], pids)
            for _ in range(per_connection - 1):
                conn.request("GET", "/api/health")
                conn.getresponse().read()
            served[pid] = served.get(pid, 0) + per_connection
        for conn in conns:
            conn.close()
    raise AssertionError(f"one worker answered every connection: {served}")


# -- the tests -----------------------------------------------------------------------------
def test_request_totals_add_up_across_workers_and_hold_between_scrapes(server):
    name, labels = "stockmind_api_requests_total", {"endpoint": "/api/health", "method": "GET"}
    before = total(scrape(server), name, **labels)
    served = requests_from_both_workers(server)
    assert len(served) == 2 and all(served.values())
    made = sum(served.values())
    for _ in range(6):  # whichever worker answers the scrape, the same totals
        samples = scrape(server)
        assert total(samples, name, **labels) - before == made
        count = total(samples, "stockmind_api_request_seconds_count", **labels)
        assert count == total(samples, name, **labels)


def test_websocket_clients_add_up_across_workers(server):
    url = server.replace("http://", "ws://") + "/ws/market"
    clients, pids, gunicorn = [], set(), gunicorn_pids(server)
    try:
        # 8 handshakes at once per round: sequential ones can all land on the idle worker
        with ThreadPoolExecutor(8) as pool:
            while len(pids) < 2 or len(clients) < 4:
                assert len(clients) < 64, f"every WebSocket went to one worker ({pids})"
                batch = list(pool.map(lambda _: Client.connect(url), range(8)))
                clients += batch
                pids |= {serving_pid(server, ws.sock.getsockname()[1], gunicorn) for ws in batch}
        deadline = time.monotonic() + 10  # each worker publishes its count every second
        while total(scrape(server), "stockmind_ws_clients") != len(clients):
            assert time.monotonic() < deadline, scrape(server)
            time.sleep(0.2)
        for _ in range(4):
            assert total(scrape(server), "stockmind_ws_clients") == len(clients)
        while True:  # one series per worker (pid), each up once it has a client
            listeners = [
                value
                for (sample, _), value in scrape(server).items()
                if sample == "stockmind_ws_listener_up"
            ]
            if len(listeners) == 2 and all(listeners):
                break
            assert time.monotonic() < deadline, listeners
            time.sleep(0.2)
    finally:
        for ws in clients:
            ws.close()
    deadline = time.monotonic() + 10
    while total(scrape(server), "stockmind_ws_clients") != 0:
        assert time.monotonic() < deadline
        time.sleep(0.2)


def test_pipeline_runs_freshness_and_quality_checks_are_exported(server, warehouse_dsn):
    end = dt.datetime(2026, 3, 31, 21, 30, tzinfo=dt.UTC)
    record_run("ingest_prices_daily", "scheduled__1", end, 10, 1, {"note": "first"}, warehouse_dsn)
    record_run("ingest_prices_daily", "scheduled__2", end, 32, 3, {}, warehouse_dsn)
    record_run("poll_quotes", "scheduled__9", None, 16, 0, None, warehouse_dsn)
    with connect(warehouse_dsn) as conn, conn.cursor() as cur:
        cur.execute(
            "insert into ops.quality_checks (check_name, as_of, ok, observed, threshold,"
            " reason) values"
            " ('stale_symbols', '2026-03-31', false, 2, 0, 'AAPL, MSFT: no bar for 3 days'),"
            " ('missing_days', '2026-03-31', true, 0, 0, '')"
        )
        today = dt.datetime.now(dt.UTC).date()
        ensure_partitions(cur, "raw.quotes_minute", today - dt.timedelta(days=1), today)
        cur.execute(
            "insert into raw.quotes_minute (symbol, ts, price, source) "
            "values ('AAPL', date_trunc('minute', now()) - interval '2 minutes', 1, 'test')"
        )
    conn.close()
    samples = scrape(server)

    def value(name: str, **labels: str) -> float:
        return samples[(name, tuple(sorted(labels.items())))]

    assert value("stockmind_warehouse_scrape_ok") == 1
    prices = {"dag_id": "ingest_prices_daily"}
    assert value("stockmind_pipeline_last_run_rows_loaded", **prices) == 32  # the latest run
    assert value("stockmind_pipeline_last_run_rows_quarantined", **prices) == 3
    assert value("stockmind_pipeline_last_run_interval_end_timestamp_seconds", **prices) == (
        end.timestamp()
    )
    finished = value("stockmind_pipeline_last_run_finished_timestamp_seconds", **prices)
    assert abs(finished - time.time()) < 60
    assert value("stockmind_pipeline_last_run_rows_loaded", dag_id="poll_quotes") == 16
    assert value("stockmind_quality_check_ok", check="stale_symbols") == 0
    assert value("stockmind_quality_check_observed", check="stale_symbols") == 2
    assert value("stockmind_quality_check_ok", check="missing_days") == 1
    latest_bar = dt.datetime(2026, 3, 31, tzinfo=dt.UTC).timestamp()  # the last loaded day
    assert value("stockmind_data_latest_timestamp_seconds", dataset="prices_daily") == latest_bar
    assert 110 < value("stockmind_data_age_seconds", dataset="quotes_minute") < 190
    assert ("stockmind_data_age_seconds", (("dataset", "news_articles"),)) not in samples


def test_record_run_is_idempotent_per_run(warehouse_dsn):
    end = dt.datetime(2026, 3, 30, 21, 30, tzinfo=dt.UTC)
    record_run("ingest_news", "manual__a", end, 5, 2, {"inserted": 5}, warehouse_dsn)
    record_run("ingest_news", "manual__a", end, 7, 0, {"inserted": 7}, warehouse_dsn)
    with connect(warehouse_dsn) as conn, conn.cursor() as cur:
        cur.execute(
            "select rows_loaded, rows_quarantined, details from ops.pipeline_runs "
            "where dag_id = 'ingest_news' and run_id = 'manual__a'"
        )
        rows = cur.fetchall()
    conn.close()
    assert rows == [(7, 0, {"inserted": 7})]  # the re-run replaced its row


def test_a_failed_warehouse_read_is_a_gauge_not_a_500():
    """No mart built in this warehouse (and the Flask test client: one process, the plain
    registry): /metrics answers, with scrape_ok 0 and the request figures."""
    import uuid

    from conftest import create_database, drop_database
    from stockmind import migrate
    from test_api_auth import make_app

    name = f"stockmind_test_{uuid.uuid4().hex[:10]}"
    dsn = create_database(name)
    try:
        migrate.upgrade(dsn)
        app = make_app(dsn)
        client = app.test_client()
        client.get("/api/health")
        reply = client.get("/metrics")
        assert reply.status_code == 200
        samples = {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(reply.get_data(as_text=True))
            for s in family.samples
        }
        assert samples[("stockmind_warehouse_scrape_ok", ())] == 0
        assert total(samples, "stockmind_api_requests_total", endpoint="/api/health") == 1
        app.extensions["db"].close()
    finally:
        drop_database(name)


def test_an_operator_directory_is_emptied_at_start_and_kept(tmp_path, warehouse_dsn):
    from prometheus_client.mmap_dict import MmapedDict, mmap_key

    stale = MmapedDict(str(tmp_path / "counter_999999.db"))  # a previous run's worker
    key = mmap_key("stockmind_api_requests", "stockmind_api_requests_total", [], [], "")
    stale.write_value(key, 1000.0, 0.0)
    stale.close()
    with live_api(warehouse_dsn, workers=2, PROMETHEUS_MULTIPROC_DIR=str(tmp_path)) as base:
        assert not (tmp_path / "counter_999999.db").exists()
        assert total(scrape(base), "stockmind_api_requests_total") < 1000
        assert metrics_dir_of(base) == tmp_path
    assert tmp_path.is_dir()  # the operator's directory stays


def test_without_a_directory_gunicorn_uses_a_private_one_and_removes_it(warehouse_dsn):
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ  # live_api passes it on
    with live_api(warehouse_dsn, workers=2) as base:
        private = metrics_dir_of(base)
        assert private.name.startswith("stockmind-metrics-") and private.is_dir()
    assert not private.exists()


def test_the_poll_dag_records_its_run(airflow_db, warehouse, monkeypatch):
    """The summarize step passes the task context's run id and data interval end."""
    import pendulum
    from test_quotes import AT, run_poll_dag

    monkeypatch.setenv("STOCKMIND_PRICE_SOURCE", "sample")
    monkeypatch.setenv("STOCKMIND_MARKET_HOURS", "always")
    run = run_poll_dag(pendulum.instance(AT))
    assert run.state == "success"
    with connect(warehouse) as conn, conn.cursor() as cur:
        cur.execute(
            "select run_id, interval_end, rows_loaded, rows_quarantined, details->>'quotes' "
            "from ops.pipeline_runs where dag_id = 'poll_quotes'"
        )
        rows = cur.fetchall()
    conn.close()
    assert rows == [(run.run_id, AT, 16, 0, "16")]
