"""Hourly bars on TimescaleDB: a continuous aggregate of the minute quotes.

Only where the warehouse uses TimescaleDB (migration 0001 made the time tables
hypertables): ``raw.quotes_hourly`` per symbol and exchange-local hour, with its refresh
policy and the hourly retention (``stockmind.partitioning.hourly_aggregate_statements``).
On plain PostgreSQL there is nothing to create: dbt's ``fct_bars_hourly`` computes the
same bars from the minutes, incrementally.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from alembic import op

from stockmind import partitioning
from stockmind.settings import get_settings

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().exec_driver_sql(partitioning.TIMESCALE_IN_USE_SQL).first() is None:
        return
    settings = get_settings()
    minute = partitioning.policy_for("raw.quotes_minute", settings)
    hourly = partitioning.retention_interval(settings.retention_hourly_months, "months")
    for stmt in partitioning.hourly_aggregate_statements(
        settings.exchange_tz, hourly, minute.retention
    ):
        op.execute(stmt)


def downgrade() -> None:
    if op.get_bind().exec_driver_sql(partitioning.TIMESCALE_IN_USE_SQL).first() is not None:
        op.execute(f"drop materialized view if exists {partitioning.HOURLY_AGGREGATE}")
