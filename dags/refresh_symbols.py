"""
# refresh_symbols

Company profiles (name, sector, industry, exchange, currency, market cap) into
`raw.symbols`, weekly on Saturday morning, for the same universe the price DAG loads.

The `yfinance` source reads each ticker's `info`; `sample` fills profiles for its
universe; `csv` knows only symbols.  Fields a source does not know never erase known
values, and unchanged profiles are not rewritten.
"""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import Asset, dag, task
from stockmind.assets import SYMBOLS_URI

SYMBOLS = Asset(name="raw.symbols", uri=SYMBOLS_URI)


@dag(
    dag_id="refresh_symbols",
    schedule="0 6 * * 6",
    start_date=pendulum.datetime(2024, 1, 1, tz="America/New_York"),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["ingestion", "reference-data"],
    default_args={
        "owner": "data-platform",
        "retries": 2,
        "retry_delay": dt.timedelta(minutes=5),
        "execution_timeout": dt.timedelta(minutes=30),
    },
)
def refresh_symbols():
    @task
    def plan_batches() -> list[list[str]]:
        from stockmind.pipelines import plan_symbol_batches

        return plan_symbol_batches()

    @task(max_active_tis_per_dagrun=2, multiple_outputs=False)
    def refresh_batch(symbols: list[str]) -> dict:
        from stockmind.pipelines import refresh_profile_batch

        return refresh_profile_batch(symbols)

    @task(outlets=[SYMBOLS], multiple_outputs=False)
    def publish(reports: list[dict]) -> dict:
        return {key: sum(r[key] for r in reports) for key in ("requested", "fetched", "changed")}

    publish(refresh_batch.expand(symbols=plan_batches()))


refresh_symbols()
