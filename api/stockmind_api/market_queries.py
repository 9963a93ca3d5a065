"""Parameterized SQL for the market endpoints (views stay thin; queries use the indexes:
``raw.symbols`` pk, ``(symbol, trade_date)`` keys of the marts)."""

from __future__ import annotations

import datetime as dt

from stockmind.db import Pool

SCANNER = {
    "daily": ("fct_scanner_daily", "mart_movers_daily", "mart_market_overview_daily"),
    "weekly": ("fct_scanner_weekly", "mart_movers_weekly", "mart_market_overview_weekly"),
}

INDICATOR_COLUMNS = (
    "trade_date, sma_20, sma_50, sma_200, ema_12, ema_26, rsi_14, macd, macd_signal, macd_hist, "
    "bb_upper, bb_middle, bb_lower, atr_14, obv"
)


def search_symbols(db: Pool, search: str | None, sector: str | None, page: int, size: int):
    """One page of matching symbols (ticker-prefix matches first) and the total (one query)."""
    row = db.fetch_one(
        """
        with matches as (
            select symbol, name, sector, industry, exchange, market_cap,
                   coalesce(symbol ilike %(prefix)s, false) as symbol_match
            from raw.symbols
            where is_active
              and (%(search)s::text is null or symbol ilike %(prefix)s or name ilike %(contains)s)
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
            "prefix": f"{search}%" if search else None,
            "contains": f"%{search}%" if search else None,
            "sector": sector,
            "limit": size,
            "offset": (page - 1) * size,
        },
    )
    return row["items"], row["total"]


def stock_summary(db: Pool, symbol: str) -> dict | None:
    return db.fetch_one(
        """
        select s.symbol, s.name, s.sector, s.industry, s.exchange, s.market_cap,
               latest.trade_date, latest.close as price, latest.change,
               latest.change_pct as change_percent, latest.volume,
               year.high_52w, year.low_52w
        from raw.symbols s
        left join lateral (
            select trade_date, close, change, change_pct, volume
            from marts.fct_scanner_daily f where f.symbol = s.symbol
            order by trade_date desc limit 1
        ) latest on true
        left join lateral (
            select max(high) as high_52w, min(low) as low_52w
            from marts.fct_indicators_daily i
            where i.symbol = s.symbol and i.trade_date > latest.trade_date - 365
        ) year on true
        where s.symbol = %(symbol)s
        """,
        {"symbol": symbol},
    )


def latest_indicators(db: Pool, symbol: str) -> dict | None:
    return db.fetch_one(
        f"select {INDICATOR_COLUMNS} from marts.fct_indicators_daily "
        "where symbol = %(symbol)s order by trade_date desc limit 1",
        {"symbol": symbol},
    )


def bars(db: Pool, symbol: str, start: dt.date, end: dt.date, interval: str) -> list[dict]:
    relation = "staging.stg_prices_daily" if interval == "1d" else "intermediate.int_weekly_bars"
    return db.fetch_all(
        f"""
        select trade_date as date, open, high, low, close, volume
        from {relation}
        where symbol = %(symbol)s and trade_date between %(start)s and %(end)s
        order by trade_date
        """,
        {"symbol": symbol, "start": start, "end": end},
    )


def indicator_series(db: Pool, symbol: str, start: dt.date, end: dt.date) -> list[dict]:
    return db.fetch_all(
        f"select {INDICATOR_COLUMNS} from marts.fct_indicators_daily "
        "where symbol = %(symbol)s and trade_date between %(start)s and %(end)s "
        "order by trade_date",
        {"symbol": symbol, "start": start, "end": end},
    )


def latest_period(db: Pool, timeframe: str) -> dt.date | None:
    overview = SCANNER[timeframe][2]
    row = db.fetch_one(f"select max(period_start) as period from marts.{overview}")
    return row["period"]


def period_of(db: Pool, timeframe: str, day: dt.date) -> dt.date | None:
    """The scanner period holding ``day`` (the day itself, or its week)."""
    overview = SCANNER[timeframe][2]
    row = db.fetch_one(
        f"select period_start from marts.{overview} "
        "where period_start <= %(day)s and trade_date >= %(day)s "
        "order by period_start desc limit 1",
        {"day": day},
    )
    return row["period_start"] if row else None


def scanner(db: Pool, timeframe: str, period: dt.date, top: int) -> dict:
    scan, movers, overview = SCANNER[timeframe]
    lists = db.fetch_all(
        f"select list, rank, symbol, close, change_pct, volume from marts.{movers} "
        "where period_start = %(period)s order by list, rank",
        {"period": period},
    )
    unusual = db.fetch_all(
        f"""
        select symbol, close, change_pct, volume, avg_volume, volume_ratio from marts.{scan}
        where period_start = %(period)s and is_unusual_volume
        order by volume_ratio desc, symbol limit %(top)s
        """,
        {"period": period, "top": top},
    )
    breakouts = db.fetch_all(
        f"""
        select symbol, close, change_pct, prior_high, prior_low,
               case
                   when is_breakout_up or (is_big_move and change_pct > 0) then 'up'
                   else 'down'
               end as direction
        from marts.{scan}
        where period_start = %(period)s
          and (is_breakout_up or is_breakout_down or is_big_move)
        order by abs(change_pct) desc nulls last, symbol limit %(top)s
        """,
        {"period": period, "top": top},
    )
    summary = db.fetch_one(
        f"select * from marts.{overview} where period_start = %(period)s", {"period": period}
    )
    by_list: dict[str, list[dict]] = {"gainers": [], "losers": [], "most_active": []}
    for row in lists:
        by_list[row.pop("list")].append(row)
    return {
        "timeframe": timeframe,
        "period_start": period,
        "trade_date": summary["trade_date"] if summary else None,
        "gainers": by_list["gainers"],
        "losers": by_list["losers"],
        "most_active": by_list["most_active"],
        "unusual_volume": unusual,
        "breakouts": breakouts,
        "market_overview": summary,
    }


def table_exists(db: Pool, relation: str) -> bool:
    return db.fetch_one("select to_regclass(%s) is not null as found", (relation,))["found"]
