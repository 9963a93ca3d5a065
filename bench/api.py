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
  local Redis (started as ``make up`` starts it), under a budget no client exhausts;
* first, in process (no server, no load driver), where one request's time goes: each
  ``before``/``after_request`` hook timed on its own, the view split into argument
  parsing, the database and the rest, Flask's own share the remainder.

Usage: ``python bench/api.py [--clients 64] [--seconds 30] [--write docs/benchmarks.md]``.

One file of ~400 lines on purpose: the servers it starts, the two load drivers and the
report are one measurement, and every ratio is taken within one run of it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import math
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

from common import local_redis, throwaway_warehouse, write_section
from stockmind.dbt_runner import run_dbt
from stockmind.ingest import ingest_prices
from stockmind.platform.postgres_cluster import bin_dir, free_port
from stockmind.platform.processes import api_command
from stockmind.pool import Pool
from stockmind.profiles import refresh_profiles
from stockmind.providers.sample import SampleProvider
from stockmind.universe import resolve_universe
from stockmind_api.market import queries as market_queries

FLOOR_PATH = "/api/no-such-route"
LOW_CONCURRENCY = 4
PROFILE_REQUESTS, PROFILE_ROUNDS = 1000, 5

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


def breakdown(dsn: str, redis: str) -> dict[str, dict[str, float]]:
    """CPU µs per request in process, by component, for the floor and each endpoint, with
    rate limits in Redis as ``make up`` runs them. Every hook, the argument parser, the
    pool's statements and the error handlers are wrapped with a timer of the thread's CPU
    time (other processes on the machine do not count; ~0.5 µs a timer); "Flask and the
    rest" is what is left of the request (context, routing, the response object). The
    minimum of ``PROFILE_ROUNDS`` rounds of ``PROFILE_REQUESTS``."""
    from stockmind_api import create_app
    from stockmind_api.config import Config
    from stockmind_api.parsing import Blueprint
    from werkzeug.test import EnvironBuilder

    spent: dict[str, float] = {}

    def timed(name: str, fn):
        def timer(*args, **kwargs):
            started = time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.thread_time() - started

        return timer

    def hook_name(fn) -> str:
        name = getattr(fn, "__qualname__", None) or getattr(fn, "func", type(fn)).__name__
        return name.replace(".<locals>", "").split(".", 1)[-1] if "." in name else name

    env = {
        "DATABASE_URL": dsn,
        "API_ACCESS_LOG": "true",
        "API_RATE_LIMIT_ENABLED": "true",
        "API_RATE_LIMIT_STORAGE": redis,
        "API_RATE_LIMIT_ANON": "1000000000/hour",
    }
    saved = dict(os.environ)
    os.environ.update(env)
    stderr, sys.stderr = sys.stderr, open(os.devnull, "w")  # noqa: SIM115 - the access log's
    try:  # stream (gunicorn's: a file); left open for the hub's thread, which logs later
        app = create_app(Config())
    finally:
        sys.stderr = stderr
        os.environ.clear()
        os.environ.update(saved)
    for hooks, kind in ((app.before_request_funcs, "before"), (app.after_request_funcs, "after")):
        hooks[None] = [timed(f"{kind}: {hook_name(f)}", f) for f in hooks[None]]
    pool = app.extensions["db"]
    for method in ("fetch_prepared", "fetch_one", "fetch_all"):
        setattr(pool, method, timed("database (pool, statement, rows)", getattr(pool, method)))
    parser = Blueprint.ARGUMENTS_PARSER
    parser.parse = timed("arguments (webargs, marshmallow)", parser.parse)
    for handlers in app.error_handler_spec[None].values():
        for exc, handler in handlers.items():
            handlers[exc] = timed("error envelope (404)", handler)
    results, cache = {}, app.extensions.get("response_cache")  # (none before it existed)
    runs = {"floor": FLOOR_PATH, **ENDPOINTS}
    if cache:
        runs["scanner, uncached"] = ENDPOINTS["scanner"]
    try:
        for name, path in runs.items():
            if cache:  # 0: every request a miss
                cache.seconds = 0 if name == "scanner, uncached" else 3600
                cache.clear()
            environ = EnvironBuilder(path=path, headers={"Host": "127.0.0.1"}).get_environ()
            best: dict[str, float] = {}
            for rounds in (300,) + (PROFILE_REQUESTS,) * PROFILE_ROUNDS:  # 300: warm-up
                spent.clear()
                started = time.thread_time()
                for _ in range(rounds):
                    b"".join(app.wsgi_app(dict(environ), lambda *a: None))
                spent["total"] = time.thread_time() - started
                for part, seconds in spent.items():
                    best[part] = min(best.get(part, math.inf), seconds / rounds * 1e6)
            rest = best["total"] - sum(v for k, v in best.items() if k != "total")
            results[name] = best | {"Flask and werkzeug (the rest)": rest}
    finally:
        del parser.parse
        pool.close()
    return results


