"""Market-data providers behind one interface, chosen by ``STOCKMIND_PRICE_SOURCE``."""

from __future__ import annotations

from stockmind.providers.base import PRICE_COLUMNS, FetchResult, PriceProvider, SymbolProfile
from stockmind.settings import Settings, get_settings

__all__ = ["PRICE_COLUMNS", "FetchResult", "PriceProvider", "SymbolProfile", "get_provider"]


def parse_columns(spec: str | None) -> dict[str, str]:
    """``trade_date=Day,symbol=Ticker`` → {"trade_date": "Day", "symbol": "Ticker"}."""
    mapping = {}
    for part in filter(None, (p.strip() for p in (spec or "").split(","))):
        target, sep, column = part.partition("=")
        if not sep or not target.strip() or not column.strip():
            raise ValueError(f"column mapping must look like target=Column, got {part!r}")
        mapping[target.strip()] = column.strip()
    return mapping


def get_provider(
    source: str | None = None,
    settings: Settings | None = None,
    path: str | None = None,
    columns: str | None = None,
) -> PriceProvider:
    """The provider for ``source`` (default: settings); imports only the one chosen."""
    settings = settings or get_settings()
    source = source or settings.price_source
    if source == "sample":
        from stockmind.providers.sample import SampleProvider

        return SampleProvider()
    if source == "csv":
        from stockmind.providers.csv import CsvProvider

        csv_path = path or settings.csv_path
        if not csv_path:
            raise ValueError("the csv source needs a path: --path or STOCKMIND_CSV_PATH")
        return CsvProvider(csv_path, parse_columns(columns or settings.csv_columns))
    if source == "yfinance":
        from stockmind.providers.yfinance import YFinanceProvider

        return YFinanceProvider()
    raise ValueError(f"unknown price source {source!r} (sample, csv, yfinance)")
