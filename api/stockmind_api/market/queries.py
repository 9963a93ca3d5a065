"""Parameterized SQL for the market endpoints, over the marts only (views stay thin;
queries use the ``(symbol, trade_date)`` keys of the marts and ``dim_symbols``' key)."""

from __future__ import annotations

import datetime as dt

from stockmind.pool import Pool

from stockmind_api.market.schemas import (
    BarSchema,
    BreakoutSchema,
    IndicatorSchema,
    MoverSchema,
    OverviewSchema,
    ScannerSchema,
    StockSchema,
    UnusualSchema,
)
from stockmind_api.schemas import json_object_sql

SCANNER = {
    "daily": ("fct_scanner_daily", "fct_movers_daily", "fct_market_overview_daily"),
    "weekly": ("fct_scanner_weekly", "fct_movers_weekly", "fct_market_overview_weekly"),
}

BAR_RELATIONS = {"1d": "marts.fct_prices_daily", "1w": "marts.fct_prices_weekly"}

INDICATOR_COLUMNS = (
    "trade_date, sma_20, sma_50, sma_200, ema_12, ema_26, rsi_14, macd, macd_signal, macd_hist, "
    "bb_upper, bb_middle, bb_lower, atr_14, obv"
)


def like_escape(text: str) -> str:
    """``text`` matched literally by ``like … escape '\\'`` (a user's ``%`` or ``_`` is a
    character, not a wildcard)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_symbols(db: Pool, search: str | None, sector: str | None, page: int, size: int):
    """One page of matching symbols (ticker-prefix matches first) and the total (one query)."""
    row = db.fetch_one(
        """
        with matches as (
            select symbol, name, sector, industry, exchange, market_cap,
                   coalesce(symbol ilike %(prefix)s escape '\\', false) as symbol_match
            from marts.dim_symbols
            where is_active
              and (%(search)s::text is null
                   or symbol ilike %(prefix)s escape '\\' or name ilike %(contains)s escape '\\')
              and (%(sector)s::text is null or sector = %(sector)s)
        ),
        page as (
            select *, row_number() over (order by symbol_match desc, symbol) as position
            from matches
            order by symbol_match desc, symbol
            limit %(limit)s offset %(offset)s
        )
        select (select count(*) from matches) as total,
               coalesce((select json_agg(page order by position) from page), '[]') as items
        """,
        {
            "search": search,
            "prefix": f"{like_escape(search)}%" if search else None,
            "contains": f"%{like_escape(search)}%" if search else None,
            "sector": sector,
            "limit": size,
            "offset": (page - 1) * size,
        },
    )
    return row["items"], row["total"]


def symbol_exists(db: Pool, symbol: str) -> bool:
    return db.fetch_one("select 1 from marts.dim_symbols where symbol = %s", (symbol,)) is not None


_LATEST_INDICATORS = f"""(
    select {json_object_sql(IndicatorSchema, "ind")}
    from (
        select {INDICATOR_COLUMNS} from marts.fct_indicators_daily i
        where i.symbol = x.symbol order by trade_date desc limit 1
    ) ind
)"""


def _bars_sql(relation: str) -> str:
    return f"""coalesce((
    select json_agg({json_object_sql(BarSchema, "b")} order by b.date)
    from (
        select trade_date as date, open, high, low, close, volume from {relation} r
        where r.symbol = x.symbol and r.trade_date between x.start_date and x.end_date
    ) b
), '[]')"""


_STOCK_SQL = {
    interval: f"""
    with summary as (
        select s.symbol, s.name, s.sector, s.industry, s.exchange, s.market_cap,
               latest.trade_date, latest.close as price, latest.change,
               latest.change_pct as change_percent, latest.volume,
               year.high_52w, year.low_52w,
               coalesce(%(end)s::date, latest.trade_date, current_date) as end_date
        from marts.dim_symbols s
        left join lateral (
            select trade_date, close, change, change_pct, volume
            from marts.fct_scanner_daily f where f.symbol = s.symbol
            order by period_start desc limit 1
        ) latest on true
        left join lateral (
            select max(high) as high_52w, min(low) as low_52w
            from marts.fct_indicators_daily i
            where i.symbol = s.symbol and i.trade_date > latest.trade_date - 365
        ) year on true
        where s.symbol = %(symbol)s
    ),
    x as (select *, coalesce(%(start)s::date, end_date - 365) as start_date from summary)
    select {
        json_object_sql(
            StockSchema, "x", indicators=_LATEST_INDICATORS, historical_data=_bars_sql(relation)
        )
    }::text as data
    from x
    """
    for interval, relation in BAR_RELATIONS.items()
}


def stock_json(
    db: Pool, symbol: str, start: dt.date | None, end: dt.date | None, interval: str
) -> str | None:
    """A stock's summary, latest indicators and bars as JSON text (None: unknown symbol).

    Defaults: ``end`` is the latest trade date, ``start`` a year before ``end``."""
    params = {"symbol": symbol, "start": start, "end": end}
    row = db.fetch_prepared(f"stock_{interval}", _STOCK_SQL[interval], params)
    return row["data"] if row else None


def indicator_series(db: Pool, symbol: str, start: dt.date, end: dt.date) -> list[dict]:
    return db.fetch_all(
        f"select {INDICATOR_COLUMNS} from marts.fct_indicators_daily "
        "where symbol = %(symbol)s and trade_date between %(start)s and %(end)s "
        "order by trade_date",
        {"symbol": symbol, "start": start, "end": end},
    )


def _scanner_sql(timeframe: str) -> str:
    scan, movers, overview = SCANNER[timeframe]

    def mover_list(name: str) -> str:
        return f"""coalesce((
            select json_agg({json_object_sql(MoverSchema, "m")} order by m.rank)
            from marts.{movers} m where m.period_start = x.period_start and m.list = '{name}'
        ), '[]')"""

    unusual = f"""coalesce((
        select json_agg({json_object_sql(UnusualSchema, "u")}
                        order by u.volume_ratio desc, u.symbol)
        from (
            select symbol, close, change_pct, volume, avg_volume, volume_ratio
            from marts.{scan} s where s.period_start = x.period_start and s.is_unusual_volume
            order by volume_ratio desc, symbol limit %(top)s
        ) u
    ), '[]')"""
    breakouts = f"""coalesce((
        select json_agg({json_object_sql(BreakoutSchema, "b")}
                        order by abs(b.change_pct) desc nulls last, b.symbol)
        from (
            select symbol, close, change_pct, prior_high, prior_low,
                   case
                       when is_breakout_up or (is_big_move and change_pct > 0) then 'up'
                       else 'down'
                   end as direction
            from marts.{scan} s
            where s.period_start = x.period_start
              and (is_breakout_up or is_breakout_down or is_big_move)
            order by abs(change_pct) desc nulls last, symbol limit %(top)s
        ) b
    ), '[]')"""
    overview_json = f"""(
        select {json_object_sql(OverviewSchema, "o")}
        from marts.{overview} o where o.period_start = x.period_start
    )"""
    rendered = json_object_sql(
        ScannerSchema,
        "x",
        gainers=mover_list("gainers"),
        losers=mover_list("losers"),
        most_active=mover_list("most_active"),
        unusual_volume=unusual,
        breakouts=breakouts,
        market_overview=overview_json,
    )
    return f"""
    with x as (
        select '{timeframe}' as timeframe, period_start, trade_date from marts.{overview}
        where %(day)s::date is null or (period_start <= %(day)s and trade_date >= %(day)s)
        order by period_start desc limit 1
    )
    select x.period_start, {rendered}::text as data from x
    """


_SCANNER_SQL = {timeframe: _scanner_sql(timeframe) for timeframe in SCANNER}


def scanner_json(
    db: Pool, timeframe: str, day: dt.date | None, top: int
) -> tuple[dt.date, str] | None:
    """The scan of the period holding ``day`` (default: the latest) as JSON text, in one
    statement: the three mover lists, unusual volume, breakouts and the overview."""
    row = db.fetch_prepared(
        f"scanner_{timeframe}", _SCANNER_SQL[timeframe], {"day": day, "top": top}
    )
    return (row["period_start"], row["data"]) if row else None


def table_exists(db: Pool, relation: str) -> bool:
    return db.fetch_one("select to_regclass(%s) is not null as found", (relation,))["found"]
