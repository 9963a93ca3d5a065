"""The per-process real-time hub: one LISTEN connection fanning out to WebSocket clients.

A daemon thread LISTENs on ``stockmind.events.CHANNEL`` over its own psycopg2
connection (the pool's connections are for requests). Each notification is decoded once,
rendered once per item (``{"type": …, "data": {…}}``) and that text is offered to every
client subscribed to the item's symbol. Offering never blocks: each client has a bounded
queue, and a client whose queue is full is dropped (``Client.drop``), so one slow reader
cannot hold up the others or the listener.

When PostgreSQL goes away the thread logs it, reports it in ``status()`` (shown by
``/api/health``) and reconnects with capped exponential backoff; a 5-second idle probe
finds a dead connection even when no notification arrives.
"""

from __future__ import annotations

import logging
import queue
import random
import select
import threading
import time
from collections import defaultdict

import psycopg2
from stockmind import events

log = logging.getLogger("stockmind_api.hub")

PROBE_SECONDS = 5.0
MAX_BACKOFF = 30.0


class Client:
    """One WebSocket connection's state: subscriptions and a bounded outbox."""

    def __init__(self, queue_size: int, user_id: int | None = None):
        self.outbox: queue.Queue[str | None] = queue.Queue(maxsize=queue_size)
        self.symbols: set[str] = set()
        self.user_id = user_id
        self.drop_reason: str | None = None

    def offer(self, text: str) -> bool:
        """Queue a message without waiting; a full queue drops the client."""
        if self.drop_reason:
            return False
        try:
            self.outbox.put_nowait(text)
            return True
        except queue.Full:
            self.drop(f"too slow: {self.outbox.maxsize} messages waiting")
            return False

    def drop(self, reason: str) -> None:
        self.drop_reason = self.drop_reason or reason


class Hub:
    def __init__(self, dsn: str):
        self.dsn = dsn
        self._lock = threading.Lock()
        self._subscribers: dict[str, set[Client]] = defaultdict(set)
        self._clients: set[Client] = set()
        self._latest: dict[str, str] = {}  # symbol -> last stock_update message text
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._state = {
            "listener": "not started",
            "since": None,
            "reconnects": 0,
            "last_error": None,
            "delivered": 0,
            "dropped": 0,
        }

    # -- clients --------------------------------------------------------------------
    def connect(self, client: Client) -> None:
        self.start()
        with self._lock:
            self._clients.add(client)

    def disconnect(self, client: Client) -> None:
        with self._lock:
            self._clients.discard(client)
            for symbol in client.symbols:
                self._subscribers[symbol].discard(client)

    def subscribe(self, client: Client, symbol: str) -> str | None:
        """Add a subscription; returns the latest cached quote message, if any."""
        with self._lock:
            client.symbols.add(symbol)
            self._subscribers[symbol].add(client)
            return self._latest.get(symbol)

    def unsubscribe(self, client: Client, symbol: str) -> None:
        with self._lock:
            client.symbols.discard(symbol)
            self._subscribers[symbol].discard(client)

    def remember(self, symbol: str, text: str) -> None:
        with self._lock:
            self._latest.setdefault(symbol, text)

    # -- fan-out --------------------------------------------------------------------
    def dispatch(self, payload: str) -> int:
        """Deliver one notification; returns the number of messages queued."""
        try:
            kind, items = events.decode(payload)
        except ValueError as exc:
            log.warning("ignored a malformed notification: %s", exc)
            return 0
        queued = 0
        for item in items:
            symbol = item.get("symbol")
            if not isinstance(symbol, str):
                continue
            text = events.client_message(kind, item)
            with self._lock:
                if kind == events.STOCK_UPDATE:
                    self._latest[symbol] = text
                targets = list(self._subscribers.get(symbol, ()))
            for client in targets:
                if client.offer(text):
                    queued += 1
                else:
                    self._state["dropped"] += 1
                    self.unsubscribe_all(client)
        self._state["delivered"] += queued
        return queued

    def unsubscribe_all(self, client: Client) -> None:
        with self._lock:
            for symbol in client.symbols:
                self._subscribers[symbol].discard(client)

    # -- the LISTEN thread ----------------------------------------------------------
    def start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(target=self._run, name="hub-listen", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)

    def status(self) -> dict:
        with self._lock:
            clients = len(self._clients)
        return {**self._state, "clients": clients}

    def _run(self) -> None:
        self._failures = 0
        while not self._stop.is_set():
            try:
                self._listen()
            except (psycopg2.Error, OSError) as exc:
                self._failures += 1
                delay = min(MAX_BACKOFF, 0.25 * 2**self._failures) * random.uniform(0.5, 1.0)
                self._state.update(listener="reconnecting", last_error=str(exc).strip()[:200])
                log.warning("listener lost (%s); reconnecting in %.1fs", exc, delay)
                self._stop.wait(delay)
        self._state["listener"] = "stopped"

    def _listen(self) -> None:
        conn = psycopg2.connect(self.dsn, connect_timeout=5, application_name="stockmind-hub")
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(f"listen {events.CHANNEL}")
            if self._state["listener"] == "reconnecting":
                self._state["reconnects"] += 1
            self._state.update(listener="listening", since=time.time())
            self._failures = 0
            log.info("listening on %s", events.CHANNEL)
            while not self._stop.is_set():
                ready, _, _ = select.select([conn], [], [], PROBE_SECONDS)
                if not ready:
                    with conn.cursor() as cur:  # finds a dead server between events
                        cur.execute("select 1")
                    continue
                conn.poll()
                while conn.notifies:
                    self.dispatch(conn.notifies.pop(0).payload)
        finally:
            conn.close()
