"""Storing checked articles: one transaction, idempotent, rejects quarantined.

Why this shape: ``insert … on conflict do nothing`` (no conflict target) skips a row
that collides on *any* of the table's unique keys — the article id (canonical URL) or the
content hash — so a story delivered again, by another source or under another URL,
never becomes a second row. The skipped article's symbols are then linked to the row
that already holds the story (found by id, else by content hash), so a second source
can add a symbol. Links are ``on conflict do nothing`` too: an identical rerun inserts
nothing and links nothing. Rejected articles go to ``raw.rejected_rows`` with their
reason through the loader's quarantine (its payload hash makes reruns no-ops).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from psycopg2.extras import execute_values

from stockmind.db import connect
from stockmind.loader import quarantine, quarantine_record
from stockmind.news.base import Article, NewsFetch
from stockmind.news.normalize import NormalArticle, check_articles


@dataclass
class StoreResult:
    #: new article rows
    inserted: int = 0
    #: checked articles that were already stored (or repeated within the batch)
    duplicates: int = 0
    #: new (article, symbol) links, those of new articles included
    linked: int = 0
    #: articles quarantined (counted every run; the quarantine row itself is written once)
    rejected: int = 0
    new_ids: list[str] = field(default_factory=list)
    #: symbols that got at least one new article
    symbols: set[str] = field(default_factory=set)


def article_payload(article: Article) -> dict:
    """The article as JSON-ready data, for the quarantine's payload."""
    return {
        "source": article.source,
        "title": article.title,
        "summary": article.summary,
        "publisher": article.publisher,
        "url": article.url,
        "published_at": article.published_at.isoformat() if article.published_at else None,
        "symbols": list(article.symbols),
    }


def quarantine_source(source: str) -> str:
    """``yfinance`` → ``news:yfinance``: news rejects apart from price rejects."""
    return source if source.startswith("news:") else f"news:{source}"


def _rejected_records(rejected: list[tuple[Article, str]], source: str, run_id: str | None):
    records = []
    for article, reason in rejected:
        record = quarantine_record(source, article_payload(article), reason, run_id)
        symbol = str(article.symbols[0]).strip().upper() if article.symbols else None
        records.append((record[0], symbol, *record[2:]))
    return records


INSERT_ARTICLES = """
insert into raw.news_articles (article_id, canonical_url, url, content_hash, title, summary,
                               publisher, source, published_at, fetched_at, dag_run_id)
values %s
on conflict do nothing
returning article_id
"""


def _insert_articles(cur, good: list[NormalArticle], now: dt.datetime, run_id: str | None):
    rows = [
        (a.article_id, a.canonical_url, a.url, a.content_hash, a.title, a.summary, a.publisher,
         a.source, a.published_at, now, run_id)
        for a in sorted(good, key=lambda a: a.article_id)  # one lock order: no deadlocks
    ]  # fmt: skip
    returned = execute_values(cur, INSERT_ARTICLES, rows, fetch=True, page_size=500)
    return {row[0] for row in returned}


def _resolve_existing(cur, articles: list[NormalArticle]) -> dict[str, str]:
    """For articles that were not inserted: the stored row's id (by id, else by hash)."""
    if not articles:
        return {}
    cur.execute(
        "select article_id, content_hash from raw.news_articles "
        "where article_id = any(%s) or content_hash = any(%s)",
        ([a.article_id for a in articles], [a.content_hash for a in articles]),
    )
    ids, by_hash = set(), {}
    for stored_id, stored_hash in cur.fetchall():
        ids.add(stored_id)
        by_hash[stored_hash] = stored_id
    resolved = {}
    for a in articles:
        target = a.article_id if a.article_id in ids else by_hash.get(a.content_hash)
        if target is not None:
            resolved[a.article_id] = target
    return resolved


def _link(cur, links: list[tuple[str, str]]) -> list[tuple[str, str]]:
    if not links:
        return []
    return execute_values(
        cur,
        "insert into raw.news_article_symbols (article_id, symbol) values %s "
        "on conflict do nothing returning article_id, symbol",
        sorted(set(links)),
        fetch=True,
        page_size=1000,
    )


def store_articles(
    dsn: str | None,
    fetched: list[Article] | NewsFetch,
    source: str,
    now: dt.datetime | None = None,
    dag_run_id: str | None = None,
) -> StoreResult:
    """Check, deduplicate and store a batch in one transaction (see module docstring).

    ``source`` labels the batch's quarantine rows (``news:<source>``); each stored row
    keeps the source of its article. ``now`` is the clock for the future-date check and
    ``fetched_at`` (default: the current time).
    """
    articles = fetched.articles if isinstance(fetched, NewsFetch) else list(fetched)
    now = now or dt.datetime.now(dt.UTC)
    good, rejected = check_articles(articles, now)
    result = StoreResult(rejected=len(rejected))
    conn = connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            inserted = _insert_articles(cur, good, now, dag_run_id) if good else set()
            fresh = [a for a in good if a.article_id in inserted]
            resolved = _resolve_existing(cur, [a for a in good if a.article_id not in inserted])
            links = [(a.article_id, s) for a in fresh for s in a.symbols]
            links += [
                (resolved[a.article_id], s)
                for a in good
                if a.article_id in resolved
                for s in a.symbols
            ]
            new_links = _link(cur, links)
            quarantine(cur, _rejected_records(rejected, quarantine_source(source), dag_run_id))
    finally:
        conn.close()
    result.inserted = len(fresh)
    result.duplicates = len(articles) - len(rejected) - len(fresh)
    result.linked = len(new_links)
    result.new_ids = [a.article_id for a in fresh]
    result.symbols = {s for a in fresh for s in a.symbols}
    return result
