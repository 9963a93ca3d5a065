"""Prometheus metrics: request counts and latency by endpoint and status (per worker
process), served at ``/metrics`` to the addresses in ``API_METRICS_ALLOW`` (loopback by
default) or a scraper sending ``Authorization: Bearer <API_METRICS_TOKEN>``; anyone else
gets 403. The real-time hub's figures join the same registry (``realtime.connections``).
"""

from __future__ import annotations

import hmac

from flask import Flask, Response, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from werkzeug.exceptions import Forbidden

from stockmind_api.access_log import elapsed_seconds, endpoint_label


def init_metrics(app: Flask) -> None:
    config = app.config
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

    @app.after_request
    def record(response: Response) -> Response:
        endpoint = endpoint_label()
        requests.labels(request.method, endpoint, str(response.status_code)).inc()
        latency.labels(request.method, endpoint).observe(elapsed_seconds())
        return response

    @app.route("/metrics")
    def metrics():
        token = config["METRICS_TOKEN"]
        presented = request.headers.get("Authorization", "")
        by_token = bool(token) and hmac.compare_digest(presented, f"Bearer {token}")
        if not by_token and request.remote_addr not in config["METRICS_ALLOW"]:
            raise Forbidden("metrics are for the configured scrapers (API_METRICS_ALLOW/TOKEN)")
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
