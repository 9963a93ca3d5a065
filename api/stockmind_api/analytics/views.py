"""``/api/analytics``: the signed-in user's portfolio over time, allocation and risk.

The value series prices today's holdings (shares) at each day's close (adjusted, so a
split does not look like a crash), each holding from its purchase date on. The benchmark
is an equal-weight average of the universe's daily returns, or ``API_BENCHMARK_SYMBOL``
when set. Formulas: ``risk.py``.
"""

from __future__ import annotations

import datetime as dt

from flask import current_app

from stockmind_api.analytics import queries as q
from stockmind_api.analytics import risk
from stockmind_api.analytics.schemas import AnalyticsSchema
from stockmind_api.database import db
from stockmind_api.errors import success
from stockmind_api.market.schemas import RangeArgsSchema
from stockmind_api.parsing import Blueprint
from stockmind_api.schemas import envelope
from stockmind_api.security import auth_required, current_user

blp = Blueprint(
    "analytics",
    __name__,
    url_prefix="/api/analytics",
    description="Portfolio analytics (authenticated)",
)


@blp.route("/portfolio")
@auth_required()
@blp.arguments(RangeArgsSchema, location="query")
@blp.response(200, envelope(AnalyticsSchema))
def portfolio(args):
    """Value over time, allocation by symbol and sector, and risk over the window."""
    user = current_user()["id"]
    end = args.get("end") or dt.date.today()
    start = args.get("start") or end - dt.timedelta(days=365)
    config = current_app.config
    series = q.value_series(db(), user, start, end)
    allocation = q.allocation(db(), user)
    symbol = config["BENCHMARK_SYMBOL"]
    bench = q.benchmark_returns(db(), start, end, symbol)
    dates = [row["date"] for row in series]
    aligned = [bench.get(day) for day in dates[1:]]
    bench_returns = aligned if aligned and None not in aligned else None
    by_sector: dict[str, float] = {}
    for row in allocation:
        by_sector[row["sector"]] = by_sector.get(row["sector"], 0.0) + (row["value"] or 0.0)
    total = sum(by_sector.values()) or 1.0
    data = {
        "start": start,
        "end": end,
        "benchmark": symbol or "equal-weight universe",
        "value_over_time": series,
        "allocation_by_symbol": [
            {"key": r["symbol"], "value": r["value"], "weight": r["weight"]} for r in allocation
        ],
        "allocation_by_sector": [
            {"key": k, "value": v, "weight": v / total} for k, v in sorted(by_sector.items())
        ],
        "risk": risk.risk_metrics(
            [r["value"] for r in series],
            bench_returns,
            config["RISK_FREE_RATE"],
        ),
    }
    return success(data, f"{len(series)} days")
