"""COPY + upsert loading on a real PostgreSQL: idempotent, updates changes, quarantines,
logs what changed (ops.change_log) and deletes what the source no longer has."""

import datetime as dt

import pandas as pd
import psycopg2
from conftest import table_digest
from stockmind.ingest import ingest_price_batch
from stockmind.loader import load_prices
from stockmind.providers.sample import SampleProvider
from stockmind.trading_calendar import trading_days
from stockmind.validation import validate_prices


def _load(dsn, frame, source="test"):
    conn = psycopg2.connect(dsn)
    try:
        return load_prices(conn, validate_prices(frame, as_of=dt.date(2030, 1, 1)), source)
    finally:
        conn.close()


def test_rerun_leaves_tables_byte_for_byte_the_same(db, warehouse):
    provider = SampleProvider()
    args = (["AAPL", "MSFT", "KO"], dt.date(2023, 12, 1), dt.date(2024, 2, 29))
    first = ingest_price_batch(*args, provider=provider, dsn=warehouse, run_id="r1")
    before = table_digest(db, "raw.prices_daily", "symbol, trade_date")
    symbols_before = table_digest(db, "raw.symbols", "symbol")
    second = ingest_price_batch(*args, provider=provider, dsn=warehouse, run_id="r2")
    assert first.load["written"] == before[0] > 0
    assert second.load == {**first.load, "written": 0, "unchanged": before[0]}
    assert table_digest(db, "raw.prices_daily", "symbol, trade_date") == before
    assert table_digest(db, "raw.symbols", "symbol") == symbols_before
    with db.cursor() as cur:  # partitions were made for both years
        cur.execute(
            "select count(*) from pg_inherits where inhparent = 'raw.prices_daily'::regclass"
        )
        assert cur.fetchone()[0] == 2


def test_changed_values_are_updated_and_only_those(db, warehouse):
    frame = SampleProvider().fetch_daily(["AAPL"], dt.date(2024, 1, 2), dt.date(2024, 1, 31)).frame
    stats = _load(warehouse, frame)
    assert stats.written == len(frame)
    frame.loc[3, ["close", "adj_close"]] = [frame.loc[3, "high"], frame.loc[3, "high"]]
    stats = _load(warehouse, frame)
    assert (stats.written, stats.unchanged) == (1, len(frame) - 1)
    with db.cursor() as cur:
        cur.execute(
            "select close from raw.prices_daily where symbol = 'AAPL' and trade_date = %s",
            (frame.loc[3, "trade_date"].date(),),
        )
        assert cur.fetchone()[0] == frame.loc[3, "high"]


def test_bad_rows_are_quarantined_once_with_reason_and_good_rows_load(db, warehouse):
    frame = pd.DataFrame(
        {
            "symbol": ["AAPL", "AAPL", "AAPL"],
            "trade_date": pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04"]),
            "open": [10.0, None, 10.0],
            "high": [11.0, 11.0, 9.0],
            "low": [9.0, 9.0, 9.5],
            "close": [10.5, 10.0, 9.8],
            "adj_close": [10.5, 10.0, 9.8],
            "volume": [100, 100, 100],
        }
    )
    stats = _load(warehouse, frame)
    assert (stats.written, stats.rejected, stats.rejected_new) == (1, 2, 2)
    again = _load(warehouse, frame)
    assert (again.written, again.rejected_new) == (0, 0)
    with db.cursor() as cur:
        cur.execute(
            "select symbol, payload->>'trade_date', payload->'open', reason, source "
            "from raw.rejected_rows order by 2"
        )
        rows = cur.fetchall()
    assert rows == [
        ("AAPL", "2024-01-03", None, "missing_open", "test"),
        ("AAPL", "2024-01-04", 10.0, "high_below_open_close;high_below_low", "test"),
    ]


def test_retention_drops_expired_minute_partitions_only(db, warehouse):
    from stockmind.loader import ensure_partitions
    from stockmind.maintenance import apply_retention, partitions

    with db.cursor() as cur:
        ensure_partitions(cur, "raw.quotes_minute", dt.date(2026, 6, 1), dt.date(2026, 11, 30))
        ensure_partitions(cur, "raw.prices_daily", dt.date(2010, 1, 1), dt.date(2010, 12, 31))
        cur.execute(
            "insert into raw.quotes_minute (symbol, ts, price, source) values "
            "('AAPL', '2026-06-15 14:30+00', 1, 't'), ('AAPL', '2026-11-20 14:30+00', 2, 't')"
        )
    assert apply_retention(warehouse, today=dt.date(2026, 11, 20)) == [
        "raw.quotes_minute_m202606",
        "raw.quotes_minute_m202607",
    ]
    with db.cursor() as cur:
        assert sorted(partitions(cur, "raw.quotes_minute")) == [
            "quotes_minute_m202608",
            "quotes_minute_m202609",
            "quotes_minute_m202610",
            "quotes_minute_m202611",
        ]
        assert list(partitions(cur, "raw.prices_daily")) == ["prices_daily_y2010"]  # kept forever
        cur.execute("select price from raw.quotes_minute")
        assert cur.fetchall() == [(2.0,)]


