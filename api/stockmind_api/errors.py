"""One JSON envelope for every response, errors included (404/405, validation, …)."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException


def success(data: Any, message: str = "OK") -> dict:
    return {"data": data, "message": message, "status": "success", "success": True}


def success_json(data_json: str, message: str = "OK") -> Response:
    """The success envelope around JSON that is already rendered (by PostgreSQL)."""
    rest = json.dumps({"message": message, "status": "success", "success": True})
    return Response(f'{{"data": {data_json}, {rest[1:]}', mimetype="application/json")


def error_body(code: int, message: str, errors: dict | None = None) -> dict:
    return {
        "data": None,
        "message": message,
        "status": "error",
        "errors": errors or {},
        "success": False,
        "code": code,
    }


def _flatten(messages: Any) -> dict[str, list[str]]:
    """webargs nests errors by location ({"query": {"pageSize": [...]}}): flatten."""
    if not isinstance(messages, dict):
        return {"_": [str(messages)]}
    flat: dict[str, list[str]] = {}
    for key, value in messages.items():
        if key in ("query", "json", "path", "form", "headers") and isinstance(value, dict):
            flat.update(_flatten(value))
        else:
            flat[key] = value if isinstance(value, list) else [str(value)]
    return flat


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        data = getattr(exc, "data", None) or {}
        errors = _flatten(data.get("messages")) if data.get("messages") else data.get("errors")
        message = data.get("message") or exc.description or exc.name
        if exc.code == 422 and errors and message.startswith("The request was well-formed"):
            message = "Invalid request parameters"
        if exc.code == 429:
            message = f"rate limit exceeded: {exc.description}"
        response = jsonify(error_body(exc.code or 500, message, errors))
        response.status_code = exc.code or 500
        if exc.code == 429:  # Flask-Limiter adds Retry-After; say it in the body too
            response.headers.setdefault("Retry-After", "60")
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):  # a bug: log it, answer in the envelope
        app.logger.exception("unhandled error")
        response = jsonify(error_body(500, "Internal server error"))
        response.status_code = 500
        return response
