"""News providers at their client boundaries, and the normalisation rules.

Yahoo and NewsAPI are unreachable here, so each is replaced where it leaves the
process: yfinance's HTTP-backed ``YfData.post`` returns Yahoo's ``xhr/ncp`` JSON (real
``Ticker.get_news`` — ad filtering, stream extraction — and our provider run on top);
NewsAPI is a real HTTP server on 127.0.0.1 serving its documented JSON, status codes
and a slow answer, and our client makes real requests to it.
"""

from __future__ import annotations

import datetime as dt
import http.server
import json
import logging
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import yfinance as yf
from stockmind.news import Article
from stockmind.news.newsapi import NewsApiProvider
from stockmind.news.yfinance_news import YFinanceNewsProvider
from yfinance.exceptions import YFException, YFRateLimitError

UTC = dt.UTC
SINCE = dt.datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
UNTIL = dt.datetime(2026, 11, 30, 23, 59, tzinfo=UTC)
NOW = dt.datetime(2026, 12, 1, 0, 0, tzinfo=UTC)


def yahoo_story(uid, title, pub, url, publisher="Reuters", summary="", click=None):
    """One item of Yahoo's ``tickerStream.stream`` (2025+ shape, trimmed of images)."""
    return {
        "id": uid,
        "content": {
            "id": uid, "contentType": "STORY", "title": title, "description": "",
            "summary": summary, "pubDate": pub, "displayTime": pub, "isHosted": False,
            "bypassModal": False, "previewUrl": None, "thumbnail": None,
            "provider": {"displayName": publisher, "url": "http://www.reuters.com/"},
            "canonicalUrl": {"url": url, "site": "finance", "region": "US", "lang": "en-US"},
            "clickThroughUrl": {"url": click or url, "site": "finance", "region": "US", "lang": "en-US"},
            "metadata": {"editorsPick": False},
            "finance": {"premiumFinance": {"isPremiumNews": False, "isPremiumFreeNews": False}},
            "storyline": None,
        },
    }  # fmt: skip


AD = {"id": "ad-1", "ad": [{"type": "ad"}], "content": {"title": "Buy gold now"}}
FLAT = {  # the pre-2025 flat shape
    "uuid": "flat-1", "title": "Microsoft declares quarterly dividend", "publisher": "Motley Fool",
    "link": "https://www.fool.com/investing/2026/11/30/msft-dividend/", "type": "STORY",
    "providerPublishTime": int(dt.datetime(2026, 11, 30, 15, tzinfo=UTC).timestamp()),
    "relatedTickers": ["MSFT"],
}  # fmt: skip


class FakeResponse:
    def __init__(self, payload=None, text=None):
        self._payload = payload
        self.text = text if text is not None else json.dumps(payload)
        self.status_code = 200

    def json(self):
        return json.loads(self.text)


@pytest.fixture
def yahoo_news(monkeypatch):
    """Script ``YfData.post`` per ticker: a list of stream items, or an exception."""

    def install(script):
        calls = []

        def post(self, url, body=None, params=None, timeout=30, data=None):
            assert "xhr/ncp" in url and body["serviceConfig"]["snippetCount"] > 0
            symbol = body["serviceConfig"]["s"][0]
            calls.append(symbol)
            outcome = script[symbol]
            if isinstance(outcome, Exception):
                raise outcome
            if isinstance(outcome, str):
                return FakeResponse(text=outcome)
            return FakeResponse({"data": {"tickerStream": {"stream": outcome, "nextPage": False}}})

        monkeypatch.setattr(yf.data.YfData, "post", post)
        return calls

    return install


def test_yfinance_news_parses_both_shapes_filters_window_and_ads(yahoo_news):
    inside = yahoo_story("a1", "Apple beats estimates", "2026-11-30T14:05:00Z",
                         "https://www.reuters.com/technology/apple-beats/", summary="iPhone sales rose.")  # fmt: skip
    old = yahoo_story("a0", "Apple old news", "2026-11-20T10:00:00Z", "https://example.com/old")
    calls = yahoo_news({"AAPL": [AD, inside, old], "MSFT": [FLAT]})
    result = YFinanceNewsProvider().fetch(["aapl", "MSFT"], SINCE, UNTIL)
    assert calls == ["AAPL", "MSFT"]
    assert result.errors == {} and result.transient == set()
    by_title = {a.title: a for a in result.articles}
    assert set(by_title) == {"Apple beats estimates", "Microsoft declares quarterly dividend"}
    apple = by_title["Apple beats estimates"]
    assert apple == Article(
        source="yfinance", title="Apple beats estimates", summary="iPhone sales rose.",
        publisher="Reuters", url="https://www.reuters.com/technology/apple-beats/",
        published_at=dt.datetime(2026, 11, 30, 14, 5, tzinfo=UTC), symbols=("AAPL",),
    )  # fmt: skip
    flat = by_title["Microsoft declares quarterly dividend"]
    assert flat.publisher == "Motley Fool" and flat.symbols == ("MSFT",)
    assert flat.published_at == dt.datetime(2026, 11, 30, 15, tzinfo=UTC)


def test_yfinance_news_errors_per_symbol(yahoo_news):
    good = yahoo_story(
        "k1", "Coca-Cola raises dividend", "2026-11-30T12:00:00Z", "https://x.com/ko"
    )
    yahoo_news(
        {
            "AAPL": YFRateLimitError(),
            "MSFT": "<html>Will be right back</html>",
            "ZZZQ": YFException("HTTP Error 404: Not Found"),
            "KO": [good],
        }
    )
    result = YFinanceNewsProvider().fetch(["AAPL", "MSFT", "ZZZQ", "KO"], SINCE, UNTIL)
    assert [a.symbols for a in result.articles] == [("KO",)]
    assert set(result.errors) == {"AAPL", "MSFT", "ZZZQ"}
    assert result.transient == {"AAPL", "MSFT"}
    assert "Rate limited" in result.errors["AAPL"] and "404" in result.errors["ZZZQ"]


