"""The yfinance provider at its boundary: Yahoo is unreachable, so each ticker's HTTP-backed
``Ticker.history`` returns fixtures in the shape Yahoo's data takes there (tz-aware
exchange-time index, Open/High/Low/Close/Adj Close/Volume) or raises yfinance's own
errors.  The real ``yf.download`` (threads, alignment, MultiIndex, error logging) and
our real provider code run on top.
"""

import datetime as dt

import pandas as pd
import pytest
import yfinance as yf
from stockmind.ingest import TransientProviderError, ingest_price_batch
from stockmind.providers.yfinance import YFinanceProvider
from stockmind.providers.yfinance_frames import frame_from_download
from yfinance.exceptions import YFPricesMissingError, YFRateLimitError

NY = "America/New_York"


def history_fixture(symbol: str, days=("2024-03-04", "2024-03-05", "2024-03-06")) -> pd.DataFrame:
    base = 100 + len(symbol)
    index = pd.DatetimeIndex(pd.to_datetime(list(days)), name="Date").tz_localize(NY)
    n = len(days)
    return pd.DataFrame(
        {
            "Open": [base + i for i in range(n)],
            "High": [base + i + 2 for i in range(n)],
            "Low": [base + i - 1 for i in range(n)],
            "Close": [base + i + 1 for i in range(n)],
            "Adj Close": [base + i + 0.5 for i in range(n)],
            "Volume": [1_000_000 + i for i in range(n)],
        },
        index=index,
    )


class FakeYahoo:
    """Per-symbol behaviour script: each call pops the next outcome for that symbol."""

    def __init__(self, script):
        self.script = {s: list(v) for s, v in script.items()}
        self.calls: list[str] = []

    def history(self, ticker, *args, **kwargs):
        symbol = ticker.ticker
        self.calls.append(symbol)
        outcome = (
            self.script[symbol].pop(0) if len(self.script[symbol]) > 1 else self.script[symbol][0]
        )
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


@pytest.fixture
def yahoo(monkeypatch):
    def install(script):
        fake = FakeYahoo(script)
        monkeypatch.setattr(yf.Ticker, "history", lambda self, *a, **k: fake.history(self, *a, **k))
        return fake

    return install


def provider(**kw):
    return YFinanceProvider(sleep=lambda s: None, **kw)


def test_batch_with_one_failing_symbol_keeps_the_others(yahoo):
    delisted = YFPricesMissingError("ZZZQ", "(1d 2024-03-04 -> 2024-03-07)")
    yahoo(
        {"AAPL": [history_fixture("AAPL")], "MSFT": [history_fixture("MSFT")], "ZZZQ": [delisted]}
    )
    result = provider().fetch_daily(
        ["AAPL", "MSFT", "ZZZQ"], dt.date(2024, 3, 4), dt.date(2024, 3, 6)
    )
    assert sorted(result.frame["symbol"].unique()) == ["AAPL", "MSFT"]
    assert len(result.frame) == 6
    assert "possibly delisted" in result.errors["ZZZQ"]
    assert result.transient == set()
    row = result.frame[(result.frame.symbol == "AAPL")].iloc[0]
    assert (row.trade_date, row.close, row.adj_close) == (pd.Timestamp("2024-03-04"), 105, 104.5)


def test_rate_limit_then_success_is_retried(yahoo):
    fake = yahoo(
        {"AAPL": [history_fixture("AAPL")], "NVDA": [YFRateLimitError(), history_fixture("NVDA")]}
    )
    result = provider().fetch_daily(["AAPL", "NVDA"], dt.date(2024, 3, 4), dt.date(2024, 3, 6))
    assert sorted(result.frame["symbol"].unique()) == ["AAPL", "NVDA"]
    assert result.errors == {}
    assert fake.calls.count("NVDA") == 2 and fake.calls.count("AAPL") == 1  # only the limited one


