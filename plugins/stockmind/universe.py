"""Which symbols to ingest: a named list shipped with the package, a file, or the table.

* ``sample`` — 16 well-known tickers with profiles and reference prices (the offline
  default);
* ``sp500`` — the 505 S&P 500 constituents of the shared five-year data set;
* ``table`` — active rows of ``raw.symbols`` (what profile refreshes maintain);
* anything else — a path to a text/CSV file whose first column holds symbols.
"""

from __future__ import annotations

import csv
import re
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
SYMBOL_RE = re.compile(r"^[A-Z0-9][A-Z0-9.\-^=]{0,19}$")


def _read_symbols(path: Path) -> list[str]:
    with path.open(newline="") as fh:
        rows = [row[0].strip().upper() for row in csv.reader(fh) if row and row[0].strip()]
    if rows and rows[0] == "SYMBOL":
        rows = rows[1:]
    bad = [s for s in rows if not SYMBOL_RE.match(s)]
    if bad:
        raise ValueError(f"{path}: not ticker symbols: {bad[:5]}")
    return sorted(set(rows))


@lru_cache(maxsize=1)
def _sample_rows() -> tuple[dict[str, str], ...]:
    with (DATA_DIR / "universe_sample.csv").open(newline="") as fh:
        return tuple(csv.DictReader(fh))


def load_sample_profiles() -> dict[str, dict[str, str]]:
    """Profile fields (name, sector, industry, exchange, currency) by symbol."""
    return {
        row["symbol"]: {k: v for k, v in row.items() if k not in ("symbol", "reference_price")}
        for row in _sample_rows()
    }


def sample_reference_prices() -> dict[str, float]:
    """The level each sample symbol's synthetic series is anchored to (``ANCHOR`` close in
    ``providers.synthetic``): approximate split-adjusted prices at the start of 2024."""
    return {row["symbol"]: float(row["reference_price"]) for row in _sample_rows()}


def resolve_universe(name: str, dsn: str | None = None) -> list[str]:
    """The sorted symbol list for a universe name or file path."""
    if name == "sample":
        return sorted(load_sample_profiles())
    if name == "sp500":
        return _read_symbols(DATA_DIR / "universe_sp500.csv")
    if name == "table":
        from stockmind.db import connect

        conn = connect(dsn)
        try:
            with conn.cursor() as cur:
                cur.execute("select symbol from raw.symbols where is_active order by symbol")
                return [row[0] for row in cur.fetchall()]
        finally:
            conn.close()
    path = Path(name)
    if not path.exists():
        raise ValueError(f"universe {name!r} is neither sample, sp500, table nor a file")
    return _read_symbols(path)


def batches(symbols: list[str], size: int) -> list[list[str]]:
    """Split into consecutive batches of at most ``size`` (mapped tasks get one each)."""
    return [symbols[i : i + size] for i in range(0, len(symbols), size)]
