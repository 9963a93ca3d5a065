"""``/api/auth``: register, login, refresh (rotating), logout (revoking), profile, API key."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid

from flask import current_app, request
from flask_jwt_extended import (
    create_access_token,
    create_refresh_token,
    decode_token,
    get_jwt,
    verify_jwt_in_request,
)
from flask_smorest import abort
from stockmind.passwords import hash_password, verify_password

from stockmind_api.auth import queries as users
from stockmind_api.auth.schemas import (
    ApiKeySchema,
    LoginSchema,
    LogoutSchema,
    ProfilePatchSchema,
    RegisterSchema,
    TokensSchema,
    UserSchema,
)
from stockmind_api.database import db
from stockmind_api.errors import success
from stockmind_api.parsing import Blueprint
from stockmind_api.ratelimit import (
    check_login_lock,
    clear_login_failures,
    count_login_failure,
    throttle,
)
from stockmind_api.schemas import (
    envelope,
)
from stockmind_api.security import auth_required, current_user

blp = Blueprint("auth", __name__, url_prefix="/api/auth", description="Accounts and tokens")


# a login for an unknown e-mail checks its password against this, so that both answers
# take the time of one KDF run and the timing tells nobody which e-mails have accounts
DECOY_HASH = hash_password(secrets.token_urlsafe(16))


def _sign_in(user: dict) -> dict:
    """A new session and its first token pair."""
    session_id = str(uuid.uuid4())
    tokens, refresh_jti, expires = _token_pair(user["id"], session_id)
    users.start_session(db(), session_id, user["id"], refresh_jti, expires)
    return {**tokens, "user": user}


def _token_pair(user_id: int, session_id: str) -> tuple[dict, str, dt.datetime]:
    identity, refresh_jti = str(user_id), str(uuid.uuid4())
    expires = dt.datetime.now(dt.UTC) + current_app.config["JWT_REFRESH_TOKEN_EXPIRES"]
    claims = {"sid": session_id}
    tokens = {
        "access_token": create_access_token(identity=identity, additional_claims=claims),
        "refresh_token": create_refresh_token(
            identity=identity, additional_claims={**claims, "jti": refresh_jti}
        ),
    }
    return tokens, refresh_jti, expires


@blp.route("/register", methods=["POST"])
@blp.arguments(RegisterSchema)
@blp.response(201, envelope(TokensSchema))
def register(body):
    """Create an account (strong password, valid e-mail) and sign it in. A taken e-mail
    answers 409: registration necessarily reveals that an account exists (login does not)."""
    throttle("register", account=body["email"].lower())
    try:
        user = users.create_user(
            db(), body["email"], hash_password(body["password"]), body["full_name"]
        )
    except users.EmailTaken:
        abort(409, message="an account with this e-mail exists", errors={"email": ["taken"]})
    return success(_sign_in(user), "registered")


@blp.route("/login", methods=["POST"])
@blp.arguments(LoginSchema)
@blp.response(200, envelope(TokensSchema))
def login(body):
    """Access token (15 min) and refresh token (7 days) of a new session. Five failed
    logins lock the account for the rest of 15 minutes (429 with Retry-After)."""
    throttle("login")
    found = users.by_email(db(), body["email"])
    # the lock is the account's, as the database finds it: keyed on spellings, "vİctim"
    # (PostgreSQL's lower() folds İ to i, Python's does not) would get fresh guesses
    account = f"user:{found['id']}" if found else "email:" + body["email"].lower()
    check_login_lock(account)
    stored = found.pop("password_hash") if found else DECOY_HASH
    if not verify_password(body["password"], stored) or found is None:
        count_login_failure(account)
        abort(401, message="wrong e-mail or password")
    clear_login_failures(account)
    return success(_sign_in(found), "signed in")


@blp.route("/refresh", methods=["POST"])
@blp.response(200, envelope(TokensSchema))
def refresh():
    """A new token pair for the session's current refresh token, which stops working
    (rotation). Presenting a refresh token that was already rotated — a replay, or two
    clients racing with one token — revokes the whole session: sign in again."""
    throttle("refresh")
    verify_jwt_in_request(refresh=True)
    claims = get_jwt()
    user = users.by_id(db(), int(claims["sub"]))
    if user is None:
        abort(401, message="user no longer exists")
    throttle("refresh", account=str(user["id"]))
    tokens, refresh_jti, expires = _token_pair(user["id"], claims["sid"])
    if not users.rotate_refresh(db(), claims["sid"], claims["jti"], refresh_jti, expires):
        users.revoke_session(db(), claims["sid"], user["id"], "refresh token reuse")
        abort(
            401,
            message="refresh token already used: the session is revoked as a precaution; "
            "sign in again",
        )
    return success({**tokens, "user": user}, "refreshed")


@blp.route("/logout", methods=["POST"])
@auth_required()
@blp.arguments(LogoutSchema, required=False)
@blp.response(200, envelope(UserSchema))
def logout(body):
    """End the session of the access token used (its access and refresh tokens alike) and,
    if given, the session of ``refreshToken``. API keys stay valid: regenerate them."""
    user = current_user()
    if not request.headers.get("X-API-Key"):
        users.revoke_session(db(), get_jwt()["sid"], user["id"], "logout")
    token = (body or {}).get("refresh_token")
    if token:
        try:
            claims = decode_token(token, allow_expired=True)
        except Exception:
            claims = {}
        if claims.get("type") != "refresh" or claims.get("sub") != str(user["id"]):
            abort(422, message="not a refresh token of yours", errors={"refreshToken": ["invalid"]})
        users.revoke_session(db(), str(claims.get("sid")), user["id"], "logout")
    return success(user, "signed out")


@blp.route("/profile", methods=["GET"])
@auth_required()
@blp.response(200, envelope(UserSchema))
def profile():
    """The signed-in user."""
    return success(current_user(), "profile")


@blp.route("/profile", methods=["PATCH"])
@auth_required()
@blp.arguments(ProfilePatchSchema)
@blp.response(200, envelope(UserSchema))
def update_profile(body):
    """Change name or notification preferences (the subscription tier is set by an
    operator: ``stockmind users set-tier``)."""
    return success(users.update_profile(db(), current_user()["id"], body), "profile updated")


@blp.route("/api-key", methods=["POST"])
@auth_required(api_key=False)
@blp.response(201, envelope(ApiKeySchema))
def regenerate_api_key():
    """A new API key (shown once; the previous one stops working). Send it as X-API-Key.
    Needs a signed-in session: an API key cannot replace itself."""
    throttle("api-key", account=str(current_user()["id"]))
    key = "smk_" + secrets.token_urlsafe(32)
    users.set_api_key(db(), current_user()["id"], key)
    return success({"api_key": key}, "API key created")
