"""SQL of the news and sentiment endpoints (marts only: the API's contract)."""

from __future__ import annotations

import datetime as dt

from stockmind.pool import Pool

NEWS = """
select article_id, title, summary, publisher, url, source, published_at, sentiment_label,
       sentiment_score, analysis, scorer, scoring_model, scored_at
from marts.fct_news_articles
where symbol = %(symbol)s
  and (%(label)s::text is null or sentiment_label = %(label)s)
order by published_at desc, article_id
limit %(limit)s offset %(offset)s
"""
NEWS_COUNT = """
select count(*) as total from marts.fct_news_articles
where symbol = %(symbol)s and (%(label)s::text is null or sentiment_label = %(label)s)
"""
SENTIMENT_SERIES = """
select sentiment_date, articles_day, articles_7d, positive_7d, neutral_7d, negative_7d,
       average_score_7d, overall_label
from marts.fct_sentiment_daily
where symbol = %(symbol)s
  and sentiment_date > (select max(sentiment_date) from marts.fct_sentiment_daily
                        where symbol = %(symbol)s) - %(days)s
order by sentiment_date desc
"""


def news_page(
    db: Pool, symbol: str, label: str | None, page: int, size: int
) -> tuple[list[dict], int]:
    params = {"symbol": symbol, "label": label, "limit": size, "offset": (page - 1) * size}
    return db.fetch_all(NEWS, params), db.fetch_one(NEWS_COUNT, params)["total"]


def sentiment_series(db: Pool, symbol: str, days: int) -> list[dict]:
    """The symbol's daily aggregates of its last ``days`` news days, newest first."""
    return db.fetch_all(SENTIMENT_SERIES, {"symbol": symbol, "days": dt.timedelta(days=days).days})