def _log(db):
    with db.cursor() as cur:
        cur.execute("select stream, symbol, first_date from ops.change_log order by txid, symbol")
        return cur.fetchall()


def test_each_load_logs_its_changed_symbols_once_from_the_earliest_date(db, warehouse):
    frame = (
        SampleProvider()
        .fetch_daily(["AAPL", "KO"], dt.date(2024, 1, 2), dt.date(2024, 1, 31))
        .frame
    )
    _load(warehouse, frame)  # a first load: COPY, every symbol from its first bar
    assert _log(db) == [
        ("raw.prices_daily", "AAPL", dt.date(2024, 1, 2)),
        ("raw.prices_daily", "KO", dt.date(2024, 1, 2)),
    ]
    _load(warehouse, frame)  # a re-run changes nothing and logs nothing
    assert len(_log(db)) == 2
    changed = (frame.symbol == "KO") & frame.trade_date.isin(
        pd.to_datetime(["2024-01-10", "2024-01-17"])
    )
    frame.loc[changed, ["close", "adj_close"]] = frame.loc[changed, "high"]
    assert _load(warehouse, frame).written == 2
    assert _log(db)[2:] == [("raw.prices_daily", "KO", dt.date(2024, 1, 10))]


class _Source:
    """A source answering with a fixed frame and per-symbol errors."""

    name = "test"

    def __init__(self, frame, errors=None):
        self.frame, self.errors = frame, errors or {}

    def fetch_daily(self, symbols, start, end):
        from stockmind.providers.base import FetchResult

        return FetchResult(self.frame[self.frame.symbol.isin(symbols)], dict(self.errors))


def test_bars_the_source_no_longer_returns_are_deleted_never_on_an_outage(db, warehouse):
    first, last = dt.date(2024, 1, 2), dt.date(2024, 1, 31)
    symbols = ["AAPL", "KO", "MSFT", "XOM"]
    full = SampleProvider().fetch_daily(symbols, first, last).frame
    ingest_price_batch(symbols, first, last, provider=_Source(full), dsn=warehouse)
    with db.cursor() as cur:  # a bar of another source in the interval (a Saturday)
        cur.execute(
            "insert into raw.prices_daily (symbol, trade_date, open, high, low, close,"
            " adj_close, volume, source) values ('AAPL', '2024-01-13', 1, 1, 1, 1, 1, 1, 'csv')"
        )
        cur.execute("delete from ops.change_log")
    day = full.trade_date.dt.date

    def without(symbol, date):
        return ~((full.symbol == symbol) & (day == date))

    answer = full[
        without("AAPL", dt.date(2024, 1, 10))  # gone at the source
        & without("MSFT", dt.date(2024, 1, 11))  # MSFT's answer came with an error: partial
        & (full.symbol != "KO")  # KO: nothing at all (an outage)
    ].copy()
    bad = (answer.symbol == "XOM") & (answer.trade_date.dt.date == dt.date(2024, 1, 12))
    answer.loc[bad, "high"] = answer.loc[bad, "low"] / 2  # XOM's Jan 12: quarantined
    report = ingest_price_batch(
        symbols,
        first,
        last,
        provider=_Source(answer, errors={"MSFT": "timeout after 30 s"}),
        dsn=warehouse,
    )
    assert (report.load["deleted"], report.load["written"], report.load["rejected"]) == (1, 0, 1)
    with db.cursor() as cur:
        cur.execute(
            "select symbol, count(*) from raw.prices_daily where source = 'test' group by 1"
            " order by 1"
        )
        bars = len(trading_days(first, last))
        assert cur.fetchall() == [("AAPL", bars - 1), ("KO", bars), ("MSFT", bars), ("XOM", bars)]
        cur.execute(  # AAPL's Jan 10 went (the csv bar stayed); XOM's Jan 12 stayed
            "select trade_date, source from raw.prices_daily where symbol = 'AAPL'"
            " and trade_date in ('2024-01-10', '2024-01-13')"
        )
        assert cur.fetchall() == [(dt.date(2024, 1, 13), "csv")]
    assert _log(db) == [("raw.prices_daily", "AAPL", dt.date(2024, 1, 10))]
