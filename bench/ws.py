"""WebSocket benchmark: 5,000 clients — NOTIFY → client latency and throughput, HTTP
latency beside them, server memory per socket — and the minute cycle for 505 symbols
(poll → PostgreSQL → NOTIFY → hub → clients).

A throwaway warehouse gets the 505 S&P 500 symbols (sample profiles, ``dim_symbols``
built). The API runs under gunicorn exactly as ``make up`` runs it, with its default
sizing (2 workers × 64 threads: sockets hold no thread, each worker's reactor serves
them all) and a local Redis for the connection caps (the per-address cap is raised
because every client comes from loopback; the descriptor limit is raised to the hard
limit, which gunicorn's workers inherit). Then:

1. HTTP alone: a closed-loop client (``--http-concurrency`` keep-alive connections)
   asks for ``--http-path`` for ``--http-seconds``, no socket open; server memory
   (resident, master + workers, from /proc) before and after the clients connect;
2. ``--client-processes`` processes of ``bench/ws_clients.py`` open ``--clients``
   asyncio connections between them, each subscribed to ``--per-client`` symbols
   (5,000 × 5: ~50 subscribers per symbol);
3. steady rate: this process NOTIFYs ``--rate`` stock updates a second (batches every
   20 ms, each item stamped ``sentAt``) for ``--seconds`` while the HTTP probe runs
   again; the clients measure latency (merged over the processes);
4. the minute cycle: ``poll_quotes`` for all 505 symbols on the sample source, cold (a
   new process's first poll, as each DAG task is) — from the call to the last client's
   update of that minute.

Usage: ``python bench/ws.py [--clients 5000] [--rate 500] [--seconds 20]
[--client-processes 2] [--write F]``.
"""

from __future__ import annotations

import argparse
import array
import contextlib
import datetime as dt
import http.client
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from common import local_redis, throwaway_warehouse, write_section
from stockmind import events
from stockmind.db import connect
from stockmind.dbt_runner import run_dbt
from stockmind.platform.postgres_cluster import free_port
from stockmind.platform.processes import api_command
from stockmind.profiles import refresh_profiles
from stockmind.providers.sample import SampleProvider
from stockmind.universe import resolve_universe
from ws_clients import percentiles, raise_fd_limit

HERE = Path(__file__).resolve().parent


def wait_for(port: int) -> None:
    for _ in range(120):
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/api/health")
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("the API did not start")


def publish_steadily(dsn: str, symbols: list[str], rate: int, seconds: float) -> int:
    """NOTIFY ``rate`` items a second in 20 ms batches; returns the number published."""
    conn = connect(dsn)
    conn.autocommit = True  # every NOTIFY leaves at once
    per_batch, published, i = max(1, rate // 50), 0, 0
    started = time.perf_counter()
    with conn.cursor() as cur:
        while time.perf_counter() - started < seconds:
            items = []
            for _ in range(per_batch):
                items.append(
                    {"symbol": symbols[i % len(symbols)], "price": 100.0, "sentAt": time.time()}
                )
                i += 1
            events.publish(cur, events.STOCK_UPDATE, items)
            published += len(items)
            time.sleep(max(0.0, published / rate - (time.perf_counter() - started)))
    conn.close()
    return published


def server_pids(server: subprocess.Popen) -> list[int]:
    """The gunicorn master and its workers."""
    out = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(server.pid)], capture_output=True, text=True
    ).stdout
    return [server.pid, *map(int, out.split())]


def rss_mib(pids: list[int]) -> float:
    """Resident memory of these processes together (MiB, VmRSS from /proc)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


def fd_limit(pid: int) -> int:
    """A process's soft limit on open descriptors (from /proc)."""
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            return int(line.split()[3])
    return 0


