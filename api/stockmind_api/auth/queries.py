"""SQL for users and their sign-in sessions (parameterized; ``app`` schema)."""

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
    # the subscription tier sets rate limits: only an operator changes it (stockmind users)
    allowed = {"full_name", "notification_preferences"}
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


# -- sign-in sessions (token families): see migration 0004 -----------------------------
def start_session(
    db: Pool, session_id: str, user_id: int, refresh_jti: str, expires_at: dt.datetime
) -> None:
    db.fetch_one(
        "insert into app.auth_sessions (id, user_id, refresh_jti, expires_at) "
        "values (%s, %s, %s, %s) returning id",
        (session_id, user_id, refresh_jti, expires_at),
    )


def session_active(db: Pool, claims: dict) -> bool:
    """Whether the token's session is live (tokens without one predate sessions: no)."""
    sid = claims.get("sid")
    if not isinstance(sid, str) or len(sid) != 36:
        return False
    row = db.fetch_one(
        "select 1 as live from app.auth_sessions "
        "where id = %s::uuid and revoked_at is null and expires_at > now()",
        (sid,),
    )
    return row is not None


def rotate_refresh(
    db: Pool, session_id: str, old_jti: str, new_jti: str, expires_at: dt.datetime
) -> bool:
    """Swap the session's refresh token; exactly one caller wins for a given ``old_jti``
    (the row lock serializes concurrent updates; later ones no longer match)."""
    row = db.fetch_one(
        "update app.auth_sessions set refresh_jti = %s, rotated_at = now(), expires_at = %s "
        "where id = %s::uuid and refresh_jti = %s and revoked_at is null returning id",
        (new_jti, expires_at, session_id, old_jti),
    )
    return row is not None


def revoke_session(db: Pool, session_id: str, user_id: int, reason: str) -> bool:
    """End a session of ``user_id`` (another user's session id changes nothing)."""
    row = db.fetch_one(
        "update app.auth_sessions set revoked_at = now(), revoked_reason = %s "
        "where id = %s::uuid and user_id = %s and revoked_at is null returning id",
        (reason, session_id, user_id),
    )
    return row is not None
