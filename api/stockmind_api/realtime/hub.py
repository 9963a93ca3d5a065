"""The per-process real-time hub: one LISTEN connection fanning out to WebSocket clients.

A daemon thread LISTENs on ``stockmind.events.CHANNEL`` over its own psycopg2
connection (the pool's connections are for requests). Each notification is decoded once,
rendered and framed once per item (``{"type": …, "data": {…}}``), and each subscribed
client gets its share in one non-blocking write from this same thread (``client.Client``): no
thread wakes per message. A client that cannot keep up collects a backlog (the reactor
writes it when its socket drains) and is dropped when it passes its bound, so one slow
reader never holds up the others or the listener.

When PostgreSQL goes away the thread logs it, reports it in ``status()`` (shown by
``/api/health``) and reconnects with capped exponential backoff; a 5-second idle probe
finds a dead connection even when no notification arrives.

Watchers (``watch``) hear of every notification's type and of the LISTEN connection
coming up or going down: the response cache (``stockmind_api.response_cache``) drops
what a dbt build has changed, and trusts nothing it kept while the listener was down.
"""

from __future__ import annotations

import logging
import random
import selectors
import threading
import time
from collections import defaultdict
from collections.abc import Callable

import psycopg2
from stockmind import events

from stockmind_api.realtime.client import Client, text_frame

log = logging.getLogger("stockmind_api.realtime.hub")

PROBE_SECONDS = 5.0
MAX_BACKOFF = 30.0


class Hub:
    def __init__(self, dsn: str):
        self.dsn = dsn
        self._lock = threading.Lock()
        self._subscribers: dict[str, set[Client]] = defaultdict(set)
        self._clients: set[Client] = set()
        self._latest: dict[str, str] = {}  # symbol -> last stock_update message text
        self._thread: threading.Thread | None = None
        self._watchers: list[Callable[[str | None, bool], None]] = []
        self._state = {
            "listener": "idle",
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
        self.unsubscribe_all(client)

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

    # -- watchers -------------------------------------------------------------------
    def watch(self, watcher: Callable[[str | None, bool], None]) -> None:
        """``watcher(kind, listening)`` on the listener thread: ``(kind, True)`` for each
        notification, ``(None, up)`` when the LISTEN connection comes up or goes down
        (notifications sent meanwhile are lost: a watcher must assume anything changed)."""
        self._watchers.append(watcher)

    def _tell(self, kind: str | None, listening: bool) -> None:
        for watcher in self._watchers:
            try:
                watcher(kind, listening)
            except Exception:
                log.exception("a hub watcher failed")

    # -- fan-out --------------------------------------------------------------------
    def dispatch(self, payload: str) -> int:
        """Deliver one notification; returns the number of messages handed to clients."""
        try:
            kind, items = events.decode(payload)
        except ValueError as exc:
            log.warning("ignored a malformed notification: %s", exc)
            return 0
        self._tell(kind, True)
        share: dict[Client, list[bytes]] = {}
        with self._lock:
            for item in items:
                symbol = item.get("symbol")
                if not isinstance(symbol, str):
                    continue
                text = events.client_message(kind, item)
                if kind == events.STOCK_UPDATE:
                    self._latest[symbol] = text
                subscribers = self._subscribers.get(symbol)
                if subscribers:
                    frame = text_frame(text)  # framed once, the same bytes for everyone
                    for client in subscribers:
                        share.setdefault(client, []).append(frame)
        delivered = 0
        for client, frames in share.items():
            if client.send_frames(frames):
                delivered += len(frames)
            else:
                self._state["dropped"] += client.drop_reason is not None
                self.unsubscribe_all(client)
        self._state["delivered"] += delivered
        return delivered

    def unsubscribe_all(self, client: Client) -> None:
        with self._lock:
            for symbol in client.symbols:
                self._subscribers[symbol].discard(client)

    # -- the LISTEN thread ----------------------------------------------------------
    def start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="hub-listen", daemon=True)
                self._thread.start()

    def status(self) -> dict:
        with self._lock:
            clients = len(self._clients)
        return {**self._state, "clients": clients}

    def _run(self) -> None:
        self._failures = 0
        while True:  # a daemon thread: it lives as long as its process
            try:
                self._listen()
            except (psycopg2.Error, OSError) as exc:
                self._failures += 1
                delay = min(MAX_BACKOFF, 0.25 * 2**self._failures) * random.uniform(0.5, 1.0)
                self._state.update(listener="reconnecting", last_error=str(exc).strip()[:200])
                log.warning("listener lost (%s); reconnecting in %.1fs", exc, delay)
                time.sleep(delay)

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
            self._tell(None, True)
            log.info("listening on %s", events.CHANNEL)
            with selectors.DefaultSelector() as sel:  # epoll: fds beyond 1024 are fine
                sel.register(conn, selectors.EVENT_READ)
                idle = 0.0
                while True:
                    if sel.select(PROBE_SECONDS):
                        idle = 0.0
                        conn.poll()
                        while conn.notifies:
                            self.dispatch(conn.notifies.pop(0).payload)
                    else:
                        idle += PROBE_SECONDS
                    if idle >= PROBE_SECONDS:  # finds a dead server between events
                        idle = 0.0
                        with conn.cursor() as cur:
                            cur.execute("select 1")
        finally:
            self._tell(None, False)
            conn.close()
