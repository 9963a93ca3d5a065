"""``/api/auth``: register, login, refresh (rotating), logout (revoking), profile, API key."""

from __future__ import annotations

import datetime as dt
import re
import secrets

from flask import request
from flask_jwt_extended import create_access_token, create_refresh_token, get_jwt
from flask_smorest import Blueprint, abort
from marshmallow import ValidationError, fields, validate, validates_schema
from stockmind.passwords import hash_password, verify_password

from stockmind_api import users
from stockmind_api.database import db
from stockmind_api.errors import success
from stockmind_api.schemas import CamelSchema, envelope
from stockmind_api.security import auth_required, current_user

blp = Blueprint("auth", __name__, url_prefix="/api/auth", description="Accounts and tokens")
TIERS = ("basic", "premium", "pro")


def check_password_strength(password: str, email: str = "") -> None:
    problems = []
    if len(password) < 10:
        problems.append("at least 10 characters")
    for pattern, what in (
        ("[a-z]", "a lower-case letter"),
        ("[A-Z]", "an upper-case letter"),
        ("[0-9]", "a digit"),
    ):
        if not re.search(pattern, password):
            problems.append(what)
    local = email.split("@")[0].lower()
    if len(local) >= 4 and local in password.lower():
        problems.append("not your e-mail name")
    if problems:
        raise ValidationError("password needs " + ", ".join(problems), "password")


class RegisterSchema(CamelSchema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=128))
    full_name = fields.String(required=True, validate=validate.Length(min=1, max=200))

    @validates_schema
    def strong(self, data, **kwargs):
        check_password_strength(data.get("password", ""), data.get("email", ""))


class LoginSchema(CamelSchema):
    email = fields.Email(required=True)
    password = fields.String(required=True, load_only=True)


class UserSchema(CamelSchema):
    id = fields.Integer()
    email = fields.String()
    full_name = fields.String()
    notification_preferences = fields.Dict()
    subscription_tier = fields.String()
    created_at = fields.DateTime()


class ProfilePatchSchema(CamelSchema):
    full_name = fields.String(validate=validate.Length(min=1, max=200))
    notification_preferences = fields.Dict(keys=fields.String(), values=fields.Boolean())
    subscription_tier = fields.String(validate=validate.OneOf(TIERS))


class TokensSchema(CamelSchema):
    access_token = fields.String()
    refresh_token = fields.String()
    user = fields.Nested(UserSchema)


class ApiKeySchema(CamelSchema):
    api_key = fields.String()


def _tokens(user: dict) -> dict:
    identity = str(user["id"])
    return {
        "access_token": create_access_token(identity=identity),
        "refresh_token": create_refresh_token(identity=identity),
        "user": user,
    }


def _revoke_current() -> None:
    claims = get_jwt()
    expires = dt.datetime.fromtimestamp(claims["exp"], dt.UTC)
    users.revoke(db(), claims["jti"], int(claims["sub"]), claims["type"], expires)


@blp.route("/register", methods=["POST"])
@blp.arguments(RegisterSchema)
@blp.response(201, envelope(TokensSchema))
def register(body):
    """Create an account (strong password, valid e-mail) and sign it in."""
    try:
        user = users.create_user(
            db(), body["email"], hash_password(body["password"]), body["full_name"]
        )
    except users.EmailTaken:
        abort(409, message="an account with this e-mail exists", errors={"email": ["taken"]})
    return success(_tokens(user), "registered")


@blp.route("/login", methods=["POST"])
@blp.arguments(LoginSchema)
@blp.response(200, envelope(TokensSchema))
def login(body):
    """Access token (15 min) and refresh token (7 days)."""
    found = users.by_email(db(), body["email"])
    if found is None or not verify_password(body["password"], found.pop("password_hash")):
        abort(401, message="wrong e-mail or password")
    return success(_tokens(found), "signed in")


@blp.route("/refresh", methods=["POST"])
@auth_required(refresh=True)
@blp.response(200, envelope(TokensSchema))
def refresh():
    """New token pair for a refresh token, which is revoked (rotation: single use)."""
    _revoke_current()
    return success(_tokens(current_user()), "refreshed")


@blp.route("/logout", methods=["POST"])
@auth_required()
@blp.response(200, envelope(UserSchema))
def logout():
    """Revoke the access token used for this call (API keys stay valid: regenerate them)."""
    if not request.headers.get("X-API-Key"):
        _revoke_current()
    return success(current_user(), "signed out")


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
    """Change name, notification preferences or subscription tier."""
    return success(users.update_profile(db(), current_user()["id"], body), "profile updated")


@blp.route("/api-key", methods=["POST"])
@auth_required()
@blp.response(201, envelope(ApiKeySchema))
def regenerate_api_key():
    """A new API key (shown once; the previous one stops working). Send it as X-API-Key."""
    key = "smk_" + secrets.token_urlsafe(32)
    users.set_api_key(db(), current_user()["id"], key)
    return success({"api_key": key}, "API key created")
