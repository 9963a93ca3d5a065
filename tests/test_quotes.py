"""The minute quote poll on a real warehouse: sample intraday quotes, yfinance at its
boundary (``Ticker.history`` fixtures under the real ``yf.download``), idempotent upserts,
one NOTIFY per changed batch, quarantine, market hours and the ``poll_quotes`` DAG."""

import datetime as dt
import select

import pandas as pd
import pendulum
import psycopg2
import pytest
from stockmind import events
from stockmind.ingest import ingest_prices
from stockmind.providers.sample import SampleProvider
from stockmind.providers.yfinance import YFinanceProvider
from stockmind.quotes import poll_quotes
from stockmind.settings import get_settings
from stockmind.trading_calendar import is_market_open
from test_provider_yfinance import NY, yahoo  # noqa: F401  (the boundary fixture)
from yfinance.exceptions import YFPricesMissingError

AT = dt.datetime(2024, 3, 4, 15, 0, tzinfo=dt.UTC)  # 10:00 in New York, a Monday


def listen(dsn: str):
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"listen {events.CHANNEL}")
    return conn


def drain(conn, wait: float = 1.0) -> list[tuple[str, list[dict]]]:
    """Every notification that arrives within ``wait`` seconds of the last one."""
    got = []
    while select.select([conn], [], [], wait)[0]:
        conn.poll()
        while conn.notifies:
            got.append(events.decode(conn.notifies.pop(0).payload))
        wait = 0.3
    return got


def test_events_pack_into_payloads_postgres_accepts():
    items = [{"symbol": f"S{i}", "price": i * 1.5, "note": "x" * 60} for i in range(500)]
    payloads = events.encode(events.STOCK_UPDATE, items)
    assert len(payloads) > 1
    assert all(len(p.encode()) <= events.MAX_PAYLOAD for p in payloads)
    assert [it for p in payloads for it in events.decode(p)[1]] == items
    with pytest.raises(ValueError, match="unknown event type"):
        events.encode("price_alert", items)
    with pytest.raises(ValueError, match="not a StockMind event"):
        events.decode('{"type": "nope", "items": []}')
    assert events.item({"change_percent": float("nan"), "ts": AT}) == {
        "changePercent": None,
        "ts": AT.isoformat(),
    }


def test_sample_quotes_are_deterministic_per_minute_and_move():
    provider = SampleProvider()
    first = provider.fetch_quotes(["AAPL", "MSFT"], AT).frame
    assert first.equals(provider.fetch_quotes(["AAPL", "MSFT"], AT).frame)
    later = provider.fetch_quotes(["AAPL", "MSFT"], AT + dt.timedelta(minutes=1)).frame
    assert (later["price"] != first["price"]).any()
    assert (first["day_low"] <= first["price"]).all() and (
        first["price"] <= first["day_high"]
    ).all()
    assert (first["prev_close"] > 0).all() and (first["ts"] == pd.Timestamp(AT)).all()


def test_sample_quotes_start_from_the_previous_sample_close():
    bars = SampleProvider().fetch_daily(["KO", "JNJ"], dt.date(2024, 2, 26), dt.date(2024, 3, 1))
    friday = bars.frame[bars.frame["trade_date"] == "2024-03-01"].set_index("symbol")["close"]
    quotes = SampleProvider().fetch_quotes(["KO", "JNJ"], AT).frame.set_index("symbol")
    assert quotes["prev_close"].to_dict() == friday.to_dict()  # Monday builds on Friday
    assert 40 < friday["KO"] < 90 and 100 < friday["JNJ"] < 240  # near the 59 / 156 anchors
    moved = (quotes["day_open"] / quotes["prev_close"] - 1).abs()
    assert (moved < 0.02).all()  # the day opens with a small gap from that close