# --- NewsAPI against a real local HTTP server -------------------------------------------

KEY = "sk-test-0123456789abcdef"


def newsapi_article(title, url, published, name="Reuters", description="Summary."):
    return {
        "source": {"id": name.lower(), "name": name}, "author": "Staff", "title": title,
        "description": description, "url": url, "urlToImage": None, "publishedAt": published,
        "content": "First 200 chars… [+1234 chars]",
    }  # fmt: skip


REMOVED = newsapi_article("[Removed]", "https://removed.com", "1970-01-01T00:00:00Z", "[Removed]")


class NewsApiServer:
    """``/v2/everything``: answers scripted by the ``q`` parameter: (status, body, delay)."""

    def __init__(self, script):
        self.script, self.requests = script, []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                owner.requests.append((parts.path, query, dict(self.headers)))
                status, body, delay = owner.script[query.get("q")]
                time.sleep(delay)
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def newsapi():
    servers = []

    def start(script):
        servers.append(NewsApiServer(script))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def ok(*articles):
    return (200, {"status": "ok", "totalResults": len(articles), "articles": list(articles)}, 0)


def error(status, code, message):
    return (status, {"status": "error", "code": code, "message": message}, 0)


def test_newsapi_request_shape_and_parsing(newsapi):
    story = newsapi_article("Apple beats estimates", "https://www.reuters.com/apple?utm_source=newsapi",
                            "2026-11-30T14:05:00Z")  # fmt: skip
    outside = newsapi_article("Apple old", "https://x.com/old", "2026-11-01T09:00:00Z")
    server = newsapi({'"Apple"': ok(story, REMOVED, outside), "ZZZQ": ok()})
    provider = NewsApiProvider(api_key=KEY, base_url=server.url, page_size=25)
    result = provider.fetch(["AAPL", "ZZZQ"], SINCE, UNTIL)
    assert result.errors == {} and len(result.articles) == 1
    article = result.articles[0]
    assert (article.source, article.publisher, article.symbols) == ("newsapi", "Reuters", ("AAPL",))
    assert article.published_at == dt.datetime(2026, 11, 30, 14, 5, tzinfo=UTC)
    path, query, headers = server.requests[0]
    assert path == "/v2/everything" and headers["X-Api-Key"] == KEY
    assert query == {"q": '"Apple"', "from": "2026-11-30T00:00:00", "to": "2026-11-30T23:59:00",
                     "language": "en", "sortBy": "publishedAt", "pageSize": "25"}  # fmt: skip
    assert server.requests[1][1]["q"] == "ZZZQ"  # unknown company: the ticker itself
    assert KEY not in repr(provider)


def test_newsapi_errors_are_classified_and_never_leak_the_key(newsapi, caplog):
    server = newsapi(
        {
            '"Apple"': error(429, "rateLimited", "You have made too many requests recently."),
            '"Microsoft"': (
                503,
                {"status": "error", "code": "unexpectedError", "message": "down"},
                0,
            ),
            '"Alphabet"': (200, ok()[1], 1.0),  # slower than the client's timeout
            '"Amazon"': error(400, "parameterInvalid", f"bad parameter (key {KEY})"),
            '"NVIDIA"': error(401, "apiKeyInvalid", "Your API key is invalid or incorrect."),
            '"Meta Platforms"': ok(),
        }
    )
    provider = NewsApiProvider(api_key=KEY, base_url=server.url, timeout_s=0.3)
    with caplog.at_level(logging.DEBUG):
        result = provider.fetch(["AAPL", "MSFT", "GOOGL", "AMZN", "NVDA", "META"], SINCE, UNTIL)
    assert result.transient == {"AAPL", "MSFT", "GOOGL"}
    assert set(result.errors) == {"AAPL", "MSFT", "GOOGL", "AMZN", "NVDA", "META"}
    assert "rateLimited" in result.errors["AAPL"] and "timed out" in result.errors["GOOGL"]
    assert "parameterInvalid" in result.errors["AMZN"] and "apiKeyInvalid" in result.errors["NVDA"]
    # a refused key stops the run: META is never asked for
    assert [q["q"] for _, q, _ in server.requests][-1] == '"NVIDIA"'
    assert result.errors["META"].startswith("not requested")
    for text in [*result.errors.values(), caplog.text]:
        assert KEY not in text
    assert "***" in result.errors["AMZN"]


def test_newsapi_without_a_key_requests_nothing(newsapi, monkeypatch):
    monkeypatch.delenv("NEWS_API_KEY", raising=False)
    server = newsapi({})
    result = NewsApiProvider(base_url=server.url).fetch(["AAPL"], SINCE, UNTIL)
    assert result.errors == {"AAPL": "NEWS_API_KEY is not set"} and server.requests == []


def test_newsapi_spends_at_most_its_request_budget_and_rotates(newsapi):
    symbols = [f"S{i}" for i in range(5)]
    server = newsapi({s: ok() for s in symbols})
    provider = NewsApiProvider(api_key=KEY, base_url=server.url, max_requests=2, names={})
    first = provider.fetch(symbols, SINCE, UNTIL)
    later = provider.fetch(symbols, SINCE, UNTIL + dt.timedelta(minutes=30))
    assert len(server.requests) == 4  # two a run
    waiting = [s for s in symbols if s in first.transient]
    assert len(waiting) == 3 and all("budget of 2" in first.errors[s] for s in waiting)
    assert set(symbols) - first.transient != set(symbols) - later.transient  # turns rotate
