"""Response shape of ``/api/health``."""

from __future__ import annotations

from marshmallow import fields

from stockmind_api.precision import Ratio, Seconds
from stockmind_api.schemas import CamelSchema


class RealtimeSchema(CamelSchema):
    """This process's LISTEN connection and WebSocket clients."""

    listener = fields.String(
        metadata={
            "description": "idle (no WebSocket or cacheable request yet in this process)"
            "|listening|reconnecting"
        }
    )
    since = Seconds(allow_none=True, metadata={"description": "listening since (epoch s)"})
    reconnects = fields.Integer()
    last_error = fields.String(allow_none=True)
    clients = fields.Integer()
    delivered = fields.Integer()
    dropped = fields.Integer()


class QualityCheckSchema(CamelSchema):
    """One data-quality check's latest outcome (``ops.quality_checks``)."""

    name = fields.String(
        metadata={
            "description": "missing_trading_days|stale_symbols|no_minute_quotes|quarantine_spike"
        }
    )
    ok = fields.Boolean()
    observed = Ratio(allow_none=True, metadata={"description": "the figure the check measured"})
    threshold = Ratio(allow_none=True, metadata={"description": "the limit it was held to"})
    reason = fields.String(metadata={"description": "what was found, in words"})
    checked_at = fields.DateTime()


class QualitySchema(CamelSchema):
    """The daily maintenance run's data-quality checks (``maintain_warehouse``)."""

    status = fields.String(
        metadata={
            "description": "not_run (no check recorded yet)|passing|failing|stale (the "
            "latest outcome is over 36 h old: the daily run stopped)"
        }
    )
    checked_at = fields.DateTime(
        allow_none=True, metadata={"description": "when the checks last ran"}
    )
    checks = fields.List(fields.Nested(QualityCheckSchema))


class HealthSchema(CamelSchema):
    status = fields.String(
        metadata={
            "description": "healthy|degraded: degraded when a data-quality check fails "
            "(still HTTP 200: the service answers; the data needs attention)"
        }
    )
    reasons = fields.List(
        fields.String(), metadata={"description": "why degraded: each failing check and why"}
    )
    database = fields.String()
    latest_trade_date = fields.Date(allow_none=True)
    latest_quote_at = fields.DateTime(allow_none=True)
    quote_age_seconds = Seconds(allow_none=True)
    quality = fields.Nested(QualitySchema)
    realtime = fields.Nested(RealtimeSchema)
