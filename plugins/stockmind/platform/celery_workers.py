"""The local platform on Airflow's CeleryExecutor (``STOCKMIND_EXECUTOR=celery make up``).

The same DAGs, scheduler and api-server as the default; tasks go through the local Redis
(the one ``make up`` already runs for rate limits, database 1 here, 0 for the limits) to
``STOCKMIND_CELERY_WORKERS`` ``airflow celery worker`` processes (default 2), each serving
every queue in ``stockmind.queues``. Task results live in the Airflow metadata database.

On one machine the workers differ only by their Celery node name (``worker1@host`` …);
the task instances record the same name as their hostname (``hostname_callable``), so a
run's tasks show which worker ran them. The workers do not serve logs over HTTP: on one
machine the api-server reads every task log from the shared log folder (a deployment on
several machines runs each worker's log server, or remote logging).

This maps one to one onto compose: ``docker compose up --scale airflow-worker=N`` (see
docs/operations.md, "Scale workers").
"""

from __future__ import annotations

import os
import socket

from stockmind import queues
from stockmind.settings import Settings

PREFIX = "celery-worker-"
#: task processes per worker (each ~250 MB; 2 workers × 2 = the platform's parallelism)
DEFAULT_CONCURRENCY = "2"


def worker_services(settings: Settings) -> tuple[str, ...]:
    """The worker service names for this configuration (none on the LocalExecutor)."""
    if settings.executor != "celery":
        return ()
    return tuple(f"{PREFIX}{i}" for i in range(1, settings.celery_workers + 1))


def node_name(service: str) -> str:
    return f"worker{service.removeprefix(PREFIX)}"


def worker_command(settings: Settings, service: str, airflow: str) -> list[str]:
    """``airflow celery worker`` for one local worker: every queue, its own pid file (two
    workers on one machine would otherwise share Airflow's default one)."""
    pid_file = settings.home / "run" / f"{service}.celery.pid"
    return [
        airflow, "celery", "worker",
        "--celery-hostname", f"{node_name(service)}@%h",
        "--queues", ",".join(queues.ALL),
        "--pid", str(pid_file),
        "--skip-serve-logs",
        "--without-gossip", "--without-mingle",
    ]  # fmt: skip


def worker_env(service: str) -> dict[str, str]:
    """What differs between two local workers: the name their tasks record."""
    return {"STOCKMIND_WORKER_NAME": node_name(service)}


def celery_env(settings: Settings, env: dict[str, str], broker: str, metadata: str) -> dict:
    """Airflow's executor settings: Celery with ``broker`` and results in ``metadata`` (a
    SQLAlchemy URL), or the LocalExecutor (an explicit AIRFLOW__CORE__EXECUTOR wins)."""
    if settings.executor != "celery":
        return {"AIRFLOW__CORE__EXECUTOR": env.get("AIRFLOW__CORE__EXECUTOR", "LocalExecutor")}
    return {
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CELERY__BROKER_URL": env.get("AIRFLOW__CELERY__BROKER_URL") or broker,
        "AIRFLOW__CELERY__RESULT_BACKEND": env.get("AIRFLOW__CELERY__RESULT_BACKEND")
        or f"db+{metadata}",
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": env.get(
            "AIRFLOW__CELERY__WORKER_CONCURRENCY", DEFAULT_CONCURRENCY
        ),
        # one task at a time per free slot: queued tasks spread over the workers
        "AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER": "1",
        "AIRFLOW__CORE__HOSTNAME_CALLABLE": "stockmind.platform.celery_workers.hostname",
    }


def hostname() -> str:
    """Airflow's hostname for this process: the machine's, or the Celery node name of a
    local worker (``worker1@host``), so that task instances say which worker ran them."""
    host = socket.getfqdn()
    name = os.environ.get("STOCKMIND_WORKER_NAME")
    return f"{name}@{host}" if name else host
