"""Years of sample prices for a first ``make up``, bulk-loaded before Airflow's backfill.

A first visit should show every indicator (SMA 200 needs 200 bars) and the weekly scanner,
and the forecaster needs years to train on: the backfill of recent days through Airflow
stays as it is, and the years before it go straight through the core's bulk path
(``ingest_prices``: validation, COPY, upsert) in seconds. Sample source only. The loader
logs every symbol it writes in ``ops.change_log`` in the same transaction, so dbt's next
build recomputes exactly those symbols (a second ``up`` writes and logs nothing).
"""

from __future__ import annotations

import datetime as dt
import time

from stockmind.db import connect
from stockmind.settings import Settings


def years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def history_window(today: dt.date, years: int, backfill_start: dt.date) -> tuple[dt.date, dt.date]:
    """The trade dates the bulk history load covers: ``years`` back from today through the
    last one the backfill leaves out. The backfill's first run is the first weekday tick
    (17:30 New York) on or after ``backfill_start`` and loads the trade dates after it."""
    end = backfill_start
    while end.weekday() >= 5:
        end += dt.timedelta(days=1)
    return years_before(today, years), min(end, today - dt.timedelta(days=1))


def load_history(settings: Settings, dsn: str, years: int, backfill_start: dt.date) -> dict:
    """Years of sample prices through the core's bulk path (COPY), before the backfill.

    Only for the ``sample`` source (csv and yfinance: ``stockmind ingest prices``). A
    symbol whose bars already cover every trade date of the window is skipped, so a
    second ``up`` neither reloads nor duplicates anything."""
    started = time.monotonic()  # imports included: what the load costs ``up``
    from stockmind.ingest import ingest_prices
    from stockmind.providers import get_provider
    from stockmind.trading_calendar import trading_days
    from stockmind.universe import resolve_universe

    if years <= 0:
        return {"line": "not loaded (--history-years 0)", "written": 0}
    if settings.price_source != "sample":
        return {
            "line": f"not loaded for source {settings.price_source} "
            "(load it with .venv/bin/stockmind ingest prices)",
            "written": 0,
        }
    first, last = history_window(dt.date.today(), years, backfill_start)
    symbols = resolve_universe(settings.effective_universe(), dsn)
    expected = len(trading_days(first, last))
    conn = connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "select symbol from raw.prices_daily where symbol = any(%s) "
                "and trade_date between %s and %s group by symbol having count(*) >= %s",
                (symbols, first, last, expected),
            )
            complete = {row[0] for row in cur.fetchall()}
    finally:
        conn.close()
    todo = [s for s in symbols if s not in complete]
    label = f"{years} year{'s' if years != 1 else ''} of sample prices"
    if not todo:
        return {"line": f"{label} already loaded ({len(symbols)} symbols)", "written": 0}
    summary = ingest_prices(
        todo,
        first,
        last,
        get_provider("sample", settings),
        batch_size=settings.batch_size,
        dsn=dsn,
        progress=lambda message: None,
    )
    seconds = time.monotonic() - started
    return {
        "line": f"{label}: {summary['written']:,} bars in {seconds:.1f} s (bulk load), "
        f"{len(todo)} symbol{'s' if len(todo) != 1 else ''}, {first} .. {last}",
        "written": summary["written"],
        "seconds": round(seconds, 1),
    }
