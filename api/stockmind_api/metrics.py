"""Prometheus metrics at ``/metrics``, summed over every gunicorn worker.

Who may read them: the addresses in ``API_METRICS_ALLOW`` (loopback by default) or a
scraper sending ``Authorization: Bearer <API_METRICS_TOKEN>``; anyone else gets 403.

Why multiprocess: gunicorn runs several workers, each with its own memory, and a
per-process registry made totals jump between scrapes depending on which worker
answered. Under gunicorn ``PROMETHEUS_MULTIPROC_DIR`` is set (by ``gunicorn_conf``, to a
private directory when the operator set none): each worker writes its meters to files
there and ``/metrics``, whichever worker answers, serves prometheus_client's
``MultiProcessCollector`` sum of them. Without it (the Flask test client, one process)
the same meters live in a plain per-app registry.

Two kinds of figures, see :class:`Metrics`:

* meters this process counts (summed over workers): ``stockmind_api_requests_total``
  {method, endpoint, status} and ``stockmind_api_request_seconds`` {method, endpoint}
  (histogram), here; the WebSocket hub's ``stockmind_ws_clients`` (live sum),
  ``stockmind_ws_listener_up`` {pid}, ``stockmind_ws_delivered_total``,
  ``stockmind_ws_dropped_total``, ``stockmind_ws_reconnects_total``
  (``realtime.connections.HubMetrics``);
* collectors that read shared state at scrape time: the warehouse's DAG-run, freshness
  and data-quality figures (``warehouse_metrics``).
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Callable, Iterable, Sequence

from flask import Flask, Response, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    values,
)
from prometheus_client.multiprocess import MultiProcessCollector
from werkzeug.exceptions import Forbidden

from stockmind_api.access_log import elapsed_seconds, endpoint_label
from stockmind_api.warehouse_metrics import WarehouseMetrics

log = logging.getLogger("stockmind_api.metrics")
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


class Metrics:
    """The app's metrics: meters (this process counts them; under gunicorn they are
    written to ``PROMETHEUS_MULTIPROC_DIR`` and summed over workers) and collectors read
    at scrape time (:meth:`register`). ``app.extensions["metrics"]``."""

    def __init__(self) -> None:
        directory = os.environ.get(MULTIPROC_ENV) or None
        # prometheus_client chose its value store at import: files only if the variable
        # was set by then (gunicorn_conf sees to it); else keep the in-process registry
        self.multiprocess = bool(directory) and values.ValueClass is not values.MutexValue
        self.registry = CollectorRegistry()
        if self.multiprocess:
            MultiProcessCollector(self.registry, path=directory)
        self._meters = None if self.multiprocess else self.registry
        self._refreshers: list[Callable[[], None]] = []

    def counter(self, name: str, doc: str, labels: Sequence[str] = ()) -> Counter:
        return Counter(name, doc, labels, registry=self._meters)

    def histogram(
        self, name: str, doc: str, labels: Sequence[str], buckets: Iterable[float]
    ) -> Histogram:
        return Histogram(name, doc, labels, registry=self._meters, buckets=tuple(buckets))

    def gauge(self, name: str, doc: str, mode: str, labels: Sequence[str] = ()) -> Gauge:
        """``mode``: how workers' values combine (``livesum``, ``liveall`` …)."""
        return Gauge(name, doc, labels, registry=self._meters, multiprocess_mode=mode)

    def register(self, collector) -> None:
        """A collector read at scrape time by the answering worker: for shared state
        (the warehouse), never for one process's own figures (use the meters)."""
        self.registry.register(collector)

    def before_scrape(self, refresh: Callable[[], None]) -> None:
        """Bring this process's meters up to date just before a scrape."""
        self._refreshers.append(refresh)

    def exposition(self) -> bytes:
        for refresh in self._refreshers:
            try:
                refresh()
            except Exception:  # a stale figure beats a failed scrape
                log.exception("refreshing metrics before a scrape failed")
        return generate_latest(self.registry)


def init_metrics(app: Flask) -> None:
    config = app.config
    metrics = Metrics()
    app.extensions["metrics"] = metrics
    requests = metrics.counter(
        "stockmind_api_requests", "HTTP requests", ["method", "endpoint", "status"]
    )
    latency = metrics.histogram(
        "stockmind_api_request_seconds",
        "Request latency",
        ["method", "endpoint"],
        buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
    )
    metrics.register(WarehouseMetrics(app.extensions["db"]))

    @app.after_request
    def record(response: Response) -> Response:
        endpoint = endpoint_label()
        requests.labels(request.method, endpoint, str(response.status_code)).inc()
        latency.labels(request.method, endpoint).observe(elapsed_seconds())
        return response

    @app.route("/metrics", endpoint="metrics")  # the name ratelimit exempts
    def metrics_view():
        token = config["METRICS_TOKEN"]
        presented = request.headers.get("Authorization", "")
        by_token = bool(token) and hmac.compare_digest(presented, f"Bearer {token}")
        if not by_token and request.remote_addr not in config["METRICS_ALLOW"]:
            raise Forbidden("metrics are for the configured scrapers (API_METRICS_ALLOW/TOKEN)")
        return Response(metrics.exposition(), mimetype=CONTENT_TYPE_LATEST)
