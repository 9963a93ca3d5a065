"""Response shape of ``/api/health``."""

from __future__ import annotations

from marshmallow import fields

from stockmind_api.precision import Seconds
from stockmind_api.schemas import CamelSchema


class RealtimeSchema(CamelSchema):
    """This process's LISTEN connection and WebSocket clients."""

    listener = fields.String(
        metadata={"description": "idle (no WebSocket yet in this process)|listening|reconnecting"}
    )
    since = Seconds(allow_none=True, metadata={"description": "listening since (epoch s)"})
    reconnects = fields.Integer()
    last_error = fields.String(allow_none=True)
    clients = fields.Integer()
    delivered = fields.Integer()
    dropped = fields.Integer()


class HealthSchema(CamelSchema):
    database = fields.String()
    latest_trade_date = fields.Date(allow_none=True)
    latest_quote_at = fields.DateTime(allow_none=True)
    quote_age_seconds = Seconds(allow_none=True)
    realtime = fields.Nested(RealtimeSchema)
