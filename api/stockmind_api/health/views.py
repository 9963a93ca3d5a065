"""``/api/health``: is the warehouse reachable, and how fresh is its data."""

from __future__ import annotations

from flask import current_app

from stockmind_api.database import db
from stockmind_api.errors import success
from stockmind_api.health import queries as q
from stockmind_api.health.schemas import HealthSchema
from stockmind_api.parsing import Blueprint
from stockmind_api.schemas import envelope

blp = Blueprint("health", __name__, url_prefix="/api", description="Service health")


@blp.route("/health")
@blp.response(200, envelope(HealthSchema))
def health():
    """Database reachability, data freshness (latest bar, minute-quote age) and this
    process's real-time listener."""
    row = q.freshness(db())
    realtime = current_app.extensions["hub"].status()
    return success({"database": "ok", **row, "realtime": realtime}, "healthy")
