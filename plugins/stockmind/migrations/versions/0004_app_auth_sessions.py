"""App schema: sign-in sessions (token families) replace the per-token blocklist.

Every login starts a session; its access and refresh tokens carry the session id
(``sid``). Logout revokes the session, so every token of it stops working at once. The
session row holds the one refresh token that may be used next: rotation is a single
conditional update (one winner), and presenting any other refresh token of the family
(a rotated one: reuse) revokes the session (OAuth 2.0 refresh-token reuse detection).
Tokens issued before this revision carry no ``sid`` and are refused: users sign in again.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        create table app.auth_sessions (
            id              uuid primary key,
            user_id         bigint not null references app.users (id) on delete cascade,
            refresh_jti     text not null,
            created_at      timestamptz not null default now(),
            rotated_at      timestamptz,
            expires_at      timestamptz not null,
            revoked_at      timestamptz,
            revoked_reason  text
        )
        """
    )
    op.execute("create index auth_sessions_user_idx on app.auth_sessions (user_id)")
    op.execute("create index auth_sessions_expires_idx on app.auth_sessions (expires_at)")
    op.execute("drop table app.revoked_tokens")


def downgrade() -> None:
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
    op.execute("drop table app.auth_sessions")
