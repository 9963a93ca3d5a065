"""Company profiles into ``raw.symbols`` (name, sector, industry, exchange, market cap)."""

from __future__ import annotations

from collections.abc import Sequence

from psycopg2.extras import execute_values

from stockmind.db import connect
from stockmind.providers import PriceProvider, SymbolProfile

UPSERT_SYMBOLS = """
insert into raw.symbols as s
    (symbol, name, sector, industry, exchange, currency, market_cap, source)
values %s
on conflict (symbol) do update set
    name = coalesce(excluded.name, s.name),
    sector = coalesce(excluded.sector, s.sector),
    industry = coalesce(excluded.industry, s.industry),
    exchange = coalesce(excluded.exchange, s.exchange),
    currency = coalesce(excluded.currency, s.currency),
    market_cap = coalesce(excluded.market_cap, s.market_cap),
    source = excluded.source,
    updated_at = now()
where (s.name, s.sector, s.industry, s.exchange, s.currency, s.market_cap, s.source)
    is distinct from (
        coalesce(excluded.name, s.name), coalesce(excluded.sector, s.sector),
        coalesce(excluded.industry, s.industry), coalesce(excluded.exchange, s.exchange),
        coalesce(excluded.currency, s.currency), coalesce(excluded.market_cap, s.market_cap),
        excluded.source)
"""


def upsert_profiles(conn, profiles: Sequence[SymbolProfile], source: str) -> int:
    """Insert or update profiles; fields a source does not know never erase known ones."""
    rows = [
        (p.symbol, p.name, p.sector, p.industry, p.exchange, p.currency, p.market_cap, source)
        for p in profiles
    ]
    if not rows:
        return 0
    with conn, conn.cursor() as cur:
        execute_values(cur, UPSERT_SYMBOLS, rows, page_size=len(rows))
        return cur.rowcount


def refresh_profiles(
    symbols: Sequence[str], provider: PriceProvider, dsn: str | None = None
) -> dict[str, int]:
    profiles = provider.fetch_profiles(list(symbols))
    conn = connect(dsn)
    try:
        changed = upsert_profiles(conn, profiles, provider.name)
    finally:
        conn.close()
    return {"requested": len(symbols), "fetched": len(profiles), "changed": changed}