def test_poll_stores_once_and_announces_only_changes(warehouse, db):
    listener = listen(warehouse)
    symbols = ["AAPL", "MSFT", "XOM"]
    report = poll_quotes(symbols, SampleProvider(), AT, dsn=warehouse)
    assert (report["quotes"], report["changed"], report["notifications"]) == (3, 3, 1)
    [(kind, items)] = drain(listener)
    assert kind == events.STOCK_UPDATE and sorted(i["symbol"] for i in items) == symbols
    aapl = next(i for i in items if i["symbol"] == "AAPL")
    assert set(aapl) == {
        "symbol", "timestamp", "price", "change", "changePercent", "volume",
        "dayOpen", "dayHigh", "dayLow",
    }  # fmt: skip
    with db.cursor() as cur:
        cur.execute("select price, ts from raw.quotes_minute where symbol = 'AAPL'")
        assert cur.fetchall() == [(aapl["price"], AT)]
    again = poll_quotes(symbols, SampleProvider(), AT, dsn=warehouse)
    assert (again["changed"], again["notifications"]) == (0, 0)
    assert drain(listener, wait=0.5) == []
    later = poll_quotes(symbols, SampleProvider(), AT + dt.timedelta(minutes=1), dsn=warehouse)
    assert later["changed"] == 3 and len(drain(listener)) == 1
    listener.close()


def minute_bars(closes: list[float], start="2024-03-04 09:30") -> pd.DataFrame:
    index = pd.date_range(start, periods=len(closes), freq="1min", tz=NY, name="Datetime")
    return pd.DataFrame(
        {
            "Open": closes,
            "High": [c + 0.5 for c in closes],
            "Low": [c - 0.5 for c in closes],
            "Close": closes,
            "Adj Close": closes,
            "Volume": [1000] * len(closes),
        },
        index=index,
    )


def test_yfinance_quotes_at_the_boundary(yahoo, warehouse, db):  # noqa: F811
    ingest_prices(["AAPL"], dt.date(2024, 2, 26), dt.date(2024, 3, 1), SampleProvider(),
                  dsn=warehouse, progress=lambda m: None)  # fmt: skip
    with db.cursor() as cur:
        cur.execute(
            "select close from raw.prices_daily where symbol = 'AAPL' order by trade_date desc limit 1"
        )
        friday_close = cur.fetchone()[0]
    yahoo(
        {
            "AAPL": [minute_bars([190.0, 191.0, 192.0, 193.0])],  # 9:33 is after the poll
            "MSFT": [minute_bars([410.0, -1.0, -2.0])],  # a broken feed: negative prices
            "GONE": [YFPricesMissingError("GONE", "(period=1d)")],
        }
    )
    at = dt.datetime(2024, 3, 4, 14, 32, tzinfo=dt.UTC)  # 9:32 New York
    listener = listen(warehouse)
    report = poll_quotes(
        ["AAPL", "MSFT", "GONE"], YFinanceProvider(sleep=lambda s: None), at, dsn=warehouse
    )
    assert (report["quotes"], report["rejected"], report["errors"]) == (1, 1, 1)
    [(_, [quote])] = drain(listener)
    assert quote["symbol"] == "AAPL" and quote["price"] == 192.0
    assert quote["timestamp"] == "2024-03-04T14:32:00+00:00"
    assert (quote["dayOpen"], quote["dayHigh"], quote["dayLow"], quote["volume"]) == (
        190.0,
        192.5,
        189.5,
        3000,
    )
    assert quote["change"] == pytest.approx(192.0 - friday_close, abs=1e-4)
    with db.cursor() as cur:
        cur.execute("select symbol, reason from raw.rejected_rows order by symbol")
        rejected = cur.fetchall()
    assert rejected[0] == ("GONE", rejected[0][1]) and rejected[0][1].startswith("provider:")
    assert rejected[1] == ("MSFT", "non_positive_price")
    listener.close()


