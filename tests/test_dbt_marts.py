"""The marts are the API's contract: fct_/dim_ names, the price and symbol marts hold the
raw data, every intermediate model feeds something, the API exposure lists exactly the
marts the API reads, and relations of retired models are dropped from a warehouse."""

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest
from conftest import ROOT, load_sample, run_dbt
from stockmind.assets import MARTS
from stockmind.universe import resolve_universe

pytestmark = pytest.mark.slow

#: the marts the transform DAG publishes are the ones the API's exposure depends on, less
#: the hourly bars (kept for analysis; the API serves daily and weekly bars)
API_MARTS = set(MARTS) - {"fct_bars_hourly"}


def scalar(dsn: str, sql: str):
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchone()[0]
    finally:
        conn.close()


def execute(dsn: str, sql: str) -> None:
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


@pytest.fixture(scope="module")
def built(module_warehouse):
    """Sample bars and profiles, relations of retired models left by an older project
    (a table and a view), then ``dbt build``; returns (dsn, manifest)."""
    dsn = module_warehouse
    load_sample(dsn, resolve_universe("sample"), dt.date(2024, 1, 2), dt.date(2024, 6, 28), True)
    execute(
        dsn,
        "create schema if not exists marts;"
        "create schema if not exists intermediate;"
        "create table marts.mart_movers_daily as select 1 as rank;"
        "create view marts.legacy_movers_report as select * from marts.mart_movers_daily;"
        "create view intermediate.int_price_changes as select * from raw.prices_daily;",
    )
    run_dbt(dsn, "build")
    manifest = json.loads((ROOT / "dbt" / "target" / "manifest.json").read_text())
    return dsn, manifest


def models(manifest: dict) -> dict[str, dict]:
    return {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
    }


def test_price_and_symbol_marts_hold_the_raw_data(built):
    dsn, _ = built
    bars = scalar(dsn, "select count(*) from raw.prices_daily")
    symbols = scalar(dsn, "select count(*) from raw.symbols")
    weeks = scalar(
        dsn,
        "select count(*) from (select distinct symbol, date_trunc('week', trade_date)"
        " from raw.prices_daily) w",
    )
    assert bars > 0 and symbols == len(resolve_universe("sample")) and 0 < weeks < bars
    assert scalar(dsn, "select count(*) from marts.fct_prices_daily") == bars
    assert scalar(dsn, "select count(*) from marts.dim_symbols") == symbols
    assert scalar(dsn, "select count(*) from marts.fct_prices_weekly") == weeks
    # the same bars: adjusted close = raw adj_close, the traded close and volume as loaded
    same = scalar(
        dsn,
        "select count(*) from marts.fct_prices_daily p join raw.prices_daily r"
        " using (symbol, trade_date)"
        " where p.close = r.adj_close and p.close_unadjusted = r.close and p.volume = r.volume",
    )
    assert same == bars
    # the bars are views over the raw table (no copy), the symbols a table
    kind = "select relkind::text from pg_class where oid = 'marts.{}'::regclass"
    kinds = {
        name: scalar(dsn, kind.format(name))
        for name in ("fct_prices_daily", "fct_prices_weekly", "dim_symbols")
    }
    assert kinds == {"fct_prices_daily": "v", "fct_prices_weekly": "v", "dim_symbols": "r"}


def test_the_api_queries_run_on_the_marts(built):
    dsn, _ = built
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            for mart in ("fct_prices_daily", "fct_prices_weekly"):
                cur.execute(
                    "select trade_date as date, open, high, low, close, volume"
                    f" from marts.{mart} where symbol = %s and trade_date between %s and %s"
                    " order by trade_date",
                    ("AAPL", dt.date(2024, 3, 1), dt.date(2024, 3, 31)),
                )
                rows = cur.fetchall()
                assert rows and all(r[0].month == 3 for r in rows), mart
            cur.execute(
                "select symbol, name, sector, industry, exchange, market_cap, is_active"
                " from marts.dim_symbols where symbol = 'AAPL'"
            )
            assert cur.fetchone()[1]
    finally:
        conn.close()


