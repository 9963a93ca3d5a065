"""API benchmark: gunicorn on loopback vs pgbench running the same SQL, same concurrency.

A throwaway warehouse gets two years of the 16-symbol sample universe and a dbt build.
Then, for ``GET /api/market/stock/AAPL`` and ``GET /api/market/scanner``:

* the API under gunicorn, exactly as ``make up`` runs it, driven from a second process by
  wrk (``apt install wrk``; ``make bench`` installs it) or, without wrk, Python threads on
  keep-alive connections (their own CPU cost then lowers the figures);
* pgbench with the endpoint's statements, recorded from the API's own pool: the database
  alone, the ceiling the API can approach;
* the framework floor: a 404 through every middleware, no database;
* ``stock`` once more as ``make up`` really serves it: rate limits on, their counters in a
  local Redis (started as ``make up`` starts it), under a budget no client exhausts.

Usage: ``python bench/api.py [--clients 64] [--seconds 30] [--write docs/benchmarks.md]``.

One file of ~320 lines on purpose: the servers it starts, the two load drivers and the
report are one measurement, and every ratio is taken within one run of it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from common import throwaway_warehouse, write_section
from stockmind.dbt_runner import run_dbt
from stockmind.ingest import ingest_prices
from stockmind.platform.environment import redis_url
from stockmind.platform.postgres_cluster import bin_dir, free_port
from stockmind.platform.processes import api_command, redis_command
from stockmind.pool import Pool
from stockmind.profiles import refresh_profiles
from stockmind.providers.sample import SampleProvider
from stockmind.settings import Settings
from stockmind.universe import resolve_universe
from stockmind_api.market import queries as market_queries

FLOOR_PATH = "/api/no-such-route"
LOW_CONCURRENCY = 4

ENDPOINTS = {
    "stock": "/api/market/stock/AAPL",
    "scanner": "/api/market/scanner",
}


def endpoint_sql(dsn: str) -> dict[str, list[str]]:
    """The statements behind each benchmarked endpoint (see ``market_queries``)."""
    pool, sql = Pool(dsn), {}
    pool.statement_log = []
    try:
        market_queries.stock_json(pool, "AAPL", None, None, "1d")
        sql["stock"], pool.statement_log = pool.statement_log, []
        market_queries.scanner_json(pool, "daily", None, 10)
        sql["scanner"] = pool.statement_log
    finally:
        pool.close()
    return {name: [s + ";" for s in statements] for name, statements in sql.items()}


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


def wrk(port: int, path: str, clients: int, seconds: float) -> dict:
    """wrk (C, event loop): its own cost is small, so the 2 cores go to the server."""
    out = subprocess.run(
        [
            "wrk",
            "-t",
            "2",
            "-c",
            str(clients),
            "-d",
            f"{max(1, round(seconds))}s",
            "--latency",
            f"http://127.0.0.1:{port}{path}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def ms(label: str) -> float:
        value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)\b", out).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    requests = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(bad.group(1)) if bad else 0) + (sum(map(int, socket.groups())) if socket else 0)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": ms("50%"),
        "p99": ms("99%"),
        "errors": errors,
        "requests": requests,
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
    parser.add_argument("--workers", type=int, help="default: as make up (API_WORKERS)")
    parser.add_argument("--threads", type=int, help="default: as make up (API_THREADS)")
    parser.add_argument("--write")
    args = parser.parse_args()
    generate = wrk if shutil.which("wrk") else load_generator
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
        sql = endpoint_sql(dsn)
        env = dict(  # every wrk connection comes from loopback: no per-address bound
            os.environ,
            DATABASE_URL=dsn,
            API_RATE_LIMIT_ENABLED="false",
            API_DB_POOL_MAX="32",
            API_MAX_CONNECTIONS_PER_IP=str(args.clients * 4),
        )
        command = api_command("127.0.0.1:0", args.workers, args.threads)
        args.workers = command[command.index("--workers") + 1]  # the defaults, for the report
        args.threads = command[command.index("--threads") + 1]
        with serve(args, env) as port:
            generate(port, FLOOR_PATH, 8, 2)  # warm-up: every worker thread connected
            floor = generate(port, FLOOR_PATH, args.clients, args.seconds / 2)
            for name, path in ENDPOINTS.items():
                generate(port, path, 8, 2)
                results[name] = {
                    "api": generate(port, path, args.clients, args.seconds),
                    "few": generate(port, path, LOW_CONCURRENCY, args.seconds / 3),
                    "pg": pgbench(dsn, sql[name], args.clients, args.seconds),
                }
        with local_redis() as redis_url:
            limited = dict(
                env,
                API_RATE_LIMIT_ENABLED="true",
                API_RATE_LIMIT_STORAGE=redis_url,
                API_RATE_LIMIT_ANON="1000000000/hour",
            )
            with serve(args, limited) as port:
                generate(port, ENDPOINTS["stock"], 8, 2)
                results["limited"] = generate(port, ENDPOINTS["stock"], args.clients, args.seconds)
    report = render(args, results, floor, "wrk" if generate is wrk else "a Python load generator")
    print(report)
    if args.write:
        write_section(args.write, "api", report)
    return 0


@contextmanager
def serve(args, env: dict):
    """The ``make up`` server command on a free port, until the block ends."""
    port = free_port(18000)
    command = api_command(f"127.0.0.1:{port}", args.workers, args.threads)
    server_log = open(Path(tempfile.gettempdir()) / "stockmind-bench-api.log", "a")  # noqa: SIM115
    server = subprocess.Popen(
        command, env=env, stdout=server_log, stderr=server_log, start_new_session=True
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
        yield port
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
        server_log.close()


@contextmanager
def local_redis():
    """A Redis started as ``make up`` starts it (the platform's command), in a temp home."""
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=Path(home))
        server = subprocess.Popen(redis_command(settings), stdout=subprocess.DEVNULL)
        try:
            time.sleep(0.5)
            yield redis_url(settings)
        finally:
            server.terminate()
            server.wait(timeout=10)


