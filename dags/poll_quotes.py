"""
# poll_quotes

The latest quote of every active symbol, every minute, into `raw.quotes_minute`, and a
`stock_update` notification per changed symbol on PostgreSQL's `stockmind_events`
channel (the API's WebSocket hub LISTENs there and pushes to subscribed clients).

* **Schedule**: every minute; `max_active_runs=1` and no catch-up, so late or slow runs
  never pile up (a missed minute is superseded by the next one); each task has 45 s.
* **Market hours**: `market_open` short-circuits the run outside NYSE sessions
  (`STOCKMIND_MARKET_HOURS=nyse`); `always` polls around the clock (the default for
  the sample source, so the demo moves).
* **Shape**: `plan_batches` splits the universe into batches of 200 symbols (one
  batched provider call each); `poll_batch` is mapped over them: fetch → validate →
  upsert keyed on (symbol, minute) → NOTIFY, one transaction. The minute is the run's
  data interval end, so a re-run of a run rewrites and announces nothing.
* **By hand**: `stockmind ingest quotes --source sample` runs the same cycle once.
"""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import dag, get_current_context, task

QUOTE_BATCH_SIZE = 200


@dag(
    dag_id="poll_quotes",
    schedule="* * * * *",
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=dt.timedelta(minutes=2),
    doc_md=__doc__,
    tags=["ingestion", "quotes", "realtime"],
    default_args={
        "owner": "data-platform",
        "retries": 1,
        "retry_delay": dt.timedelta(seconds=5),
        "execution_timeout": dt.timedelta(seconds=45),
    },
)
def poll_quotes():
    @task.short_circuit
    def market_open() -> bool:
        from stockmind.pipelines import market_is_open

        ctx = get_current_context()
        return market_is_open(ctx["data_interval_end"] or ctx["logical_date"])

    @task
    def plan_batches() -> list[list[str]]:
        from stockmind.pipelines import plan_symbol_batches

        return plan_symbol_batches(batch_size=QUOTE_BATCH_SIZE)

    @task(multiple_outputs=False)
    def poll_batch(symbols: list[str]) -> dict:
        from stockmind.pipelines import poll_quote_batch

        ctx = get_current_context()
        at = ctx["data_interval_end"] or ctx["logical_date"]
        return poll_quote_batch(symbols, at, ctx["run_id"])

    @task(multiple_outputs=False)
    def summarize(reports: list[dict]) -> dict:
        from stockmind.pipelines import summarize_polls

        ctx = get_current_context()  # the run is recorded in ops.pipeline_runs (/metrics)
        end = ctx["data_interval_end"] or ctx["logical_date"]
        return summarize_polls(list(reports), ctx["run_id"], end)

    batches = plan_batches()
    market_open() >> batches
    summarize(poll_batch.expand(symbols=batches))


poll_quotes()
