"""The news-provider interface: every source returns the same ``Article`` shape.

Providers deliver what the source said, lightly parsed (text trimmed by the source's own
conventions, timestamps made aware UTC); they do not judge it. Judging (missing fields,
future dates, duplicates) is ``normalize.check_articles``'s job, so a bad item is
quarantined with a reason instead of silently vanishing inside a provider.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Article:
    """One story as a source delivered it, about ``symbols``.

    ``published_at`` is aware UTC, or None when the source gave no usable date (such an
    article is quarantined, not stored).
    """

    source: str
    title: str | None
    summary: str | None
    publisher: str | None
    url: str | None
    published_at: dt.datetime | None
    symbols: tuple[str, ...]


@dataclass
class NewsFetch:
    """Articles for the symbols that answered, and why the others did not."""

    articles: list[Article] = field(default_factory=list)
    #: symbol → error text, for every symbol that failed (transient ones included)
    errors: dict[str, str] = field(default_factory=dict)
    #: symbols whose error may pass (rate limits, timeouts, 5xx): retry later
    transient: set[str] = field(default_factory=set)


class NewsProvider(Protocol):
    """A source of news articles about symbols."""

    name: str

    def fetch(self, symbols: Sequence[str], since: dt.datetime, until: dt.datetime) -> NewsFetch:
        """Articles about ``symbols`` published in ``[since, until]`` (aware datetimes);
        items without a usable date are returned too, for quarantine."""
        ...


def to_utc(value: dt.datetime) -> dt.datetime:
    """Aware UTC; a naive datetime is taken to be UTC already (sources mean UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def parse_timestamp(value: object) -> dt.datetime | None:
    """ISO 8601 text (``Z`` suffix allowed) or epoch seconds → aware UTC; else None."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        if isinstance(value, int | float):
            return dt.datetime.fromtimestamp(value, dt.UTC)
        if isinstance(value, str) and value.strip():
            return to_utc(dt.datetime.fromisoformat(value.strip()))
    except (ValueError, OverflowError, OSError):
        return None
    return None


def in_window(article: Article, since: dt.datetime, until: dt.datetime) -> bool:
    """Within ``[since, until]``, or undated (kept so that it gets quarantined)."""
    if article.published_at is None:
        return True
    return to_utc(since) <= article.published_at <= to_utc(until)
