"""
# transform_market

Runs the dbt project (`dbt/`) whenever `ingest_prices_daily` updates the
`raw.prices_daily` asset or `refresh_symbols` updates `raw.symbols`: staging views, the
API's marts (`dim_symbols`, `fct_prices_daily`/`_weekly`, the incremental indicator mart
`fct_indicators_daily`, the daily and weekly scanner, movers and overview marts), and
all their tests; then regenerates the dbt docs (lineage, ending at the API exposure).

* **One `dbt build` task**, not one task per model (astronomer-cosmos): the project is
  small, every dbt start costs ~5 s on this stack, and the incremental mart already
  recomputes only what changed — a single well-logged build is faster and its log shows
  every model and test.
* **Incremental**: each build recomputes indicators only from the earliest new or
  changed bar of each symbol; `stockmind dbt build --full-refresh` rebuilds everything.
* **Publishes** an asset per mart (`stockmind.assets.MARTS`) for the ML and API DAGs.
* Docs: served by `make up` (URL printed), or `stockmind dbt docs serve`.
"""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import Asset, dag, task
from stockmind.assets import MARTS, PRICES_DAILY_URI, SYMBOLS_URI
from stockmind.queues import DBT

PRICES_DAILY = Asset(name="raw.prices_daily", uri=PRICES_DAILY_URI)
SYMBOLS = Asset(name="raw.symbols", uri=SYMBOLS_URI)
MART_ASSETS = [Asset(name=f"marts.{name}", uri=uri) for name, uri in MARTS.items()]


@dag(
    dag_id="transform_market",
    schedule=PRICES_DAILY | SYMBOLS,  # either one: new bars, or new/renamed symbols
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["transform", "dbt"],
    default_args={
        "owner": "analytics",
        "queue": DBT,  # its own Celery workers in a deployment (stockmind/queues.py)
        "retries": 2,
        "retry_delay": dt.timedelta(minutes=2),
        "execution_timeout": dt.timedelta(minutes=45),
    },
)
def transform_market():
    @task(outlets=MART_ASSETS, multiple_outputs=False)
    def dbt_build() -> dict:
        from stockmind.pipelines import transform_market as build

        return build()

    @task
    def dbt_docs() -> str:
        from stockmind.pipelines import transform_docs

        return transform_docs()

    dbt_build() >> dbt_docs()


transform_market()
