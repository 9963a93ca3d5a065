"""News ingestion: each configured source fetched for a batch of symbols and a time
window, checked, deduplicated and stored (``stockmind.news.store``) — what the
``ingest_news`` DAG's mapped task and ``stockmind ingest news`` call.

Sources are read in order (``Settings.news_sources``): the first to deliver a story
stores it, later ones only link their symbols to it (canonical URL, content hash).

Each run reads its data interval *plus a lookback* (``STOCKMIND_NEWS_LOOKBACK_HOURS``,
48 by default): a story a source lists late, or one missed while a source was down or
rate limited, is still fetched by a later run, and storing once per story makes the
overlap free. A source that fails for some symbols does not stop the others; permanent
per-symbol errors are kept in ``raw.rejected_rows`` (``provider_error``), and a batch
where every source failed transiently raises, so Airflow retries it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from stockmind.db import connect
from stockmind.loader import quarantine, quarantine_record
from stockmind.news.base import NewsProvider
from stockmind.settings import get_settings


class TransientNewsError(RuntimeError):
    """Every source failed for reasons that may pass (rate limits, timeouts): retry."""


def get_news_provider(name: str) -> NewsProvider:
    if name == "sample":
        from stockmind.news.sample import SampleNewsProvider

        return SampleNewsProvider()
    if name == "yfinance":
        from stockmind.news.yfinance_news import YFinanceNewsProvider

        return YFinanceNewsProvider()
    if name == "newsapi":
        from stockmind.news.newsapi import NewsApiProvider

        return NewsApiProvider()
    raise ValueError(f"unknown news source {name!r}")


def ingest_news_batch(
    symbols: Sequence[str],
    since: dt.datetime,
    until: dt.datetime,
    run_id: str | None = None,
    sources: Sequence[str] | None = None,
    dsn: str | None = None,
    lookback: dt.timedelta | None = None,
) -> dict:
    """Fetch and store one batch from every source; a small report (XCom)."""
    from stockmind.news.store import store_articles

    settings = get_settings()
    names = list(sources or settings.news_sources())
    if lookback is None:  # a scheduled run: its interval and the lookback behind it
        lookback = dt.timedelta(hours=settings.news_lookback_hours)
    since = since - lookback
    report: dict = {"symbols": len(symbols), "inserted": 0, "duplicates": 0, "rejected": 0,
                    "linked": 0, "since": since.isoformat(), "sources": {}}  # fmt: skip
    failed_transiently = 0
    for name in names:
        fetched = get_news_provider(name).fetch(list(symbols), since, until)
        stored = store_articles(dsn, fetched, name, dag_run_id=run_id)
        permanent = {s: e for s, e in fetched.errors.items() if s not in fetched.transient}
        if permanent:
            _quarantine_errors(dsn, name, permanent, since, until, run_id)
        for key in ("inserted", "duplicates", "rejected", "linked"):
            report[key] += getattr(stored, key)
        report["sources"][name] = {
            "articles": len(fetched.articles), "inserted": stored.inserted,
            "errors": len(fetched.errors), "transient": sorted(fetched.transient)[:20],
        }  # fmt: skip
        if symbols and set(fetched.transient) >= set(symbols):
            failed_transiently += 1
    if names and failed_transiently == len(names):
        raise TransientNewsError(f"every news source failed transiently for {len(symbols)} symbols")
    return report


def _quarantine_errors(dsn, source: str, errors: dict[str, str], since, until, run_id) -> None:
    """Symbols a source could not deliver, kept beside the bad items (nothing vanishes)."""
    records = [
        quarantine_record(f"news:{source}", {"symbol": symbol, "since": str(since),
                          "until": str(until), "error": message}, "provider_error", run_id)
        for symbol, message in sorted(errors.items())
    ]  # fmt: skip
    conn = connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            quarantine(cur, records)
    finally:
        conn.close()
