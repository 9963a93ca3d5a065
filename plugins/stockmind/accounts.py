"""Operator actions on API accounts (``stockmind users``): things no user may do to
their own account, such as choosing the subscription tier that sets their rate limits."""

from __future__ import annotations

from stockmind.db import transaction

TIERS = ("basic", "premium", "pro")


def set_subscription_tier(email: str, tier: str, dsn: str | None = None) -> dict:
    """Set an account's tier; returns the account's id, e-mail and old and new tier."""
    if tier not in TIERS:
        raise ValueError(f"unknown tier {tier!r}: choose one of {', '.join(TIERS)}")
    with transaction(dsn) as conn, conn.cursor() as cur:
        cur.execute(
            "select id, email, subscription_tier from app.users "
            "where lower(email) = lower(%s) for update",
            (email.strip(),),
        )
        row = cur.fetchone()
        if row is None:
            raise ValueError(f"no account with the e-mail {email!r}")
        cur.execute(
            "update app.users set subscription_tier = %s, updated_at = now() where id = %s",
            (tier, row[0]),
        )
    return {"id": row[0], "email": row[1], "old_tier": row[2], "tier": tier}
