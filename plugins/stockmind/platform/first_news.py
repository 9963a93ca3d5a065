"""News and sentiment on a first ``make up``: two weeks of news from the configured
sources (offline: the clearly labelled synthetic sample wire), the shipped local
sentiment model registered in MLflow (re-measured when its labelled data is at hand),
and every article scored — so
``/api/market/news`` and ``/api/market/sentiment`` answer on the first visit. After
that, ``ingest_news`` (unpaused by ``make up``) takes over every 30 minutes.

Later runs find the articles and the registered model and only score what is unscored.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path

from stockmind.db import connect
from stockmind.settings import Settings

HISTORY_DAYS = 14


def sentiment_data(settings: Settings) -> Path | None:
    """The labelled training data (``sent_train.csv``/``sent_valid.csv``), if present:
    ``STOCKMIND_SHARED_DATA/sentiment`` or ``../shared/data/sentiment``."""
    base = os.environ.get("STOCKMIND_SHARED_DATA") or settings.root.parent / "shared" / "data"
    folder = Path(base) / "sentiment"
    return folder if (folder / "sent_train.csv").exists() else None


def stored_articles(dsn: str) -> int:
    conn = connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("select count(*) from raw.news_articles")
            return cur.fetchone()[0]
    finally:
        conn.close()


def register_sentiment_model(settings: Settings, url: str) -> str:
    """Register the shipped local model once (no retraining: seconds); the report line.
    Its metrics are measured again when the labelled data is at hand."""
    from mlflow import MlflowClient
    from stockmind_ml.sentiment.config import MODEL_NAME as SENTIMENT_MODEL
    from stockmind_ml.sentiment.train import register_shipped

    client = MlflowClient(url)
    if client.search_model_versions(f"name='{SENTIMENT_MODEL}'"):
        return f"{SENTIMENT_MODEL} registered already"
    run = register_shipped(url, sentiment_data(settings))
    m = run["metrics"]
    return (
        f"{SENTIMENT_MODEL} v{run['version']} (the shipped artifact): accuracy "
        f"{m['validation_local_accuracy']:.3f}, macro-F1 {m['validation_local_macro_f1']:.3f} "
        f"vs VADER {m['validation_vader_macro_f1']:.3f}; {run['why']}"
    )


def first_news(
    settings: Settings, dsn: str, mlflow_url: str | None, say: Callable[[str], None] = print
) -> str:
    """Load the first news (first run only), register the model, score; the report line."""
    from stockmind.news_ingest import ingest_news_batch
    from stockmind.universe import resolve_universe

    if mlflow_url:
        os.environ["MLFLOW_TRACKING_URI"] = mlflow_url
        say(f"Sentiment model: {register_sentiment_model(settings, mlflow_url)}")
    loaded = ""
    if stored_articles(dsn) == 0:
        until = dt.datetime.now(dt.UTC)
        symbols = resolve_universe(settings.effective_universe())
        sources = settings.news_sources()
        report = ingest_news_batch(
            symbols, until - dt.timedelta(days=HISTORY_DAYS), until, sources=sources, dsn=dsn,
            lookback=dt.timedelta(),
        )  # fmt: skip
        loaded = (
            f"{report['inserted']} articles from {'+'.join(sources)} "
            f"({HISTORY_DAYS} days, {report['rejected']} quarantined); "
        )
    from stockmind_ml.sentiment.tasks import score_news

    scored = score_news(dsn)
    by = ", ".join(f"{n} by {name}" for name, n in sorted(scored["by_scorer"].items()))
    return loaded + (f"{scored['stored']} scored ({by})" if scored["stored"] else "all scored")
