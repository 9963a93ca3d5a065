"""Hourly bars from minute quotes (dbt's ``fct_bars_hourly``) on a real warehouse: values
checked against hand-computed bars in New York hours, across a DST change and a UTC
midnight; an incremental run after late, corrected and new quotes equals a build from
scratch and rewrites only the days that changed; the hourly level's retention deletes
only expired hours, counted. The TimescaleDB branch reads a stand-in view made from the
continuous aggregate's own SQL (TimescaleDB is not installable here), so the aggregate's
columns and dbt's reading of them are checked together."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import psycopg2
import pytest
from conftest import ROOT, run_dbt
from psycopg2.extras import execute_values
from stockmind import partitioning
from stockmind.loader import ensure_partitions
from stockmind.maintenance import HOURLY_BARS, prune_hourly_bars
from stockmind.quotes import UPSERT

pytestmark = pytest.mark.slow
NY = ZoneInfo("America/New_York")
NO_LAG = '{"hourly_watermark_lag": "0 seconds"}'  # the 1-hour lag would widen every run


def upsert(dsn: str, quotes: list[tuple]) -> None:
    """(symbol, New York local time, price, cumulative volume) through the poll's upsert."""
    rows = [
        (s, t.replace(tzinfo=NY), p, None, None, None, v, None, None, "test")
        for s, t, p, v in quotes
    ]
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        ensure_partitions(cur, "raw.quotes_minute", dt.date(2024, 3, 1), dt.date(2024, 3, 31))
        execute_values(cur, UPSERT, rows, fetch=True)
    conn.close()


def bars(dsn: str) -> list[tuple]:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(
            "select symbol, (hour at time zone 'America/New_York')::text, trade_date::text,"
            " open, high, low, close, volume, day_volume, quotes"
            f" from {HOURLY_BARS} order by symbol, hour"
        )
        rows = cur.fetchall()
    conn.close()
    return rows


def build(dsn: str) -> str:
    return run_dbt(dsn, "build", "--select", "+fct_bars_hourly", "--vars", NO_LAG)


def compiled_source() -> str:
    """What the last dbt invocation read the hourly bars from."""
    path = ROOT / "dbt/target/compiled/stockmind/models/marts/prices/fct_bars_hourly.sql"
    sql = path.read_text().split("with minutes as", 1)[1]
    return "quotes_hourly" if '"raw"."quotes_hourly"' in sql else "stg_quotes_minute"


def rebuild_from_scratch(dsn: str) -> list[tuple]:
    """full_refresh=false ignores --full-refresh: dropping the table is the way."""
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(f"drop table {HOURLY_BARS}")
    conn.close()
    build(dsn)
    return bars(dsn)


T = dt.datetime
FIRST = [  # Friday 8 March 2024 (EST, UTC-5) and Monday 11 March (EDT, UTC-4)
    ("AAA", T(2024, 3, 8, 9, 30), 10.0, 100),
    ("AAA", T(2024, 3, 8, 9, 45), 12.0, 300),
    ("AAA", T(2024, 3, 8, 9, 59), 11.0, 450),
    ("AAA", T(2024, 3, 8, 10, 0), 11.5, 500),
    ("AAA", T(2024, 3, 8, 10, 30), 9.5, 900),
    ("AAA", T(2024, 3, 8, 11, 15), 10.25, None),  # no volume from the source
    ("AAA", T(2024, 3, 8, 12, 5), 10.5, 1000),
    ("AAA", T(2024, 3, 8, 19, 30), 10.0, 1200),  # 00:30 UTC on the 9th: still the 8th
    ("AAA", T(2024, 3, 11, 9, 31), 20.0, 50),  # a new session: volume starts again
    ("BBB", T(2024, 3, 8, 15, 59), 50.0, 7000),
]
EXPECTED = [
    ("AAA", "2024-03-08 09:00:00", "2024-03-08", 10.0, 12.0, 10.0, 11.0, 450, 450, 3),
    ("AAA", "2024-03-08 10:00:00", "2024-03-08", 11.5, 11.5, 9.5, 9.5, 450, 900, 2),
    ("AAA", "2024-03-08 11:00:00", "2024-03-08", 10.25, 10.25, 10.25, 10.25, None, None, 1),
    ("AAA", "2024-03-08 12:00:00", "2024-03-08", 10.5, 10.5, 10.5, 10.5, 100, 1000, 1),
    ("AAA", "2024-03-08 19:00:00", "2024-03-08", 10.0, 10.0, 10.0, 10.0, 200, 1200, 1),
    ("AAA", "2024-03-11 09:00:00", "2024-03-11", 20.0, 20.0, 20.0, 20.0, 50, 50, 1),
    ("BBB", "2024-03-08 15:00:00", "2024-03-08", 50.0, 50.0, 50.0, 50.0, 7000, 7000, 1),
]


