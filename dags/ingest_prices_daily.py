"""
# ingest_prices_daily

Daily OHLCV bars for the universe into `raw.prices_daily`, after the US close.

* **Schedule**: 17:30 New York, Monday–Friday. Each run loads the trade dates of its
  *data interval* (Friday 17:30 → Monday 17:30 loads Monday), so any run can be re-run.
* **Source**: `STOCKMIND_PRICE_SOURCE` — `sample` (offline, synthetic), `csv`
  (`STOCKMIND_CSV_PATH`) or `yfinance`; universe from `STOCKMIND_UNIVERSE`.
* **Shape**: `plan_batches` splits the universe into batches of `STOCKMIND_BATCH_SIZE`
  symbols; `load_batch` is mapped over them (fetch → validate → COPY + upsert, one
  transaction; bad rows go to `raw.rejected_rows` with a reason); `publish` adds the
  batch reports and updates the `raw.prices_daily` asset, which schedules dbt.
* **Backfill**: `stockmind airflow backfill create --dag-id ingest_prices_daily
  --from-date 2024-01-01 --to-date 2024-03-31` or the UI's *Trigger → Backfill*.
  Loads are idempotent: re-running an interval changes nothing.
"""

from __future__ import annotations

import datetime as dt
import os

import pendulum
from airflow.sdk import Asset, CronDataIntervalTimetable, dag, get_current_context, task
from stockmind.assets import PRICES_DAILY_URI

PRICES_DAILY = Asset(name="raw.prices_daily", uri=PRICES_DAILY_URI)


@dag(
    dag_id="ingest_prices_daily",
    schedule=CronDataIntervalTimetable("30 17 * * 1-5", timezone="America/New_York"),
    start_date=pendulum.datetime(2013, 1, 1, tz="America/New_York"),
    catchup=os.environ.get("STOCKMIND_CATCHUP", "false").lower() == "true",
    max_active_runs=4,
    max_active_tasks=8,
    doc_md=__doc__,
    tags=["ingestion", "prices"],
    default_args={
        "owner": "data-platform",
        "retries": 3,
        "retry_delay": dt.timedelta(minutes=1),
        "retry_exponential_backoff": True,
        "max_retry_delay": dt.timedelta(minutes=15),
        "execution_timeout": dt.timedelta(minutes=30),
    },
)
def ingest_prices_daily():
    @task
    def plan_batches() -> list[list[str]]:
        from stockmind.pipelines import plan_symbol_batches

        return plan_symbol_batches()

    @task(max_active_tis_per_dagrun=4, multiple_outputs=False)
    def load_batch(symbols: list[str]) -> dict:
        from stockmind.pipelines import load_prices_for_interval

        ctx = get_current_context()
        start = ctx["data_interval_start"] or ctx["logical_date"]
        end = ctx["data_interval_end"] or ctx["logical_date"]
        return load_prices_for_interval(symbols, start, end, ctx["run_id"])

    @task(outlets=[PRICES_DAILY], multiple_outputs=False)
    def publish(reports: list[dict]) -> dict:
        from stockmind.pipelines import summarize_reports

        ctx = get_current_context()  # the run is recorded in ops.pipeline_runs (/metrics)
        end = ctx["data_interval_end"] or ctx["logical_date"]
        return summarize_reports(reports, ctx["run_id"], end)

    publish(load_batch.expand(symbols=plan_batches()))


ingest_prices_daily()
