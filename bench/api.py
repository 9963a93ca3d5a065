"""API benchmark: gunicorn on loopback vs pgbench running the same SQL, same concurrency.

A throwaway warehouse gets two years of the 16-symbol sample universe and a dbt build.
Then, for ``GET /api/market/stock/AAPL`` and ``GET /api/market/scanner``:

* the API under gunicorn (gthread), driven by a load generator in a second process —
  Python threads on keep-alive connections (wrk is not installed here; the generator's
  own cost is part of the figures, so they are a floor for the server);
* pgbench with a script of the endpoint's SQL statements (``market_queries``), the
  database alone: the ceiling the API can approach.

Usage: ``python bench/api.py [--clients 64] [--seconds 30] [--write docs/benchmarks.md]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import throwaway_warehouse, write_section
from stockmind.ingest import ingest_prices
from stockmind.localpg import bin_dir, free_port
from stockmind.profiles import refresh_profiles
from stockmind.providers.sample import SampleProvider
from stockmind.transform import run_dbt
from stockmind.universe import resolve_universe

ENDPOINTS = {
    "stock": "/api/market/stock/AAPL",
    "scanner": "/api/market/scanner",
}

# the statements each endpoint runs (see api/stockmind_api/market_queries.py)
SQL = {
    "stock": [
        "select s.symbol, latest.close, year.high_52w from raw.symbols s left join lateral ("
        "select trade_date, close from marts.fct_scanner_daily f where f.symbol = s.symbol "
        "order by trade_date desc limit 1) latest on true left join lateral (select max(high) "
        "as high_52w from marts.fct_indicators_daily i where i.symbol = s.symbol and "
        "i.trade_date > latest.trade_date - 365) year on true where s.symbol = 'AAPL';",
        "select * from marts.fct_indicators_daily where symbol = 'AAPL' "
        "order by trade_date desc limit 1;",
        "select trade_date, open, high, low, close, volume from staging.stg_prices_daily "
        "where symbol = 'AAPL' and trade_date between '2023-06-28' and '2024-06-28';",
    ],
    "scanner": [
        "select max(period_start) from marts.mart_market_overview_daily;",
        "select * from marts.mart_movers_daily where period_start = '2024-06-28' order by list, rank;",
        "select symbol from marts.fct_scanner_daily where period_start = '2024-06-28' "
        "and is_unusual_volume order by volume_ratio desc limit 10;",
        "select symbol from marts.fct_scanner_daily where period_start = '2024-06-28' and "
        "(is_breakout_up or is_breakout_down or is_big_move) order by abs(change_pct) desc limit 10;",
        "select * from marts.mart_market_overview_daily where period_start = '2024-06-28';",
    ],
}


def load_generator(port: int, path: str, clients: int, seconds: float) -> dict:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine, bad = [], 0
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    bad += 1
            except (OSError, http.client.HTTPException):
                bad += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                continue
            mine.append(time.perf_counter() - start)
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    q = statistics.quantiles(latencies, n=100)
    return {
        "rps": len(latencies) / elapsed,
        "p50": q[49] * 1000,
        "p99": q[98] * 1000,
        "errors": errors[0],
        "requests": len(latencies),
    }


def pgbench(dsn: str, statements: list[str], clients: int, seconds: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
        script.write("\n".join(statements) + "\n")
    out = subprocess.run(
        [
            str(bin_dir() / "pgbench"),
            "-n",
            "-M",
            "prepared",
            "-c",
            str(clients),
            "-j",
            "2",
            "-T",
            str(seconds),
            "-r",
            "-f",
            script.name,
            dsn,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(script.name)
    tps = float(re.search(r"tps = ([\d.]+)", out).group(1))
    latency = float(re.search(r"latency average = ([\d.]+) ms", out).group(1))
    return {"tps": tps, "latency_avg": latency}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--write")
    args = parser.parse_args()
    results = {}
    with throwaway_warehouse() as dsn:
        symbols, provider = resolve_universe("sample"), SampleProvider()
        ingest_prices(
            symbols,
            dt.date(2022, 7, 1),
            dt.date(2024, 6, 28),
            provider,
            dsn=dsn,
            progress=lambda m: None,
        )
        refresh_profiles(symbols, provider, dsn=dsn)
        run_dbt(["build"], dsn=dsn, capture_output=True)
        port = free_port(18000)
        env = dict(
            os.environ, DATABASE_URL=dsn, API_RATE_LIMIT_ENABLED="false", API_DB_POOL_MAX="32"
        )
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        server = subprocess.Popen(
            [
                gunicorn,
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--threads",
                "32",
                "--worker-class",
                "gthread",
                "--log-level",
                "warning",
                "stockmind_api:create_app()",
            ],
            env=env,
            start_new_session=True,
        )
        try:
            for _ in range(60):
                try:
                    http.client.HTTPConnection("127.0.0.1", port, timeout=1).request(
                        "GET", "/api/health"
                    )
                    break
                except OSError:
                    time.sleep(0.5)
            for name, path in ENDPOINTS.items():
                load_generator(port, path, 8, 2)  # warm-up
                results[name] = {
                    "api": load_generator(port, path, args.clients, args.seconds),
                    "pg": pgbench(dsn, SQL[name], args.clients, args.seconds),
                }
        finally:
            os.killpg(server.pid, 15)
            server.wait(timeout=30)
    rows = []
    for name, r in results.items():
        api, pg = r["api"], r["pg"]
        rows.append(
            f"| `GET {ENDPOINTS[name]}` | {api['rps']:,.0f} | {api['p50']:.1f} | {api['p99']:.1f} "
            f"| {api['errors']} | {pg['tps']:,.0f} | **{api['rps'] / pg['tps']:.2f}×** |"
        )
    report = f"""## REST API (gunicorn vs pgbench)

Measured by `bench/api.py` on {dt.date.today()}, {os.cpu_count()} cores, loopback,
{args.clients} concurrent clients for {args.seconds} s per endpoint: gunicorn (2 workers ×
32 threads, gthread) driven by a Python load generator in another process, beside pgbench
running the same SQL statements with the same concurrency (the database's ceiling). The
load generator shares the 2 cores with the server, so API figures are a floor.

| endpoint | API req/s | p50 ms | p99 ms | errors | pgbench tx/s | API / pgbench |
|---|---:|---:|---:|---:|---:|---:|
{chr(10).join(rows)}

Targets: p99 < 20 ms, 0 errors, throughput ≥ 0.3× pgbench.
"""
    print(report)
    if args.write:
        write_section(args.write, "api", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