@pytest.fixture(scope="module")
def hourly(module_warehouse):
    upsert(module_warehouse, FIRST)
    build(module_warehouse)
    return module_warehouse


def test_hourly_bars_equal_hand_computed_bars(hourly):
    assert bars(hourly) == EXPECTED


def test_incremental_run_equals_a_build_from_scratch(hourly):
    with psycopg2.connect(hourly) as conn, conn.cursor() as cur:
        cur.execute(f"select xmin::text from {HOURLY_BARS} where trade_date = '2024-03-11'")
        monday = cur.fetchall()
    conn.close()
    upsert(
        hourly,
        [
            ("AAA", T(2024, 3, 8, 9, 10), 13.0, 40),  # late: the hour's new open and high
            ("AAA", T(2024, 3, 8, 10, 30), 9.5, 950),  # corrected volume: later hours move
            ("AAA", T(2024, 3, 12, 10, 1), 21.0, 80),  # a new day
        ],
    )
    out = build(hourly)
    assert re.search(r"fct_bars_hourly .*\[INSERT 0 6 ", out), out[-3000:]  # 8th + 12th
    incremental = bars(hourly)
    assert incremental[0][3:] == (13.0, 13.0, 10.0, 11.0, 450, 450, 4)
    assert incremental[1][7:9] == (500, 950) and incremental[3][7] == 50  # 1000 - 950
    assert incremental[6][1:4] == ("2024-03-12 10:00:00", "2024-03-12", 21.0)
    with psycopg2.connect(hourly) as conn, conn.cursor() as cur:
        cur.execute(f"select xmin::text from {HOURLY_BARS} where trade_date = '2024-03-11'")
        assert cur.fetchall() == monday  # an unchanged day is not rewritten
    conn.close()
    assert rebuild_from_scratch(hourly) == incremental


def test_the_timescaledb_branch_reads_the_continuous_aggregate(hourly):
    """The aggregate's SQL, with TimescaleDB's functions spelled in plain PostgreSQL, as a
    view: dbt's branch for it must give the same bars as its branch for the minutes."""
    from_minutes = bars(hourly)
    create = partitioning.hourly_aggregate_statements("America/New_York", "12 months", None)[0]
    plain = (
        create.replace("create materialized view if not exists", "create view")
        .replace(" with (timescaledb.continuous, timescaledb.materialized_only = false)", "")
        .replace("time_bucket(interval '1 hour', ts, ", "date_trunc('hour', ts, ")
        .replace("first(price, ts)", "(array_agg(price order by ts))[1]")
        .replace("last(price, ts)", "(array_agg(price order by ts desc))[1]")
        .removesuffix(" with no data")
    )
    with psycopg2.connect(hourly) as conn, conn.cursor() as cur:
        cur.execute(plain)
    conn.close()
    try:
        assert rebuild_from_scratch(hourly) == from_minutes
        assert compiled_source() == "quotes_hourly"
        upsert(hourly, [("BBB", T(2024, 3, 8, 15, 30), 49.0, 6000)])
        build(hourly)  # incremental, from the aggregate
        assert compiled_source() == "quotes_hourly"
        assert bars(hourly)[-1][3:] == (49.0, 50.0, 49.0, 50.0, 7000, 7000, 2)
    finally:
        with psycopg2.connect(hourly) as conn, conn.cursor() as cur:
            cur.execute(f"drop view {partitioning.HOURLY_AGGREGATE}")
        conn.close()
    assert rebuild_from_scratch(hourly) == bars(hourly)
    assert compiled_source() == "stg_quotes_minute"


def test_hourly_retention_deletes_only_expired_hours_counted(hourly):
    before = bars(hourly)
    kept = prune_hourly_bars(hourly, today=dt.date(2024, 4, 11), keep_months=12)
    assert kept == {"table": HOURLY_BARS, "before": "2023-04-11", "deleted": 0}
    # one month from 11 April: the horizon is 11 March, local midnight in New York
    pruned = prune_hourly_bars(hourly, today=dt.date(2024, 4, 11), keep_months=1)
    assert pruned == {"table": HOURLY_BARS, "before": "2024-03-11", "deleted": 6}
    assert bars(hourly) == [row for row in before if row[2] >= "2024-03-11"]
    assert prune_hourly_bars(hourly, today=dt.date(2024, 4, 11), keep_months=0)["deleted"] == 0
    assert prune_hourly_bars(hourly, today=dt.date(2024, 4, 11), keep_months=1)["deleted"] == 0
