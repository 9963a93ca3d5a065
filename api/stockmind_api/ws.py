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

The token travels in the first message, not the URL: browsers cannot set headers on a
WebSocket, and query strings end up in access logs. Anonymous market subscriptions are
allowed unless ``WS_REQUIRE_AUTH``. Mistakes (bad JSON, unknown type or symbol, too many
subscriptions) answer ``{"type": "error", "message": …}`` and keep the connection; a bad
token closes it with code 4401, a client too slow to drain its queue with 1008.

Threads: each connection's request thread reads and answers its frames (so gunicorn's
``--threads`` bounds the open sockets per worker); updates are written by the hub's
listener thread straight to the non-blocking sockets (``ws_client``); simple-websocket's
own thread per connection answers pings.
"""

from __future__ import annotations

import json
import logging
import socket
import time

from flask import Flask, current_app, request
from flask_jwt_extended import decode_token
from flask_sock import Sock
from simple_websocket import ConnectionClosed
from stockmind.universe import SYMBOL_RE
from werkzeug.exceptions import BadRequest

from stockmind_api import users
from stockmind_api.hub import Hub
from stockmind_api.realtime_queries import active_symbols, latest_quote_message
from stockmind_api.ws_client import Client

log = logging.getLogger("stockmind_api.ws")
sock = Sock()
UNAUTHORIZED = 4401


def hub() -> Hub:
    return current_app.extensions["hub"]


def known_symbols(db) -> set[str]:
    """Active symbols, re-read at most every 5 minutes (not once per connection)."""
    cache = current_app.extensions["ws_symbols"]
    if cache.get("until", 0) < time.monotonic():
        cache.update(symbols=active_symbols(db), until=time.monotonic() + 300)
    return cache["symbols"]


def init_websocket(app: Flask) -> None:
    app.config.setdefault(
        "SOCK_SERVER_OPTIONS",
        {"ping_interval": app.config["WS_PING_SECONDS"], "max_message_size": 4096},
    )
    app.extensions["hub"] = Hub(app.config["DATABASE_URL"])
    app.extensions["ws_symbols"] = {}
    app.extensions["metrics"].register(HubMetrics(app.extensions["hub"]))
    sock.init_app(app)
    sock.route("/ws/market")(market_socket)

    @app.before_request
    def plain_http_is_a_clear_400():
        upgrade = request.headers.get("Upgrade", "").lower()
        if request.path == "/ws/market" and request.method == "GET" and upgrade != "websocket":
            raise BadRequest(
                "/ws/market is a WebSocket endpoint: connect with a WebSocket client "
                "(Upgrade: websocket); the protocol is in the README"
            )


class HubMetrics:
    """``/metrics``: this process's WebSocket clients and real-time deliveries."""

    def __init__(self, hub: Hub):
        self.hub = hub

    def collect(self):
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        status = self.hub.status()
        yield GaugeMetricFamily(
            "stockmind_ws_clients", "Open WebSocket connections", value=status["clients"]
        )
        yield GaugeMetricFamily(
            "stockmind_ws_listener_up",
            "1 while the LISTEN connection is up",
            value=int(status["listener"] == "listening"),
        )
        for name, help_text in (
            ("delivered", "Messages handed to WebSocket clients"),
            ("dropped", "WebSocket clients dropped for being too slow"),
            ("reconnects", "LISTEN connection re-established after a loss"),
        ):
            yield CounterMetricFamily(f"stockmind_ws_{name}", help_text, value=status[name])


