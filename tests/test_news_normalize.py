"""News normalisation (canonical URL, content hash, checks, batch dedup) and the offline
sample wire (deterministic, window-independent, its sentiment mix)."""

from __future__ import annotations

import collections
import datetime as dt

import pytest
from stockmind.news import Article, canonical_url, check_articles, content_hash
from stockmind.news.sample import BASE_URL, PUBLISHER, SUFFIX, SampleNewsProvider

UTC = dt.UTC
SINCE = dt.datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
UNTIL = dt.datetime(2026, 11, 30, 23, 59, tzinfo=UTC)
NOW = dt.datetime(2026, 12, 1, 0, 0, tzinfo=UTC)


# --- normalisation ----------------------------------------------------------------------


def test_canonical_url_rules():
    same = [
        "https://www.reuters.com/markets/apple-beats/",
        "HTTP://WWW.Reuters.com:80/markets/apple-beats?utm_source=yahoo&utm_medium=rss#top",
        "https://reuters.com:443/markets/apple-beats?guccounter=1&guce_referrer=abc&guce_referrer_sig=x",
        "https://reuters.com/markets/apple-beats?fbclid=1&gclid=2&ocid=3&cmpid=4",
    ]
    assert {canonical_url(u) for u in same} == {"https://reuters.com/markets/apple-beats"}
    assert canonical_url("https://x.com/a?b=2&a=1&utm_x=9") == "https://x.com/a?a=1&b=2"
    assert canonical_url("https://x.com:8443/A/B") == "https://x.com:8443/A/B"  # path keeps case
    assert canonical_url("https://x.com/") == "https://x.com"
    for bad in ("ftp://x.com/a", "https:///nohost", "not a url", "javascript:alert(1)"):
        with pytest.raises(ValueError):
            canonical_url(bad)


def test_content_hash_folds_case_punctuation_and_unicode():
    a = content_hash("Apple’s Q3 beats — estimates!", "Reuters")
    assert a == content_hash("  apple's q3 BEATS - estimates ", "REUTERS")
    assert a == content_hash("Ａｐｐｌｅ’s Q3 beats estimates", "Reuters")  # NFKC full-width
    assert a != content_hash("Apple's Q3 beats estimates", "Bloomberg")
    day = dt.date(2026, 11, 30)  # a recurring headline on another day is another story
    assert content_hash("Stock market today", "Yahoo", day) != content_hash(
        "Stock market today", "Yahoo", day + dt.timedelta(days=1)
    )
    assert len(a) == 64


def article(**kw):
    base = dict(source="newsapi", title="Apple beats estimates", summary=" Good\n quarter. ",
                publisher="Reuters", url="https://reuters.com/a",
                published_at=dt.datetime(2026, 11, 30, 14, tzinfo=UTC), symbols=("aapl",))  # fmt: skip
    return Article(**{**base, **kw})


def test_check_articles_reasons_cleaning_and_batch_dedup():
    batch = [
        article(),
        article(title="   "),
        article(url=None, title="b"),
        article(url="mailto:ir@apple.com", title="c"),
        article(published_at=None, title="d"),
        article(published_at=NOW + dt.timedelta(minutes=6), title="e"),
        article(published_at=NOW + dt.timedelta(minutes=4), title="f", url="https://x.com/f"),
        article(symbols=("not a symbol!",), title="g"),
        article(url="https://reuters.com/a?utm_source=x", symbols=("MSFT", "bad sym")),
        article(url="https://other.com/b", title="APPLE beats estimates!", symbols=("GOOGL",)),
    ]
    good, rejected = check_articles(batch, NOW)
    assert [r for _, r in rejected] == [
        "missing_title", "missing_url", "invalid_url", "missing_published_at",
        "future_published_at", "no_symbols",
    ]  # fmt: skip
    assert [g.title for g in good] == ["Apple beats estimates", "f"]
    first = good[0]
    assert first.symbols == ("AAPL", "GOOGL", "MSFT")
    assert first.summary == "Good quarter." and first.url == "https://reuters.com/a"
    long_title = check_articles([article(title="x" * 2000)], NOW)[0][0].title
    assert len(long_title) == 500


# --- the sample wire --------------------------------------------------------------------

SYMBOLS = ["AAPL", "MSFT", "GOOGL", "AMZN", "NVDA", "META", "TSLA", "JPM", "V", "JNJ",
           "WMT", "PG", "XOM", "KO", "DIS", "NFLX", "ACME", "FOO", "BAR", "BAZ"]  # fmt: skip


def test_sample_is_deterministic_and_window_independent():
    provider = SampleNewsProvider()
    week = (dt.datetime(2026, 11, 23, tzinfo=UTC), dt.datetime(2026, 11, 28, tzinfo=UTC))
    first = provider.fetch(SYMBOLS[:5], *week).articles
    assert first == SampleNewsProvider().fetch(SYMBOLS[:5], *week).articles
    day = (dt.datetime(2026, 11, 24, 15, tzinfo=UTC), dt.datetime(2026, 11, 24, 20, tzinfo=UTC))
    part = provider.fetch(SYMBOLS[:5], *day).articles
    assert part and set(part) <= set(first)
    assert all(day[0] <= a.published_at <= day[1] for a in part)
    for a in first:
        assert a.publisher == PUBLISHER and a.url.startswith(BASE_URL + "/")
        assert a.summary.endswith(SUFFIX) and a.source == "sample"
    per_day = collections.Counter((a.symbols, a.published_at.date()) for a in first)
    assert set(per_day.values()) <= {1, 2, 3}
    assert not [a for a in first if a.published_at.weekday() >= 5]
    assert any(a.title.startswith("Apple ") for a in first)
    good, rejected = check_articles(first, NOW)
    assert rejected == [] and len(good) == len(first)


def test_sample_sentiment_mix_and_intended_label():
    provider = SampleNewsProvider()
    start = dt.datetime(2026, 3, 2, tzinfo=UTC)
    end = start + dt.timedelta(days=28)  # 20 trading days
    articles = provider.fetch(SYMBOLS, start, end).articles
    labels = collections.Counter(SampleNewsProvider.intended_label(a) for a in articles)
    total = sum(labels.values())
    assert total > 400
    for label, share in {"positive": 0.40, "neutral": 0.35, "negative": 0.25}.items():
        assert abs(labels[label] / total - share) < 0.10 * share, labels
    with pytest.raises(ValueError):
        SampleNewsProvider.intended_label(article(url="https://reuters.com/a"))
