"""``make up``'s engine end to end: its own PostgreSQL cluster, Airflow's services, years of
sample history bulk-loaded, the first backfill through the scheduler, every indicator on the
latest day, then ``down`` — in a throwaway STOCKMIND_HOME."""

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import psycopg2
import pytest
from conftest import ROOT
from simple_websocket import Client
from stockmind.platform.browser_tour import run_tour
from stockmind.platform.sample_history import years_before
from stockmind.trading_calendar import trading_days
from test_offline_pages import external_loads, loaded_urls

STOCKMIND = str(Path(sys.executable).parent / "stockmind")
INDICATORS = [
    "sma_20",
    "sma_50",
    "sma_200",
    "ema_12",
    "ema_26",
    "rsi_14",
    "macd",
    "macd_signal",
    "macd_hist",
    "bb_upper",
    "bb_middle",
    "bb_lower",
    "atr_14",
    "obv",
]


def listening() -> list[tuple[str, int]]:
    """(address, port) of every listening TCP socket (/proc/net/tcp and tcp6)."""
    import ipaddress

    found = []
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] != "0A":  # LISTEN
                continue
            address, port = fields[1].split(":")
            raw = bytes.fromhex(address)
            # the kernel writes each 32-bit word in host (little-endian) order
            raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            ip = ipaddress.ip_address(raw)
            if width == 32 and ip.ipv4_mapped:
                ip = ip.ipv4_mapped
            found.append((str(ip), int(port, 16)))
    return found


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
        today = dt.date.today()
        up = stockmind("up", "--backfill-days", "7")
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        assert "StockMind is up" in up.stdout
        assert re.search(
            r"^  History +3 years of sample prices: [\d,]+ bars in [\d.]+ s \(bulk load\)",
            up.stdout,
            re.M,
        ), up.stdout
        assert re.search(r"ingest_prices_daily: \d+ success$", up.stdout, re.M), up.stdout
        password = re.search(r"password (\S+)", up.stdout).group(1)
        assert password and "Airflow UI    http://127.0.0.1:" in up.stdout

        assert re.search(r"transform_market: \d+ success", up.stdout), up.stdout
        indicators = int(re.search(r"Indicators +(\d+) rows", up.stdout).group(1))
        assert indicators > 0
        docs_url = re.search(r"dbt docs +(\S+)", up.stdout).group(1)
        airflow_url = re.search(r"Airflow UI +(\S+)", up.stdout).group(1)
        api_url = re.search(r"REST API +(\S+)", up.stdout).group(1)
        # every page the platform serves loads nothing from another host (air-gapped)
        for page_url, mark in (
            (docs_url + "/index.html", "dbt"),
            (airflow_url + "/", "Airflow"),
            (api_url + "/docs", "swagger"),
            (api_url.removesuffix("api"), "StockMind"),  # the market page
        ):
            with urllib.request.urlopen(page_url, timeout=10) as resp:
                page = resp.read().decode()
            assert mark in page and external_loads(page) == [], page_url
            for asset in loaded_urls(page):  # and what it loads is served
                if "${" in asset:  # dbt's favicon link is an unrendered webpack placeholder
                    continue  # (dbt's own bug: only the favicon request fails)
                if asset.startswith(("./", "/")) and not asset.startswith("//"):
                    target = urllib.parse.urljoin(page_url, asset)
                    with urllib.request.urlopen(target, timeout=10) as loaded:
                        assert loaded.status == 200 and loaded.read(), target

        with urllib.request.urlopen(api_url + "/market/scanner", timeout=10) as resp:
            scan = json.loads(resp.read())
        assert scan["success"] and scan["data"]["marketOverview"]["totalScanned"] == 16

        # the forecaster: trained on the history, registered, scored, served by the API
        forecaster = re.search(r"^  Forecaster +(.+)$", up.stdout, re.M).group(1)
        assert re.match(r"trained v1 in \d+ s \((promoted|kept as challenger)", forecaster)
        assert "16 symbols scored with the" in forecaster, forecaster
        mlflow_url = re.search(r"^  MLflow +(\S+)", up.stdout, re.M).group(1)
        with urllib.request.urlopen(
            mlflow_url + "/api/2.0/mlflow/registered-models/get?name=stockmind-forecaster",
            timeout=10,
        ) as resp:
            registered = json.loads(resp.read())["registered_model"]
        aliases = {a["alias"] for a in registered["aliases"]}
        promoted = "(promoted" in forecaster  # the alias scored with follows the decision
        assert aliases == ({"champion", "challenger"} if promoted else {"challenger"})
        scored_with = "champion" if promoted else "challenger"
        assert f"scored with the {scored_with} (v1)" in forecaster, forecaster
        with urllib.request.urlopen(api_url + "/market/predictions/KO", timeout=10) as resp:
            forecast = json.loads(resp.read())["data"]
        assert forecast["modelVersion"] == 1 and len(forecast["horizons"]) == 3
        assert forecast["alias"] == scored_with
        assert (forecast["status"] == "champion") == promoted, forecast["status"]
        # news and sentiment: two weeks of the sample wire, scored, on the first visit
        news_line = re.search(r"^  News +(.+)$", up.stdout, re.M).group(1)
        assert re.match(
            r"\d+ articles from sample \(14 days, 0 quarantined\); \d+ scored", news_line
        )
        with urllib.request.urlopen(api_url + "/market/news/KO?pageSize=5", timeout=10) as resp:
            articles = json.loads(resp.read())["data"]["items"]
        assert len(articles) == 5 and all(a["sentiment"]["label"] for a in articles)
        with urllib.request.urlopen(api_url + "/market/sentiment/KO", timeout=10) as resp:
            mood = json.loads(resp.read())["data"]["latest"]
        assert mood["articles"] > 0 and mood["label"] in ("bullish", "neutral", "bearish")
        serving = re.search(r"^  Model server +(\S+)", up.stdout, re.M).group(1)
        if serving.startswith("http"):  # started when memory allows (the usual case here)
            ping = serving.replace("/invocations", "/ping")
            deadline = time.monotonic() + 120
            while True:  # it loads TensorFlow and the model in the background
                try:
                    with urllib.request.urlopen(ping, timeout=5) as resp:
                        assert resp.status == 200
                        break
                except urllib.error.URLError:
                    assert time.monotonic() < deadline, "the model server did not come up"
                    time.sleep(2)

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

        # every web surface in a real browser (Debian's chromium), screenshots kept
        first = up.stdout.split("StockMind is up")[1].splitlines()[1]
        page_url = re.search(r"Market page +(\S+)", first).group(1)  # the first line

        def publish_quote(symbol: str) -> float:  # a real poll cycle for this minute
            at = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
            polled = stockmind("ingest", "quotes", "--symbols", symbol, "--at", at.isoformat())
            assert polled.returncode == 0, polled.stderr[-2000:]
            with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
                cur.execute(
                    "select price from raw.quotes_minute where symbol = %s and ts = %s",
                    (symbol, at),
                )
                (price,) = cur.fetchone()
            conn.close()
            return price

        urls = {"page": page_url, "api": api_url, "airflow": airflow_url,
                "mlflow": mlflow_url, "docs": docs_url}  # fmt: skip
        tour = run_tour(urls, "admin", password, ROOT / ".local" / "screenshots", publish_quote)
        assert {"page", "page-live", "swagger", "airflow-dags", "airflow-graph",
                "mlflow-registry", "dbt-lineage"} <= set(tour.shots)  # fmt: skip
        # the maintenance run make up unpaused last judges the loaded data: all checks pass
        from stockmind.platform.airflow_client import AirflowClient
        from stockmind.platform.bootstrap import wait_for_runs

        client = AirflowClient(airflow_url, "admin", password)
        client.wait_for_any_run("maintain_warehouse", timeout=120)
        states = wait_for_runs(client, "maintain_warehouse", 300, lambda line: None)
        assert states == {"success": 1}, states
        with urllib.request.urlopen(api_url + "/health", timeout=10) as resp:
            health = json.loads(resp.read())["data"]
        assert health["status"] == "healthy", health
        assert health["quality"]["status"] == "passing", health
        with urllib.request.urlopen(api_url.removesuffix("api") + "metrics", timeout=10) as resp:
            metrics = resp.read().decode()
        assert 'stockmind_quality_check_ok{check="stale_symbols"} 1.0' in metrics
        assert re.search(
            r'stockmind_pipeline_last_run_rows_loaded\{dag_id="ingest_prices_daily"', metrics
        )
        with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
            cur.execute("select count(distinct symbol), count(*) from raw.prices_daily")
            symbols, rows = cur.fetchone()
        assert symbols == 16 and rows >= 16 * 3
        assert indicators == rows  # dbt caught up with every loaded bar
        with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
            cur.execute(
                "select symbol, min(trade_date), max(trade_date), count(*) "
                "from raw.prices_daily group by symbol"
            )
            spans = cur.fetchall()
            three_years = min(trading_days(years_before(today, 3), today))
            for symbol, first, last, bars in spans:  # history + backfill, no gap between
                assert first <= three_years and bars == len(trading_days(first, last)), symbol
            cur.execute(
                "select symbol, " + ", ".join(INDICATORS) + " from marts.fct_indicators_daily "
                "where trade_date = (select max(trade_date) from marts.fct_indicators_daily)"
            )
            latest = cur.fetchall()
            assert len(latest) == 16
            for row in latest:  # every indicator warmed up on a first visit
                nulls = [
                    name for name, value in zip(INDICATORS, row[1:], strict=True) if value is None
                ]
                assert not nulls, (row[0], nulls)
            cur.execute(
                "select count(*), count(distinct symbol), count(swing_support) "
                "from marts.fct_scanner_weekly "
                "where period_start = (select max(period_start) from marts.fct_scanner_weekly)"
            )
            assert cur.fetchone() == (16, 16, 16)  # 20 prior weeks: only with the history

        # every local service listens on loopback only (STOCKMIND_BIND_HOST's default)
        ports = json.loads((tmp_path / "airflow" / "ports.json").read_text())
        ours = {*ports.values(), 55499}
        exposed = [(addr, port) for addr, port in listening() if port in ours and addr not in
                   ("127.0.0.1", "::1")]  # fmt: skip
        assert exposed == [], exposed
        listening_ports = {port for _, port in listening()}
        assert ports["log_server"] not in listening_ports  # not started with loopback only
        assert {ports["api"], ports["rest"], ports["health"], 55499} <= listening_ports

        again = stockmind("up", "--backfill-days", "7")  # running twice is harmless
        assert again.returncode == 0, again.stderr[-3000:]
        assert "3 years of sample prices already loaded (16 symbols)" in again.stdout
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
