"""Operational plumbing: rate limits, Prometheus metrics, JSON access logs, CORS.

* Rate limits per caller: a user (JWT identity or API key) gets
  ``API_RATE_LIMIT_USER`` (1000/hour), anyone else ``API_RATE_LIMIT_ANON`` (100/hour)
  per IP. Storage is in memory (per process) unless ``API_RATE_LIMIT_STORAGE`` names a
  Redis URL, which a multi-worker deployment needs for exact limits.
* ``/metrics``: request counts and latency by endpoint and status (per worker process).
* Every response carries ``X-Request-ID`` (the caller's, or a new one) and is logged as
  one JSON line.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import time
import uuid

from flask import Flask, Response, g, request
from flask_cors import CORS
from flask_jwt_extended import get_jwt_identity, verify_jwt_in_request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

log = logging.getLogger("stockmind_api.access")


def caller_key() -> str:
    """Who is asking: an API key, a JWT identity, or else the client address."""
    key = request.headers.get("X-API-Key")
    if key:
        return "key:" + hashlib.sha256(key.encode()).hexdigest()[:32]
    try:
        if verify_jwt_in_request(optional=True):
            return f"user:{get_jwt_identity()}"
    except Exception:  # an invalid token is the view's business (401), not the limiter's
        pass
    return "ip:" + (get_remote_address() or "unknown")


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


def init_operations(app: Flask) -> Limiter:
    config = app.config
    if config["ACCESS_LOG"]:
        _logs_to_stderr()
    CORS(app, resources={r"/api/*": {"origins": config["CORS_ORIGINS"]}})

    def limit_for_caller() -> str:
        anonymous = caller_key().startswith("ip:")
        return config["RATE_LIMIT_ANON"] if anonymous else config["RATE_LIMIT_USER"]

    limiter = Limiter(
        key_func=caller_key,
        app=app,
        application_limits=[limit_for_caller],  # one budget across all routes
        storage_uri=config["RATE_LIMIT_STORAGE"],
        headers_enabled=True,
        enabled=config["RATE_LIMIT_ENABLED"],
    )

    registry = CollectorRegistry()
    app.extensions["metrics"] = registry
    requests = Counter(
        "stockmind_api_requests_total",
        "HTTP requests",
        ["method", "endpoint", "status"],
        registry=registry,
    )
    latency = Histogram(
        "stockmind_api_request_seconds",
        "Request latency",
        ["method", "endpoint"],
        registry=registry,
        buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
    )

    @app.before_request
    def start_timer():
        g.started = time.perf_counter()
        g.request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex

    @app.after_request
    def record(response: Response) -> Response:
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        requests.labels(request.method, endpoint, str(response.status_code)).inc()
        latency.labels(request.method, endpoint).observe(elapsed)
        response.headers["X-Request-ID"] = g.get("request_id", "")
        log.info(
            json.dumps(
                {
                    "request_id": g.get("request_id"),
                    "method": request.method,
                    "path": request.path,
                    "endpoint": endpoint,
                    "status": response.status_code,
                    "duration_ms": round(elapsed * 1000, 2),
                    "remote": request.remote_addr,
                }
            )
        )
        return response

    @app.route("/metrics")
    @limiter.exempt
    def metrics():
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)

    return limiter
