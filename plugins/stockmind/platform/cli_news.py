"""``stockmind news …`` and ``stockmind sentiment …``: the code the ``ingest_news`` DAG
runs, by hand.

* ``stockmind news ingest [--source S …] [--symbols …] [--since T] [--until T]``
* ``stockmind sentiment classify [--scorer local|gemini|auto]`` — texts on standard
  input, one per line; one JSON object per line out.
* ``stockmind sentiment score [--scorer …]`` — score the stored articles without a score.
* ``stockmind sentiment train --data PATH [--write-artifact] [--no-register]`` — train,
  evaluate and register the local model (MLflow), optionally rewriting the shipped
  artifact (``--write-artifact --no-register`` reproduces it offline).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path

from stockmind.settings import NEWS_SOURCES, SENTIMENT_SCORERS, Settings


def _timestamp(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def add_parsers(sub) -> None:

    news = sub.add_parser("news", help="news ingestion (the code ingest_news runs)")
    news_sub = news.add_subparsers(dest="action", required=True)
    ingest = news_sub.add_parser("ingest", help="fetch, check and store news for a window")
    ingest.add_argument("--source", nargs="+", choices=NEWS_SOURCES, help="default: settings")
    ingest.add_argument("--symbols", nargs="+", help="default: the universe")
    ingest.add_argument("--since", type=_timestamp, help="default: 24 hours before --until")
    ingest.add_argument("--until", type=_timestamp, help="default: now")

    sentiment = sub.add_parser("sentiment", help="news sentiment: classify, score, train")
    sent_sub = sentiment.add_subparsers(dest="action", required=True)
    classify = sent_sub.add_parser("classify", help="texts on stdin (one a line) → JSON lines")
    classify.add_argument("--scorer", choices=SENTIMENT_SCORERS, default="local")
    score = sent_sub.add_parser("score", help="score stored articles that have no score yet")
    score.add_argument("--scorer", choices=SENTIMENT_SCORERS, help="default: settings (auto)")
    train = sent_sub.add_parser("train", help="train, evaluate, register the local model")
    train.add_argument("--data", type=Path, required=True, help="folder with sent_*.csv")
    train.add_argument(
        "--write-artifact", action="store_true", help="also rewrite the shipped artifact"
    )
    train.add_argument(
        "--no-register", action="store_true", help="train offline: no MLflow run, no registry"
    )


def cmd_news(args, settings: Settings) -> int:
    from stockmind.news_ingest import ingest_news_batch
    from stockmind.universe import resolve_universe

    until = args.until or dt.datetime.now(dt.UTC)
    since = args.since or until - dt.timedelta(hours=24)
    symbols = [s.upper() for s in args.symbols] if args.symbols else resolve_universe(
        settings.effective_universe()
    )  # fmt: skip
    report = ingest_news_batch(symbols, since, until, sources=args.source, lookback=dt.timedelta())
    print(json.dumps(report, default=str))
    return 0


def cmd_sentiment(args, settings: Settings) -> int:
    from stockmind.platform.environment import airflow_env

    # the registry's champion, as the DAG (the shipped artifact when MLflow is not up)
    os.environ.setdefault("MLFLOW_TRACKING_URI", airflow_env(settings)["MLFLOW_TRACKING_URI"])
    if args.action == "classify":
        from stockmind_ml.sentiment.tasks import classify_lines

        for entry in classify_lines(sys.stdin, args.scorer):
            print(json.dumps(entry, ensure_ascii=False))
        return 0
    if args.action == "score":
        from stockmind_ml.sentiment.tasks import score_news

        print(json.dumps(score_news(mode=args.scorer), default=str))
        return 0
    from stockmind_ml.sentiment.local import SHIPPED
    from stockmind_ml.sentiment.train import train_sentiment

    artifact = SHIPPED if args.write_artifact else None
    result = train_sentiment(args.data, write_artifact=artifact, register=not args.no_register)
    print(json.dumps(result, default=str, indent=1))
    return 0


def handlers() -> dict:
    return {"news": cmd_news, "sentiment": cmd_sentiment}