def test_persistent_rate_limit_is_transient_and_backs_off(yahoo):
    yahoo({"AAPL": [history_fixture("AAPL")], "NVDA": [YFRateLimitError()]})
    delays = []
    prov = YFinanceProvider(sleep=delays.append, max_retries=3, backoff_base=1.0)
    result = prov.fetch_daily(["AAPL", "NVDA"], dt.date(2024, 3, 4), dt.date(2024, 3, 6))
    assert result.transient == {"NVDA"}
    assert len(delays) == 3 and all(0 <= d <= 2**i for i, d in enumerate(delays))


def test_multiindex_frame_with_alignment_gaps_and_partial_rows():
    # what yf.download returns for two tickers whose dates differ: the union index,
    # NaN padding for the missing days, (Price, Ticker) columns
    cols = pd.MultiIndex.from_product(
        [["Adj Close", "Close", "High", "Low", "Open", "Volume"], ["AAA", "BBB"]],
        names=["Price", "Ticker"],
    )
    index = pd.DatetimeIndex(pd.to_datetime(["2024-03-04", "2024-03-05"]), name="Date")
    data = pd.DataFrame(
        [
            [9.5, 19.5, 10, 20, 11, 21, 9, 19, 9.8, 19.8, 100, 200],
            [9.6, None, 10.1, None, 11.1, None, 9.1, None, None, None, 110, None],
        ],
        index=index,
        columns=cols,
    )
    frame = frame_from_download(data, ["AAA", "BBB"], NY)
    assert frame["symbol"].tolist() == ["AAA", "BBB", "AAA"]  # BBB's padding row is not data
    partial = frame.iloc[2]
    assert pd.isna(partial["open"]) and partial["close"] == 10.1  # goes on to validation


def test_tz_aware_index_is_dated_in_exchange_time():
    index = pd.DatetimeIndex(["2024-03-05 04:00:00+00:00"], name="Date")  # 23:00 NY on the 4th
    data = pd.DataFrame(
        {
            "Open": [1.0],
            "High": [1.0],
            "Low": [1.0],
            "Close": [1.0],
            "Adj Close": [1.0],
            "Volume": [5],
        },
        index=index,
    )
    frame = frame_from_download(data, ["AAA"], NY)
    assert frame["trade_date"].tolist() == [pd.Timestamp("2024-03-04")]


def test_ingest_quarantines_provider_errors_and_raises_on_transient(yahoo, db, warehouse):
    delisted = YFPricesMissingError("ZZZQ", "")
    yahoo({"AAPL": [history_fixture("AAPL")], "ZZZQ": [delisted], "NVDA": [YFRateLimitError()]})
    with pytest.raises(TransientProviderError, match="NVDA"):
        ingest_price_batch(
            ["AAPL", "ZZZQ", "NVDA"],
            dt.date(2024, 3, 4),
            dt.date(2024, 3, 6),
            provider=provider(max_retries=1),
            dsn=warehouse,
            run_id="run-1",
        )
    with db.cursor() as cur:
        cur.execute("select symbol, count(*) from raw.prices_daily group by 1")
        assert cur.fetchall() == [("AAPL", 3)]  # the good symbol landed before the retry
        cur.execute("select symbol, reason, dag_run_id from raw.rejected_rows")
        assert cur.fetchall() == [("ZZZQ", "provider_error", "run-1")]


def test_profiles_from_info(monkeypatch):
    class FakeTicker:
        def __init__(self, symbol):
            if symbol == "BAD":
                raise YFRateLimitError()
            self.info = {
                "longName": "Apple Inc.",
                "sector": "Technology",
                "marketCap": 3.1e12,
                "exchange": "NMS",
                "currency": "USD",
                "industry": "Consumer Electronics",
            }

    profiles = YFinanceProvider(ticker=FakeTicker).fetch_profiles(["AAPL", "BAD"])
    assert [(p.symbol, p.name, p.market_cap) for p in profiles] == [
        ("AAPL", "Apple Inc.", 3_100_000_000_000)
    ]
