"""``/api/analytics``: the signed-in user's portfolio over time, allocation and risk.

The value series prices today's holdings (shares) at each day's close (adjusted, so a
split does not look like a crash), each holding from its purchase date on. The benchmark
is an equal-weight average of the universe's daily returns, or ``API_BENCHMARK_SYMBOL``
when set. Formulas: ``risk.py``.
"""

from __future__ import annotations

import datetime as dt
import os

from marshmallow import fields

from stockmind_api import risk
from stockmind_api.database import db
from stockmind_api.errors import success
from stockmind_api.market import RangeArgsSchema
from stockmind_api.parsing import Blueprint
from stockmind_api.schemas import CamelSchema, envelope
from stockmind_api.security import auth_required, current_user

blp = Blueprint(
    "analytics",
    __name__,
    url_prefix="/api/analytics",
    description="Portfolio analytics (authenticated)",
)


class PointSchema(CamelSchema):
    date = fields.Date()
    value = fields.Float()


class SliceSchema(CamelSchema):
    key = fields.String()
    value = fields.Float()
    weight = fields.Float()


class RiskSchema(CamelSchema):
    observations = fields.Integer()
    volatility = fields.Float(allow_none=True)
    beta = fields.Float(allow_none=True)
    sharpe = fields.Float(allow_none=True)
    max_drawdown = fields.Float(allow_none=True)
    var_95 = fields.Float(allow_none=True, data_key="var95")


class AnalyticsSchema(CamelSchema):
    start = fields.Date()
    end = fields.Date()
    benchmark = fields.String()
    value_over_time = fields.Nested(PointSchema, many=True)
    allocation_by_symbol = fields.Nested(SliceSchema, many=True)
    allocation_by_sector = fields.Nested(SliceSchema, many=True)
    risk = fields.Nested(RiskSchema)


# a holding counts from its purchase date on (no date: always held); a day is in the
# series only when every holding held that day has a close (no partial sums)
VALUE_SERIES = """
select p.trade_date as date, sum(h.shares * p.close)::float8 as value
from app.holdings h
join staging.stg_prices_daily p on p.symbol = h.symbol
where h.user_id = %(user)s and p.trade_date between %(start)s and %(end)s
  and (h.purchase_date is null or h.purchase_date <= p.trade_date)
group by p.trade_date
having count(*) = (
    select count(*) from app.holdings held
    where held.user_id = %(user)s
      and (held.purchase_date is null or held.purchase_date <= p.trade_date)
)
order by p.trade_date
"""

ALLOCATION = """
with latest as (
    select h.symbol, coalesce(s.sector, 'Unknown') as sector,
           (h.shares * (select close from raw.prices_daily p where p.symbol = h.symbol
                        order by trade_date desc limit 1))::float8 as value
    from app.holdings h join raw.symbols s on s.symbol = h.symbol
    where h.user_id = %(user)s
)
select symbol, sector, value, value / nullif(sum(value) over (), 0) as weight from latest
"""

BENCHMARK = """
with r as (
    select trade_date, close / lag(close) over (partition by symbol order by trade_date) - 1 as ret
    from staging.stg_prices_daily
    where trade_date between %(start)s and %(end)s
      and (%(symbol)s::text is null or symbol = %(symbol)s)
)
select trade_date, avg(ret)::float8 as ret from r where ret is not null
group by trade_date order by trade_date
"""


@blp.route("/portfolio")
@auth_required()
@blp.arguments(RangeArgsSchema, location="query")
@blp.response(200, envelope(AnalyticsSchema))
def portfolio(args):
    """Value over time, allocation by symbol and sector, and risk over the window."""
    user = current_user()["id"]
    end = args.get("end") or dt.date.today()
    start = args.get("start") or end - dt.timedelta(days=365)
    params = {"user": user, "start": start, "end": end}
    series = db().fetch_all(VALUE_SERIES, params)
    allocation = db().fetch_all(ALLOCATION, params)
    symbol = os.environ.get("API_BENCHMARK_SYMBOL")
    bench = {
        row["trade_date"]: row["ret"]
        for row in db().fetch_all(BENCHMARK, {**params, "symbol": symbol})
    }
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
            float(os.environ.get("API_RISK_FREE_RATE", "0")),
        ),
    }
    return success(data, f"{len(series)} days")
