"""``/ws/market``: live quotes, indicators, forecasts and sentiment over a WebSocket.

Protocol (JSON text frames, camelCase)::

    → {"type": "auth", "token": "<access JWT from /api/auth/login>"}
    ← {"type": "authenticated", "userId": 7}
    → {"type": "subscribe", "symbol": "AAPL"}
    ← {"type": "subscribed", "symbol": "AAPL", "message": "Subscribed to AAPL"}
    ← {"type": "stock_update", "data": {...}}        (the latest quote at once, if any)
    → {"type": "unsubscribe", "symbol": "AAPL"}
    ← {"type": "unsubscribed", "symbol": "AAPL", "message": "Unsubscribed from AAPL"}
    → {"type": "ping"}  ← {"type": "pong"}
    ← {"type": "indicator_update" | "prediction_update" | "sentiment_update", "data": {...}}

The token travels in the first message, never the URL (browsers cannot set headers on a
WebSocket, and query strings end up in access logs): a ``?token=`` is refused with 400.
Anonymous market subscriptions are allowed unless ``WS_REQUIRE_AUTH``. Mistakes (bad
JSON, unknown type or symbol, too many subscriptions) answer ``{"type": "error", …}`` and
keep the connection. Close codes: 4401 bad token, 4429 too many connections (per address
``WS_MAX_PER_IP``, per user ``WS_MAX_PER_USER``), 4408 no pong to the server's pings,
1008 too slow to read its updates (or sending too fast), 1009 message over 4 KiB, 1000
"idle timeout" (no message and no subscription for ``WS_IDLE_SECONDS``). Refused before
the handshake, in the JSON envelope: a browser page whose ``Origin`` is not in
``API_CORS_ORIGINS`` (403), a process at ``WS_MAX_CONNECTIONS`` (503).

Threads: the request thread only checks the request, performs the handshake and hands
the socket to this process's reactor (``realtime.reactor``); no socket holds a thread. The
session pool (``WS_SESSION_THREADS``) answers messages, the hub's listener thread writes
updates.
"""

from __future__ import annotations

import base64
import logging
import os
import socket

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import BadRequest, Forbidden, ServiceUnavailable
from werkzeug.exceptions import NotImplemented as NotServed
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection
from wsproto.events import Request as Handshake
from wsproto.utilities import ProtocolError

from stockmind_api.realtime.connections import Connections

log = logging.getLogger("stockmind_api.ws")


def connections() -> Connections:
    return current_app.extensions["ws"]


def init_websocket(app: Flask) -> None:
    app.extensions["ws"] = Connections(app)
    app.extensions["hub"] = app.extensions["ws"].hub  # its figures: Connections.metrics
    # werkzeug routes an upgrade request only to a websocket rule (else a 400), and plain
    # HTTP only to a plain one: the same view under both, so plain HTTP gets our 400
    app.add_url_rule("/ws/market", "market_socket", market_socket, websocket=True)
    app.add_url_rule("/ws/market", "market_socket_http", market_socket)


def market_socket() -> Response:
    """Check the request, shake hands, hand the socket to the reactor."""
    if request.headers.get("Upgrade", "").lower() != "websocket":
        raise BadRequest(
            "/ws/market is a WebSocket endpoint: connect with a WebSocket client "
            "(Upgrade: websocket); the protocol is in the README"
        )
    if "token" in request.args:
        raise BadRequest(
            "tokens are not read from the URL (it ends up in logs): send "
            '{"type": "auth", "token": ...} as the first message'
        )
    origin = request.headers.get("Origin")
    allowed = current_app.config["CORS_ORIGINS"]
    if origin and "*" not in allowed and origin not in allowed:
        raise Forbidden(f"origin {origin[:100]} is not allowed (API_CORS_ORIGINS)")
    gunicorn_socket = request.environ.get("gunicorn.socket")
    if gunicorn_socket is None:
        raise NotServed("WebSockets need the gunicorn server (make up, stockmind api)")
    ws = connections()
    if ws.reactor.count() >= current_app.config["WS_MAX_CONNECTIONS"]:
        raise ServiceUnavailable("the server holds as many WebSockets as it may; retry later")
    conn = handshake(request.environ)
    gunicorn_socket.sendall(conn.send(AcceptConnection()))
    ws.open(detach(gunicorn_socket), conn, request.remote_addr or "unknown")
    return Detached(status=101)


def handshake(environ: dict) -> WSConnection:
    """wsproto's server side of the opening handshake, from the WSGI environ."""
    try:  # RFC 6455: the key is 16 random bytes in base64 (wsproto does not check)
        key_ok = len(base64.b64decode(environ.get("HTTP_SEC_WEBSOCKET_KEY", ""), validate=True))
    except ValueError:
        key_ok = 0
    if key_ok != 16:
        raise BadRequest("Sec-WebSocket-Key must be 16 bytes in base64 (RFC 6455)")
    lines = [f"GET {environ.get('PATH_INFO', '/')} HTTP/1.1"]
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            lines.append(f"{key[5:].replace('_', '-').title()}: {value}")
    conn = WSConnection(ConnectionType.SERVER)
    try:
        conn.receive_data(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        event = next(conn.events(), None)
    except (ProtocolError, UnicodeEncodeError) as exc:
        raise BadRequest(f"not a valid WebSocket handshake: {exc}") from None
    if not isinstance(event, Handshake):
        raise BadRequest("not a valid WebSocket handshake")
    return conn


def detach(server_socket: socket.socket) -> socket.socket:
    """Take the connection from gunicorn: our own descriptor for it, and gunicorn's own
    descriptor swapped for an unconnected socket, so gunicorn's closing of "its" socket
    (shutdown, drain, close) touches nothing of ours."""
    ours = server_socket.dup()
    placeholder = socket.socket(server_socket.family, socket.SOCK_STREAM)
    os.dup2(placeholder.fileno(), server_socket.fileno())
    placeholder.close()
    return ours


class Detached(Response):
    """A response gunicorn never writes: raising StopIteration from the WSGI call makes
    its worker end the request quietly (the 101 has been sent by the handshake)."""

    def __call__(self, environ, start_response):
        raise StopIteration
