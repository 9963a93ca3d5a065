"""Storing news on a real PostgreSQL: one row per story across sources, URLs and runs.

The providers run at their boundaries as in ``test_news_providers`` (Yahoo's ``xhr/ncp``
JSON behind yfinance's ``YfData.post``, NewsAPI as a real local HTTP server); the store
writes to a throwaway migrated warehouse.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
import yfinance as yf
from conftest import table_digest
from stockmind.news.newsapi import NewsApiProvider
from stockmind.news.sample import SampleNewsProvider
from stockmind.news.store import StoreResult, store_articles
from stockmind.news.yfinance_news import YFinanceNewsProvider
from test_news_providers import FakeResponse, NewsApiServer, newsapi_article, ok, yahoo_story

UTC = dt.UTC
SINCE = dt.datetime(2026, 11, 30, tzinfo=UTC)
UNTIL = dt.datetime(2026, 11, 30, 23, 59, tzinfo=UTC)
NOW = dt.datetime(2026, 12, 1, tzinfo=UTC)
AHEAD = NOW + dt.timedelta(days=3)  # a window reaching past the clock: future items come back
TABLES = {
    "raw.news_articles": "article_id",
    "raw.news_article_symbols": "article_id, symbol",
    "raw.rejected_rows": "id",
}

PACT = "https://www.reuters.com/technology/apple-microsoft-ai-pact-2026-11-30/"
BEATS_YAHOO = "https://finance.yahoo.com/news/apple-beats-estimates-140500123.html"
BEATS_REUTERS = "https://www.reuters.com/technology/apple-beats-estimates-2026-11-30/"


@pytest.fixture
def yahoo(monkeypatch):
    stream = {
        "AAPL": [
            yahoo_story("p1", "Apple and Microsoft strike AI partnership", "2026-11-30T13:00:00Z",
                        PACT + "?utm_source=yahoo&guccounter=1"),
            yahoo_story("b1", "Apple beats estimates as iPhone sales climb", "2026-11-30T14:05:00Z",
                        BEATS_YAHOO),
        ]
    }  # fmt: skip

    def post(self, url, body=None, **kwargs):
        symbol = body["serviceConfig"]["s"][0]
        return FakeResponse({"data": {"tickerStream": {"stream": stream.get(symbol, [])}}})

    monkeypatch.setattr(yf.data.YfData, "post", post)


@pytest.fixture
def newsapi():
    pact = newsapi_article("Apple and Microsoft Strike AI Partnership",
                           PACT.replace("https://www.", "http://") + "?utm_medium=newsapi#top",
                           "2026-11-30T13:01:00Z")  # fmt: skip
    beats = newsapi_article("Apple beats estimates, as iPhone sales climb!", BEATS_REUTERS,
                            "2026-11-30T14:06:00Z")  # fmt: skip
    future = newsapi_article("Apple to unveil new products", "https://example.com/future",
                             "2026-12-02T09:00:00Z")  # a bad clock upstream  # fmt: skip
    removed = newsapi_article("[Removed]", "https://removed.com", "2026-11-30T10:00:00Z")
    server = NewsApiServer(
        {'"Microsoft"': ok(pact), '"Apple"': ok(beats, future, removed), '"Alphabet"': ok(beats)}
    )
    yield NewsApiProvider(api_key="k-123", base_url=server.url)
    server.close()


def stored(db) -> dict[str, tuple]:
    with db.cursor() as cur:
        cur.execute(
            "select a.url, a.source, a.title, array_agg(s.symbol order by s.symbol) "
            "from raw.news_articles a join raw.news_article_symbols s using (article_id) "
            "group by a.article_id order by a.published_at"
        )
        return {row[0]: (row[1], row[2], tuple(row[3])) for row in cur.fetchall()}


def digests(db) -> dict[str, tuple]:
    return {table: table_digest(db, table, order) for table, order in TABLES.items()}


def test_one_row_per_story_across_sources_urls_and_runs(warehouse, db, yahoo, newsapi):
    yahoo_fetch = YFinanceNewsProvider().fetch(["AAPL"], SINCE, UNTIL)
    first = store_articles(warehouse, yahoo_fetch, "yfinance", now=NOW, dag_run_id="run-1")
    assert (first.inserted, first.duplicates, first.linked, first.rejected) == (2, 0, 2, 0)
    assert first.symbols == {"AAPL"} and len(first.new_ids) == 2

    api_fetch = newsapi.fetch(["MSFT", "AAPL", "GOOGL"], SINCE, AHEAD)
    assert api_fetch.errors == {} and len(api_fetch.articles) == 4  # [Removed] skipped
    second = store_articles(warehouse, api_fetch, "newsapi", now=NOW, dag_run_id="run-2")
    # the pact (other tracking params, http, no www) and the beat (same headline and
    # publisher under Reuters' own URL) are stored stories: only their new symbols link
    assert second == StoreResult(
        inserted=0, duplicates=3, linked=2, rejected=1, new_ids=[], symbols=set()
    )
    assert stored(db) == {
        PACT + "?utm_source=yahoo&guccounter=1": (
            "yfinance",
            "Apple and Microsoft strike AI partnership",
            ("AAPL", "MSFT"),
        ),
        BEATS_YAHOO: ("yfinance", "Apple beats estimates as iPhone sales climb", ("AAPL", "GOOGL")),
    }
    with db.cursor() as cur:
        cur.execute(
            "select canonical_url, dag_run_id, fetched_at from raw.news_articles order by 1"
        )
        assert cur.fetchall()[0] == (
            "https://finance.yahoo.com/news/apple-beats-estimates-140500123.html", "run-1", NOW,
        )  # fmt: skip
        cur.execute("select source, symbol, reason, payload, dag_run_id from raw.rejected_rows")
        [(source, symbol, reason, payload, run_id)] = cur.fetchall()
    assert (source, symbol, reason, run_id) == (
        "news:newsapi",
        "AAPL",
        "future_published_at",
        "run-2",
    )
    assert payload["title"] == "Apple to unveil new products"
    assert payload["published_at"] == "2026-12-02T09:00:00+00:00"

    before = digests(db)
    again = [
        store_articles(
            warehouse, YFinanceNewsProvider().fetch(["AAPL"], SINCE, UNTIL), "yfinance", now=NOW
        ),
        store_articles(
            warehouse, newsapi.fetch(["MSFT", "AAPL", "GOOGL"], SINCE, AHEAD), "newsapi", now=NOW
        ),
    ]
    assert [(r.inserted, r.linked, r.new_ids) for r in again] == [(0, 0, []), (0, 0, [])]
    assert [r.duplicates for r in again] == [2, 3]
    assert digests(db) == before  # not a row added, not a row rewritten


def test_sample_wire_stores_once(warehouse, db):
    symbols = ["AAPL", "MSFT", "KO", "ACME"]
    week = (dt.datetime(2026, 11, 23, tzinfo=UTC), dt.datetime(2026, 11, 28, tzinfo=UTC))
    fetched = SampleNewsProvider().fetch(symbols, *week)
    result = store_articles(warehouse, fetched.articles, "sample", now=NOW, dag_run_id="s-1")
    assert result.inserted == len(fetched.articles) > 10 and result.rejected == 0
    assert result.linked == result.inserted and result.symbols == set(symbols)
    with db.cursor() as cur:
        cur.execute("select article_id from raw.news_articles order by article_id")
        assert [r[0] for r in cur.fetchall()] == sorted(result.new_ids)
        cur.execute("select count(distinct symbol), bool_and(publisher = 'StockMind Sample Wire') "
                    "from raw.news_articles join raw.news_article_symbols using (article_id)")  # fmt: skip
        assert cur.fetchone() == (4, True)
    before = digests(db)
    rerun = store_articles(warehouse, SampleNewsProvider().fetch(symbols, *week), "sample", now=NOW)
    assert (rerun.inserted, rerun.linked, rerun.duplicates) == (0, 0, len(fetched.articles))
    assert digests(db) == before


def test_rejects_are_quarantined_once_and_empty_batches_are_fine(warehouse, db):
    from stockmind.news import Article

    bad = [
        Article("yfinance", None, None, "Reuters", "https://x.com/1", NOW, ("AAPL",)),
        Article("yfinance", "No link", None, "Reuters", None, NOW, ("AAPL",)),
        Article("yfinance", "Odd link", None, "Reuters", "ftp://x.com/2", NOW, ("MSFT",)),
        Article("yfinance", "No date", None, "Reuters", "https://x.com/3", None, ("KO",)),
    ]
    assert store_articles(warehouse, [], "yfinance") == StoreResult()
    for _ in range(2):
        result = store_articles(warehouse, bad, "yfinance", now=NOW)
        assert (result.inserted, result.rejected) == (0, 4)
    with db.cursor() as cur:
        cur.execute("select source, symbol, reason from raw.rejected_rows order by id")
        assert cur.fetchall() == [
            ("news:yfinance", "AAPL", "missing_title"),
            ("news:yfinance", "AAPL", "missing_url"),
            ("news:yfinance", "MSFT", "invalid_url"),
            ("news:yfinance", "KO", "missing_published_at"),
        ]
        cur.execute("select payload from raw.rejected_rows where reason = 'invalid_url'")
        assert json.dumps(cur.fetchone()[0], sort_keys=True) == json.dumps(
            {"source": "yfinance", "title": "Odd link", "summary": None, "publisher": "Reuters",
             "url": "ftp://x.com/2", "published_at": NOW.isoformat(), "symbols": ["MSFT"]},
            sort_keys=True,
        )  # fmt: skip
