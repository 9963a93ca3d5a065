"""ML schema: the forecaster's registered versions and its predictions (written by Python,
read by dbt as sources; the API reads the marts over them).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        create schema if not exists ml;

        -- one row per registered model version: what it was trained on and how it did
        create table ml.model_versions (
            model_name        text not null,
            version           integer not null,
            run_id            text not null,
            trained_as_of     date not null,
            promoted          boolean not null,
            promotion_reason  text not null,
            metrics           jsonb not null,   -- {split}_{model}_{metric}_h{days}
            created_at        timestamptz not null default now(),
            primary key (model_name, version)
        );

        -- one row per symbol, as-of date, model version and horizon; a re-run of the
        -- same scoring replaces its rows (idempotent)
        create table ml.predictions (
            symbol            text not null,
            as_of             date not null,
            model_name        text not null,
            model_version     integer not null,
            alias             text not null check (alias in ('champion', 'challenger')),
            horizon_days      integer not null check (horizon_days > 0),
            horizon_label     text not null,
            last_close        double precision not null,
            predicted_return  double precision not null,  -- log return, the median
            return_low        double precision not null,  -- lowest quantile
            return_high       double precision not null,  -- highest quantile
            target_price      double precision not null,
            change_percent    double precision not null,
            price_low         double precision not null,
            price_high        double precision not null,
            trend             text not null check (trend in ('up', 'down', 'flat')),
            bullish_score     integer not null check (bullish_score between 0 and 100),
            risk_level        text not null check (risk_level in ('low', 'medium', 'high')),
            scored_at         timestamptz not null default now(),
            primary key (symbol, as_of, model_name, model_version, horizon_days)
        );
        create index predictions_latest on ml.predictions (symbol, scored_at desc);
        """
    )


def downgrade() -> None:
    op.execute("drop schema ml cascade")
