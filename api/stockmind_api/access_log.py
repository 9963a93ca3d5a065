"""Request ids and the JSON access log.

Every response carries ``X-Request-ID`` (the caller's, or a new one) and, with
``API_ACCESS_LOG`` on, is logged as one JSON line on stderr (gunicorn's own access log
would be a duplicate). The start time kept here is also what ``metrics`` times.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid

from flask import Flask, Response, g, request

log = logging.getLogger("stockmind_api.access")


def _logs_to_stderr() -> None:
    """Give the API's loggers a handler of their own: under gunicorn nothing else would
    print INFO lines. The access log is one JSON object per line (for a log shipper);
    the others (the real-time hub, WebSockets) say who is talking."""
    for name, fmt in (
        ("stockmind_api.access", "%(message)s"),
        ("stockmind_api", "%(asctime)s %(levelname)s %(name)s: %(message)s"),
    ):
        logger = logging.getLogger(name)
        if not logger.handlers:
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter(fmt))
            logger.addHandler(handler)
            logger.setLevel(logging.INFO)
            logger.propagate = False


def endpoint_label() -> str:
    """The matched route's rule (bounded cardinality), or ``unmatched``."""
    return request.url_rule.rule if request.url_rule else "unmatched"


def elapsed_seconds() -> float:
    return time.perf_counter() - g.get("started", time.perf_counter())


def init_access_log(app: Flask) -> None:
    enabled = app.config["ACCESS_LOG"]
    if enabled:
        _logs_to_stderr()

    @app.before_request
    def start_request():
        g.started = time.perf_counter()
        g.request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex

    @app.after_request
    def log_request(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id", "")
        if enabled:
            entry = {
                "request_id": g.get("request_id"),
                "method": request.method,
                "path": request.path,
                "endpoint": endpoint_label(),
                "status": response.status_code,
                "duration_ms": round(elapsed_seconds() * 1000, 2),
                "remote": request.remote_addr,
            }
            log.info(json.dumps(entry))
        return response
