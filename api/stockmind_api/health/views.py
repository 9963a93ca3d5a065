"""``/api/health``: is the warehouse reachable, how fresh is its data, do the data-quality
checks pass.

A failing check makes the answer ``degraded`` — in the body (``data.status``, the
``message``, ``data.reasons``) with HTTP 200 all the same: a load balancer or an
orchestrator's probe reads the status code as "can this process serve?", and it can; bad
data is for people and alerts (``/metrics`` exports the checks), and a 503 would take
every replica out of rotation at once for a problem none of them can fix.
"""

from __future__ import annotations

import datetime as dt

from flask import current_app

from stockmind_api.database import db
from stockmind_api.errors import success
from stockmind_api.health import queries as q
from stockmind_api.health.schemas import HealthSchema
from stockmind_api.parsing import Blueprint
from stockmind_api.schemas import envelope

blp = Blueprint("health", __name__, url_prefix="/api", description="Service health")


#: maintain_warehouse runs daily: outcomes older than this mean the checks stopped running
#: (the DAG paused or failing), and yesterday's "passing" no longer says anything
MAX_CHECK_AGE = dt.timedelta(hours=36)


def quality_summary(checks: list[dict], now: dt.datetime | None = None) -> tuple[dict, list[str]]:
    """The checks' block of the answer, and a reason per failing check (or one saying the
    checks are stale)."""
    reasons = [f"{c['name']}: {c['reason']}" for c in checks if not c["ok"]]
    status = "not_run" if not checks else "failing" if reasons else "passing"
    checked_at = max((c["checked_at"] for c in checks), default=None)
    now = now or dt.datetime.now(dt.UTC)
    if checked_at is not None and now - checked_at > MAX_CHECK_AGE:
        status = "stale"
        reasons.append(
            f"quality checks: stale, last run {checked_at:%Y-%m-%d %H:%M} UTC"
            " (maintain_warehouse runs daily: is it paused or failing?)"
        )
    return {"status": status, "checked_at": checked_at, "checks": checks}, reasons


@blp.route("/health")
@blp.response(200, envelope(HealthSchema))
def health():
    """Database reachability, data freshness (latest bar, minute-quote age), the latest
    data-quality checks and this process's real-time listener. ``status`` is ``degraded``
    (``reasons`` say why) when a data-quality check fails, else ``healthy`` (also before
    any check has run: ``quality.status`` is then ``not_run``); HTTP 200 either way — the
    service itself answers."""
    pool = db()
    row = q.freshness(pool)
    quality, reasons = quality_summary(q.quality_checks(pool))
    status = "degraded" if reasons else "healthy"
    realtime = current_app.extensions["hub"].status()
    data = {"status": status, "reasons": reasons, "database": "ok", **row}
    return success(data | {"quality": quality, "realtime": realtime}, status)
