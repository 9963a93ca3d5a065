"""The gunicorn worker of the API: gthread, but its own errors answer in the JSON envelope.

A request gunicorn refuses before Flask sees it (an over-long request line, too many or
too large headers, a malformed request) used to get gunicorn's HTML error page; clients
of this API parse every answer as JSON. ``api_command`` starts gunicorn with
``--worker-class stockmind_api.server.EnvelopeThreadWorker``.

gunicorn keeps deciding the status and reason (and keeps its warning and access log):
its HTML page is written to a stand-in socket, and only the status line is kept from it.

Slow clients: gthread gives every accepted connection a thread and, once a first byte
has come, reads the rest with no time limit, so ~300 connections that send half a
request (slowloris) held every thread and HTTP stopped. Two bounds here: each socket gets
kernel read and write timeouts (``API_SOCKET_TIMEOUT_SECONDS``, 10 s per call), and one
address may hold at most ``API_MAX_CONNECTIONS_PER_IP`` (16) connections per worker —
one more is answered 429 and closed at once. A WebSocket leaves this count when it is
handed to the reactor (it has caps of its own). Many addresses at once are a job for a
reverse proxy with header timeouts in front (docs/security.md).

Keep-alive: gthread hands a connection back to its main thread after every request
(a pipe write, two epoll changes, a new future, two thread wake-ups) and back to a pool
thread when the next request arrives. A busy client's next request usually comes within
a millisecond, so the thread that answered waits up to ``LINGER_SECONDS`` for it on the
socket and answers it itself — only while no other connection waits for a thread, so an
idle client never holds one for longer than that. Measured on 2 cores with wrk (64
clients), the bare worker went from ~7,200 to ~8,700 req/s (docs/benchmarks.md).
"""

from __future__ import annotations

import errno
import json
import re
import select
import socket
import struct
import threading
from collections import Counter
from typing import Any

from gunicorn import util
from gunicorn.workers.gthread import TConn, ThreadWorker

from stockmind_api.config import connection_limits
from stockmind_api.errors import error_body

_STATUS_LINE = re.compile(rb"HTTP/1\.[01] (\d{3}) ([^\r\n]*)\r\n")
_DETAIL_CHARS = 200  # the refused request's text in the message, at most
LINGER_SECONDS = 0.005  # a keep-alive connection's next request, awaited on its thread


def _readable(sock: socket.socket) -> bool:
    """Whether the client sent more within ``LINGER_SECONDS`` (poll: any descriptor number)."""
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(LINGER_SECONDS * 1000))


class _CapturedSocket:
    """Stands in for the client socket while gunicorn writes its HTML error page: what is
    sent is kept, not sent; everything else (addresses for the access log) is the real
    socket's."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self.written = b""

    def gettimeout(self) -> float:
        return 0.0  # util.write_nonblock: already non-blocking, nothing to switch

    def sendall(self, data: bytes) -> None:
        self.written += data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def status_of(page: bytes) -> tuple[int, str]:
    """(status, reason) of gunicorn's error page; a 500 when there is none."""
    found = _STATUS_LINE.match(page)
    if found is None:
        return 500, "Internal Server Error"
    return int(found[1]), found[2].decode("latin-1")


def envelope_response(status: int, reason: str, exc: BaseException) -> bytes:
    """The raw HTTP response: the error envelope, the connection closed (as gunicorn's).
    A 500 says no more than Flask's would; a refused request says why."""
    if status >= 500 and status != 501:
        message = "Internal server error"
    else:
        message = f"{reason}: {str(exc)[:_DETAIL_CHARS]}"
    body = json.dumps(error_body(status, message)).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


class _CountedConn(TConn):
    """A connection that gives its address's slot back when gunicorn closes it."""

    def __init__(self, *args, release) -> None:
        super().__init__(*args)
        self._release = release

    def close(self, graceful: bool = False) -> None:
        release, self._release = self._release, None
        if release:
            release()
        super().close(graceful)


class EnvelopeThreadWorker(ThreadWorker):
    """gunicorn's gthread worker answering the requests it refuses itself in JSON, with
    bounds on slow clients (see the module's docstring)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # the worker exists before any app: its bounds come from config, not app.config
        self.per_address, seconds = connection_limits()
        self.timeval = struct.pack("ll", int(seconds), int(seconds % 1 * 1_000_000))
        self.open_by_address: Counter[str] = Counter()
        self.waiting = 0  # connections handed to the pool and not yet taken by a thread
        self._waiting_lock = threading.Lock()

    def enqueue_req(self, conn) -> None:
        with self._waiting_lock:
            self.waiting += 1
        super().enqueue_req(conn)

    def handle(self, conn):
        """gthread's ``handle``, then the connection's next requests on this thread while
        they come within ``LINGER_SECONDS`` and no other connection waits for a thread."""
        with self._waiting_lock:
            self.waiting -= 1
        keep = super().handle(conn)
        while keep is True and self.alive and not self.waiting and _readable(conn.sock):
            keep = super().handle(conn)
        return keep

    def accept(self, listener) -> None:
        """gthread's accept, with the per-address bound and the kernel timeouts (runs on
        the worker's main thread, like every change to the counts)."""
        try:
            client_sock, client_addr = listener.accept()
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        address = client_addr[0] if isinstance(client_addr, tuple) else str(client_addr)
        if self.open_by_address[address] >= self.per_address:
            self._refuse(client_sock, address)
            return
        self.open_by_address[address] += 1
        self.nr_conns += 1
        client_sock.setblocking(True)
        for option in (socket.SO_RCVTIMEO, socket.SO_SNDTIMEO):
            client_sock.setsockopt(socket.SOL_SOCKET, option, self.timeval)
        conn = _CountedConn(
            self.cfg,
            client_sock,
            client_addr,
            listener.getsockname(),
            release=lambda: self._release(address),
        )
        self.enqueue_req(conn)

    def _release(self, address: str) -> None:
        self.open_by_address[address] -= 1
        if self.open_by_address[address] <= 0:
            del self.open_by_address[address]

    def _refuse(self, client_sock: socket.socket, address: str) -> None:
        body = json.dumps(
            error_body(429, f"too many open connections from {address} ({self.per_address})")
        ).encode()
        head = (
            "HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nRetry-After: 1\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        try:
            client_sock.setblocking(False)
            client_sock.send(head.encode("latin-1") + body)
        except OSError:
            pass
        finally:
            client_sock.close()

    def handle_error(self, req: Any, client: socket.socket, addr: Any, exc: Exception) -> None:
        captured = _CapturedSocket(client)
        super().handle_error(req, captured, addr, exc)
        status, reason = status_of(captured.written)
        try:
            util.write_nonblock(client, envelope_response(status, reason, exc))
        except Exception:
            self.log.debug("Failed to send error message.")
