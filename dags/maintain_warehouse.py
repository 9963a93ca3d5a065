"""
# maintain_warehouse

Daily housekeeping. `apply_retention`: on plain PostgreSQL, drop the monthly partitions
of `raw.quotes_minute` that lie wholly before the retention horizon
(`STOCKMIND_RETENTION_MINUTE_MONTHS`, 3; daily bars: `STOCKMIND_RETENTION_DAILY_YEARS`, 0
= forever; `stockmind/partitioning.py`), each logged with its row count. The minute poll
adds ~4 million rows a month for the S&P 500, so this keeps the table at a steady size.
Dropping a partition is instant and leaves no vacuum debt; on TimescaleDB the task sets
the retention policies to the configured values and drops the chunks due now.
`prune_hourly_bars` deletes the hourly bars (`marts.fct_bars_hourly`) older than
`STOCKMIND_RETENTION_HOURLY_MONTHS` (12) and returns how many. `clean_airflow_metadata`
runs `airflow db clean` on Airflow's own runs, task instances, XCom, log table and jobs
older than `STOCKMIND_AIRFLOW_CLEAN_DAYS` (30) and returns the rows per table.

The horizon is measured from the run's data interval, not the wall clock, so a re-run
or a late run drops exactly what its own run would have. `stockmind db retention` does
the same by hand. Then `housekeeping` deletes quarantined rows older than
`STOCKMIND_QUARANTINE_DAYS` (90), counted by source and reason first (the task's return
value and log), and runs `ANALYZE` on every table changed since its last analysis.
Last, `check_quality` runs the data-quality checks as of the run's date (missing trading
days, stale symbols, no minute quotes in the last session, a quarantine spike;
`stockmind/quality.py`), logs each outcome and records it in `ops.quality_checks`: a
failing check makes `/api/health` `degraded`, it does not fail the task.
"""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import dag, get_current_context, task


@dag(
    dag_id="maintain_warehouse",
    schedule="0 2 * * *",
    start_date=pendulum.datetime(2024, 1, 1, tz="America/New_York"),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["maintenance"],
    default_args={
        "owner": "data-platform",
        "retries": 2,
        "retry_delay": dt.timedelta(minutes=10),
        "execution_timeout": dt.timedelta(minutes=15),
    },
)
def maintain_warehouse():
    @task(multiple_outputs=False)
    def apply_retention() -> list[str]:
        from stockmind.pipelines import apply_retention_as_of

        ctx = get_current_context()
        return apply_retention_as_of(ctx["data_interval_end"] or ctx["logical_date"])

    @task(multiple_outputs=False)
    def prune_hourly_bars() -> dict:
        from stockmind.pipelines import prune_hourly_as_of

        ctx = get_current_context()
        return prune_hourly_as_of(ctx["data_interval_end"] or ctx["logical_date"])

    @task(multiple_outputs=False)
    def clean_airflow_metadata() -> dict:
        from stockmind.pipelines import clean_airflow_metadata_as_of

        ctx = get_current_context()
        return clean_airflow_metadata_as_of(ctx["data_interval_end"] or ctx["logical_date"])

    @task(multiple_outputs=False)
    def housekeeping() -> dict:
        from stockmind.pipelines import housekeeping_as_of

        ctx = get_current_context()
        return housekeeping_as_of(ctx["data_interval_end"] or ctx["logical_date"])

    @task(multiple_outputs=False, trigger_rule="all_done")  # judge the data even so
    def check_quality() -> dict:
        from stockmind.pipelines import quality_as_of

        ctx = get_current_context()
        return quality_as_of(ctx["data_interval_end"] or ctx["logical_date"])

    apply_retention() >> prune_hourly_bars() >> housekeeping() >> check_quality()
    clean_airflow_metadata()


maintain_warehouse()
