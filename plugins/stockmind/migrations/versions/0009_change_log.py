"""Exact change tracking for the incremental marts: a change log and consumer watermarks.

``ops.change_log`` gets one row per symbol and writing transaction: the stream (the
relation written: ``raw.prices_daily`` by the loader, ``marts.fct_indicators_daily`` and
the scanner marts by their dbt models), the symbol (NULL: every symbol) and the earliest
trade date inserted, changed or deleted, stamped with the writer's transaction id. The
writer inserts it in the same transaction as the data, so the row becomes visible exactly
when the data does (never for a rolled-back write).

``ops.change_watermarks`` holds, per consuming dbt model, the snapshot
(``pg_current_snapshot()``) its last successful build consumed up to. A build consumes
the log rows whose transaction is visible in its own pinned snapshot and was not visible
in the stored one, and stores its snapshot in the same transaction as the mart: every
committed change is consumed exactly once, however late its transaction commits, and
nothing else is recomputed (dbt/macros/change_window.sql). Rows every consumer has seen
are pruned at the end of each dbt run.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        create schema if not exists ops;

        create table ops.change_log (
            stream      text not null,   -- the relation written, e.g. raw.prices_daily
            symbol      text,            -- NULL: every symbol
            first_date  date not null,   -- earliest trade date written or deleted
            txid        xid8 not null default pg_current_xact_id(),
            logged_at   timestamptz not null default now()
        );
        create index change_log_stream_txid on ops.change_log (stream, txid);

        create table ops.change_watermarks (
            consumer    text primary key,   -- the dbt model
            stream      text not null,      -- the stream it consumes
            consumed    pg_snapshot not null,
            updated_at  timestamptz not null default now()
        );
        """
    )


def downgrade() -> None:
    op.execute("drop table if exists ops.change_watermarks; drop table if exists ops.change_log")
