"""Operations schema: what each pipeline run did, and the data-quality checks' results.

``ops.pipeline_runs`` gets one row per DAG run that loads data (the run's summarize task
writes it, keyed on the run, so a re-run replaces its row): rows loaded and quarantined,
and when. ``ops.quality_checks`` holds the latest outcome of each data-quality check
(the maintenance run replaces them, unless the stored outcome judged a later date:
a re-run of an old interval does not overwrite today's): the API's ``/api/health``
reports ``degraded`` with the failing checks' reasons, and ``/metrics`` exports both
tables for Prometheus.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        create schema if not exists ops;

        create table ops.pipeline_runs (
            dag_id            text not null,
            run_id            text not null,
            interval_end      timestamptz,
            rows_loaded       bigint not null default 0 check (rows_loaded >= 0),
            rows_quarantined  bigint not null default 0 check (rows_quarantined >= 0),
            details           jsonb not null default '{}'::jsonb,
            finished_at       timestamptz not null default now(),
            primary key (dag_id, run_id)
        );
        create index pipeline_runs_latest on ops.pipeline_runs (dag_id, finished_at desc);

        create table ops.quality_checks (
            check_name   text primary key,
            as_of        date not null,             -- the run's date the check judged
            ok           boolean not null,
            observed     double precision,          -- the figure the check measured
            threshold    double precision,          -- the limit it was held to
            reason       text not null default '',  -- why it failed, for people
            details      jsonb not null default '{}'::jsonb,  -- e.g. the symbols concerned
            checked_at   timestamptz not null default now()
        );
        """
    )


def downgrade() -> None:
    op.execute("drop schema ops cascade")
