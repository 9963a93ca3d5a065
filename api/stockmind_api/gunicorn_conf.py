"""gunicorn settings of the API: Prometheus multiprocess mode for ``/metrics``.

``api_command`` passes ``--config <path of this file>`` (``make up``, ``stockmind api``
and the tests' ``live_api`` all start gunicorn through it). Loaded by *path*, never as
``stockmind_api.gunicorn_conf``: importing the package imports ``prometheus_client``,
which chooses between in-process and multiprocess values once, at import, from
``PROMETHEUS_MULTIPROC_DIR`` — this file has to set that variable first.

Why: each gunicorn worker is a process of its own, and a per-process registry made
``/metrics`` totals jump between scrapes depending on which worker answered. With
``PROMETHEUS_MULTIPROC_DIR`` set, every worker writes its meters to files there and
``/metrics`` (any worker) serves their sum (``stockmind_api.metrics``).

* ``PROMETHEUS_MULTIPROC_DIR`` set: that directory is used; it must belong to this one
  gunicorn (it is emptied at start). Unset: a private directory is made here, under
  ``$STOCKMIND_HOME/run`` when that exists (``make up``), else the system temp folder,
  and removed when gunicorn exits.
* ``on_starting`` empties it: a previous run's files would be added to this run's totals.
* ``child_exit`` calls ``mark_process_dead``: a dead worker's live gauges (its WebSocket
  clients) leave the sums; its counters stay, so totals never go backwards.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"
OWNED = "STOCKMIND_PRIVATE_METRICS_DIR"  # the private directory this gunicorn made


def _private_dir() -> str:
    run = Path(os.environ.get("STOCKMIND_HOME", "/nonexistent")) / "run"
    parent = str(run) if run.is_dir() else None
    return tempfile.mkdtemp(prefix="stockmind-metrics-", dir=parent)


if not os.environ.get(ENV):  # a reload (HUP) re-reads this file: the variable is set by then
    os.environ[ENV] = os.environ[OWNED] = _private_dir()


def on_starting(server) -> None:
    """Start from zero: no file of an earlier run counts toward this one."""
    directory = Path(os.environ[ENV])
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink(missing_ok=True)
    server.log.info("Prometheus multiprocess metrics in %s", directory)


def child_exit(server, worker) -> None:
    """A worker ended: its live gauges no longer count (its counters do)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, os.environ[ENV])


def on_exit(server) -> None:
    """Remove the private directory (one given by the operator is left alone)."""
    if os.environ.get(OWNED) and os.environ.get(OWNED) == os.environ.get(ENV):
        shutil.rmtree(os.environ[OWNED], ignore_errors=True)