def test_marts_are_named_fct_or_dim(built):
    _, manifest = built
    names = models(manifest)
    assert not [name for name in names if name.startswith("mart_")]
    marts = [name for name, node in names.items() if node["schema"] == "marts"]
    assert set(marts) >= API_MARTS
    assert all(name.startswith(("fct_", "dim_")) for name in marts), marts


def test_every_intermediate_model_feeds_a_model_or_exposure(built):
    _, manifest = built
    intermediate = {
        node["unique_id"] for name, node in models(manifest).items() if name.startswith("int_")
    }
    assert intermediate
    for unique_id in intermediate:
        children = [
            child
            for child in manifest["child_map"][unique_id]
            if child.split(".")[0] in ("model", "exposure")
        ]
        assert children, f"{unique_id} is used by nothing"


def test_the_api_exposure_depends_on_exactly_the_api_marts(built):
    _, manifest = built
    exposure = manifest["exposures"]["exposure.stockmind.stockmind_api"]
    assert exposure["type"] == "application"
    assert exposure["owner"]["name"] == "StockMind"
    assert exposure["url"] == "http://127.0.0.1:8000/api/docs"
    parents = {uid.split(".")[-1] for uid in exposure["depends_on"]["nodes"]}
    assert parents == API_MARTS
    assert all(uid.startswith("model.") for uid in exposure["depends_on"]["nodes"])


def test_retired_relations_are_dropped(built):
    dsn, _ = built
    for name in (
        "marts.mart_movers_daily",  # a table
        "marts.legacy_movers_report",  # a view on it: dropped with it (cascade)
        "intermediate.int_price_changes",  # a view
    ):
        assert scalar(dsn, f"select to_regclass('{name}')::text") is None, name
    assert scalar(dsn, "select to_regclass('marts.fct_movers_daily')::text")


def test_a_retired_relation_that_is_still_a_model_is_an_error(built):
    dsn, _ = built
    stockmind = str(Path(sys.executable).parent / "stockmind")
    proc = subprocess.run(
        [
            stockmind,
            "dbt",
            "run",
            "--select",
            "dim_symbols",
            "--vars",
            '{"retired_relations": ["marts.dim_symbols"]}',
        ],
        env={**os.environ, "DATABASE_URL": dsn, "DBT_USE_COLORS": "false"},
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0
    assert "is still built by a model" in proc.stdout + proc.stderr
    assert scalar(dsn, "select to_regclass('marts.dim_symbols')::text")


def test_rebuilding_upstream_views_never_takes_the_price_marts_away(built):
    """dbt rebuilds a view by dropping its predecessor with CASCADE: a mart built on the
    staging view would vanish for the length of every build (the API answering 503). The
    price marts read the source through the staging macros instead: still there after
    the upstream views are rebuilt, with the same rows as those views."""
    dsn, _ = built
    oids = scalar(
        dsn,
        "select array[to_regclass('marts.fct_prices_daily')::oid,"
        " to_regclass('marts.fct_prices_weekly')::oid]",
    )
    run_dbt(dsn, "run", "--select", "stg_prices_daily", "int_weekly_bars")
    assert (
        scalar(
            dsn,
            "select array[to_regclass('marts.fct_prices_daily')::oid,"
            " to_regclass('marts.fct_prices_weekly')::oid]",
        )
        == oids
    )
    columns = "symbol, trade_date, open, high, low, close, close_unadjusted, volume"
    assert (
        scalar(
            dsn,
            f"select count(*) from ((select {columns} from marts.fct_prices_daily except all "
            f"select {columns} from staging.stg_prices_daily) union all (select {columns} from "
            f"staging.stg_prices_daily except all select {columns} from marts.fct_prices_daily)) d",
        )
        == 0
    )
    weekly = "symbol, week_start, trade_date, open, high, low, close, volume, trading_days"
    assert (
        scalar(
            dsn,
            f"select count(*) from ((select {weekly} from marts.fct_prices_weekly except all "
            f"select {weekly} from intermediate.int_weekly_bars) union all (select {weekly} from "
            f"intermediate.int_weekly_bars except all select {weekly} from marts.fct_prices_weekly)) d",
        )
        == 0
    )
