"""Request ids and the JSON access log.

Every response carries ``X-Request-ID`` (the caller's, or a new one) and, with
``API_ACCESS_LOG`` on, is logged as one JSON line on stderr (gunicorn's own access log
would be a duplicate). The start time kept here is also what ``metrics`` times.

The line costs ~6 µs written straight to the stream of the handler this module gave the
logger, against ~20 µs through ``logging`` (a record, the caller's frame, the formatter)
— measured, docs/benchmarks.md. Anyone who configures the logger otherwise (handlers of
their own, a level) gets the full ``logging`` path.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid

from flask import Flask, Response, g, request

log = logging.getLogger("stockmind_api.access")


class _AccessHandler(logging.StreamHandler):
    """The access logger's own handler (format ``%(message)s``), recognised by type."""


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
            cls = _AccessHandler if name == log.name else logging.StreamHandler
            handler = cls(sys.stderr)
            handler.setFormatter(logging.Formatter(fmt))
            logger.addHandler(handler)
            logger.setLevel(logging.INFO)
            logger.propagate = False


def endpoint_label() -> str:
    """The matched route's rule (bounded cardinality), or ``unmatched``."""
    return request.url_rule.rule if request.url_rule else "unmatched"


def elapsed_seconds() -> float:
    return time.perf_counter() - g.get("started", time.perf_counter())


def _write_line(line: str) -> None:
    """``log.info(line)``, without a LogRecord when the only handler is ours: the same
    bytes, under the handler's lock, flushed as ``StreamHandler.emit`` does (a failed
    write goes through ``logging``, which reports it and never raises)."""
    handlers = log.handlers
    own = len(handlers) == 1 and type(handlers[0]) is _AccessHandler
    if not own or log.filters or handlers[0].filters or handlers[0].level > logging.INFO:
        log.info(line)
    elif log.isEnabledFor(logging.INFO):
        handler = handlers[0]
        try:
            with handler.lock:
                handler.stream.write(line + handler.terminator)
                handler.stream.flush()
        except Exception:
            log.info(line)


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
            _write_line(json.dumps(entry))
        return response
