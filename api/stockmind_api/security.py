"""Authentication: JWTs (flask-jwt-extended) bound to sign-in sessions, or an API key.

A token is valid while its session (``sid`` claim, ``app.auth_sessions``) is live, so
logging out ends every token of the session at once. Who a request *proves* to be is
worked out once per request (``verified_caller``) and shared by the rate limiter, which
must never trust an identity it has not checked, and by ``auth_required``. Every JWT
failure answers in the API's error envelope with 401.
"""

from __future__ import annotations

from functools import wraps

from flask import Flask, g, jsonify, request
from flask_jwt_extended import JWTManager, get_jwt_identity, verify_jwt_in_request

from stockmind_api.auth import queries as users
from stockmind_api.database import db
from stockmind_api.errors import error_body

jwt = JWTManager()


def _unauthorized(message: str):
    response = jsonify(error_body(401, message))
    response.status_code = 401
    return response


def init_security(app: Flask) -> None:
    jwt.init_app(app)

    @jwt.token_in_blocklist_loader
    def revoked(_header, payload) -> bool:
        return not users.session_active(db(), payload)

    jwt.unauthorized_loader(lambda reason: _unauthorized(f"authentication required: {reason}"))
    jwt.invalid_token_loader(lambda reason: _unauthorized(f"invalid token: {reason}"))
    jwt.expired_token_loader(lambda _h, _p: _unauthorized("token has expired"))
    jwt.revoked_token_loader(lambda _h, _p: _unauthorized("token has been revoked"))
    jwt.user_lookup_error_loader(lambda _h, _p: _unauthorized("user no longer exists"))


def current_user() -> dict:
    return g.current_user


def _once(name: str, compute):
    """A per-request memo (the limiter and the view ask the same question)."""
    if name not in g:
        setattr(g, name, compute())
    return getattr(g, name)


def api_key_user() -> dict | None:
    key = request.headers.get("X-API-Key")
    if not key:
        return None
    return _once("api_key_user", lambda: users.by_api_key(db(), key))


def _token_user() -> dict | None:
    if "Authorization" not in request.headers:  # no token (JWT_TOKEN_LOCATION: headers)
        return None  # what verify_jwt_in_request(optional=True) says, ~15 µs sooner
    try:
        if not verify_jwt_in_request(optional=True):
            return None
    except Exception:  # invalid, expired, revoked, a refresh token: not an identity
        return None
    return users.by_id(db(), int(get_jwt_identity()))


def verified_caller() -> dict | None:
    """The user behind a valid API key or a live access token, else None; never raises.
    A junk key or token is no identity: such a caller counts as its address."""
    if request.headers.get("X-API-Key"):
        return api_key_user()
    return _once("token_user", _token_user)


def auth_required(refresh: bool = False, api_key: bool = True):
    """A live access token (a refresh token where asked), or an ``X-API-Key`` header
    unless ``api_key`` is False (operations that need a signed-in session)."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            pool = db()
            has_key = bool(request.headers.get("X-API-Key"))
            if has_key and not api_key and "Authorization" not in request.headers:
                return _unauthorized(
                    "an API key cannot do this: sign in and send the access token "
                    "(Authorization: Bearer …)"
                )
            if has_key and api_key and not refresh:
                user = api_key_user()
                if user is None:
                    return _unauthorized("invalid API key")
            elif not refresh and g.get("token_user"):
                user = g.token_user  # verified already this request (by the limiter)
            else:
                verify_jwt_in_request(refresh=refresh)
                user = users.by_id(pool, int(get_jwt_identity()))
                if user is None:
                    return _unauthorized("user no longer exists")
            g.current_user = user
            return view(*args, **kwargs)

        return wrapper

    return decorator
