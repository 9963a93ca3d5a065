"""``make up``'s engine end to end: its own PostgreSQL cluster, Airflow's services, the
first backfill through the scheduler, then ``down`` — in a throwaway STOCKMIND_HOME."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

import psycopg2
import pytest
from simple_websocket import Client

STOCKMIND = str(Path(sys.executable).parent / "stockmind")


@pytest.mark.slow
def test_up_loads_prices_through_airflow_and_down_stops_everything():
    tmp_path = Path(tempfile.mkdtemp(prefix="stockmind-up-"))
    tmp_path.chmod(0o755)  # the cluster runs as the postgres user, who must reach it
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "DATABASE_URL"))}
    env.update(
        STOCKMIND_HOME=str(tmp_path), STOCKMIND_PG_PORT="55499", STOCKMIND_AIRFLOW_PORT="18080"
    )

    def stockmind(*args, timeout=900):
        return subprocess.run(
            [STOCKMIND, *args], env=env, capture_output=True, text=True, timeout=timeout
        )

    try:
        up = stockmind("up", "--backfill-days", "7")
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        assert "StockMind is up" in up.stdout
        assert re.search(r"ingest_prices_daily: \d+ success$", up.stdout, re.M), up.stdout
        password = re.search(r"password (\S+)", up.stdout).group(1)
        assert password and "Airflow UI    http://127.0.0.1:" in up.stdout

        assert re.search(r"transform_market: \d+ success", up.stdout), up.stdout
        indicators = int(re.search(r"Indicators +(\d+) rows", up.stdout).group(1))
        assert indicators > 0
        docs_url = re.search(r"dbt docs +(\S+)", up.stdout).group(1)
        with urllib.request.urlopen(docs_url + "/index.html", timeout=10) as resp:
            assert b"dbt" in resp.read()  # the lineage site is served

        api_url = re.search(r"REST API +(\S+)", up.stdout).group(1)
        with urllib.request.urlopen(api_url + "/market/scanner", timeout=10) as resp:
            scan = json.loads(resp.read())
        assert scan["success"] and scan["data"]["marketOverview"]["totalScanned"] == 16

        ws_url = re.search(r"Live quotes +(\S+)", up.stdout).group(1)
        ws = Client.connect(ws_url)  # the make-up server pushes a hand-run poll's quote
        ws.send(json.dumps({"type": "subscribe", "symbol": "AAPL"}))
        assert json.loads(ws.receive(timeout=10))["type"] == "subscribed"
        polled = stockmind("ingest", "quotes", "--symbols", "AAPL", "--at", "2024-03-04T15:00:00Z")
        assert polled.returncode == 0, polled.stderr[-2000:]
        while (message := json.loads(ws.receive(timeout=15)))["data"]["timestamp"] != (
            "2024-03-04T15:00:00+00:00"
        ):
            assert message["type"] == "stock_update"  # a poll_quotes run may come first
        ws.close()

        dsn = stockmind("db", "url").stdout.strip()
        with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
            cur.execute("select count(distinct symbol), count(*) from raw.prices_daily")
            symbols, rows = cur.fetchone()
        assert symbols == 16 and rows >= 16 * 3
        assert indicators == rows  # dbt caught up with every loaded bar

        again = stockmind("up", "--backfill-days", "7")  # running twice is harmless
        assert again.returncode == 0, again.stderr[-3000:]
        with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
            cur.execute("select count(*) from raw.prices_daily")
            assert cur.fetchone()[0] == rows
        status = stockmind("status").stdout
        assert "scheduler" in status and "running" in status
        assert re.search(r"^redis +running", status, re.M), status
        limits = re.search(r"Rate limits +(\S+)", up.stdout).group(1)
        assert limits.startswith("redis://:***@127.0.0.1:"), limits  # the password masked
    finally:
        down = stockmind("down", timeout=120)
    assert down.returncode == 0 and "StockMind is down." in down.stdout
    assert "running" not in stockmind("status").stdout
    shutil.rmtree(tmp_path, ignore_errors=True)
