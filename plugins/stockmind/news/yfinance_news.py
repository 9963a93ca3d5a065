"""Yahoo Finance news through the real ``yfinance`` client (source ``yfinance``).

``Ticker(symbol).get_news(count)`` posts to Yahoo's ``xhr/ncp`` endpoint and returns the
stream's stories (yfinance drops the ads). Two item shapes are read:

* current (2025+): ``{"id", "content": {"title", "summary", "pubDate" (ISO, Z),
  "provider": {"displayName"}, "canonicalUrl": {"url"}, "clickThroughUrl": {"url"},
  "contentType", …}}`` — the canonical URL is preferred (for syndicated stories it is
  the publisher's page, which other sources link too), the click-through URL is the
  fallback;
* older flat: ``{"uuid", "title", "publisher", "link", "providerPublishTime" (epoch)}``.

Each article is linked to the symbol it was fetched for only: Yahoo's related tickers
reach far outside the universe. Rate limits (``YFRateLimitError``, HTTP 429) and
"Yahoo is down" pages are transient; any other failure is that symbol's error, so one
bad ticker never sinks the batch. No retries here: the next scheduled run is the retry.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence

from stockmind.news.base import Article, NewsFetch, in_window, parse_timestamp
from stockmind.providers.yfinance import is_rate_limit

log = logging.getLogger(__name__)


def _text(value: object) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


def _url(block: object) -> str | None:
    return _text(block.get("url")) if isinstance(block, dict) else None


def parse_item(item: dict, symbol: str, source: str = "yfinance") -> Article | None:
    """One stream item as an Article (None for something that is not a story)."""
    if not isinstance(item, dict):
        return None
    content = item.get("content")
    if isinstance(content, dict):
        provider = content.get("provider")
        return Article(
            source=source,
            title=_text(content.get("title")),
            summary=_text(content.get("summary")) or _text(content.get("description")),
            publisher=_text(provider.get("displayName")) if isinstance(provider, dict) else None,
            url=_url(content.get("canonicalUrl")) or _url(content.get("clickThroughUrl")),
            published_at=parse_timestamp(content.get("pubDate") or content.get("displayTime")),
            symbols=(symbol,),
        )
    if "title" in item or "link" in item:
        return Article(
            source=source,
            title=_text(item.get("title")),
            summary=_text(item.get("summary")),
            publisher=_text(item.get("publisher")),
            url=_text(item.get("link")),
            published_at=parse_timestamp(item.get("providerPublishTime")),
            symbols=(symbol,),
        )
    return None


def _is_transient(exc: BaseException) -> bool:
    return is_rate_limit(exc) or "currently down" in str(exc).lower()


class YFinanceNewsProvider:
    """News per symbol from Yahoo Finance (``count`` latest stories per symbol)."""

    name = "yfinance"

    def __init__(self, count: int = 20, ticker: Callable[[str], object] | None = None):
        self.count = count
        self._ticker = ticker

    def _news(self, symbol: str) -> list:
        if self._ticker is None:
            import yfinance

            self._ticker = yfinance.Ticker
        return self._ticker(symbol).get_news(count=self.count) or []

    def fetch(self, symbols: Sequence[str], since: dt.datetime, until: dt.datetime) -> NewsFetch:
        result = NewsFetch()
        for symbol in dict.fromkeys(s.strip().upper() for s in symbols):
            try:
                items = self._news(symbol)
            except Exception as exc:  # one symbol's failure is that symbol's error
                result.errors[symbol] = f"{type(exc).__name__}: {exc}"[:500]
                if _is_transient(exc):
                    result.transient.add(symbol)
                log.warning("news for %s failed: %s", symbol, result.errors[symbol])
                continue
            for item in items:
                article = parse_item(item, symbol, self.name)
                if article is not None and in_window(article, since, until):
                    result.articles.append(article)
        return result
