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
    # the run's interval and the 48-hour lookback behind it (late listings, outages)
    since = end.subtract(minutes=30, hours=48)
    expected = SampleNewsProvider().fetch(SYMBOLS, since, end).articles
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


def test_the_7_day_window_and_the_latest_score(news_db):
    """Hand-placed scores over nine days: each day's window is that day and the 6 before
    (day 8 drops out), quiet days keep the week, and an article's latest score (a
    rescoring, a newer model) is the one that counts."""
    day = dt.date(2025, 5, 20)
    placed = {-8: ("positive", 0.8), -7: ("negative", -0.6), -1: ("neutral", 0.0),
              0: ("positive", 0.4)}  # fmt: skip
    with psycopg2.connect(news_db) as conn, conn.cursor() as cur:
        for offset, (label, score) in placed.items():
            article = f"win{offset}"
            published = dt.datetime.combine(day + dt.timedelta(days=offset), dt.time(15), dt.UTC)
            cur.execute(
                "insert into raw.news_articles (article_id, canonical_url, url, content_hash,"
                " title, source, published_at) values (%s, %s, %s, %s, %s, 'sample', %s)",
                (article, f"https://x.invalid/{article}", f"https://x.invalid/{article}",
                 article, f"WIN story {offset}", published),
            )  # fmt: skip
            cur.execute("insert into raw.news_article_symbols values (%s, 'WIN')", (article,))
            cur.execute(
                "insert into ml.sentiment_scores (article_id, scorer, model, label, score,"
                " scored_at) values (%s, 'local', 'm/1', %s, %s, now() - interval '1 hour')",
                (article, label, score),
            )
        # a newer score for day 0's article: it replaces the old one in the marts
        cur.execute(
            "insert into ml.sentiment_scores (article_id, scorer, model, label, score)"
            " values ('win0', 'gemini', 'g', 'negative', -0.9)"
        )
        cur.execute(
            "select sentiment_date, articles_day, articles_7d, positive_7d, neutral_7d,"
            " negative_7d, round(average_score_7d::numeric, 4)::float8, overall_label"
            " from marts.fct_sentiment_daily where symbol = 'WIN' and sentiment_date <= %s"
            " order by sentiment_date",
            (day,),
        )
        rows = {(r[0] - day).days: r[1:] for r in cur.fetchall()}
        cur.execute("select sentiment_label, scorer from marts.fct_news_articles"
                    " where article_id = 'win0'")  # fmt: skip
        assert cur.fetchone() == ("negative", "gemini")
    conn.close()
    assert sorted(rows) == list(range(-8, 1))  # every day from the first, quiet ones too
    assert rows[-8] == (1, 1, 1, 0, 0, 0.8, "bullish")
    assert rows[-2] == (0, 2, 1, 0, 1, 0.1, "neutral")  # days -8 .. -2
    assert rows[-1] == (1, 2, 0, 1, 1, -0.3, "bearish")  # day -8 has dropped out
    assert rows[0] == (1, 2, 0, 1, 1, -0.45, "bearish")  # -7 out; day 0 as rescored


def test_rescoring_replaces_a_models_score(news_db):
    from stockmind_ml.sentiment.tasks import score_news

    with psycopg2.connect(news_db) as conn, conn.cursor() as cur:
        cur.execute("select article_id from raw.news_articles order by article_id limit 3")
        ids = [r[0] for r in cur.fetchall()]
    conn.close()
    first = score_news(news_db, mode="local", article_ids=ids)
    again = score_news(news_db, mode="local", article_ids=ids)
    assert first["stored"] == again["stored"] == 3
    with psycopg2.connect(news_db) as conn, conn.cursor() as cur:
        cur.execute(
            "select count(*), count(distinct (article_id, scorer, model))"
            " from ml.sentiment_scores where article_id = any(%s) and scorer = 'local'",
            (ids,),
        )
        total, distinct = cur.fetchone()
    conn.close()
    assert total == distinct and distinct >= 3


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
            ingest_news_batch(
                ["KO"], since, until, sources=["sample"], dsn=news_db, lookback=dt.timedelta()
            )
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
