"""SQL behind the WebSocket endpoint: the symbols one may subscribe to (``dim_symbols``)
and the latest quote, read from ``raw.quotes_minute`` — the real-time cache the API may
read directly, the one exception to "marts only" (quotes arrive every minute, dbt builds
daily)."""

from __future__ import annotations

from stockmind import events
from stockmind.pool import Pool


def active_symbols(db: Pool) -> set[str]:
    return {
        r["symbol"] for r in db.fetch_all("select symbol from marts.dim_symbols where is_active")
    }


def latest_quote_message(db: Pool, symbol: str) -> str | None:
    """The symbol's newest minute quote as a ``stock_update`` message (primary-key lookup)."""
    row = db.fetch_one(
        f"select {events.STOCK_UPDATE_SELECT} from raw.quotes_minute "
        "where symbol = %s order by ts desc limit 1",
        (symbol,),
    )
    if row is None:
        return None
    return events.client_message(events.STOCK_UPDATE, events.item(row))
