"""DAGs: they import cleanly and follow the house rules; the price DAG runs end to end
(``dag.test()``) on the sample source against a throwaway warehouse, twice, identically.
"""

import ast
import datetime as dt
from pathlib import Path

import pendulum
import psycopg2
import pytest
from conftest import ROOT, table_digest
from stockmind import events
from stockmind.trading_calendar import interval_trade_dates, trading_days

DAG_FILES = sorted((ROOT / "dags").glob("*.py"))
HEAVY = {"pandas", "numpy", "psycopg2", "yfinance", "tensorflow", "mlflow", "sqlalchemy"}


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(ROOT / "dags"))


def test_no_import_errors_and_one_dag_per_file(dagbag):
    assert dagbag.import_errors == {}
    assert len(dagbag.dags) == len(DAG_FILES)
    for dag_id, dag in dagbag.dags.items():
        assert Path(dag.fileloc).stem == dag_id, "file name = dag_id"


def test_house_rules(dagbag):
    for dag in dagbag.dags.values():
        assert dag.tags, f"{dag.dag_id} has no tags"
        assert dag.doc_md and dag.doc_md.strip().startswith(f"# {dag.dag_id}")
        assert dag.default_args.get("retries", 0) >= 1
        for task in dag.tasks:
            assert task.retries >= 1, f"{dag.dag_id}.{task.task_id} has no retries"


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_no_heavy_imports_at_parse_time(path):
    """Module-level imports stay light; heavy ones belong inside task bodies."""
    tree = ast.parse(path.read_text())
    top = {n.names[0].name.split(".")[0] for n in tree.body if isinstance(n, ast.Import)}
    top |= {n.module.split(".")[0] for n in tree.body if isinstance(n, ast.ImportFrom) and n.module}
    assert not top & HEAVY
    allowed = {"stockmind.assets", "stockmind.queues"}  # constants only
    core = {
        n.module
        for n in tree.body
        if isinstance(n, ast.ImportFrom) and n.module.startswith("stockmind")
    }
    assert core <= allowed


def test_price_dag_publishes_the_prices_asset_and_maps_batches(dagbag):
    dag = dagbag.dags["ingest_prices_daily"]
    publish = dag.get_task("publish")
    assert [o.uri for o in publish.outlets] == [
        "postgres://warehouse:5432/stockmind/raw/prices_daily"
    ]
    assert type(dag.get_task("load_batch")).__name__.endswith("MappedOperator")
    timetable = dag.timetable
    assert type(timetable).__name__ == "CronDataIntervalTimetable"


def run_dag(dag_id: str, logical_date):
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(ROOT / "dags" / f"{dag_id}.py")).dags[dag_id]
    return dag.test(logical_date=logical_date)


@pytest.mark.slow
def test_ingest_prices_daily_end_to_end_twice_identical(airflow_db, warehouse, db, monkeypatch):
    monkeypatch.setenv("STOCKMIND_PRICE_SOURCE", "sample")
    monkeypatch.setenv("STOCKMIND_BATCH_SIZE", "6")  # 16 sample symbols → 3 mapped batches
    # a test run's interval ends at its logical date: Fri 17:30 → Mon 17:30 loads Monday
    logical = pendulum.datetime(2024, 3, 4, 17, 30, tz="America/New_York")
    first = run_dag("ingest_prices_daily", logical)
    assert first.state == "success"
    start, end = interval_trade_dates(first.data_interval_start, first.data_interval_end)
    assert (start, end) == (dt.date(2024, 3, 2), dt.date(2024, 3, 4))
    with db.cursor() as cur:
        cur.execute(
            "select count(*), min(trade_date), max(trade_date), count(distinct symbol) from raw.prices_daily"
        )
        assert cur.fetchone() == (16, dt.date(2024, 3, 4), dt.date(2024, 3, 4), 16)
    digest = table_digest(db, "raw.prices_daily", "symbol, trade_date")
    second = run_dag("ingest_prices_daily", logical)
    assert second.state == "success"
    assert table_digest(db, "raw.prices_daily", "symbol, trade_date") == digest
    ti = {t.task_id: t for t in second.get_task_instances()}
    assert ti["publish"].xcom_pull(task_ids="publish")["unchanged"] == 16


@pytest.mark.slow
def test_refresh_symbols_fills_profiles(airflow_db, warehouse, db, monkeypatch):
    monkeypatch.setenv("STOCKMIND_PRICE_SOURCE", "sample")
    run = run_dag("refresh_symbols", pendulum.datetime(2024, 3, 2, 6, tz="America/New_York"))
    assert run.state == "success"
    with db.cursor() as cur:
        cur.execute("select count(*), count(sector), count(market_cap) from raw.symbols")
        assert cur.fetchone() == (16, 16, 16)


@pytest.mark.slow
def test_transform_market_builds_indicators_and_docs(airflow_db, warehouse, db, dagbag):
    from stockmind.ingest import ingest_prices
    from stockmind.providers.sample import SampleProvider

    dag = dagbag.dags["transform_market"]
    condition = dag.timetable.asset_condition  # new bars or new symbols: either one
    assert type(condition).__name__ == "AssetAny"
    assert {a.uri for a in condition.objects} == {
        "postgres://warehouse:5432/stockmind/raw/prices_daily",
        "postgres://warehouse:5432/stockmind/raw/symbols",
    }
    summary = ingest_prices(
        ["AAPL", "KO"],
        dt.date(2024, 1, 1),
        dt.date(2024, 6, 28),
        SampleProvider(),
        dsn=warehouse,
        progress=lambda m: None,
    )
    listener = psycopg2.connect(warehouse)
    listener.autocommit = True
    with listener.cursor() as cur:
        cur.execute("listen stockmind_events")
    run = run_dag("transform_market", None)
    assert run.state == "success"
    listener.poll()  # one indicator_update per symbol, its latest row, after the build
    updates = [events.decode(n.payload) for n in listener.notifies]
    listener.close()
    assert [kind for kind, _ in updates] == ["indicator_update"]
    latest = {item["symbol"]: item for item in updates[0][1]}
    assert sorted(latest) == ["AAPL", "KO"] and latest["KO"]["tradeDate"] == "2024-06-28"
    assert latest["KO"]["rsi14"] is not None
    with db.cursor() as cur:
        cur.execute(
            "select count(*), count(sma_50), count(macd_signal) from marts.fct_indicators_daily"
        )
        rows, sma_50, signal = cur.fetchone()
    days = len(trading_days(dt.date(2024, 1, 1), dt.date(2024, 6, 28)))
    assert rows == summary["written"] == 2 * days
    assert (sma_50, signal) == (2 * (days - 49), 2 * (days - 33))
    assert (ROOT / "dbt" / "target" / "index.html").exists()  # docs generated


def test_transform_publishes_every_mart(dagbag):
    outlets = {
        o.uri.rsplit("/", 1)[1]
        for o in dagbag.dags["transform_market"].get_task("dbt_build").outlets
    }
    models = {p.stem for p in (ROOT / "dbt" / "models" / "marts").rglob("*.sql")}
    assert outlets == models
