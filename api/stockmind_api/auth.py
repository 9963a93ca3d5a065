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
from marshmallow import ValidationError, fields, validate, validates_schema
from stockmind.passwords import hash_password, verify_password

from stockmind_api import users
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
    CamelSchema,
    EmailAddress,
    PatchSchema,
    dotted_domain,
    envelope,
)
from stockmind_api.security import auth_required, current_user

blp = Blueprint("auth", __name__, url_prefix="/api/auth", description="Accounts and tokens")


PASSWORD_MIN_CHARS = 10  # spaces not counted
PASSWORD_MIN_DISTINCT = 6


def check_password_strength(password: str, email: str = "") -> None:
    """Raise a ``ValidationError`` naming every rule ``password`` breaks.

    Letters and digits are recognized in every script (``ÄÖÜäöü1234!x`` passes); length
    and variety are counted without spaces, so padding (``"        Aa1!"``) does not
    make a password long, and leading/trailing spaces (lost by many forms) are refused."""
    visible = [char for char in password if not char.isspace()]
    rules = (
        (password == password.strip(), "not start or end with a space"),
        (
            len(visible) >= PASSWORD_MIN_CHARS,
            f"have at least {PASSWORD_MIN_CHARS} characters besides spaces",
        ),
        (
            len(set(visible)) >= PASSWORD_MIN_DISTINCT,
            f"use at least {PASSWORD_MIN_DISTINCT} different characters",
        ),
        (any(char.islower() for char in password), "contain a lower-case letter"),
        (any(char.isupper() for char in password), "contain an upper-case letter"),
        (any(char.isdecimal() for char in password), "contain a digit"),
    )
    problems = [rule for ok, rule in rules if not ok]
    local = email.split("@")[0].casefold()
    if len(local) >= 4 and local in password.casefold():
        problems.append("not contain your e-mail name")
    if problems:
        raise ValidationError("password must " + "; ".join(problems), "password")


class RegisterSchema(CamelSchema):
    email = EmailAddress(
        required=True,
        validate=[validate.Length(max=254), dotted_domain],
        metadata={"description": "NFKC-normalized and trimmed; a dotted domain, no IP literal"},
    )
    password = fields.String(
        required=True,
        load_only=True,
        validate=validate.Length(max=128),
        metadata={
            "description": f"At least {PASSWORD_MIN_CHARS} characters besides spaces, "
            f"{PASSWORD_MIN_DISTINCT} different ones, a lower-case and an upper-case letter "
            "and a digit (any script); no leading or trailing space; not the e-mail's name"
        },
    )
    full_name = fields.String(required=True, validate=validate.Length(min=1, max=200))

    @validates_schema
    def strong(self, data, **kwargs):
        check_password_strength(data.get("password", ""), data.get("email", ""))


class LoginSchema(CamelSchema):
    email = EmailAddress(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, load_only=True)


class NotificationPreferencesSchema(CamelSchema):
    """The known notification switches; any other key is a 422 (bounded profile data).

    Stored as sent, camelCase keys in ``app.users.notification_preferences`` as before
    this schema existed: each field's attribute is its wire key."""

    price_alerts = fields.Boolean()
    daily_digest = fields.Boolean()
    news_alerts = fields.Boolean()
    prediction_updates = fields.Boolean()
    weekly_report = fields.Boolean()

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        super().on_bind_field(field_name, field_obj)
        field_obj.attribute = field_obj.data_key


class UserSchema(CamelSchema):
    id = fields.Integer()
    email = fields.String()
    full_name = fields.String()
    notification_preferences = fields.Nested(NotificationPreferencesSchema)
    subscription_tier = fields.String()
    created_at = fields.DateTime()


class ProfilePatchSchema(PatchSchema):
    full_name = fields.String(validate=validate.Length(min=1, max=200))
    notification_preferences = fields.Nested(NotificationPreferencesSchema)
    # no subscription_tier: it sets rate limits, so only an operator changes it


class TokensSchema(CamelSchema):
    access_token = fields.String()
    refresh_token = fields.String()
    user = fields.Nested(UserSchema)


class ApiKeySchema(CamelSchema):
    api_key = fields.String()


class LogoutSchema(CamelSchema):
    refresh_token = fields.String(
        validate=validate.Length(max=4096),
        metadata={"description": "also end the session of this refresh token (optional)"},
    )


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
