"""``/api/health``: is the warehouse reachable, and how fresh is its data."""

from __future__ import annotations

from flask import current_app
from marshmallow import fields

from stockmind_api.errors import success
from stockmind_api.parsing import Blueprint
from stockmind_api.schemas import CamelSchema, envelope

blp = Blueprint("health", __name__, url_prefix="/api", description="Service health")


class RealtimeSchema(CamelSchema):
    """This process's LISTEN connection and WebSocket clients."""

    listener = fields.String(
        metadata={"description": "idle (no WebSocket yet in this process)|listening|reconnecting"}
    )
    since = fields.Float(allow_none=True, metadata={"description": "listening since (epoch s)"})
    reconnects = fields.Integer()
    last_error = fields.String(allow_none=True)
    clients = fields.Integer()
    delivered = fields.Integer()
    dropped = fields.Integer()


class HealthSchema(CamelSchema):
    database = fields.String()
    latest_trade_date = fields.Date(allow_none=True)
    latest_quote_at = fields.DateTime(allow_none=True)
    quote_age_seconds = fields.Float(allow_none=True)
    realtime = fields.Nested(RealtimeSchema)


@blp.route("/health")
@blp.response(200, envelope(HealthSchema))
def health():
    """Database reachability, data freshness (latest bar, minute-quote age) and this
    process's real-time listener."""
    db = current_app.extensions["db"]
    # the indicator mart's trade_date index answers max() at once (raw has only BRIN);
    # before dbt has run, the raw table answers (slower, but no error)
    mart = db.fetch_one("select to_regclass('marts.fct_indicators_daily') as found")["found"]
    daily = "marts.fct_indicators_daily" if mart else "raw.prices_daily"
    row = db.fetch_one(
        f"""
        select (select max(trade_date) from {daily}) as latest_trade_date,
               (select max(ts) from raw.quotes_minute) as latest_quote_at,
               extract(epoch from now() - (select max(ts) from raw.quotes_minute))
                   as quote_age_seconds
        """
    )
    realtime = current_app.extensions["hub"].status()
    return success({"database": "ok", **row, "realtime": realtime}, "healthy")
