"""Operational plumbing: Prometheus metrics, JSON access logs, CORS (rate limits:
``ratelimit.py``).

* ``/metrics``: request counts and latency by endpoint and status (per worker process),
  for the addresses in ``API_METRICS_ALLOW`` (loopback by default) or a scraper sending
  ``Authorization: Bearer <API_METRICS_TOKEN>``; anyone else gets 403.
* CORS: only the origins in ``API_CORS_ORIGINS`` (default: the API's own), never a
  reflection of whatever ``Origin`` a caller sends.
* Every response carries ``X-Request-ID`` (the caller's, or a new one) and is logged as
  one JSON line.
"""

from __future__ import annotations

import hmac
import json
import logging
import sys
import time
import uuid

from flask import Flask, Response, g, request
from flask_cors import CORS
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from werkzeug.exceptions import Forbidden

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


def init_operations(app: Flask) -> None:
    config = app.config
    if config["ACCESS_LOG"]:
        _logs_to_stderr()
    CORS(
        app,
        resources={r"/api/*": {"origins": config["CORS_ORIGINS"]}},
        expose_headers=["X-Request-ID", "Retry-After", "X-RateLimit-Remaining"],
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
    def metrics():
        token = config["METRICS_TOKEN"]
        presented = request.headers.get("Authorization", "")
        by_token = bool(token) and hmac.compare_digest(presented, f"Bearer {token}")
        if not by_token and request.remote_addr not in config["METRICS_ALLOW"]:
            raise Forbidden("metrics are for the configured scrapers (API_METRICS_ALLOW/TOKEN)")
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
