"""News and sentiment end to end on a real warehouse: the ``ingest_news`` DAG
(``dag.test()``) on the sample source into the aggregates, idempotently; the local model
(the shipped artifact) scoring; ``sentiment_update`` pushed to a real WebSocket client by
the real server; the API endpoints read through the least-privilege role; the CLI.

Gemini is not reachable here: with no key the scorer is the local model (the Gemini
client itself is tested at its boundary in test_sentiment_gemini.py).
"""

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pendulum
import psycopg2
import pytest
from conftest import ROOT, api_reader_dsn, load_sample, run_dbt
from stockmind.news.sample import SampleNewsProvider

pytestmark = pytest.mark.slow

SYMBOLS = ["AAPL", "KO", "MSFT"]
DAY = dt.date(2025, 6, 27)  # a Friday
NEWS_MARTS = ("fct_news_articles", "fct_sentiment_daily")


@pytest.fixture(scope="module")
def news_db(module_warehouse):
    load_sample(module_warehouse, SYMBOLS, DAY - dt.timedelta(days=10), DAY, profiles=True)
    run_dbt(module_warehouse, "run", "--select", "+dim_symbols", *NEWS_MARTS)
    return module_warehouse


def one_article_interval() -> pendulum.DateTime:
    """A half-hour interval's end (a test run's interval ends at its logical date) with at
    least one sample story in it."""
    story = min(SampleNewsProvider().stories("AAPL", DAY), key=lambda a: a.published_at)
    at = pendulum.instance(story.published_at).in_tz("UTC")
    return at.start_of("hour").add(minutes=30 if at.minute < 30 else 60)


def counts(dsn: str) -> tuple[int, int, int]:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(
            "select (select count(*) from raw.news_articles),"
            " (select count(*) from ml.sentiment_scores),"
            " (select count(*) from raw.news_article_symbols)"
        )
        row = cur.fetchone()
    conn.close()
    return row


def test_the_dag_ingests_scores_and_aggregates_idempotently(
    news_db, airflow_db, monkeypatch, tmp_path
):
    from airflow.dag_processing.dagbag import DagBag

    universe = tmp_path / "symbols.txt"
    universe.write_text("\n".join(SYMBOLS) + "\n")
    for name, value in {"DATABASE_URL": news_db, "STOCKMIND_NEWS_SOURCE": "sample",
                        "STOCKMIND_SENTIMENT_SCORER": "auto", "GEMINI_API_KEY": "",
                        "STOCKMIND_UNIVERSE": str(universe)}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)  # the shipped artifact
    end = one_article_interval()
    expected = SampleNewsProvider().fetch(SYMBOLS, end.subtract(minutes=30), end).articles
    assert expected, "the chosen interval has sample news"
    dag = DagBag(dag_folder=str(ROOT / "dags")).dags["ingest_news"]
    first = dag.test(logical_date=end)
    assert first.state == "success"
    articles, scores, links = counts(news_db)
    assert (articles, scores) == (len(expected), len(expected))
    ti = {t.task_id: t for t in first.get_task_instances()}
    scored = ti["score"].xcom_pull(task_ids="score")
    assert scored["by_scorer"] == {"local": len(expected)}
    assert ti["summarize"].xcom_pull(task_ids="summarize")["inserted"] == len(expected)
    second = dag.test(logical_date=end)  # the same interval again: nothing new
    assert second.state == "success" and counts(news_db) == (articles, scores, links)
    with psycopg2.connect(news_db) as conn, conn.cursor() as cur:
        cur.execute(
            "select symbol, articles_7d, positive_7d + neutral_7d + negative_7d"
            " from marts.fct_sentiment_daily where sentiment_date = %s",
            (end.in_tz("America/New_York").date(),),
        )
        rows = cur.fetchall()
    conn.close()
    assert rows and all(total == n for _, n, total in rows)
    assert sum(n for _, n, _ in rows) == len(expected)