def in_worker_process(dsn: str, redis: str) -> dict:
    """``breakdown`` in a fresh interpreter set up as a gunicorn worker is (the Prometheus
    meters in multiprocess files: prometheus_client chooses at import)."""
    with tempfile.TemporaryDirectory() as metrics_dir:
        out = subprocess.run(
            [sys.executable, __file__, "--breakdown", dsn, redis],
            env=dict(os.environ, PROMETHEUS_MULTIPROC_DIR=metrics_dir),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    return json.loads(out.strip().splitlines()[-1])


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
    parser.add_argument("--breakdown", nargs=2, metavar=("DSN", "REDIS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.breakdown:  # in_worker_process's child
        print(json.dumps(breakdown(*args.breakdown)))
        return 0
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
        with local_redis() as redis:
            profile = in_worker_process(dsn, redis)
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
    generator = "wrk" if generate is wrk else "a Python load generator"
    report = render(args, results, floor, generator) + render_breakdown(profile)
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

`scanner` is served from the response cache (`stockmind_api/response_cache.py`: it reads
dbt's tables only, so each worker keeps the body until the build's `indicator_update`
event or a minute, whichever comes first): after each worker's first request, no
statement; pgbench runs the statement every time, so its column is what the cache spares.
wrk sends no `If-None-Match`: every answer is a full 200 body.

Framework floor, same server and clients: `GET {FLOOR_PATH}` (the 404 envelope through
every middleware, no database) {floor["rps"]:,.0f} req/s, p99 {floor["p99"]:.1f} ms.

As `make up` serves it — rate limits on, one budget per caller counted in Redis (a
round trip per request), a budget no client exhausts: `GET {ENDPOINTS["stock"]}`
{limited["rps"]:,.0f} req/s (**{limited["rps"] / results["stock"]["api"]["rps"]:.2f}×** the
run above without limits), p50 {limited["p50"]:.1f} ms, p99 {limited["p99"]:.1f} ms,
{limited["errors"]} errors.

Targets: p99 < 20 ms, 0 errors, a floor of ≥ 2,500 req/s and throughput ≥ 0.5× pgbench
for both endpoints. With {args.clients} clients
that never pause (a closed loop), latency is clients ÷ throughput (Little's law): p99
< 20 ms would need more than {args.clients / 0.02:,.0f} req/s, above what pgbench itself
reaches on these statements (its own average latency is in the table). So the p99
target is read at low concurrency (last column); at {args.clients} clients the targets that
can be met are throughput and errors.
"""


#: the timed parts, as the report names them (hooks by their function's name)
PARTS = {
    "before: _check_request_limit": "rate limit: the caller, the count in Redis",
    "after: __inject_headers": "rate limit: `X-RateLimit-*` headers",
    "after: retry_after_on_429_only": "rate limit: `Retry-After` on 429s only",
    "before: start_request": "access log: start time, request id",
    "after: log_request": "access log: the JSON line",
    "after: record": "metrics: counter and histogram (multiprocess files)",
    "after: cors_after_request": "CORS (flask-cors)",
    "after: Replay": "CORS (flask-cors, its answer replayed)",
    "arguments (webargs, marshmallow)": "query arguments (webargs, marshmallow)",
    "database (pool, statement, rows)": "database: pool, prepared statement, rows",
    "error envelope (404)": "error envelope (the 404)",
    "Flask and werkzeug (the rest)": "Flask, werkzeug, flask-smorest, the envelope (the rest)",
}


def render_breakdown(profile: dict) -> str:
    names = list(profile)
    seen = {part for timings in profile.values() for part in timings if part != "total"}
    order = [p for p in PARTS if p in seen] + sorted(seen - PARTS.keys())
    rows = [
        f"| {PARTS.get(part, part)} | "
        + " | ".join(f"{profile[n][part]:.1f}" if part in profile[n] else "–" for n in names)
        + " |"
        for part in order
    ]
    total = " | ".join(f"**{profile[n]['total']:.0f}**" for n in names)
    return f"""
Where one request's time goes, in process (`breakdown`: no server, no load driver; rate
limits on in Redis and the JSON access log on, as `make up` runs them): CPU µs of the
request's thread, the best of {PROFILE_ROUNDS} rounds of {PROFILE_REQUESTS:,} (other
processes on the machine do not count). The database line is the API's side of a
statement (pool, sending, receiving, rows), not PostgreSQL's work. gunicorn's own share
(reading the request, the WSGI environ, writing the response, handing the connection
between its threads) comes on top.

| part | {" | ".join(names)} |
|---|{"---:|" * len(names)}
{chr(10).join(rows)}
| **total** | {total} |

Cut on 2026-12-02 (each part measured alone): webargs made a new arguments schema per
request, deep-copying its fields (~29 µs; now one instance per schema, `parsing.py`);
the access-log line went through `logging` (~19 µs; now written to its own handler's
stream, ~6 µs, `access_log.py`); flask-cors re-derived the same headers on every
response (~20–29 µs; now its answer is replayed per `Origin`, ~3 µs, `cors.py`); an
anonymous caller's token check is skipped when there is no `Authorization` header
(`security.py`); the thread that answered a keep-alive request waits ≤ 5 ms for the
next one instead of a round trip through gunicorn's main thread (a bare gthread worker:
~7,200 → ~8,700 req/s, `server.py`); the scanner and the symbol list come from the
response cache. What is left is mostly the rate limit's Redis round trip and
flask-limiter's bookkeeping, Flask's request cycle and gunicorn's HTTP handling.
"""


if __name__ == "__main__":
    sys.exit(main())