def render(args, results: dict, floor: dict, generator: str) -> str:
    rows = []
    limited = results.pop("limited")
    for name, r in results.items():
        api, few, pg = r["api"], r["few"], r["pg"]
        rows.append(
            f"| `GET {ENDPOINTS[name]}` | {api['rps']:,.0f} | {api['p50']:.1f} | {api['p99']:.1f} "
            f"| {api['errors']} | {pg['tps']:,.0f} | {pg['latency_avg']:.1f} "
            f"| **{api['rps'] / pg['tps']:.2f}×** | {few['p50']:.1f} / {few['p99']:.1f} |"
        )
    return f"""## REST API (gunicorn vs pgbench)

Measured by `bench/api.py` on {dt.date.today()}, {os.cpu_count()} cores, loopback: the
`make up` server command (gunicorn gthread, {args.workers} workers × {args.threads} threads,
JSON access log on) driven by {generator} from another process, {args.clients} concurrent
keep-alive clients for {args.seconds} s per endpoint; beside it pgbench running the
endpoint's exact statements (recorded from the API's pool) with the same concurrency,
prepared — the database alone, the ceiling. The last column repeats the API run with
{LOW_CONCURRENCY} clients.

| endpoint | API req/s | p50 ms | p99 ms | errors | pgbench tx/s | pgbench avg ms | API / pgbench | {LOW_CONCURRENCY} clients p50 / p99 ms |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
{chr(10).join(rows)}

Framework floor, same server and clients: `GET {FLOOR_PATH}` (the 404 envelope through
every middleware, no database) {floor["rps"]:,.0f} req/s, p99 {floor["p99"]:.1f} ms.

As `make up` serves it — rate limits on, one budget per caller counted in Redis (a
round trip per request), a budget no client exhausts: `GET {ENDPOINTS["stock"]}`
{limited["rps"]:,.0f} req/s (**{limited["rps"] / results["stock"]["api"]["rps"]:.2f}×** the
run above without limits), p50 {limited["p50"]:.1f} ms, p99 {limited["p99"]:.1f} ms,
{limited["errors"]} errors.

Targets: p99 < 20 ms, 0 errors, throughput ≥ 0.3× pgbench. With {args.clients} clients
that never pause (a closed loop), latency is clients ÷ throughput (Little's law): p99
< 20 ms would need more than {args.clients / 0.02:,.0f} req/s, above what pgbench itself
reaches on these statements (its own average latency is in the table). So the p99
target is read at low concurrency (last column); at {args.clients} clients the targets that
can be met are throughput and errors.
"""


if __name__ == "__main__":
    sys.exit(main())