def test_the_local_model_reads_the_sample_wire_as_written(news_db):
    """The shipped model on a week of sample headlines (news-style, not tweets): its
    labels against the tone each story was written with."""
    from stockmind_ml.sentiment.local import load_local

    provider = SampleNewsProvider()
    stories = [a for d in range(7) for s in SYMBOLS
               for a in provider.stories(s, DAY - dt.timedelta(days=d))]  # fmt: skip
    answers = load_local(None).classify([a.title for a in stories])
    agree = sum(
        r["label"] == provider.intended_label(a) for r, a in zip(answers, stories, strict=True)
    )
    print(f"local model vs the sample's intended tone: {agree}/{len(stories)}")
    assert agree / len(stories) >= 0.6


def test_a_websocket_subscriber_receives_sentiment_updates(news_db):
    from conftest import live_api
    from simple_websocket import Client
    from stockmind.news_ingest import ingest_news_batch
    from stockmind_ml.sentiment.tasks import score_news

    with live_api(news_db) as base:
        ws = Client.connect(base.replace("http://", "ws://") + "/ws/market")
        try:
            ws.send(json.dumps({"type": "subscribe", "symbol": "KO"}))
            assert json.loads(ws.receive(timeout=10))["type"] == "subscribed"
            since = dt.datetime.combine(DAY - dt.timedelta(days=3), dt.time(), dt.UTC)
            until = dt.datetime.combine(DAY, dt.time(23, 59), dt.UTC)
            ingest_news_batch(["KO"], since, until, sources=["sample"], dsn=news_db)
            result = score_news(news_db, mode="local")
            assert result["stored"] > 0 and "KO" in result["symbols"]
            while (message := json.loads(ws.receive(timeout=15)))["type"] != "sentiment_update":
                assert message["type"] == "stock_update"
        finally:
            ws.close()
    data = message["data"]
    assert data["symbol"] == "KO" and data["label"] in ("bullish", "neutral", "bearish")
    assert data["articles"] == data["positive"] + data["neutral"] + data["negative"] > 0
    assert -1 <= data["averageScore"] <= 1


def test_the_api_serves_news_and_sentiment(news_db):
    from test_api_auth import make_app

    app = make_app(api_reader_dsn(news_db))
    try:
        client = app.test_client()
        news = client.get("/api/market/news/ko?pageSize=2")
        assert news.status_code == 200, news.get_json()
        page = news.get_json()["data"]
        assert page["pagination"]["pageSize"] == 2 and page["pagination"]["total"] >= 2
        first, second = page["items"]
        assert first["publishedAt"] >= second["publishedAt"]
        assert first["sentiment"]["scorer"] == "local" and -1 <= first["sentiment"]["score"] <= 1
        label = first["sentiment"]["label"]
        only = client.get(f"/api/market/news/KO?sentiment={label}").get_json()["data"]
        assert {a["sentiment"]["label"] for a in only["items"]} == {label}
        sentiment = client.get("/api/market/sentiment/KO?days=5")
        assert sentiment.status_code == 200, sentiment.get_json()
        data = sentiment.get_json()["data"]
        assert data["latest"] == data["series"][0] and len(data["series"]) <= 5
        latest = data["latest"]
        assert latest["articles"] == latest["positive"] + latest["neutral"] + latest["negative"]
        for url, status in (("/api/market/news/XOM", 404), ("/api/market/news/ZZZZ", 404),
                            ("/api/market/sentiment/XOM", 404), ("/api/market/news/KO?pageSize=0", 422),
                            ("/api/market/news/KO?sentiment=great", 422),
                            ("/api/market/sentiment/KO?days=0", 422),
                            ("/api/market/news/K$O", 422)):  # fmt: skip
            reply = client.get(url)
            assert reply.status_code == status, (url, reply.get_json())
            assert reply.get_json()["success"] is False
    finally:
        app.extensions["db"].close()


def test_the_cli_classifies_lines_from_stdin():
    stockmind = str(Path(sys.executable).parent / "stockmind")
    lines = "Acme shares plunge after profit warning\n\nAcme beats estimates and raises guidance\n"
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    proc = subprocess.run([stockmind, "sentiment", "classify", "--scorer", "local"],
                          input=lines, capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [o["label"] for o in out] == ["negative", "positive"]
    assert all(o["scorer"] == "local" and -1 <= o["score"] <= 1 for o in out)
