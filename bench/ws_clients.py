"""The WebSocket load generator of ``bench/ws.py`` (its own process, asyncio).

Opens ``--clients`` connections to ``--url``, subscribes client *i* to ``--per-client``
symbols spread over ``--symbols`` (comma-separated), prints ``ready`` once every client
holds its subscriptions, then records every message until stdin closes and prints one
JSON object: message count, NOTIFY→client latencies (from each test item's ``sentAt``)
and, per quote minute of a poll cycle, how many updates arrived and when the last did.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections import defaultdict

from websockets.asyncio.client import connect


class Stats:
    def __init__(self):
        self.messages = 0
        self.latencies: list[float] = []
        self.cycle_last: dict[str, float] = defaultdict(float)
        self.cycle_count: dict[str, int] = defaultdict(int)
        self.errors = 0


async def client(url: str, symbols: list[str], stats: Stats, subscribed: asyncio.Event):
    async with connect(url, max_queue=None, ping_interval=None, open_timeout=60) as ws:
        for symbol in symbols:
            await ws.send(json.dumps({"type": "subscribe", "symbol": symbol}))
        pending = len(symbols)
        while pending:
            message = json.loads(await ws.recv())
            if message["type"] == "subscribed":
                pending -= 1
            elif message["type"] == "error":
                stats.errors += 1
                pending -= 1
        subscribed.set()
        async for frame in ws:
            now = time.time()
            data = json.loads(frame).get("data") or {}
            stats.messages += 1
            if "sentAt" in data:
                stats.latencies.append(now - data["sentAt"])
            elif "timestamp" in data:
                minute = data["timestamp"]
                stats.cycle_count[minute] += 1
                stats.cycle_last[minute] = max(stats.cycle_last[minute], now)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--per-client", type=int, default=5)
    parser.add_argument("--symbols", required=True)
    args = parser.parse_args()
    symbols = args.symbols.split(",")
    stats, opening = Stats(), asyncio.Semaphore(50)
    events = [asyncio.Event() for _ in range(args.clients)]

    async def start(i: int):
        mine = [symbols[(i * args.per_client + k) % len(symbols)] for k in range(args.per_client)]
        async with opening:
            task = asyncio.create_task(client(args.url, mine, stats, events[i]))
            await events[i].wait()
        return task

    started = time.time()
    tasks = await asyncio.gather(*(start(i) for i in range(args.clients)))
    print(f"ready {time.time() - started:.1f}", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until closed
    for task in tasks:
        task.cancel()
    latencies = sorted(stats.latencies)
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 100 else [0.0] * 99
    print(
        json.dumps(
            {
                "messages": stats.messages,
                "latency_messages": len(latencies),
                "p50_ms": q[49] * 1000,
                "p99_ms": q[98] * 1000,
                "max_ms": (latencies[-1] * 1000) if latencies else 0.0,
                "cycle_last": stats.cycle_last,
                "cycle_count": stats.cycle_count,
                "errors": stats.errors,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    asyncio.run(main())
