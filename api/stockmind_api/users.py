"""SQL for users and revoked tokens (parameterized; ``app`` schema)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from psycopg2.errors import UniqueViolation
from stockmind.pool import Pool

PUBLIC = "id, email, full_name, notification_preferences, subscription_tier, created_at"


class EmailTaken(Exception):
    pass


def api_key_digest(key: str) -> str:
    """API keys are 256-bit random: a plain SHA-256 is enough to store them safely."""
    return hashlib.sha256(key.encode()).hexdigest()


def create_user(db: Pool, email: str, password_hash: str, full_name: str) -> dict:
    try:
        return db.fetch_one(
            f"insert into app.users (email, password_hash, full_name) values (%s, %s, %s) "
            f"returning {PUBLIC}",
            (email, password_hash, full_name),
        )
    except UniqueViolation as exc:
        raise EmailTaken(email) from exc


def by_email(db: Pool, email: str) -> dict | None:
    return db.fetch_one(
        f"select {PUBLIC}, password_hash from app.users where lower(email) = lower(%s)", (email,)
    )


def by_id(db: Pool, user_id: int) -> dict | None:
    return db.fetch_one(f"select {PUBLIC} from app.users where id = %s", (user_id,))


def by_api_key(db: Pool, key: str) -> dict | None:
    return db.fetch_one(
        f"select {PUBLIC} from app.users where api_key_hash = %s", (api_key_digest(key),)
    )


def update_profile(db: Pool, user_id: int, changes: dict) -> dict:
    allowed = {"full_name", "notification_preferences", "subscription_tier"}
    sets = {k: v for k, v in changes.items() if k in allowed}
    if "notification_preferences" in sets:
        sets["notification_preferences"] = json.dumps(sets["notification_preferences"])
    if not sets:
        return by_id(db, user_id)
    assignments = ", ".join(f"{col} = %({col})s" for col in sets)
    return db.fetch_one(
        f"update app.users set {assignments}, updated_at = now() where id = %(id)s "
        f"returning {PUBLIC}",
        {**sets, "id": user_id},
    )


def set_api_key(db: Pool, user_id: int, key: str) -> None:
    db.fetch_one(
        "update app.users set api_key_hash = %s, updated_at = now() where id = %s returning id",
        (api_key_digest(key), user_id),
    )


def revoke(db: Pool, jti: str, user_id: int, token_type: str, expires_at: dt.datetime) -> None:
    db.fetch_one(
        "insert into app.revoked_tokens (jti, user_id, token_type, expires_at) "
        "values (%s, %s, %s, %s) on conflict (jti) do nothing returning jti",
        (jti, user_id, token_type, expires_at),
    )


def is_revoked(db: Pool, jti: str) -> bool:
    return (
        db.fetch_one("select 1 as found from app.revoked_tokens where jti = %s", (jti,)) is not None
    )
