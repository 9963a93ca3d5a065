"""App schema: portfolio holdings and watchlists (one row per user and symbol).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        create table app.holdings (
            id              bigserial primary key,
            user_id         bigint not null references app.users (id) on delete cascade,
            symbol          text not null references raw.symbols (symbol),
            shares          numeric(20, 6) not null check (shares > 0),
            average_price   numeric(20, 6) not null check (average_price >= 0),
            purchase_date   date,
            notes           text,
            created_at      timestamptz not null default now(),
            updated_at      timestamptz not null default now(),
            unique (user_id, symbol)
        )
        """
    )
    op.execute(
        """
        create table app.watchlist (
            id                 bigserial primary key,
            user_id            bigint not null references app.users (id) on delete cascade,
            symbol             text not null references raw.symbols (symbol),
            alert_price_above  numeric(20, 6) check (alert_price_above > 0),
            alert_price_below  numeric(20, 6) check (alert_price_below > 0),
            notes              text,
            created_at         timestamptz not null default now(),
            updated_at         timestamptz not null default now(),
            unique (user_id, symbol),
            check (alert_price_below is null or alert_price_above is null
                   or alert_price_below < alert_price_above)
        )
        """
    )


def downgrade() -> None:
    op.execute("drop table if exists app.watchlist")
    op.execute("drop table if exists app.holdings")
