"""News ingestion: providers that fetch articles about symbols, the rules that make one
story one row (canonical URL, content hash), and idempotent storage with quarantine.

Framework-free core: the news DAG and the sentiment scorers build on these modules.
"""

from __future__ import annotations

from stockmind.news.base import Article, NewsFetch, NewsProvider
from stockmind.news.normalize import (
    NormalArticle,
    article_id,
    canonical_url,
    check_articles,
    content_hash,
)

__all__ = [
    "Article",
    "NewsFetch",
    "NewsProvider",
    "NormalArticle",
    "article_id",
    "canonical_url",
    "check_articles",
    "content_hash",
]
