"""Authentication: JWT (flask-jwt-extended) with a PostgreSQL blocklist, or an API key.

Every JWT failure answers in the API's error envelope with 401.
"""

from __future__ import annotations

from functools import wraps

from flask import Flask, current_app, g, jsonify, request
from flask_jwt_extended import JWTManager, get_jwt_identity, verify_jwt_in_request

from stockmind_api import users
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
        return users.is_revoked(current_app.extensions["db"], payload["jti"])

    jwt.unauthorized_loader(lambda reason: _unauthorized(f"authentication required: {reason}"))
    jwt.invalid_token_loader(lambda reason: _unauthorized(f"invalid token: {reason}"))
    jwt.expired_token_loader(lambda _h, _p: _unauthorized("token has expired"))
    jwt.revoked_token_loader(lambda _h, _p: _unauthorized("token has been revoked"))
    jwt.user_lookup_error_loader(lambda _h, _p: _unauthorized("user no longer exists"))


def current_user() -> dict:
    return g.current_user


def auth_required(refresh: bool = False):
    """A valid access token (or refresh token where asked), or an ``X-API-Key`` header."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            db = current_app.extensions["db"]
            key = request.headers.get("X-API-Key")
            if key and not refresh:
                user = users.by_api_key(db, key)
                if user is None:
                    return _unauthorized("invalid API key")
            else:
                verify_jwt_in_request(refresh=refresh)
                user = users.by_id(db, int(get_jwt_identity()))
                if user is None:
                    return _unauthorized("user no longer exists")
            g.current_user = user
            return view(*args, **kwargs)

        return wrapper

    return decorator
