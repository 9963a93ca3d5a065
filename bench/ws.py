"""WebSocket benchmark: NOTIFY → client latency and throughput at 1,000 clients, and the
minute cycle for 505 symbols (poll → PostgreSQL → NOTIFY → hub → clients).

A throwaway warehouse gets the 505 S&P 500 symbols (sample profiles). The API runs under
gunicorn exactly as ``make up`` runs it, with its default sizing (2 workers × 64 threads:
sockets hold no thread, each worker's reactor serves them all; the per-address cap is
raised because every client comes from loopback). ``bench/ws_clients.py``, a
second process, opens ``--clients`` asyncio connections, each subscribed to
``--per-client`` symbols (so every symbol has ~10 subscribers). Then:

1. steady rate: this process NOTIFYs ``--rate`` stock updates a second (batches every
   20 ms, each item stamped ``sentAt``) for ``--seconds``; the clients measure latency;
2. the minute cycle: ``poll_quotes`` for all 505 symbols on the sample source, cold (a
   new process's first poll, as each DAG task is) — from the call to the last client's
   update of that minute.

Usage: ``python bench/ws.py [--clients 1000] [--rate 1100] [--seconds 20] [--write F]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import throwaway_warehouse, write_section
from stockmind import events
from stockmind.db import connect
from stockmind.platform.postgres_cluster import free_port
from stockmind.platform.processes import api_command
from stockmind.profiles import refresh_profiles
from stockmind.providers.sample import SampleProvider
from stockmind.universe import resolve_universe

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


def server_rss_mb(server: subprocess.Popen) -> float:
    """Resident memory of the gunicorn master and workers (MiB)."""
    out = subprocess.run(
        ["ps", "-o", "rss=", "--ppid", str(server.pid), "-p", str(server.pid)],
        capture_output=True,
        text=True,
    ).stdout
    return sum(int(x) for x in out.split()) / 1024


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--per-client", type=int, default=5)
    parser.add_argument("--rate", type=int, default=1100, help="published items per second")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, help="default: as make up (API_WORKERS)")
    parser.add_argument("--threads", type=int, help="default: as make up (API_THREADS)")
    parser.add_argument("--write")
    args = parser.parse_args()
    symbols = resolve_universe("sp500")
    with throwaway_warehouse() as dsn:
        refresh_profiles(symbols, SampleProvider(), dsn=dsn)
        port = free_port(18600)
        env = dict(
            os.environ,
            DATABASE_URL=dsn,
            API_RATE_LIMIT_ENABLED="false",
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
        try:
            wait_for(port)
            clients = subprocess.Popen(
                [
                    sys.executable,
                    str(HERE / "ws_clients.py"),
                    "--url",
                    f"ws://127.0.0.1:{port}/ws/market",
                    "--clients",
                    str(args.clients),
                    "--per-client",
                    str(args.per_client),
                    "--symbols",
                    ",".join(symbols),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            ready = clients.stdout.readline().split()
            assert ready and ready[0] == "ready", ready
            connect_seconds = float(ready[1])
            rss = server_rss_mb(server)
            cpu_before = cpu_seconds(server.pid), cpu_seconds(clients.pid)
            started = time.perf_counter()
            published = publish_steadily(dsn, symbols, args.rate, args.seconds)
            steady_seconds = time.perf_counter() - started
            cpu = [
                after - before
                for after, before in zip(
                    (cpu_seconds(server.pid), cpu_seconds(clients.pid)), cpu_before, strict=True
                )
            ]
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
            out, _ = clients.communicate("", timeout=120)
        finally:
            os.killpg(server.pid, 15)
            server.wait(timeout=60)
            log.close()
    result = json.loads(out.strip().splitlines()[-1])
    minute = at.isoformat()
    cycle_seconds = result["cycle_last"].get(minute, float("nan")) - poll_started
    expected = args.clients * args.per_client  # every subscription gets this minute's quote
    report = render(
        args,
        result,
        published,
        steady_seconds,
        connect_seconds,
        rss,
        cycle_seconds,
        result["cycle_count"].get(minute, 0),
        expected,
        poll_report,
    )
    report += (
        f"\nCPU during the steady phase: server {cpu[0] / steady_seconds:.0%} of a core, "
        f"load generator {cpu[1] / steady_seconds:.0%} (of {os.cpu_count()} cores).\n"
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


def render(
    args, r, published, steady_seconds, connect_seconds, rss, cycle_seconds, got, expected, poll
) -> str:
    delivered = r["latency_messages"] / steady_seconds
    return f"""## WebSockets (NOTIFY → hub → clients)

Measured by `bench/ws.py` on {dt.date.today()}, {os.cpu_count()} cores, loopback: the
`make up` server command with its {args.workers} workers × {args.threads} threads (sockets
hold no thread: one reactor thread per worker serves them), {args.clients:,} asyncio clients in a second process, each
subscribed to {args.per_client} of the 505 S&P 500 symbols (~{args.clients * args.per_client // 505}
subscribers per symbol). All clients connected and subscribed in {connect_seconds:.1f} s; the
server then held {rss:,.0f} MiB resident.

| measure | result | target |
|---|---:|---:|
| published at a steady rate | {published / steady_seconds:,.0f} items/s for {steady_seconds:.0f} s | |
| delivered to clients | **{delivered:,.0f} messages/s** ({r["latency_messages"]:,} messages) | ≥ 10,000 |
| NOTIFY → client latency p50 / p99 | **{r["p50_ms"]:.1f} / {r["p99_ms"]:.1f} ms** (max {r["max_ms"]:.0f}) | p99 < 50 ms |
| minute cycle, 505 symbols, cold process (poll → DB → NOTIFY → last client) | **{cycle_seconds:.2f} s** | < 10 s |
| that minute's updates received | {got:,} of {expected:,} | all |
| subscription errors | {r["errors"]} | 0 |

The cycle's poll: {poll["quotes"]} quotes, {poll["changed"]} changed, {poll["notifications"]}
notifications. Latency is measured from the publisher's clock at `pg_notify` to the
client's at receipt (same machine), so it includes PostgreSQL's delivery, the hub's
fan-out, any per-client backlog and the socket.
"""


if __name__ == "__main__":
    sys.exit(main())
