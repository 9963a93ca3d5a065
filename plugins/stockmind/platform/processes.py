"""Process supervision for the local platform (``make up``): start, find and stop each
service in its own process group, with a pid file and a log under ``.local``.

The services are redis (rate-limit counters and WebSocket caps shared by every gunicorn
worker), Airflow's api-server, scheduler and dag-processor, a static server for the dbt
docs, and the REST API (gunicorn). ``down`` stops them by process group.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from stockmind.platform.celery_workers import (
    PREFIX,
    worker_command,
    worker_env,
    worker_services,
)
from stockmind.platform.environment import (
    airflow_bin,
    airflow_env,
    airflow_ports,
    mlflow_store_uri,
)
from stockmind.settings import Settings, state_secret

SERVICES = (
    "redis", "mlflow", "api-server", "scheduler", "dag-processor", "dbt-docs", "rest-api",
    "model-server",
)  # fmt: skip
#: started by ``up`` only once a model is registered, and only when it fits (first_forecast)
LATE_SERVICES = ("model-server",)


def services(settings: Settings, started_before: bool = False) -> tuple[str, ...]:
    """Every service of this configuration in start order: with the CeleryExecutor, the
    workers after the scheduler. ``started_before`` adds workers of an earlier
    configuration that left a pid file (``down`` and ``status`` find them)."""
    cut = SERVICES.index("dag-processor") + 1
    workers = set(worker_services(settings))
    run = settings.home / "run"
    if started_before and run.exists():  # another STOCKMIND_EXECUTOR / _CELERY_WORKERS
        workers |= {p.stem for p in run.glob(f"{PREFIX}*.pid") if "." not in p.stem}
    ordered = tuple(sorted(workers, key=lambda n: int(n.removeprefix(PREFIX))))
    return SERVICES[:cut] + ordered + SERVICES[cut:]


def redis_command(settings: Settings) -> list[str]:
    """Debian's redis-server on loopback with a password and no persistence (counters
    and caps are short-lived: a restart forgets them, which is safe)."""
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(binary).exists():
        raise RuntimeError(
            "redis-server not found: install Debian's redis-server (make up does this as "
            "root), or set API_RATE_LIMIT_STORAGE to an existing Redis"
        )
    home = settings.home / "redis"
    home.mkdir(parents=True, exist_ok=True)
    conf = home / "redis.conf"
    conf.write_text(
        f"port {airflow_ports(settings)['redis']}\nbind {settings.bind_host}\nprotected-mode yes\n"
        f'requirepass {state_secret(home / "password")}\nsave ""\nappendonly no\n'
        f"dir {home}\ndaemonize no\n"
    )
    conf.chmod(0o600)
    return [binary, str(conf)]


# -- services -------------------------------------------------------------------------
def _pid_file(settings: Settings, name: str) -> Path:
    return settings.home / "run" / f"{name}.pid"


def service_pid(settings: Settings, name: str) -> int | None:
    path = _pid_file(settings, name)
    if not path.exists():
        return None
    pid = int(path.read_text())
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        path.unlink(missing_ok=True)
        return None
    return pid


def service_command(settings: Settings, name: str) -> list[str]:
    """Airflow components by name; ``dbt-docs`` serves the generated dbt docs site."""
    if name == "dbt-docs":
        target = settings.root / "dbt" / "target"
        target.mkdir(parents=True, exist_ok=True)
        port = str(airflow_ports(settings)["docs"])
        host = settings.bind_host
        return [sys.executable, "-m", "http.server", port, "--bind", host, "-d", str(target)]
    if name == "rest-api":
        return api_command(f"{settings.bind_host}:{airflow_ports(settings)['rest']}")
    if name == "redis":
        return redis_command(settings)
    if name == "mlflow":
        return mlflow_command(settings)
    if name == "model-server":
        alias = os.environ.get("STOCKMIND_SERVE_ALIAS", "champion")
        return model_server_command(alias, airflow_ports(settings)["model"], settings.bind_host)
    if name.startswith(PREFIX):
        return worker_command(settings, name, airflow_bin())
    if name == "scheduler" and settings.loopback_only():
        # the log server binds every interface and has no host setting: with loopback only,
        # the api-server reads the task logs from the shared log folder itself
        return [airflow_bin(), name, "--skip-serve-logs"]
    return [airflow_bin(), name]


def mlflow_command(settings: Settings) -> list[str]:
    """MLflow's tracking server and model registry, sized for a 2-core machine: one
    worker and no job runner (measured ~0.5 GB; the defaults start ~8 processes, ~2 GB).
    Runs, the registry and aliases live in the ``mlflow`` database; artifacts (models)
    under ``.local/mlartifacts`` (git-ignored), or in an object store when
    ``MLFLOW_ARTIFACTS_DESTINATION`` names one (``s3://bucket/path``), served by the
    server itself either way (clients see ``mlflow-artifacts:``)."""
    artifacts = os.environ.get("MLFLOW_ARTIFACTS_DESTINATION") or settings.home / "mlartifacts"
    if not str(artifacts).startswith(("s3://", "gs://", "wasbs://", "hdfs://")):
        Path(artifacts).mkdir(parents=True, exist_ok=True)
    return [
        str(Path(sys.executable).parent / "mlflow"), "server",
        "--backend-store-uri", mlflow_store_uri(settings),
        "--artifacts-destination", str(artifacts),
        "--host", settings.bind_host, "--port", str(airflow_ports(settings)["mlflow"]),
        "--workers", "1",
    ]  # fmt: skip


def model_server_command(alias: str, port: int, host: str = "127.0.0.1") -> list[str]:
    """``mlflow models serve`` of ``models:/stockmind-forecaster@<alias>`` (REST
    ``/invocations``): the project's own environment (``--env-manager local``, so the
    venv's ``bin`` must be on PATH — ``airflow_env`` puts it there), one worker."""
    return [
        str(Path(sys.executable).parent / "mlflow"), "models", "serve",
        "-m", f"models:/stockmind-forecaster@{alias}",
        "--env-manager", "local", "-h", host, "-p", str(port), "-w", "1",
    ]  # fmt: skip


def api_command(bind: str, workers: int | None = None, threads: int | None = None) -> list[str]:
    """gunicorn serving the Flask API (gthread: threads share each worker's DB pool; its
    own errors, such as an over-long request line, answer in the JSON envelope).

    Sizing (``API_WORKERS`` × ``API_THREADS``, default 2 × 64): threads serve HTTP
    requests only. A WebSocket holds a thread just for its handshake; after it, each
    worker's reactor thread serves all its sockets (``stockmind_api.realtime.reactor``), so open
    sockets never take threads from HTTP (1,000 measured on the default 2 × 64,
    docs/benchmarks.md). The app writes its own JSON access log to stderr (gunicorn's
    would be a duplicate). ``--config`` is the API's gunicorn file, given by path (it must
    run before ``prometheus_client`` is imported): ``/metrics`` then sums every worker's
    figures, in ``PROMETHEUS_MULTIPROC_DIR`` or a private directory it makes."""
    from stockmind.settings import DEFAULT_ROOT

    workers = workers or int(os.environ.get("API_WORKERS", "2"))
    threads = threads or int(os.environ.get("API_THREADS", "64"))
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    return [
        gunicorn,
        "--config",
        str(DEFAULT_ROOT / "api" / "stockmind_api" / "gunicorn_conf.py"),
        "--bind",
        bind,
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--worker-class",  # gthread, with its own error pages in the API's JSON envelope
        "stockmind_api.server.EnvelopeThreadWorker",
        "--graceful-timeout",
        "5",
        "stockmind_api:create_app()",
    ]


def start_service(settings: Settings, name: str) -> int:
    """Start a service in its own process group (no-op when running)."""
    pid = service_pid(settings, name)
    if pid:
        return pid
    logs = settings.home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    _pid_file(settings, name).parent.mkdir(parents=True, exist_ok=True)
    with (logs / f"{name}.log").open("ab") as log:
        proc = subprocess.Popen(
            service_command(settings, name),
            env=airflow_env(settings) | (worker_env(name) if name.startswith(PREFIX) else {}),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    _pid_file(settings, name).write_text(str(proc.pid))
    return proc.pid


def stop_service(settings: Settings, name: str, timeout: float = 30) -> bool:
    pid = service_pid(settings, name)
    if not pid:
        return False
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.3)
    else:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
    _pid_file(settings, name).unlink(missing_ok=True)
    return True
