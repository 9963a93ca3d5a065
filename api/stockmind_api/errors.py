"""One JSON envelope for every response, errors included (404/405, validation, …)."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, Response, jsonify
from psycopg2.errors import UndefinedTable
from werkzeug.exceptions import HTTPException

from stockmind_api.parsing import OPTIONAL_JSON


def success(data: Any, message: str = "OK") -> dict:
    return {"data": data, "message": message, "status": "success", "success": True}


_SUCCESS_TAIL = ', "status": "success", "success": true}'  # as json.dumps writes them


def success_json(data_json: str, message: str = "OK") -> Response:
    """The success envelope around JSON that is already rendered (by PostgreSQL)."""
    body = f'{{"data": {data_json}, "message": {json.dumps(message)}{_SUCCESS_TAIL}'
    return Response(body, mimetype="application/json")


def error_body(code: int, message: str, errors: dict | None = None) -> dict:
    return {
        "data": None,
        "message": message,
        "status": "error",
        "errors": errors or {},
        "success": False,
        "code": code,
    }


LOCATIONS = ("query", "json", OPTIONAL_JSON, "path", "form", "headers")
# werkzeug's own headers of an error that describe its HTML body, not our JSON one
BODY_HEADERS = {"content-type", "content-length"}


def _flatten(messages: Any) -> dict[str, list[str]]:
    """webargs nests errors by location ({"query": {"pageSize": [...]}}): flatten."""
    if not isinstance(messages, dict):
        return {"_": [str(messages)]}
    flat: dict[str, list[str]] = {}
    for key, value in messages.items():
        if key in LOCATIONS and isinstance(value, dict):
            flat.update(_flatten(value))
        else:
            flat[key] = value if isinstance(value, list) else [str(value)]
    return flat


def _keep_headers(response: Response, exc: HTTPException) -> None:
    """The exception's headers (405's Allow, 401's WWW-Authenticate, Retry-After, webargs'
    error headers) belong on the JSON response too; only its body's type and length don't."""
    data = getattr(exc, "data", None) or {}
    headers = list(exc.get_headers()) + list((data.get("headers") or {}).items())
    for name, value in headers:
        if name.lower() not in BODY_HEADERS:
            response.headers.add(name, value)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        data = getattr(exc, "data", None) or {}
        errors = _flatten(data.get("messages")) if data.get("messages") else data.get("errors")
        message = data.get("message") or exc.description or exc.name
        if exc.code == 422 and errors and message.startswith("The request was well-formed"):
            message = "Invalid request parameters"
        if exc.code == 413 and app.config.get("MAX_CONTENT_LENGTH"):
            message = f"request body too large (at most {app.config['MAX_CONTENT_LENGTH']} bytes)"
        response = jsonify(error_body(exc.code or 500, message, errors))
        response.status_code = exc.code or 500
        _keep_headers(response, exc)
        return response  # (a 429 has its own handlers, with retry data: ratelimit.py)

    @app.errorhandler(UndefinedTable)
    def not_built_yet(exc: UndefinedTable):
        """The API reads dbt's marts: before dbt's first build (a fresh warehouse) they do
        not exist. That is a state of the platform, not a bug: 503, saying what to do.
        Any other missing relation (the API's own ``app`` tables) is a bug: 500."""
        missing = exc.diag.message_primary or ""
        if '"marts.' not in missing:
            return unexpected(exc)
        app.logger.warning("a mart is missing: %s", missing)
        message = (
            "the warehouse's marts are not built yet: run dbt (the transform_market DAG, "
            "or `stockmind dbt build`) and retry"
        )
        response = jsonify(error_body(503, message))
        response.status_code = 503
        response.headers["Retry-After"] = "60"
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):  # a bug: log it, answer in the envelope
        app.logger.exception("unhandled error")
        response = jsonify(error_body(500, "Internal server error"))
        response.status_code = 500
        return response
