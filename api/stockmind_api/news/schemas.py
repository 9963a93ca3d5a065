"""Request and response shapes of the news and sentiment endpoints (precision:
``stockmind_api.precision``)."""

from __future__ import annotations

from marshmallow import fields, validate

from stockmind_api.precision import Ratio
from stockmind_api.schemas import CamelSchema, PageArgsSchema

LABELS = ("positive", "neutral", "negative")


class NewsArgsSchema(PageArgsSchema):
    page_size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    sentiment = fields.String(
        validate=validate.OneOf(LABELS), metadata={"description": "only articles with this label"}
    )


class SentimentArgsSchema(CamelSchema):
    days = fields.Integer(
        load_default=30, validate=validate.Range(min=1, max=365),
        metadata={"description": "days of daily aggregates in the series"},
    )  # fmt: skip


class ArticleSentimentSchema(CamelSchema):
    label = fields.String(allow_none=True, metadata={"description": "positive, neutral, negative"})
    score = Ratio(allow_none=True, metadata={"description": "-1 .. 1"})
    analysis = fields.String(allow_none=True)
    scorer = fields.String(allow_none=True, metadata={"description": "gemini or local"})
    model = fields.String(allow_none=True, metadata={"description": "the model that scored it"})
    scored_at = fields.DateTime(allow_none=True)


class ArticleSchema(CamelSchema):
    id = fields.String(metadata={"description": "sha256 of the canonical URL"})
    title = fields.String()
    summary = fields.String(allow_none=True)
    publisher = fields.String(allow_none=True)
    url = fields.String()
    source = fields.String(metadata={"description": "yfinance, newsapi or sample (synthetic)"})
    published_at = fields.DateTime()
    sentiment = fields.Nested(ArticleSentimentSchema, allow_none=True)


class SentimentDaySchema(CamelSchema):
    date = fields.Date(metadata={"description": "the 7-day window's last day (New York)"})
    articles_today = fields.Integer()
    articles = fields.Integer(metadata={"description": "scored articles in the 7 days"})
    positive = fields.Integer()
    neutral = fields.Integer()
    negative = fields.Integer()
    average_score = Ratio(metadata={"description": "-1 .. 1"})
    label = fields.String(metadata={"description": "bullish, neutral or bearish"})


class SentimentSchema(CamelSchema):
    symbol = fields.String()
    latest = fields.Nested(SentimentDaySchema, metadata={"description": "the newest day"})
    series = fields.Nested(SentimentDaySchema, many=True, metadata={"description": "newest first"})
