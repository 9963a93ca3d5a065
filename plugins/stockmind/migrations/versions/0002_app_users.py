"""App schema: API users and revoked tokens.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        create table app.users (
            id                        bigserial primary key,
            email                     text not null,
            password_hash             text not null,
            full_name                 text not null,
            notification_preferences  jsonb not null default '{}'::jsonb,
            subscription_tier         text not null default 'basic'
                check (subscription_tier in ('basic', 'premium', 'pro')),
            api_key_hash              text unique,
            created_at                timestamptz not null default now(),
            updated_at                timestamptz not null default now()
        )
        """
    )
    op.execute("create unique index users_email_key on app.users (lower(email))")
    op.execute(
        """
        create table app.revoked_tokens (
            jti         text primary key,
            user_id     bigint references app.users (id) on delete cascade,
            token_type  text not null,
            expires_at  timestamptz not null,
            revoked_at  timestamptz not null default now()
        )
        """
    )
    op.execute("create index revoked_tokens_expires_idx on app.revoked_tokens (expires_at)")


def downgrade() -> None:
    op.execute("drop table if exists app.revoked_tokens")
    op.execute("drop table if exists app.users")
