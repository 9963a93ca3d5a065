"""The load generators of ``bench/ws.py``, each its own process.

WebSocket clients (asyncio, frames parsed by hand: ``Client``): opens ``--clients``
connections to ``--url``, numbered from ``--first`` (``bench/ws.py`` runs several of
these processes side by side, one slice of the clients each), subscribes client *i* to
``--per-client`` symbols spread evenly over ``--symbols`` (comma-separated; *i*,
*i* + 101, … of 505), prints ``ready`` once every client holds its subscriptions, then
records every message until stdin closes and prints one JSON object: message count,
NOTIFY→client latencies (from each test item's ``sentAt``; every one also written to
``--latencies`` as a pair of native doubles, sentAt and latency, for merging) and, per
quote minute of a poll cycle, how many updates arrived and when the last did.

HTTP probe (``--http URL``): ``--concurrency`` threads, each one keep-alive connection
asking for URL again and again (closed loop, ``--pause`` seconds between an answer and
the next request: a probe, not a load test) for ``--seconds``; prints one JSON object
with the request count, errors and latency percentiles.
"""

from __future__ import annotations

import argparse
import array
import asyncio
import base64
import http.client
import json
import os
import resource
import statistics
import sys
import threading
import time
import urllib.parse
from collections import defaultdict


