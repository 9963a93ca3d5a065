"""What one WebSocket connection says: the ``/ws/market`` protocol, message by message.

Runs on the session thread pool (``ws.Connections``), one message at a time per
connection and in order; replies go out through the client's non-blocking writes.
"""

from __future__ import annotations

import json

from flask_jwt_extended import decode_token
from stockmind.universe import SYMBOL_RE

from stockmind_api.auth import queries as users
from stockmind_api.realtime.caps import ConnectionCaps
from stockmind_api.realtime.client import Client
from stockmind_api.realtime.hub import Hub
from stockmind_api.realtime.queries import latest_quote_message

UNAUTHORIZED = 4401
TOO_MANY = 4429


class Session:
    def __init__(self, client: Client, hub: Hub, caps: ConnectionCaps, config, db, symbols):
        self.client, self.hub, self.caps, self.config, self.db = client, hub, caps, config, db
        self.symbols: set[str] = symbols

    def reply(self, **message) -> None:
        self.client.send([json.dumps(message, separators=(",", ":"))])

    def error(self, message: str) -> None:
        self.reply(type="error", message=message)

    def handle(self, frame: str | bytes) -> None:
        try:
            message = json.loads(frame)
        except (ValueError, UnicodeDecodeError, RecursionError):
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
        if self.client.user_id is not None:
            return self.error("already authenticated: open a new connection to switch users")
        token = message.get("token")
        try:
            claims = decode_token(token) if isinstance(token, str) else None
        except Exception as exc:  # expired, malformed, bad signature: all mean no
            claims, why = None, str(exc)
        else:
            why = "a token string is required"
        if claims and claims.get("type") != "access":
            claims, why = None, "an access token is required"
        if claims and not users.session_active(self.db, claims):
            claims, why = None, "token has been revoked"
        if not claims:
            self.error(f"authentication failed: {why}")
            return self.client.close(UNAUTHORIZED, "authentication failed")
        user_id = int(claims["sub"])
        limit = self.config["WS_MAX_PER_USER"]
        self.client.user_id = user_id  # first: a close from now on releases the slot
        if not self.caps.acquire(f"ws:user:{user_id}", self.client.id, limit):
            self.client.user_id = None
            self.error(f"too many open connections for this user (limit {limit})")
            return self.client.close(TOO_MANY, f"too many connections for this user ({limit})")
        if self.client.released:  # it closed while we counted it: give the slot back
            self.caps.release(f"ws:user:{user_id}", self.client.id)
        return self.reply(type="authenticated", userId=user_id)

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