class Session:
    """What one connection has said so far; turns each incoming frame into replies."""

    def __init__(self, client: Client, hub: Hub, config, db, symbols: set[str]):
        self.client, self.hub, self.config, self.db = client, hub, config, db
        self.symbols = symbols
        self.close_with: tuple[int, str] | None = None

    def reply(self, **message) -> None:
        self.client.send([json.dumps(message, separators=(",", ":"))])

    def error(self, message: str) -> None:
        self.reply(type="error", message=message)

    def handle(self, frame: str | bytes) -> None:
        try:
            message = json.loads(frame)
        except (ValueError, UnicodeDecodeError):
            return self.error('not JSON: send objects like {"type": "subscribe", ...}')
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            return self.error("a message is a JSON object with a string 'type'")
        kind = message["type"]
        handler = getattr(self, f"on_{kind}", None) if kind.isidentifier() else None
        if handler is None:
            return self.error(f"unknown message type {kind[:40]!r}")
        return handler(message)

    def on_ping(self, message: dict) -> None:
        self.reply(type="pong")

    def on_auth(self, message: dict) -> None:
        token = message.get("token")
        try:
            claims = decode_token(token) if isinstance(token, str) else None
        except Exception as exc:  # expired, malformed, bad signature: all mean no
            claims, why = None, str(exc)
        else:
            why = "a token string is required"
        if claims and claims.get("type") != "access":
            claims, why = None, "an access token is required"
        if claims and users.is_revoked(self.db, claims["jti"]):
            claims, why = None, "token has been revoked"
        if not claims:
            self.error(f"authentication failed: {why}")
            self.close_with = (UNAUTHORIZED, "authentication failed")
            return
        self.client.user_id = int(claims["sub"])
        self.reply(type="authenticated", userId=self.client.user_id)

    def _symbol(self, message: dict) -> str | None:
        symbol = message.get("symbol")
        if not isinstance(symbol, str) or not SYMBOL_RE.match(symbol.upper()):
            self.error("'symbol' must be a ticker symbol such as AAPL")
            return None
        return symbol.upper()

    def on_subscribe(self, message: dict) -> None:
        if self.config["WS_REQUIRE_AUTH"] and self.client.user_id is None:
            return self.error('authenticate first: {"type": "auth", "token": ...}')
        symbol = self._symbol(message)
        if symbol is None:
            return None
        if symbol not in self.symbols:
            return self.error(f"unknown symbol {symbol}")
        limit = self.config["WS_MAX_SUBSCRIPTIONS"]
        if symbol not in self.client.symbols and len(self.client.symbols) >= limit:
            return self.error(f"subscription limit reached ({limit}); unsubscribe first")
        latest = self.hub.subscribe(self.client, symbol)
        if latest is None:
            latest = latest_quote_message(self.db, symbol)
            if latest:
                self.hub.remember(symbol, latest)
        self.reply(type="subscribed", symbol=symbol, message=f"Subscribed to {symbol}")
        if latest:
            self.client.send([latest])
        return None

    def on_unsubscribe(self, message: dict) -> None:
        symbol = self._symbol(message)
        if symbol is not None:
            self.hub.unsubscribe(self.client, symbol)
            self.reply(type="unsubscribed", symbol=symbol, message=f"Unsubscribed from {symbol}")


def market_socket(ws) -> None:
    """This request's thread reads and answers frames; updates are written by the hub."""
    config, db = current_app.config, current_app.extensions["db"]
    # a bounded kernel buffer per socket: Linux would grow it to MBs for a slow reader,
    # so a stalled client would cost memory and never show up as slow
    ws.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, config["WS_SEND_BUFFER_BYTES"])
    client = Client(ws, config["WS_QUEUE_SIZE"], config["WS_SEND_TIMEOUT_SECONDS"])
    session = Session(client, hub(), config, db, known_symbols(db))
    session.hub.connect(client)
    silent = 0.0
    try:
        while not (client.drop_reason or client.closed or session.close_with):
            frame = ws.receive(timeout=1.0)
            if frame is None:
                if not ws.connected:
                    break
                silent += 1.0
                if silent >= config["WS_IDLE_SECONDS"] and not client.symbols:
                    session.close_with = (1000, "idle timeout")  # listeners may stay silent
                continue
            silent = 0.0
            session.handle(frame)
    except ConnectionClosed:
        pass
    finally:
        session.hub.disconnect(client)
        if client.drop_reason:
            log.info("dropping a WebSocket client: %s", client.drop_reason)
        client.finish(*(session.close_with or (1000, "")))