def test_market_hours(monkeypatch):
    assert is_market_open(AT)  # Monday 10:00 New York
    assert not is_market_open(dt.datetime(2024, 3, 4, 21, 0, tzinfo=dt.UTC))  # 16:00
    assert not is_market_open(dt.datetime(2024, 3, 4, 14, 29, tzinfo=dt.UTC))  # 9:29
    assert not is_market_open(dt.datetime(2024, 3, 9, 15, 0, tzinfo=dt.UTC))  # Saturday
    assert not is_market_open(dt.datetime(2024, 7, 4, 15, 0, tzinfo=dt.UTC))  # Independence Day
    monkeypatch.setenv("STOCKMIND_PRICE_SOURCE", "sample")
    assert get_settings().polls_always()  # the demo moves at any hour
    monkeypatch.setenv("STOCKMIND_MARKET_HOURS", "nyse")
    assert not get_settings().polls_always()
    monkeypatch.setenv("STOCKMIND_MARKET_HOURS", "sometimes")
    with pytest.raises(ValueError, match="nyse or always"):
        get_settings().polls_always()
    monkeypatch.delenv("STOCKMIND_MARKET_HOURS")
    monkeypatch.setenv("STOCKMIND_PRICE_SOURCE", "yfinance")
    assert not get_settings().polls_always()


def run_poll_dag(logical):
    from airflow.dag_processing.dagbag import DagBag
    from conftest import ROOT

    dag = DagBag(dag_folder=str(ROOT / "dags" / "poll_quotes.py")).dags["poll_quotes"]
    return dag.test(logical_date=logical)


@pytest.mark.slow
def test_poll_quotes_dag_polls_in_session_and_skips_outside(airflow_db, warehouse, db, monkeypatch):
    monkeypatch.setenv("STOCKMIND_PRICE_SOURCE", "sample")
    monkeypatch.setenv("STOCKMIND_MARKET_HOURS", "nyse")
    listener = listen(warehouse)
    run = run_poll_dag(pendulum.instance(AT))
    assert run.state == "success"
    with db.cursor() as cur:
        cur.execute("select count(*), min(ts), max(ts) from raw.quotes_minute")
        assert cur.fetchone() == (16, AT, AT)
    assert sum(len(items) for _, items in drain(listener)) == 16
    saturday = pendulum.datetime(2024, 3, 9, 15, 0, tz="UTC")
    closed = run_poll_dag(saturday)
    states = {ti.task_id: ti.state for ti in closed.get_task_instances()}
    assert closed.state == "success" and states["poll_batch"] == "skipped", states
    with db.cursor() as cur:
        cur.execute("select count(*) from raw.quotes_minute where ts = %s", (saturday,))
        assert cur.fetchone()[0] == 0
    listener.close()


@pytest.mark.slow
def test_maintain_warehouse_drops_quote_partitions_past_retention(airflow_db, warehouse, db):
    from airflow.dag_processing.dagbag import DagBag
    from conftest import ROOT

    old, recent = dt.datetime(2024, 1, 10, 15, 0, tzinfo=dt.UTC), AT.replace(month=6, day=3)
    for at in (old, recent):
        poll_quotes(["AAPL"], SampleProvider(), at, dsn=warehouse)
    dag = DagBag(dag_folder=str(ROOT / "dags" / "maintain_warehouse.py")).dags["maintain_warehouse"]
    run = dag.test(logical_date=pendulum.datetime(2024, 6, 4, 2, 0, tz="America/New_York"))
    assert run.state == "success"
    ti = {t.task_id: t for t in run.get_task_instances()}
    assert ti["apply_retention"].xcom_pull(task_ids="apply_retention") == [
        "raw.quotes_minute_m202401"
    ]
    kept = ti["housekeeping"].xcom_pull(task_ids="housekeeping")
    assert kept["deleted"] == 0 and "raw.quotes_minute" in kept["analyzed"]
    with db.cursor() as cur:
        cur.execute("select ts from raw.quotes_minute")
        assert cur.fetchall() == [(recent,)]
