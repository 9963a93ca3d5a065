"""Test fixtures on a real PostgreSQL: throwaway databases on the project-local cluster.

``pytest_configure`` runs before any test module imports Airflow: it starts the local
cluster (or uses the server of DATABASE_URL), creates one throwaway Airflow metadata
database for the session and points Airflow at it and at a temporary AIRFLOW_HOME.
Each warehouse test gets a fresh database with the migrations applied, dropped after.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import psycopg2
import pytest

ROOT = Path(__file__).resolve().parent.parent
SESSION = uuid.uuid4().hex[:8]
_state: dict[str, str] = {}


def _server_dsn() -> str:
    from stockmind.db import local_dsn, normalize_dsn, with_database
    from stockmind.platform.postgres_cluster import LocalCluster
    from stockmind.settings import get_settings

    settings = get_settings()
    if settings.database_url:
        return with_database(normalize_dsn(settings.database_url), "postgres")
    cluster = LocalCluster(settings)
    if not cluster.running():
        _state["started_cluster"] = "yes"  # leave it as we found it
    cluster.up()
    return local_dsn(settings, "postgres")


def create_database(name: str) -> str:
    from stockmind.db import create_database as create

    return create(_state["server"], name)


def drop_database(name: str) -> None:
    from stockmind.db import drop_database as drop

    drop(_state["server"], name)


def pytest_configure(config) -> None:
    os.environ.setdefault("DO_NOT_TRACK", "true")
    _state["server"] = _server_dsn()
    from stockmind.db import sqlalchemy_url

    home = Path(tempfile.mkdtemp(prefix=f"stockmind-airflow-{SESSION}-"))
    _state["airflow_home"] = str(home)
    _state["airflow_db"] = f"airflow_test_{SESSION}"
    airflow_dsn = create_database(_state["airflow_db"])
    os.environ.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": sqlalchemy_url(airflow_dsn),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        }
    )


def pytest_unconfigure(config) -> None:
    if "airflow.settings" in sys.modules:  # close Airflow's pooled connections first
        sys.modules["airflow.settings"].dispose_orm()
    if "server" in _state:
        drop_database(_state["airflow_db"])
        shutil.rmtree(_state["airflow_home"], ignore_errors=True)
    if _state.get("started_cluster"):
        from stockmind.platform.postgres_cluster import LocalCluster
        from stockmind.settings import get_settings

        LocalCluster(get_settings()).stop()


@pytest.fixture(scope="session")
def airflow_db() -> str:
    """The session's Airflow metadata database, migrated (only DAG-running tests pay)."""
    airflow = str(Path(sys.executable).parent / "airflow")
    subprocess.run([airflow, "db", "migrate"], check=True, capture_output=True, env=os.environ)
    return os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]


@pytest.fixture
def empty_db():
    """A fresh, empty database (no migrations) — for migration tests."""
    name = f"stockmind_test_{uuid.uuid4().hex[:10]}"
    dsn = create_database(name)
    yield dsn
    drop_database(name)


@pytest.fixture(scope="module")
def module_warehouse():
    """A migrated throwaway warehouse shared by one test module (costly dbt builds)."""
    from stockmind import migrate

    name = f"stockmind_test_{uuid.uuid4().hex[:10]}"
    dsn = create_database(name)
    migrate.upgrade(dsn)
    yield dsn
    drop_database(name)


