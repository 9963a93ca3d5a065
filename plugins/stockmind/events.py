"""Real-time events: one PostgreSQL channel, one message format, for every producer.

Producers (the quote poll, the dbt DAG, later the ML and sentiment DAGs) call
``publish`` inside the transaction that wrote the data: PostgreSQL delivers a NOTIFY at
commit, so a listener never hears of a row it cannot read yet, and a rolled-back write
announces nothing. Consumers (the API's WebSocket hub) ``LISTEN`` on ``CHANNEL``.

A payload is JSON, at most ``MAX_PAYLOAD`` bytes (PostgreSQL's limit is 8000)::

    {"type": "stock_update", "items": [{"symbol": "AAPL", "price": 189.3, ...}, ...]}

Several symbols share one message; ``encode`` splits a long list over as many messages
as needed. Item keys are camelCase, as the WebSocket clients receive them.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

from stockmind.precision import sql_round

CHANNEL = "stockmind_events"
MAX_PAYLOAD = 7900  # bytes; PostgreSQL refuses 8000 and more
STOCK_UPDATE = "stock_update"
INDICATOR_UPDATE = "indicator_update"
PREDICTION_UPDATE = "prediction_update"
SENTIMENT_UPDATE = "sentiment_update"
TYPES = (STOCK_UPDATE, INDICATOR_UPDATE, PREDICTION_UPDATE, SENTIMENT_UPDATE)

#: A ``stock_update`` item's fields (snake_case here, camelCase on the wire), and the
#: ``raw.quotes_minute`` column each comes from.
STOCK_UPDATE_FIELDS = {
    "symbol": "symbol",
    "timestamp": "ts",
    "price": "price",
    "change": "change",
    "change_percent": "change_percent",
    "volume": "volume",
    "day_open": "day_open",
    "day_high": "day_high",
    "day_low": "day_low",
}
#: Each number's precision kind (``stockmind.precision``): quotes are sent as the API's
#: prices, not as the doubles a provider returned (yfinance's are float32 noise).
STOCK_UPDATE_KINDS = {"price": "price", "change": "price", "change_percent": "percent"}
STOCK_UPDATE_KINDS |= {"volume": "whole", "day_open": "price", "day_high": "price"}
STOCK_UPDATE_KINDS |= {"day_low": "price"}
STOCK_UPDATE_SELECT = ", ".join(
    f"{sql_round(col, STOCK_UPDATE_KINDS[name]) if name in STOCK_UPDATE_KINDS else col} as {name}"
    for name, col in STOCK_UPDATE_FIELDS.items()
)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _jsonable(value.item())
    return value


def camel(name: str) -> str:
    """snake_case → camelCase: the wire convention of the API and of every event."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def item(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row (snake_case) as a message item (camelCase, JSON-safe values)."""
    return {camel(k): _jsonable(v) for k, v in row.items()}


def client_message(kind: str, entry: Mapping[str, Any]) -> str:
    """What a WebSocket client receives for one item: ``{"type": kind, "data": item}``."""
    return json.dumps({"type": kind, "data": entry}, separators=(",", ":"))


def encode(kind: str, items: Iterable[Mapping[str, Any]]) -> list[str]:
    """Pack items into as few payloads of at most ``MAX_PAYLOAD`` bytes as they fit in."""
    if kind not in TYPES:
        raise ValueError(f"unknown event type {kind!r}; one of {TYPES}")
    head = f'{{"type": "{kind}", "items": ['
    payloads, parts, size = [], [], len(head) + 2
    for entry in items:
        text = json.dumps(entry, separators=(",", ":"), allow_nan=False)
        if len(head) + len(text.encode()) + 2 > MAX_PAYLOAD:
            raise ValueError(f"one {kind} item is larger than a notification: {text[:80]}…")
        if parts and size + len(text.encode()) + 1 > MAX_PAYLOAD:
            payloads.append(head + ",".join(parts) + "]}")
            parts, size = [], len(head) + 2
        parts.append(text)
        size += len(text.encode()) + 1
    if parts:
        payloads.append(head + ",".join(parts) + "]}")
    return payloads


def decode(payload: str) -> tuple[str, list[dict[str, Any]]]:
    """``(type, items)`` of one notification payload (ValueError when malformed)."""
    message = json.loads(payload)
    if not isinstance(message, dict) or message.get("type") not in TYPES:
        raise ValueError(f"not a StockMind event: {payload[:80]!r}")
    items = message.get("items")
    if not isinstance(items, list):
        raise ValueError(f"event without items: {payload[:80]!r}")
    return message["type"], items


def publish(cursor, kind: str, items: Iterable[Mapping[str, Any]]) -> int:
    """NOTIFY the items on ``CHANNEL`` through ``cursor``'s transaction; returns the
    number of notifications (sent when that transaction commits)."""
    payloads = encode(kind, items)
    for payload in payloads:
        cursor.execute("select pg_notify(%s, %s)", (CHANNEL, payload))
    return len(payloads)
