"""This process's WebSockets: the reactor, the session pool, connection caps and the hub.

One :class:`Connections` per API process (``app.extensions["ws"]``). The reactor thread
reads every socket and hands complete messages here; they are answered in order per
connection by the session pool; the hub's listener thread writes updates.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from flask import Flask
from psycopg2.errors import UndefinedTable
from wsproto import WSConnection

from stockmind_api.database import db
from stockmind_api.metrics import Metrics
from stockmind_api.realtime.caps import ConnectionCaps
from stockmind_api.realtime.client import TOO_SLOW, Client
from stockmind_api.realtime.hub import Hub
from stockmind_api.realtime.queries import active_symbols
from stockmind_api.realtime.reactor import Reactor, Timeouts
from stockmind_api.realtime.session import TOO_MANY, Session

log = logging.getLogger("stockmind_api.ws")
MAX_INBOX = 32  # messages waiting for the session pool, per connection


class Connections:
    """This process's WebSockets: the reactor, the session pool, caps and the hub."""

    def __init__(self, app: Flask):
        config = app.config
        self.app, self.config = app, config
        self.hub = Hub(config["DATABASE_URL"])
        self.caps = ConnectionCaps(config["RATE_LIMIT_STORAGE"])
        self.pool = ThreadPoolExecutor(config["WS_SESSION_THREADS"], "ws-session")
        self.reactor = Reactor(
            Timeouts(idle=config["WS_IDLE_SECONDS"], ping=config["WS_PING_SECONDS"]),
            on_message=self.received,
            on_closed=self.closed,
            on_tick=self._tick,
        )
        self.metrics = HubMetrics(self.hub, app.extensions["metrics"])
        self._symbols: dict = {}
        self._lock = threading.Lock()

    def _tick(self, clients: set[Client]) -> None:
        """Every second on the reactor thread: renew the caps held, publish the figures."""
        self.caps.refresh(self._held(clients))
        self.metrics.sync()

    def known_symbols(self) -> set[str]:
        """Active symbols, re-read at most every 5 minutes (not once per connection);
        before dbt's first build there are none (re-read after 30 s), not an error."""
        if self._symbols.get("until", 0) < time.monotonic():
            try:
                symbols, ttl = active_symbols(db(self.app)), 300
            except UndefinedTable:
                log.warning("marts.dim_symbols is not built yet: no symbol to subscribe to")
                symbols, ttl = set(), 30
            self._symbols = {"symbols": symbols, "until": time.monotonic() + ttl}
        return self._symbols["symbols"]

    def open(self, sock: socket.socket, conn: WSConnection, address: str) -> None:
        config = self.config
        # a bounded kernel buffer per socket: Linux would grow it to MBs for a slow reader,
        # so a stalled client would cost memory and never show up as slow
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, config["WS_SEND_BUFFER_BYTES"])
        client = Client(
            sock,
            conn,
            address,
            config["WS_QUEUE_SIZE"],
            config["WS_SEND_TIMEOUT_SECONDS"],
        )
        client.session = Session(
            client, self.hub, self.caps, config, db(self.app), self.known_symbols()
        )
        limit = config["WS_MAX_PER_IP"]
        if not self.caps.acquire(f"ws:ip:{address}", client.id, limit):
            client.close(TOO_MANY, f"too many connections from {address} (limit {limit})")
        else:
            self.hub.connect(client)
        self.reactor.add(client)

    def received(self, client: Client, message: str | bytes) -> None:
        """A complete message (reactor thread): queue it for the session pool, in order."""
        with self._lock:
            if len(client.inbox) >= MAX_INBOX:
                client.close(TOO_SLOW, "sending faster than the server answers")
                return
            client.inbox.append(message)
            if client.handling:
                return
            client.handling = True
        self.pool.submit(self._answer, client)

    def _answer(self, client: Client) -> None:
        with self.app.app_context():
            while True:
                with self._lock:
                    if not client.inbox or client.closing:
                        client.handling = False
                        return
                    message = client.inbox.popleft()
                try:
                    client.session.handle(message)
                except Exception:
                    log.exception("WebSocket message failed")
                    client.close(1011, "internal error")

    def closed(self, client: Client) -> None:
        client.released = True
        self.hub.disconnect(client)
        self.caps.release(f"ws:ip:{client.address}", client.id)
        if client.user_id is not None:
            self.caps.release(f"ws:user:{client.user_id}", client.id)
        if client.drop_reason:
            log.info("dropped a WebSocket client: %s", client.drop_reason)

    @staticmethod
    def _held(clients) -> list[tuple[str, str]]:
        held = []
        for client in list(clients):
            held.append((f"ws:ip:{client.address}", client.id))
            if client.user_id is not None:
                held.append((f"ws:user:{client.user_id}", client.id))
        return held


class HubMetrics:
    """``/metrics``: this process's WebSocket clients and real-time deliveries, as meters
    so that under gunicorn they are summed over workers (``stockmind_api.metrics``).

    The hub keeps its own figures (``Hub.status``, also ``/api/health``); :meth:`sync`
    copies them into the meters every reactor tick and before a scrape. Clients are a
    live sum over workers, the listener's state one series per worker (``pid`` label
    under gunicorn: a worker that never had a WebSocket has no listener), the deliveries,
    drops and reconnects counters.
    """

    COUNTERS = (
        ("delivered", "Messages handed to WebSocket clients"),
        ("dropped", "WebSocket clients dropped for being too slow"),
        ("reconnects", "LISTEN connection re-established after a loss"),
    )

    def __init__(self, hub: Hub, metrics: Metrics):
        self.hub = hub
        self.clients = metrics.gauge(
            "stockmind_ws_clients", "Open WebSocket connections", "livesum"
        )
        self.listener_up = metrics.gauge(
            "stockmind_ws_listener_up", "1 while the LISTEN connection is up", "liveall"
        )
        self.counters = {
            name: metrics.counter(f"stockmind_ws_{name}", help_text)
            for name, help_text in self.COUNTERS
        }
        self._seen = dict.fromkeys(self.counters, 0)
        self._lock = threading.Lock()  # the reactor thread and a scrape's thread
        metrics.before_scrape(self.sync)

    def sync(self) -> None:
        status = self.hub.status()
        with self._lock:
            self.clients.set(status["clients"])
            self.listener_up.set(int(status["listener"] == "listening"))
            for name, counter in self.counters.items():
                if status[name] > self._seen[name]:
                    counter.inc(status[name] - self._seen[name])
                    self._seen[name] = status[name]