def raise_fd_limit() -> int:
    """The soft descriptor limit raised to the hard one (each socket takes one)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def percentiles(latencies: list[float]) -> dict:
    """p50 / p99 / max in milliseconds of latencies in seconds."""
    ordered = sorted(latencies)
    q = statistics.quantiles(ordered, n=100) if len(ordered) > 100 else [0.0] * 99
    return {
        "p50_ms": q[49] * 1000,
        "p99_ms": q[98] * 1000,
        "max_ms": (ordered[-1] * 1000) if ordered else 0.0,
    }


class Stats:
    def __init__(self):
        self.messages = 0
        self.latencies = array.array("d")
        self.sent = array.array("d")  # when each of them was published
        self.cycle_last: dict[str, float] = defaultdict(float)
        self.cycle_count: dict[str, int] = defaultdict(int)
        self.errors = 0


def masked_frame(opcode: int, payload: bytes) -> bytes:
    """A client's frame (RFC 6455 §5.2: FIN, masked with a random key)."""
    size, key = len(payload), os.urandom(4)
    if size < 126:
        header = bytes((0x80 | opcode, 0x80 | size))
    elif size < 65536:
        header = bytes((0x80 | opcode, 0x80 | 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((0x80 | opcode, 0x80 | 127)) + size.to_bytes(8, "big")
    mask = int.from_bytes((key * (size // 4 + 1))[:size], "big")
    return header + key + (int.from_bytes(payload, "big") ^ mask).to_bytes(size, "big")


class Client(asyncio.Protocol):
    """One WebSocket client on asyncio's transport level: the opening handshake, its
    subscriptions, then every frame parsed by hand (the server's frames are unmasked and
    unfragmented). A client library (websockets) cost ~5× the CPU per message, and on a
    machine shared with the server the load generator must not be what is measured."""

    def __init__(self, url, symbols: list[str], stats: Stats, subscribed: asyncio.Future):
        self.url, self.symbols, self.stats, self.subscribed = url, symbols, stats, subscribed
        self.pending = len(symbols)
        self.upgraded = False
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write(
            (
                f"GET {self.url.path} HTTP/1.1\r\nHost: {self.url.netloc}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )

    def connection_lost(self, exc) -> None:
        if not self.subscribed.done():
            self.subscribed.set_exception(exc or ConnectionError("closed before subscribing"))

    def send(self, opcode: int, payload: bytes) -> None:
        self.transport.write(masked_frame(opcode, payload))

    def data_received(self, data: bytes) -> None:
        now = time.time()  # when these frames arrived
        buffer = self.buffer
        buffer += data
        if not self.upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buffer.startswith(b"HTTP/1.1 101"):
                status = bytes(buffer[: buffer.find(b"\r\n")]).decode()
                self.subscribed.set_exception(ConnectionError(f"no upgrade: {status}"))
                self.transport.close()
                return
            del buffer[: end + 4]
            self.upgraded = True
            for symbol in self.symbols:
                self.send(0x1, json.dumps({"type": "subscribe", "symbol": symbol}).encode())
        start, size = 0, len(buffer)
        while size - start >= 2:
            opcode, length, head = buffer[start] & 0x0F, buffer[start + 1] & 0x7F, 2
            if length == 126:
                if size - start < 4:
                    break
                length, head = int.from_bytes(buffer[start + 2 : start + 4], "big"), 4
            elif length == 127:
                if size - start < 10:
                    break
                length, head = int.from_bytes(buffer[start + 2 : start + 10], "big"), 10
            if size - start < head + length:
                break
            payload = bytes(buffer[start + head : start + head + length])
            start += head + length
            if opcode == 0x1:
                self.message(payload, now)
            elif opcode == 0x9:  # the server's ping: pong with its payload
                self.send(0xA, payload)
            elif opcode == 0x8:  # close: answer it and hang up
                self.send(0x8, payload[:2])
                self.transport.close()
                return
        del buffer[:start]

    def message(self, payload: bytes, now: float) -> None:
        stats = self.stats
        if self.pending:  # subscribing: wait for each answer
            message = json.loads(payload)
            if message["type"] == "subscribed":
                self.pending -= 1
            elif message["type"] == "error":
                stats.errors += 1
                self.pending -= 1
            if not self.pending:
                self.subscribed.set_result(None)
            return
        data = json.loads(payload).get("data") or {}
        stats.messages += 1
        if "sentAt" in data:
            stats.latencies.append(now - data["sentAt"])
            stats.sent.append(data["sentAt"])
        elif "timestamp" in data:
            minute = data["timestamp"]
            stats.cycle_count[minute] += 1
            stats.cycle_last[minute] = max(stats.cycle_last[minute], now)


async def websockets_main(args) -> None:
    raise_fd_limit()
    symbols = args.symbols.split(",")
    stats, opening = Stats(), asyncio.Semaphore(50)
    url = urllib.parse.urlsplit(args.url)
    loop = asyncio.get_running_loop()

    async def start(n: int) -> asyncio.Transport:
        i = args.first + n
        # spread over the universe (i, i + 101, …): an update batch of consecutive symbols
        # brings a client one message, not all of its symbols at once
        stride = max(1, len(symbols) // args.per_client)
        mine = [symbols[(i + k * stride) % len(symbols)] for k in range(args.per_client)]
        async with opening:
            subscribed = loop.create_future()
            transport, _ = await loop.create_connection(
                lambda: Client(url, mine, stats, subscribed), url.hostname, url.port
            )
            await asyncio.wait_for(subscribed, 120)
        return transport

    started = time.time()
    transports = await asyncio.gather(*(start(n) for n in range(args.clients)))
    print(f"ready {time.time() - started:.1f}", flush=True)
    await loop.run_in_executor(None, sys.stdin.read)  # until closed
    for transport in transports:
        transport.abort()
    if args.latencies:  # (published at, latency) pairs
        pairs = array.array("d", [0.0]) * (2 * len(stats.latencies))
        pairs[0::2], pairs[1::2] = stats.sent, stats.latencies
        with open(args.latencies, "wb") as out:
            pairs.tofile(out)
    print(
        json.dumps(
            {
                "messages": stats.messages,
                "latency_messages": len(stats.latencies),
                **percentiles(stats.latencies.tolist()),
                "cycle_last": stats.cycle_last,
                "cycle_count": stats.cycle_count,
                "errors": stats.errors,
            }
        ),
        flush=True,
    )


def http_main(args) -> None:
    """A closed-loop HTTP client: ``--concurrency`` keep-alive connections."""
    url = urllib.parse.urlsplit(args.http)
    path = url.path + (f"?{url.query}" if url.query else "")
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + args.seconds

    def worker() -> None:
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        mine = []
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
                ok = False
            if ok:
                mine.append(time.perf_counter() - started)
            else:
                with lock:
                    errors[0] += 1
            time.sleep(args.pause)
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(args.concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(
        json.dumps(
            {
                "requests": len(latencies),
                "per_second": len(latencies) / args.seconds,
                "errors": errors[0],
                **percentiles(latencies),
            }
        ),
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", help="the WebSocket endpoint")
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--first", type=int, default=0, help="number of this slice's first")
    parser.add_argument("--per-client", type=int, default=5)
    parser.add_argument("--symbols")
    parser.add_argument("--latencies", help="write every latency (seconds) here")
    parser.add_argument("--http", help="probe this HTTP URL instead")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--pause", type=float, default=0.01)
    args = parser.parse_args()
    if args.http:
        http_main(args)
    else:
        asyncio.run(websockets_main(args))


if __name__ == "__main__":
    main()