def run_dbt(dsn: str, *args: str) -> str:
    """``stockmind dbt <args>`` on ``dsn``; returns the output, fails the test on error."""
    stockmind = str(Path(sys.executable).parent / "stockmind")
    env = {**os.environ, "DATABASE_URL": dsn, "DBT_USE_COLORS": "false"}
    proc = subprocess.run([stockmind, "dbt", *args], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    return proc.stdout


@pytest.fixture
def warehouse(empty_db, monkeypatch):
    """A migrated throwaway warehouse; DATABASE_URL points at it for the test."""
    from stockmind import migrate

    migrate.upgrade(empty_db)
    monkeypatch.setenv("DATABASE_URL", empty_db)
    return empty_db


@pytest.fixture
def db(warehouse):
    conn = psycopg2.connect(warehouse)
    conn.autocommit = True
    yield conn
    conn.close()


def shared_data_dir() -> Path | None:
    """../shared/data (or STOCKMIND_SHARED_DATA) when present."""
    candidates = [os.environ.get("STOCKMIND_SHARED_DATA"), ROOT.parent / "shared" / "data"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "prices").is_dir():
            return Path(candidate)
    return None


@pytest.fixture
def shared_data() -> Path:
    found = shared_data_dir()
    if found is None:
        pytest.skip("shared data absent: set STOCKMIND_SHARED_DATA or place ../shared/data")
    return found


def table_digest(conn, table: str, order_by: str) -> tuple[int, str, str]:
    """(row count, md5 of every row's text, md5 of the row versions' xmin) of a table.

    Equal digests before and after a re-run mean identical contents *and* no row was
    rewritten (a no-op update would give the row a new xmin).
    """
    with conn.cursor() as cur:
        cur.execute(
            f"select count(*), md5(coalesce(string_agg(t::text, '|' order by {order_by}), '')),"
            f" md5(coalesce(string_agg(t.xmin::text, '|' order by {order_by}), ''))"
            f" from {table} t"
        )
        return cur.fetchone()


def read_frame(dsn: str, query: str):
    """A query's result as a DataFrame (through SQLAlchemy, as pandas wants)."""
    import pandas as pd
    from sqlalchemy import create_engine
    from stockmind.db import sqlalchemy_url

    engine = create_engine(sqlalchemy_url(dsn))
    try:
        return pd.read_sql(query, engine)
    finally:
        engine.dispose()


#: The role the API's contract tests connect as: it may read the marts and the minute-quote
#: cache and work in the API's own ``app`` schema — nothing else (docs/architecture.md).
API_READER = "stockmind_api_reader"
API_READER_PASSWORD = "api-reader-only-marts"


def api_reader_dsn(dsn: str) -> str:
    """``dsn`` as the API's least-privilege role: a query naming another relation (a raw
    table, a staging view) fails with "permission denied", so the suites run with it
    prove that the API reads only its contract. Grants are per database: call it after
    dbt has built the marts."""
    from urllib.parse import quote, urlsplit, urlunsplit

    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("select 1 from pg_roles where rolname = %s", (API_READER,))
            if cur.fetchone() is None:
                cur.execute(f"create role {API_READER} login password %s", (API_READER_PASSWORD,))
            cur.execute(
                f"""
                grant connect on database {conn.info.dbname} to {API_READER};
                grant usage on schema marts, app, raw, ops to {API_READER};
                grant select on all tables in schema marts to {API_READER};
                grant select on all tables in schema ops to {API_READER};
                grant select, insert, update, delete on all tables in schema app
                    to {API_READER};
                grant usage, select on all sequences in schema app to {API_READER};
                grant select on raw.quotes_minute to {API_READER};
                """
            )
    finally:
        conn.close()
    parts = urlsplit(dsn)
    netloc = f"{API_READER}:{quote(API_READER_PASSWORD)}@{parts.netloc.rsplit('@', 1)[-1]}"
    return urlunsplit(parts._replace(netloc=netloc))


@contextmanager
def live_api(dsn: str, workers: int = 1, **env: str):
    """The real API under gunicorn (the ``make up`` command) on a free port; yields its
    base URL. ``env`` adds settings (``WS_QUEUE_SIZE="16"`` …)."""
    import urllib.request

    from stockmind.platform.postgres_cluster import free_port
    from stockmind.platform.processes import api_command

    port = free_port(18500)
    full_env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "API_RATE_LIMIT_ENABLED": "false",
        "API_JWT_SECRET": "test-secret-" + "x" * 32,
        **env,
    }
    log = tempfile.NamedTemporaryFile(prefix="stockmind-api-", suffix=".log", delete=False)  # noqa: SIM115
    server = subprocess.Popen(
        api_command(f"127.0.0.1:{port}", workers=workers, threads=64),
        env=full_env,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(base + "/api/health", timeout=2).read()
                break
            except OSError:
                if server.poll() is not None:
                    raise RuntimeError(Path(log.name).read_text()[-3000:]) from None
                time.sleep(0.25)
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)  # open WebSockets hold workers up to --graceful-timeout
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A real Redis started the way ``make up`` starts it (the platform's command)."""
    from stockmind.platform.environment import redis_url
    from stockmind.platform.processes import redis_command
    from stockmind.settings import Settings

    settings = Settings(home=tmp_path_factory.mktemp("redis-home"))
    server = subprocess.Popen(
        redis_command(settings), stdout=subprocess.DEVNULL, start_new_session=True
    )
    url = redis_url(settings)
    import redis

    client = redis.Redis.from_url(url)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield url
    client.close()
    server.terminate()
    server.wait(timeout=10)


def load_sample(dsn: str, symbols: list[str], start, end, profiles: bool = False) -> dict:
    """Sample-source daily bars (and profiles) into ``dsn`` through the real ingestion."""
    from stockmind.ingest import ingest_prices
    from stockmind.profiles import refresh_profiles
    from stockmind.providers.sample import SampleProvider

    provider = SampleProvider()
    summary = ingest_prices(symbols, start, end, provider, dsn=dsn, progress=lambda m: None)
    if profiles:
        refresh_profiles(symbols, provider, dsn=dsn)
    return summary
