"""What makes two deliveries the same story, and what makes a delivery unusable.

Identity (the keys of ``raw.news_articles``):

* ``canonical_url`` — the URL with what varies between deliveries of one page removed:
  scheme and host lowercased, ``http`` upgraded to ``https`` (news sites serve the same
  page on both; keeping both would store the story twice), a leading ``www.`` dropped,
  user info, default ports and the fragment dropped, tracking parameters (``utm_*``,
  ``fbclid``, ``gclid``, ``guccounter``, ``guce_referrer*``, ``ocid``, ``cmpid`` …)
  removed, the remaining parameters sorted, a trailing slash stripped. The path keeps
  its case (paths are case-sensitive on most servers).
* ``article_id`` — sha256 hex of the canonical URL.
* ``content_hash`` — sha256 hex of ``title|publisher|day`` (title and publisher each
  NFKC-normalised, lowercased, with punctuation and symbols turned into spaces and
  whitespace collapsed; the UTC day of publication): the same headline from the same
  publisher on the same day under another URL (syndication, AMP, redirects) is the same
  story, while a recurring headline on another day is not.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from stockmind.news.base import Article, to_utc
from stockmind.universe import SYMBOL_RE

TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid", "guccounter", "ocid",
        "cmpid", "cmp", "mc_cid", "mc_eid", "mkt_tok", "_hsenc", "_hsmi", "ncid", "yptr",
        ".tsrc", "soc_src", "soc_trk", "sr_share", "smid", "taid", "__source",
    }
)  # fmt: skip
TRACKING_PREFIXES = ("utm_", "guce_referrer")
MAX_URL = 2048
MAX_TITLE = 500
MAX_SUMMARY = 4000
MAX_PUBLISHER = 200
#: how far ahead of ``now`` a timestamp may be before it is a bad clock, not a story
FUTURE_TOLERANCE = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class NormalArticle:
    """A checked article, ready to store: keys computed, text cleaned, symbols merged."""

    article_id: str
    canonical_url: str
    url: str
    content_hash: str
    title: str
    summary: str | None
    publisher: str | None
    source: str
    published_at: dt.datetime
    symbols: tuple[str, ...]


def _is_tracking(key: str) -> bool:
    key = key.lower()
    return key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES)


def canonical_url(url: str) -> str:
    """The URL one story has however it was linked (rules in the module docstring).

    Raises ValueError for anything but an http(s) URL with a host.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if scheme not in ("http", "https") or not host:
        raise ValueError(f"not an http(s) URL with a host: {url[:200]!r}")
    if host.startswith("www."):
        host = host[4:]
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"bad port in URL: {url[:200]!r}") from exc
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port not in (80, 443):
        netloc = f"{netloc}:{port}"
    query = sorted(
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)
    )
    path = parts.path.rstrip("/")
    return urlunsplit(("https", netloc, path, urlencode(query), ""))


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def article_id(canonical: str) -> str:
    """The article's key: sha256 hex of its canonical URL."""
    return _sha256(canonical)


def _fold(text: str | None) -> str:
    """NFKC, lowercase, punctuation/symbols → space, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    text = "".join(" " if unicodedata.category(ch)[0] in "PS" else ch for ch in text)
    return " ".join(text.split())


def content_hash(title: str | None, publisher: str | None, published: dt.date | None = None) -> str:
    """sha256 hex of the folded ``title|publisher|day`` (UTC day of publication): the same
    headline from the same outlet on the same day is one story, whichever URL it came
    under. The day keeps recurring headlines ("Stock market today: …", "Apple declares
    quarterly dividend") from collapsing into the first day's row forever."""
    day = published.isoformat() if published else ""
    return _sha256(f"{_fold(title)}|{_fold(publisher)}|{day}")


def _clean(text: str | None, limit: int) -> str | None:
    """Entities decoded, whitespace collapsed, capped at ``limit`` characters; '' → None."""
    if text is None:
        return None
    text = " ".join(html.unescape(str(text)).split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text or None


def _symbols(symbols: Iterable[str]) -> tuple[str, ...]:
    cleaned = {str(s).strip().upper() for s in symbols or ()}
    return tuple(sorted(s for s in cleaned if SYMBOL_RE.match(s)))


def _check(article: Article, now: dt.datetime) -> NormalArticle | str:
    """The normalised article, or the reason it is rejected."""
    title = _clean(article.title, MAX_TITLE)
    if title is None:
        return "missing_title"
    url = (article.url or "").strip()
    if not url:
        return "missing_url"
    if len(url) > MAX_URL:
        return "invalid_url"
    try:
        canonical = canonical_url(url)
    except ValueError:
        return "invalid_url"
    if article.published_at is None:
        return "missing_published_at"
    published = to_utc(article.published_at)
    if published > now + FUTURE_TOLERANCE:
        return "future_published_at"
    symbols = _symbols(article.symbols)
    if not symbols:
        return "no_symbols"
    publisher = _clean(article.publisher, MAX_PUBLISHER)
    return NormalArticle(
        article_id=article_id(canonical),
        canonical_url=canonical,
        url=url,
        content_hash=content_hash(title, publisher, published.date()),
        title=title,
        summary=_clean(article.summary, MAX_SUMMARY),
        publisher=publisher,
        source=article.source,
        published_at=published,
        symbols=symbols,
    )


def check_articles(
    articles: Iterable[Article], now: dt.datetime
) -> tuple[list[NormalArticle], list[tuple[Article, str]]]:
    """Split a batch into storable articles and (article, reason) rejects.

    Reasons: ``missing_title``, ``missing_url``, ``invalid_url`` (not http(s) with a
    host, or longer than 2048), ``missing_published_at``, ``future_published_at`` (later
    than ``now`` + 5 minutes), ``no_symbols`` (no valid ticker left). Within the batch,
    articles with the same ``article_id`` or ``content_hash`` are one: the first keeps
    its fields and gains the others' symbols.
    """
    now = to_utc(now)
    good: list[NormalArticle] = []
    rejected: list[tuple[Article, str]] = []
    by_id: dict[str, int] = {}
    by_hash: dict[str, int] = {}
    for article in articles:
        checked = _check(article, now)
        if isinstance(checked, str):
            rejected.append((article, checked))
            continue
        index = by_id.get(checked.article_id, by_hash.get(checked.content_hash))
        if index is None:
            by_id[checked.article_id] = by_hash[checked.content_hash] = len(good)
            good.append(checked)
            continue
        kept = good[index]
        merged = tuple(sorted(set(kept.symbols) | set(checked.symbols)))
        if merged != kept.symbols:
            good[index] = replace(kept, symbols=merged)
    return good, rejected
