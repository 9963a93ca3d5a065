"""The per-process WebSocket reactor: one thread serving every open socket.

Why: under gunicorn's gthread workers a socket served the usual way (flask-sock) holds a
request thread, plus a reader thread of its own, for as long as it is open — 130 idle
sockets took every thread and HTTP stopped. Here a request thread only performs the
handshake and hands the socket over; this thread then reads every socket (epoll),
answers pings and close frames, sends pings of its own, closes idle and unresponsive
connections and finishes closes. Sockets cost a file descriptor and a few KiB, never a
thread, so HTTP keeps its threads whatever the number of sockets.

What a message means is not decided here: complete messages go to ``on_message`` (the
session layer runs them on a small thread pool, so a slow database never stalls reads),
and ``on_closed`` is told when a connection is gone.
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from stockmind_api.realtime.client import Client

log = logging.getLogger("stockmind_api.ws")

NO_PONG = 4408
READ_CHUNK = 65536


@dataclass(frozen=True)
class Timeouts:
    idle: float  # no message and no subscription for this long: closed (1000)
    ping: float  # a ping after this much silence; no pong within as long again: closed


class Reactor:
    def __init__(
        self,
        timeouts: Timeouts,
        on_message: Callable[[Client, str | bytes], None],
        on_closed: Callable[[Client], None],
        on_tick: Callable[[set[Client]], None] = lambda clients: None,
    ):
        self.timeouts = timeouts
        self.on_message, self.on_closed, self.on_tick = on_message, on_closed, on_tick
        self.clients: set[Client] = set()
        self._selector = selectors.DefaultSelector()  # epoll: no 1,024-descriptor limit
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._arrivals: deque[Client] = deque()
        self._writers: deque[Client] = deque()
        self._watching_writes: set[Client] = set()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    # -- any thread ---------------------------------------------------------------------
    def add(self, client: Client) -> None:
        client.on_backlog = self._wants_write
        self._arrivals.append(client)
        self._start()
        self._wake()

    def count(self) -> int:
        return len(self.clients) + len(self._arrivals)

    def _wants_write(self, client: Client) -> None:
        self._writers.append(client)
        self._wake()

    def _wake(self) -> None:
        with contextlib.suppress(BlockingIOError, OSError):
            self._wake_w.send(b"\0")

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="ws-reactor", daemon=True)
                self._thread.start()

    # -- the reactor thread -------------------------------------------------------------
    def _run(self) -> None:
        next_tick = time.monotonic() + 1.0
        while True:  # a daemon thread: it lives as long as its process
            try:
                for key, mask in self._selector.select(max(0.0, next_tick - time.monotonic())):
                    if key.data is None:
                        with contextlib.suppress(BlockingIOError, OSError):
                            self._wake_r.recv(4096)
                    else:
                        self._ready(key.data, mask)
                self._take_arrivals()
                self._watch_writes()
                if time.monotonic() >= next_tick:
                    next_tick = time.monotonic() + 1.0
                    self._housekeeping()
            except Exception:  # one bad connection must not end every connection
                log.exception("WebSocket reactor error")

    def _take_arrivals(self) -> None:
        while self._arrivals:
            client = self._arrivals.popleft()
            self.clients.add(client)
            self._selector.register(client.sock, selectors.EVENT_READ, client)
            self._settle(client)  # it may have been closed before it got here (caps)

    def _watch_writes(self) -> None:
        while self._writers:
            client = self._writers.popleft()
            if client in self.clients and client not in self._watching_writes:
                self._watching_writes.add(client)
                events = selectors.EVENT_READ | selectors.EVENT_WRITE
                self._selector.modify(client.sock, events, client)

    def _ready(self, client: Client, mask: int) -> None:
        if mask & selectors.EVENT_READ:
            try:
                data = client.sock.recv(READ_CHUNK)
            except (BlockingIOError, InterruptedError):
                data = None
            except OSError:
                data = b""
            if data == b"":
                client.hung_up()
            elif data:
                for message in client.receive(data):
                    self.on_message(client, message)
        if mask & selectors.EVENT_WRITE:
            client.flush()
        self._settle(client)

    def _settle(self, client: Client) -> None:
        """Stop watching writes once drained; release a connection that is over."""
        if client.finished:
            self._release(client)
        elif client in self._watching_writes and not client.backlogged:
            self._watching_writes.discard(client)
            self._selector.modify(client.sock, selectors.EVENT_READ, client)

    def _release(self, client: Client) -> None:
        if client not in self.clients:
            return
        self.clients.discard(client)
        self._watching_writes.discard(client)
        with contextlib.suppress(KeyError, ValueError, OSError):
            self._selector.unregister(client.sock)
        with contextlib.suppress(OSError):
            client.sock.close()
        try:
            self.on_closed(client)
        except Exception:
            log.exception("WebSocket close handler failed")

    def _housekeeping(self) -> None:
        now = time.monotonic()
        for client in list(self.clients):
            if client.closing:
                if client.finished or now >= client.close_deadline:
                    self._release(client)  # the peer never answered our close: cut it
                continue
            silent = now - client.last_heard
            if client.ping_sent is not None and now - client.ping_sent >= self.timeouts.ping:
                client.close(NO_PONG, f"no pong within {self.timeouts.ping:g} s")
            elif client.ping_sent is None and silent >= self.timeouts.ping:
                client.ping()
            elif not client.symbols and now - client.last_message >= self.timeouts.idle:
                client.close(1000, "idle timeout")
            self._settle(client)
        self.on_tick(self.clients)
