"""The gunicorn worker of the API: gthread, but its own errors answer in the JSON envelope.

A request gunicorn refuses before Flask sees it (an over-long request line, too many or
too large headers, a malformed request) used to get gunicorn's HTML error page; clients
of this API parse every answer as JSON. ``api_command`` starts gunicorn with
``--worker-class stockmind_api.server.EnvelopeThreadWorker`` (``WORKER_CLASS``).

gunicorn keeps deciding the status and reason (and keeps its warning and access log):
its HTML page is written to a stand-in socket, and only the status line is kept from it.
"""

from __future__ import annotations

import json
import re
import socket
from typing import Any

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker

from stockmind_api.errors import error_body

WORKER_CLASS = "stockmind_api.server.EnvelopeThreadWorker"
_STATUS_LINE = re.compile(rb"HTTP/1\.[01] (\d{3}) ([^\r\n]*)\r\n")
_DETAIL_CHARS = 200  # the refused request's text in the message, at most


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


class EnvelopeThreadWorker(ThreadWorker):
    """gunicorn's gthread worker answering the requests it refuses itself in JSON."""

    def handle_error(self, req: Any, client: socket.socket, addr: Any, exc: Exception) -> None:
        captured = _CapturedSocket(client)
        super().handle_error(req, captured, addr, exc)
        status, reason = status_of(captured.written)
        try:
            util.write_nonblock(client, envelope_response(status, reason, exc))
        except Exception:
            self.log.debug("Failed to send error message.")
