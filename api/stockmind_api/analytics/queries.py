"""SQL of ``/api/analytics``: the value series, allocation and benchmark returns.

Prices are the adjusted daily closes of ``marts.fct_prices_daily`` (a split does not look
like a crash); holdings come from the user's ``app.holdings``.
"""

from __future__ import annotations

import datetime as dt

from stockmind.pool import Pool

# a holding counts from its purchase date on (no date: always held); a day is in the
# series only when every holding held that day has a close (no partial sums)
VALUE_SERIES = """
select p.trade_date as date, sum(h.shares * p.close)::float8 as value
from app.holdings h
join marts.fct_prices_daily p on p.symbol = h.symbol
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
           (h.shares * (select close_unadjusted from marts.fct_prices_daily p
                        where p.symbol = h.symbol
                        order by trade_date desc limit 1))::float8 as value
    from app.holdings h left join marts.dim_symbols s on s.symbol = h.symbol
    where h.user_id = %(user)s
)
select symbol, sector, value, value / nullif(sum(value) over (), 0) as weight from latest
"""

BENCHMARK = """
with r as (
    select trade_date, close / lag(close) over (partition by symbol order by trade_date) - 1 as ret
    from marts.fct_prices_daily
    where trade_date between %(start)s and %(end)s
      and (%(symbol)s::text is null or symbol = %(symbol)s)
)
select trade_date, avg(ret)::float8 as ret from r where ret is not null
group by trade_date order by trade_date
"""


def value_series(db: Pool, user_id: int, start: dt.date, end: dt.date) -> list[dict]:
    return db.fetch_all(VALUE_SERIES, {"user": user_id, "start": start, "end": end})


def allocation(db: Pool, user_id: int) -> list[dict]:
    return db.fetch_all(ALLOCATION, {"user": user_id})


def benchmark_returns(
    db: Pool, start: dt.date, end: dt.date, symbol: str | None
) -> dict[dt.date, float]:
    """Daily returns of ``symbol``, or the equal-weight average of the universe's."""
    rows = db.fetch_all(BENCHMARK, {"start": start, "end": end, "symbol": symbol})
    return {row["trade_date"]: row["ret"] for row in rows}
