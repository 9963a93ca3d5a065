"""What each loading DAG run did, kept in the warehouse (``ops.pipeline_runs``).

Airflow's metadata knows task states, not rows. The summarize step of each loading DAG
(``ingest_prices_daily``, ``poll_quotes``, ``ingest_news``) records its run here: rows
loaded and quarantined, the data interval it covered and the run's summary as
``details``. The API's ``/metrics`` reads the latest run per DAG at scrape time (the
warehouse is the one store every API worker shares), so Prometheus sees what the
pipelines did without reaching Airflow.

Keyed on ``(dag_id, run_id)``: a re-run (a retried or cleared task) replaces its row,
including ``finished_at``, so the row always says what the run's last attempt did.
"""

from __future__ import annotations

import datetime as dt
import json

from stockmind.db import transaction

UPSERT = """
insert into ops.pipeline_runs
    (dag_id, run_id, interval_end, rows_loaded, rows_quarantined, details, finished_at)
values (%s, %s, %s, %s, %s, %s::jsonb, now())
on conflict (dag_id, run_id) do update set
    interval_end = excluded.interval_end,
    rows_loaded = excluded.rows_loaded,
    rows_quarantined = excluded.rows_quarantined,
    details = excluded.details,
    finished_at = excluded.finished_at
"""


def record_run(
    dag_id: str,
    run_id: str,
    interval_end: dt.datetime | None,
    rows_loaded: int,
    rows_quarantined: int,
    details: dict | None = None,
    dsn: str | None = None,
) -> None:
    """Record (or replace) what one DAG run loaded and quarantined, as of now."""
    payload = json.dumps(details or {}, default=str)  # XCom summaries: ints, lists, strs
    with transaction(dsn) as conn, conn.cursor() as cur:
        cur.execute(
            UPSERT,
            (dag_id, run_id, interval_end, int(rows_loaded), int(rows_quarantined), payload),
        )


def prune_runs(before: dt.datetime, dsn: str | None = None) -> int:
    """Delete run records that finished before ``before`` (the poll adds ~1,440 a day),
    keeping each DAG's latest, which ``/metrics`` reports; returns how many went."""
    with transaction(dsn) as conn, conn.cursor() as cur:
        cur.execute(
            "delete from ops.pipeline_runs r where r.finished_at < %s and r.finished_at <"
            " (select max(l.finished_at) from ops.pipeline_runs l where l.dag_id = r.dag_id)",
            (before,),
        )
        return cur.rowcount
