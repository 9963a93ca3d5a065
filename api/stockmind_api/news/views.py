"""News and sentiment of a symbol: 404 for an unknown symbol or one without news yet
(with the reason), 422 for malformed input; 503 before dbt built the marts."""

from __future__ import annotations

import math

from flask_smorest import abort

from stockmind_api.database import db
from stockmind_api.errors import success
from stockmind_api.market import queries as market
from stockmind_api.market.schemas import symbol_path_parameter
from stockmind_api.market.views import symbol_or_404
from stockmind_api.news import queries as q
from stockmind_api.news.schemas import (
    ArticleSchema,
    NewsArgsSchema,
    SentimentArgsSchema,
    SentimentSchema,
)
from stockmind_api.parsing import Blueprint
from stockmind_api.schemas import envelope, paginated

blp = Blueprint(
    "news", __name__, url_prefix="/api/market", description="News and sentiment (public)"
)


def known_symbol(symbol: str, what: str) -> None:
    if not market.symbol_exists(db(), symbol):
        abort(404, message=f"unknown symbol {symbol}")
    abort(404, message=f"no {what} yet for {symbol}")


def article(row: dict) -> dict:
    scored = row["sentiment_label"] is not None
    return {
        "id": row["article_id"], "title": row["title"], "summary": row["summary"],
        "publisher": row["publisher"], "url": row["url"], "source": row["source"],
        "published_at": row["published_at"],
        "sentiment": {
            "label": row["sentiment_label"], "score": row["sentiment_score"],
            "analysis": row["analysis"], "scorer": row["scorer"],
            "model": row["scoring_model"], "scored_at": row["scored_at"],
        } if scored else None,
    }  # fmt: skip


def day(row: dict) -> dict:
    return {
        "date": row["sentiment_date"], "articles_today": row["articles_day"],
        "articles": row["articles_7d"], "positive": row["positive_7d"],
        "neutral": row["neutral_7d"], "negative": row["negative_7d"],
        "average_score": row["average_score_7d"], "label": row["overall_label"],
    }  # fmt: skip


@blp.route("/news/<symbol>", parameters=[symbol_path_parameter()])
@blp.arguments(NewsArgsSchema, location="query")
@blp.response(200, envelope(paginated(ArticleSchema)))
def news(args, symbol):
    """The symbol's latest articles, newest first, each with its sentiment (paginated;
    ``sentiment`` filters by label)."""
    symbol = symbol_or_404(symbol)
    page, size = args["page"], args["page_size"]
    rows, total = q.news_page(db(), symbol, args.get("sentiment"), page, size)
    if total == 0 and (args.get("sentiment") is None or not market.symbol_exists(db(), symbol)):
        known_symbol(symbol, "news")
    pagination = {"page": page, "page_size": size, "total": total,
                  "total_pages": math.ceil(total / size)}  # fmt: skip
    items = [article(r) for r in rows]
    return success({"items": items, "pagination": pagination}, f"{total} articles on {symbol}")


@blp.route("/sentiment/<symbol>", parameters=[symbol_path_parameter()])
@blp.arguments(SentimentArgsSchema, location="query")
@blp.response(200, envelope(SentimentSchema))
def sentiment(args, symbol):
    """The symbol's news sentiment over the trailing 7 days (the newest day) and its daily
    series over the last ``days`` days."""
    symbol = symbol_or_404(symbol)
    rows = q.sentiment_series(db(), symbol, args["days"])
    if not rows:
        known_symbol(symbol, "sentiment")
    series = [day(r) for r in rows]
    label = series[0]["label"]
    return success(
        {"symbol": symbol, "latest": series[0], "series": series},
        f"{symbol}: {label} over the 7 days to {series[0]['date']}",
    )
