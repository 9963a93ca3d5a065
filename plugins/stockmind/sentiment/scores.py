"""Sentiment scores in the warehouse: which articles still need one, and storing them
with a ``sentiment_update`` for every symbol whose 7-day aggregate changed.

Scores are keyed on (article, scorer, model): rescoring with the same model replaces
the row (idempotent), a new model adds one beside it and the marts read the latest.
The aggregate is read from ``marts.fct_sentiment_daily`` (a view on the sources) inside
the writing transaction, before and after the upsert, so the announcement says exactly
what a client will read once the transaction commits — and a rolled-back write
announces nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg2
from psycopg2.extras import execute_values

from stockmind import events
from stockmind.db import connect
from stockmind.precision import round_to
from stockmind.sentiment.base import Scored

AGGREGATE = """
select distinct on (symbol) symbol, sentiment_date, articles_7d, positive_7d, neutral_7d,
       negative_7d, average_score_7d, overall_label
from marts.fct_sentiment_daily
where symbol = any(%s)
order by symbol, sentiment_date desc
"""


def unscored_articles(
    dsn: str | None, limit: int = 2000, article_ids: Sequence[str] | None = None
) -> list[tuple[str, str, str | None]]:
    """(article_id, title, summary) of articles without any score, newest first — or of
    the given ids whatever their scores (an explicit rescoring)."""
    conn = connect(dsn)
    try:
        with conn.cursor() as cur:
            if article_ids is not None:
                cur.execute(
                    "select article_id, title, summary from raw.news_articles"
                    " where article_id = any(%s)"
                    " order by published_at desc",
                    (list(article_ids),),
                )
            else:
                cur.execute(
                    "select a.article_id, a.title, a.summary from raw.news_articles a"
                    " where not exists (select 1 from ml.sentiment_scores s"
                    "                   where s.article_id = a.article_id)"
                    " order by a.published_at desc limit %s",
                    (limit,),
                )
            return cur.fetchall()
    finally:
        conn.close()


def _aggregates(cur, symbols: list[str]) -> dict[str, tuple] | None:
    """Each symbol's latest 7-day aggregate (None: the mart is not built yet)."""
    cur.execute("savepoint aggregate")
    try:
        cur.execute(AGGREGATE, (symbols,))
    except psycopg2.errors.UndefinedTable:
        cur.execute("rollback to savepoint aggregate")
        return None
    found = {row[0]: row for row in cur.fetchall()}
    cur.execute("release savepoint aggregate")
    return found


def update_item(row: tuple) -> dict:
    """A ``sentiment_update`` item (camelCase, the API's precision) from an aggregate row."""
    symbol, day, articles, positive, neutral, negative, average, label = row
    return {
        "symbol": symbol, "date": day.isoformat(), "articles": articles,
        "positive": positive, "neutral": neutral, "negative": negative,
        "averageScore": round_to(average, 4), "label": label,
    }  # fmt: skip


def store_scores(dsn: str | None, scored: Sequence[tuple[str, Scored]]) -> dict:
    """Upsert (article_id, score) pairs; announce the symbols whose aggregate changed.

    Returns small counts (XCom): rows written, per scorer, symbols announced."""
    if not scored:
        return {"stored": 0, "by_scorer": {}, "announced": 0, "symbols": []}
    rows = [(a, s.scorer, s.model, s.label, float(s.score), s.analysis) for a, s in scored]
    by_scorer: dict[str, int] = {}
    for _, s in scored:
        by_scorer[s.scorer] = by_scorer.get(s.scorer, 0) + 1
    conn = connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                "select distinct symbol from raw.news_article_symbols where article_id = any(%s)",
                ([a for a, _ in scored],),
            )
            symbols = sorted(r[0] for r in cur.fetchall())
            before = _aggregates(cur, symbols)
            execute_values(
                cur,
                "insert into ml.sentiment_scores (article_id, scorer, model, label, score,"
                " analysis) values %s on conflict (article_id, scorer, model) do update set"
                " label = excluded.label, score = excluded.score,"
                " analysis = excluded.analysis, scored_at = now()",
                rows,
            )
            after = _aggregates(cur, symbols) if before is not None else None
            changed = [
                update_item(row)
                for symbol, row in sorted((after or {}).items())
                if (before or {}).get(symbol) != row
            ]
            if changed:
                events.publish(cur, events.SENTIMENT_UPDATE, changed)
    finally:
        conn.close()
    return {
        "stored": len(rows), "by_scorer": by_scorer, "announced": len(changed),
        "symbols": [c["symbol"] for c in changed][:50],
        "aggregate": "announced" if before is not None else "mart not built yet: not announced",
    }  # fmt: skip
