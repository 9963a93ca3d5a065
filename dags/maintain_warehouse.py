"""
# maintain_warehouse

Daily housekeeping that TimescaleDB's policies would do by themselves: on plain
PostgreSQL, drop the monthly partitions of `raw.quotes_minute` that lie wholly before the
retention horizon (3 months; `stockmind/partitioning.py`). The minute poll adds ~4 million
rows a month for the S&P 500, so this keeps the table at a steady size. Dropping a
partition is instant and leaves no vacuum debt; on TimescaleDB the task does nothing.

The horizon is measured from the run's data interval, not the wall clock, so a re-run
or a late run drops exactly what its own run would have. `stockmind db retention` does
the same by hand. Then `housekeeping` deletes quarantined rows older than
`STOCKMIND_QUARANTINE_DAYS` (90), counted by source and reason first (the task's return
value and log), and runs `ANALYZE` on every table changed since its last analysis.
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
    def housekeeping() -> dict:
        from stockmind.pipelines import housekeeping_as_of

        ctx = get_current_context()
        return housekeeping_as_of(ctx["data_interval_end"] or ctx["logical_date"])

    apply_retention() >> housekeeping()


maintain_warehouse()
