"""The environment every process of the local platform runs with: ports, secrets, one
AIRFLOW_HOME, the local Redis's URL.

Airflow is configured only through environment variables built here, so the CLI, the
processes and the tests agree on one AIRFLOW_HOME, one metadata database and one DAG
folder; the REST API gets its port and its rate-limit storage (the local Redis) the same
way. Ports are chosen once per STOCKMIND_HOME and kept in ``ports.json``.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

from stockmind.db import local_dsn, sqlalchemy_url, warehouse_dsn, with_database
from stockmind.platform.celery_workers import celery_env
from stockmind.platform.postgres_cluster import free_port
from stockmind.settings import Settings, state_secret

ADMIN_USER = "admin"


#: Ports Airflow's processes listen on, with the defaults tried first.
PORT_DEFAULTS = {
    "api": 8080,
    "log_server": 8793,
    "health": 8974,
    "docs": 8081,
    "rest": 8000,
    "redis": 6379,
    "mlflow": 5000,
    "model": 5001,
}


def airflow_ports(settings: Settings) -> dict[str, int]:
    """Free ports chosen once per STOCKMIND_HOME (two checkouts can run side by side);
    a port a newer version added is chosen without moving the others."""
    path = settings.airflow_home / "ports.json"
    known = json.loads(path.read_text()) if path.exists() else {}
    if set(PORT_DEFAULTS) <= set(known):
        return known
    preferred = dict(
        PORT_DEFAULTS,
        api=int(os.environ.get("STOCKMIND_AIRFLOW_PORT", "8080")),
        rest=int(os.environ.get("API_PORT", "8000")),
        mlflow=int(os.environ.get("MLFLOW_PORT", "5000")),
    )
    ports: dict[str, int] = {k: v for k, v in known.items() if k in PORT_DEFAULTS}
    for name, port in preferred.items():
        if name in ports:
            continue
        chosen = free_port(port)
        while chosen in ports.values():
            chosen = free_port(0)
        ports[name] = chosen
    settings.airflow_home.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(ports))
    return ports


def airflow_port(settings: Settings) -> int:
    return airflow_ports(settings)["api"]


def redis_url(settings: Settings, db: int = 0) -> str:
    """The local Redis of ``make up`` (password in a 0600 file under the local state):
    database 0 holds the API's counters, 1 is the Celery broker's."""
    password = state_secret(settings.home / "redis" / "password")
    return f"redis://:{password}@127.0.0.1:{airflow_ports(settings)['redis']}/{db}"


def admin_password(settings: Settings) -> str:
    """The UI password, kept in the file Airflow's simple auth manager reads."""
    path = settings.airflow_home / "passwords.json"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({ADMIN_USER: secrets.token_urlsafe(12)}) + "\n")
        path.chmod(0o600)
    return json.loads(path.read_text())[ADMIN_USER]


def sibling_database(settings: Settings, name: str, override: str) -> str:
    """A SQLAlchemy URL for database ``name`` beside the warehouse (the local cluster, or
    the server of ``DATABASE_URL``), unless the variable ``override`` names one."""
    explicit = os.environ.get(override)
    if explicit:
        return explicit
    if settings.database_url:
        return sqlalchemy_url(with_database(warehouse_dsn(settings), name))
    return sqlalchemy_url(local_dsn(settings, name))


def airflow_metadata_dsn(settings: Settings) -> str:
    return sibling_database(settings, "airflow", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN")


def mlflow_store_uri(settings: Settings) -> str:
    """MLflow's backend store: the ``mlflow`` database (the registry needs a database)."""
    return sibling_database(settings, "mlflow", "MLFLOW_BACKEND_STORE_URI")


def mlflow_url(settings: Settings) -> str:
    return f"http://127.0.0.1:{airflow_ports(settings)['mlflow']}"


def airflow_env(settings: Settings, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment every Airflow process of this project runs with."""
    env = dict(os.environ if base is None else base)
    home = settings.airflow_home
    home.mkdir(parents=True, exist_ok=True)
    ports = airflow_ports(settings)
    port = ports["api"]
    admin_password(settings)
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "STOCKMIND_ROOT": str(settings.root),
            "STOCKMIND_HOME": str(settings.home),
            "DATABASE_URL": warehouse_dsn(settings),
            "AIRFLOW_CONN_STOCKMIND_WAREHOUSE": warehouse_dsn(settings),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": airflow_metadata_dsn(settings),
            # tasks cannot see the one above (Airflow 3 blocks it); maintenance's
            # `airflow db clean` can (stockmind.maintenance.clean_airflow_metadata)
            "STOCKMIND_AIRFLOW_DB_URL": airflow_metadata_dsn(settings),
            "AIRFLOW__CORE__DAGS_FOLDER": str(settings.root / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(settings.root / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__PARALLELISM": env.get("AIRFLOW__CORE__PARALLELISM", "4"),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__HOST": settings.bind_host,
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
            "AIRFLOW__API_AUTH__JWT_SECRET": state_secret(home / "jwt_secret"),
            "AIRFLOW__CORE__FERNET_KEY": env.get("AIRFLOW__CORE__FERNET_KEY")
            or state_secret(
                home / "fernet_key", lambda: base64.urlsafe_b64encode(os.urandom(32)).decode()
            ),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "True",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(ports["health"]),
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST": settings.bind_host,
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(ports["log_server"]),
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
            "DO_NOT_TRACK": "true",
            "MLFLOW_DISABLE_TELEMETRY": "true",
            "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
            # the REST API: its port (its own origins for CORS) and its counters' storage
            "API_PORT": str(ports["rest"]),
            "API_RATE_LIMIT_STORAGE": env.get("API_RATE_LIMIT_STORAGE") or redis_url(settings),
            # every run (CLI, DAG tasks) logs to the platform's tracking server
            "MLFLOW_TRACKING_URI": env.get("MLFLOW_TRACKING_URI") or mlflow_url(settings),
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",  # ~0.5 GB instead of ~2 GB
        }
    )
    env.update(celery_env(settings, env, redis_url(settings, 1), airflow_metadata_dsn(settings)))
    bin_dir = str(Path(sys.executable).parent)
    if not env.get("PATH", "").startswith(bin_dir):
        env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    return env


def airflow_bin() -> str:
    return str(Path(sys.executable).parent / "airflow")


def run_airflow(settings: Settings, args: list[str], check: bool = True, **kw):
    return subprocess.run([airflow_bin(), *args], env=airflow_env(settings), check=check, **kw)
