"""Raw layer: symbols, daily prices, minute quotes, quarantine; app schema.

The time tables are hypertables when TimescaleDB is available and range-partitioned
tables otherwise (see ``stockmind.partitioning``).

Revision ID: 0001
Revises:
Create Date: 2026-11-20
"""

from alembic import op

from stockmind import partitioning

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    timescale = partitioning.use_timescale(op.get_bind())
    daily = partitioning.policy_for("raw.prices_daily")
    minute = partitioning.policy_for("raw.quotes_minute")
    op.execute("create schema if not exists raw")
    op.execute("create schema if not exists app")
    op.execute(
        """
        create table raw.symbols (
            symbol      text primary key,
            name        text,
            sector      text,
            industry    text,
            exchange    text,
            currency    text,
            market_cap  bigint check (market_cap is null or market_cap >= 0),
            is_active   boolean not null default true,
            source      text,
            updated_at  timestamptz not null default now()
        )
        """
    )
    op.execute(
        f"""
        create table raw.prices_daily (
            symbol       text not null,
            trade_date   date not null,
            open         double precision not null,
            high         double precision not null,
            low          double precision not null,
            close        double precision not null,
            adj_close    double precision not null,
            volume       bigint not null check (volume >= 0),
            source       text not null,
            ingested_at  timestamptz not null default now(),
            primary key (symbol, trade_date)
        ){partitioning.partition_clause(daily, timescale)}
        """
    )
    op.execute(
        f"""
        create table raw.quotes_minute (
            symbol          text not null,
            ts              timestamptz not null,
            price           double precision not null,
            day_open        double precision,
            day_high        double precision,
            day_low         double precision,
            volume          bigint check (volume is null or volume >= 0),
            change          double precision,
            change_percent  double precision,
            source          text not null,
            ingested_at     timestamptz not null default now(),
            primary key (symbol, ts)
        ){partitioning.partition_clause(minute, timescale)}
        """
    )
    op.execute(
        """
        create table raw.rejected_rows (
            id            bigserial primary key,
            source        text not null,
            symbol        text,
            payload       jsonb not null,
            payload_hash  text not null,
            reason        text not null,
            dag_run_id    text,
            rejected_at   timestamptz not null default now(),
            unique (source, payload_hash, reason)
        )
        """
    )
    op.execute("create index rejected_rows_symbol_idx on raw.rejected_rows (symbol)")
    for policy in (daily, minute):
        stmts = (
            partitioning.timescale_statements(policy)
            if timescale
            else partitioning.native_index_statements(policy)
        )
        for stmt in stmts:
            op.execute(stmt)


def downgrade() -> None:
    op.execute("drop table if exists raw.rejected_rows")
    op.execute("drop table if exists raw.quotes_minute cascade")
    op.execute("drop table if exists raw.prices_daily cascade")
    op.execute("drop table if exists raw.symbols")
    op.execute("drop schema if exists app")