def cpu_seconds(*pids: int) -> float:
    """User + system CPU of these processes and their children so far (from /proc)."""
    total, tick = 0.0, os.sysconf("SC_CLK_TCK")
    out = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", ",".join(map(str, pids))], capture_output=True, text=True
    ).stdout
    for pid in {*pids, *map(int, out.split())}:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def http_probe(url: str, seconds: float, args) -> subprocess.Popen:
    """The closed-loop HTTP client (``ws_clients.py --http``), in a process of its own."""
    return subprocess.Popen(
        [
            *(sys.executable, str(HERE / "ws_clients.py"), "--http", url),
            *("--seconds", str(seconds), "--concurrency", str(args.http_concurrency)),
            *("--pause", str(args.http_pause)),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )


def probe_result(probe: subprocess.Popen) -> dict:
    out, _ = probe.communicate(timeout=120)
    return json.loads(out.strip().splitlines()[-1])


def start_clients(args, port: int, symbols: list[str], tmp: Path) -> Iterator[subprocess.Popen]:
    """``--client-processes`` load generators, one slice of the clients each, started
    when the caller asks for the next (``proc.clients``: the size of its slice)."""
    share = math.ceil(args.clients / args.client_processes)
    for n in range(args.client_processes):
        first = n * share
        count = min(share, args.clients - first)
        if count <= 0:
            return
        proc = subprocess.Popen(
            [
                *(sys.executable, str(HERE / "ws_clients.py")),
                *("--url", f"ws://127.0.0.1:{port}/ws/market"),
                *("--clients", str(count), "--first", str(first)),
                *("--per-client", str(args.per_client), "--symbols", ",".join(symbols)),
                *("--latencies", str(tmp / f"latencies-{n}")),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        proc.clients = count
        yield proc


def merge(results: list[dict], tmp: Path, quiet_until: float | None = None) -> dict:
    """One result from every client process's: sums, the latest arrivals, and latency
    percentiles over every latency recorded (also before and after ``quiet_until``)."""
    pairs = array.array("d")
    for path in sorted(tmp.glob("latencies-*")):
        with path.open("rb") as f:
            pairs.frombytes(f.read())
    sent, latencies = pairs[0::2].tolist(), pairs[1::2].tolist()
    split = quiet_until or float("inf")
    cycle_last: dict[str, float] = {}
    cycle_count: dict[str, int] = {}
    for r in results:
        for minute, at in r["cycle_last"].items():
            cycle_last[minute] = max(cycle_last.get(minute, 0.0), at)
        for minute, count in r["cycle_count"].items():
            cycle_count[minute] = cycle_count.get(minute, 0) + count
    return {
        "messages": sum(r["messages"] for r in results),
        "latency_messages": len(latencies),
        **percentiles(latencies),
        "quiet": percentiles([x for at, x in zip(sent, latencies, strict=True) if at < split]),
        "probed": percentiles([x for at, x in zip(sent, latencies, strict=True) if at >= split]),
        "cycle_last": cycle_last,
        "cycle_count": cycle_count,
        "errors": sum(r["errors"] for r in results),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=5000)
    parser.add_argument("--per-client", type=int, default=5)
    parser.add_argument("--rate", type=int, default=500, help="published items per second")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--http-path", default="/api/health")
    parser.add_argument("--http-seconds", type=float, default=10)
    parser.add_argument("--http-concurrency", type=int, default=2)
    parser.add_argument("--http-pause", type=float, default=0.02, help="seconds between asks")
    parser.add_argument("--workers", type=int, help="default: as make up (API_WORKERS)")
    parser.add_argument("--threads", type=int, help="default: as make up (API_THREADS)")
    parser.add_argument("--write")
    args = parser.parse_args()
    raise_fd_limit()  # gunicorn and its workers inherit it
    load_before = os.getloadavg()[0]
    symbols = resolve_universe("sp500")
    with throwaway_warehouse() as dsn, local_redis() as redis, tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        refresh_profiles(symbols, SampleProvider(), dsn=dsn)
        # what one may subscribe to: the API reads marts.dim_symbols
        run_dbt(["run", "--select", "+dim_symbols"], dsn=dsn, capture_output=True)
        port = free_port(18600)
        env = dict(
            os.environ,
            DATABASE_URL=dsn,
            API_RATE_LIMIT_ENABLED="false",
            API_RATE_LIMIT_STORAGE=redis,  # the connection caps, as under make up
            API_ACCESS_LOG="false",
            WS_MAX_PER_IP=str(args.clients * 2),
            API_MAX_CONNECTIONS_PER_IP=str(args.clients * 2),
        )
        log = open(Path(tempfile.gettempdir()) / "stockmind-bench-ws.log", "w")  # noqa: SIM115
        command = api_command(f"127.0.0.1:{port}", args.workers, args.threads)
        args.workers = command[command.index("--workers") + 1]  # the defaults, for the report
        args.threads = command[command.index("--threads") + 1]
        server = subprocess.Popen(
            command,
            env=env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        clients: list[subprocess.Popen] = []
        try:
            wait_for(port)
            http_url = f"http://127.0.0.1:{port}{args.http_path}"
            probe_result(http_probe(http_url, 2, args))  # warm up
            m = {"worker_fd_limit": fd_limit(server_pids(server)[-1])}
            m["http_alone"] = probe_result(http_probe(http_url, args.http_seconds, args))
            m["rss_idle"] = rss_mib(server_pids(server))
            # the slices connect one after another: memory after the first and after all
            # gives the cost of a socket without the first socket's fixed costs
            started, m["rss_slices"] = time.perf_counter(), []
            for proc in start_clients(args, port, symbols, tmp):
                clients.append(proc)
                ready = proc.stdout.readline().split()
                assert ready and ready[0] == "ready", ready
                time.sleep(2)  # settle: the last subscriptions' replies
                m["rss_slices"].append((proc.clients, rss_mib(server_pids(server))))
            m["connect_seconds"] = time.perf_counter() - started - 2 * len(clients)
            m["rss_connected"] = m["rss_slices"][-1][1]
            m["http_idle_sockets"] = probe_result(http_probe(http_url, args.http_seconds, args))
            # the steady phase in two halves: updates alone (CPU measured), then updates
            # with the HTTP probe beside them
            half = args.seconds / 2
            client_pids = [proc.pid for proc in clients]
            cpu_before = cpu_seconds(server.pid), cpu_seconds(*client_pids)
            started = time.perf_counter()
            published = publish_steadily(dsn, symbols, args.rate, half)
            quiet_seconds = time.perf_counter() - started
            cpu = [
                after - before
                for after, before in zip(
                    (cpu_seconds(server.pid), cpu_seconds(*client_pids)), cpu_before, strict=True
                )
            ]
            m["load"] = load_before, os.getloadavg()[0]
            m["quiet_until"] = time.time()
            probe = http_probe(http_url, max(1.0, half - 1), args)
            published += publish_steadily(dsn, symbols, args.rate, half)
            steady_seconds = time.perf_counter() - started
            m["http_with_sockets"] = probe_result(probe)
            m["rss_steady"] = rss_mib(server_pids(server))
            time.sleep(2)  # let the tail arrive
            at = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
            cycle = subprocess.run(
                [sys.executable, "-c", CYCLE, dsn, at.isoformat()],
                capture_output=True,
                text=True,
                check=True,
            )
            poll_started, poll_report = json.loads(cycle.stdout)
            time.sleep(5)
            outs = [proc.communicate("", timeout=120)[0] for proc in clients]
        finally:
            for proc in clients:
                if proc.poll() is None:
                    proc.kill()
            os.killpg(server.pid, 15)
            server.wait(timeout=60)
            log.close()
        outs = [json.loads(out.strip().splitlines()[-1]) for out in outs]
        result = merge(outs, tmp, m["quiet_until"])
    minute = at.isoformat()
    cycle_seconds = result["cycle_last"].get(minute, float("nan")) - poll_started
    expected = args.clients * args.per_client  # every subscription gets this minute's quote
    report = render(
        args,
        result,
        m,
        published,
        steady_seconds,
        [c / quiet_seconds for c in cpu],
        cycle_seconds,
        result["cycle_count"].get(minute, 0),
        expected,
        poll_report,
    )
    print(report)
    if args.write:
        write_section(args.write, "ws", report)
    return 0


# the cycle runs in a fresh process: the cold start is part of every DAG task's cost
CYCLE = """
import datetime as dt, json, sys, time
started = time.time()
from stockmind.providers.sample import SampleProvider
from stockmind.quotes import poll_quotes
from stockmind.universe import resolve_universe
report = poll_quotes(resolve_universe("sp500"), SampleProvider(), dt.datetime.fromisoformat(sys.argv[2]), dsn=sys.argv[1])
print(json.dumps([started, report]))
"""


def render(args, r, m, published, steady_seconds, cores, cycle_seconds, got, expected, poll) -> str:
    delivered = r["latency_messages"] / steady_seconds
    server_cores, generator_cores = cores
    per_core = delivered / server_cores if server_cores else float("nan")
    (first, rss_first), *_ = m["rss_slices"]
    if len(m["rss_slices"]) > 1:  # the slope: without the first socket's fixed costs
        per_socket_kib = (m["rss_connected"] - rss_first) * 1024 / (args.clients - first)
    else:
        per_socket_kib = (m["rss_connected"] - m["rss_idle"]) * 1024 / args.clients
    alone, idle, busy = m["http_alone"], m["http_idle_sockets"], m["http_with_sockets"]
    per_client = delivered / args.clients  # messages a second each client received
    big = 50_000
    big_cores = big * per_client / per_core
    return f"""## WebSockets (NOTIFY → hub → clients)

Measured by `bench/ws.py` on {dt.date.today()}, {os.cpu_count()} cores shared by the server,
the load generators and PostgreSQL (1-minute load average {m["load"][0]:.2f} before the run,
{m["load"][1]:.2f} during it), loopback: the `make up` server command with its {args.workers} workers ×
{args.threads} threads (sockets hold no thread: one reactor thread per worker serves them),
connection caps in Redis, {m["worker_fd_limit"]:,} descriptors allowed per worker;
{args.clients:,} asyncio clients in {args.client_processes} processes, each subscribed to
{args.per_client} of the 505 S&P 500 symbols spread over the list (~{args.clients * args.per_client // 505}
subscribers per symbol; a batch of consecutive symbols brings each client one update). All clients connected and subscribed in {m["connect_seconds"]:.1f} s.

| measure | result | target |
|---|---:|---:|
| published at a steady rate | {published / steady_seconds:,.0f} items/s for {steady_seconds:.0f} s | |
| delivered to clients | **{delivered:,.0f} messages/s** ({r["latency_messages"]:,} messages) | ≥ 20,000 |
| NOTIFY → client latency p50 / p99 | **{r["p50_ms"]:.1f} / {r["p99_ms"]:.1f} ms** (max {r["max_ms"]:.0f}) | p99 < 50 ms |
| … first half (updates alone) / second half (HTTP probe too), p99 | {r["quiet"]["p99_ms"]:.1f} / {r["probed"]["p99_ms"]:.1f} ms | |
| HTTP `GET {args.http_path}` p50 / p99, no socket open | {alone["p50_ms"]:.1f} / **{alone["p99_ms"]:.1f} ms** ({alone["per_second"]:,.0f} requests/s, {alone["errors"]} errors) | |
| the same with {args.clients:,} sockets open, idle | {idle["p50_ms"]:.1f} / **{idle["p99_ms"]:.1f} ms** ({idle["per_second"]:,.0f} requests/s, {idle["errors"]} errors) | |
| the same with {args.clients:,} sockets open, updates flowing | {busy["p50_ms"]:.1f} / **{busy["p99_ms"]:.1f} ms** ({busy["per_second"]:,.0f} requests/s, {busy["errors"]} errors) | p99 unaffected |
| server memory (RSS, master + workers): no socket / {first:,} / {args.clients:,} subscribed / after the steady phase | {m["rss_idle"]:,.0f} / {rss_first:,.0f} / {m["rss_connected"]:,.0f} / {m["rss_steady"]:,.0f} MiB | reported |
| server memory per socket ({args.per_client} subscriptions; the slope between the last two) | **{per_socket_kib:.1f} KiB** | reported |
| minute cycle, 505 symbols, cold process (poll → DB → NOTIFY → last client) | **{cycle_seconds:.2f} s** | < 10 s |
| that minute's updates received | {got:,} of {expected:,} | all |
| subscription errors | {r["errors"]} | 0 |

The cycle's poll: {poll["quotes"]} quotes, {poll["changed"]} changed, {poll["notifications"]}
notifications. Latency is measured from the publisher's clock at `pg_notify` to the
client's at receipt (same machine), so it includes PostgreSQL's delivery, the hub's
fan-out, any per-client backlog, the socket and the load generator's own queue. The HTTP
probe is a closed loop of {args.http_concurrency} keep-alive connections in a process of its
own, {args.http_pause * 1000:g} ms between an answer and the next request; with sockets open
it runs in the steady phase's second half and shares the cores with the load generators.

CPU in the first half of the steady phase: server {server_cores:.0%} of a core — **{per_core:,.0f} messages/s
per core** of fan-out — load generators {generator_cores:.0%} of a core. At this rate
({per_client:.1f} messages/s per client), {big:,} clients would take ~{big_cores:.1f} cores
of fan-out and ~{big * per_socket_kib / 1024:,.0f} MiB of socket state across the API
machines, plus each worker's fixed cost; the sizing is in
[operations](operations.md#sizing-for-50000-websocket-clients).
"""


if __name__ == "__main__":
    sys.exit(main())
