"""Scale-out on Airflow's CeleryExecutor, run for real: the platform's own processes
(Redis as the broker, api-server, scheduler, dag-processor and two ``airflow celery
worker`` processes, started by the commands ``STOCKMIND_EXECUTOR=celery make up`` uses)
run the price ingestion and the dbt DAG. The tasks must have run on both workers, the dbt
task on its own queue, and the warehouse must equal what the LocalExecutor (``dag.test()``)
makes of the same runs.
"""

from __future__ import annotations

import uuid

import psycopg2
import pytest
from conftest import create_database, drop_database
from test_dags import run_dag

PRICE_DAG, TRANSFORM_DAG = "ingest_prices_daily", "transform_market"
STACK = ("redis", "api-server", "scheduler", "dag-processor")

pytestmark = pytest.mark.slow


def content_digests(dsn: str) -> dict[str, tuple[int, str]]:
    """(rows, md5) of every raw and marts table, over the columns that are data: load
    timestamps (``*_at``, timestamp types) differ between any two runs and are left out."""
    conn = psycopg2.connect(dsn)
    out = {}
    try:
        with conn.cursor() as cur:
            cur.execute(
                "select table_schema || '.' || table_name, string_agg(quote_ident(column_name),"
                " ', ' order by ordinal_position) from information_schema.columns"
                " where table_schema in ('raw', 'marts') and column_name not like '%%\\_at'"
                " and data_type not like 'timestamp%%' and not exists (select 1 from"
                " pg_inherits where inhrelid = (table_schema || '.' || table_name)::regclass)"
                " group by 1 order by 1"
            )
            for table, columns in cur.fetchall():
                cur.execute(
                    f"select count(*), md5(coalesce(string_agg(r, '|' order by r), ''))"
                    f" from (select ({columns})::text as r from {table}) t"
                )
                out[table] = cur.fetchone()
    finally:
        conn.close()
    return out


def task_instances(metadata_dsn: str) -> list[tuple]:
    conn = psycopg2.connect(metadata_dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "select dag_id, task_id, map_index, state, hostname, queue from task_instance"
                " where dag_id in (%s, %s) order by dag_id, task_id, map_index",
                (PRICE_DAG, TRANSFORM_DAG),
            )
            return cur.fetchall()
    finally:
        conn.close()


@pytest.fixture
def celery_platform(tmp_path, monkeypatch):
    """The Celery stack on a warehouse and an Airflow metadata database of its own."""
    from stockmind import migrate
    from stockmind.db import sqlalchemy_url
    from stockmind.platform.airflow_client import AirflowClient
    from stockmind.platform.environment import ADMIN_USER, admin_password, airflow_port, run_airflow
    from stockmind.platform.processes import services, start_service, stop_service
    from stockmind.settings import get_settings

    names = [f"stockmind_test_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    warehouse, metadata = (create_database(name) for name in names)
    migrate.upgrade(warehouse)
    # the stack's processes take their environment at start; the test process keeps its own
    with monkeypatch.context() as env:
        env.setenv("STOCKMIND_HOME", str(tmp_path / "home"))
        env.setenv("DATABASE_URL", warehouse)
        env.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", sqlalchemy_url(metadata))
        env.setenv("STOCKMIND_EXECUTOR", "celery")
        env.setenv("STOCKMIND_CELERY_WORKERS", "2")
        env.setenv("STOCKMIND_PRICE_SOURCE", "sample")
        env.setenv("STOCKMIND_BATCH_SIZE", "2")  # 16 sample symbols → 8 mapped tasks
        env.setenv("AIRFLOW__CELERY__WORKER_CONCURRENCY", "1")
        settings = get_settings()
        run_airflow(settings, ["db", "migrate"], capture_output=True, text=True)
        started = [name for name in services(settings) if name in STACK or "worker" in name]
        try:
            for name in started:
                start_service(settings, name)
        except Exception:
            for name in reversed(started):
                stop_service(settings, name)
            raise
    client = AirflowClient(
        f"http://127.0.0.1:{airflow_port(settings)}", ADMIN_USER, admin_password(settings)
    )
    try:
        yield settings, client, warehouse, metadata
    finally:
        for name in reversed(started):
            stop_service(settings, name)
        for name in names:
            drop_database(name)


def test_dags_run_on_two_celery_workers_and_equal_the_local_executor(
    celery_platform, airflow_db, warehouse, monkeypatch
):
    from stockmind.platform.bootstrap import wait_for_runs

    settings, client, celery_warehouse, metadata = celery_platform
    assert settings.executor == "celery"
    client.wait_healthy(("metadatabase", "scheduler", "dag_processor"))
    for dag_id in (TRANSFORM_DAG, PRICE_DAG):  # dbt first: the price run's asset schedules it
        client.wait_dag(dag_id)
        client.unpause(dag_id)
    client.wait_for_any_run(PRICE_DAG, timeout=120)
    log = []
    assert wait_for_runs(client, PRICE_DAG, 600, log.append) == {"success": 1}, log
    client.wait_for_any_run(TRANSFORM_DAG, timeout=120)
    assert wait_for_runs(client, TRANSFORM_DAG, 600, log.append) == {"success": 1}, log

    tis = task_instances(metadata)
    assert {state for *_, state, _, _ in tis} == {"success"}, tis
    loads = [ti for ti in tis if ti[1] == "load_batch"]
    assert len(loads) == 8
    workers = {hostname.split("@", 1)[0] for *_, hostname, _ in tis}
    assert workers == {"worker1", "worker2"}, tis  # both workers ran tasks
    queues = {task_id: queue for _, task_id, _, _, _, queue in tis}
    assert queues["dbt_build"] == queues["dbt_docs"] == "dbt"
    assert queues["plan_batches"] == "default"

    # the same run on the LocalExecutor (dag.test()) into another warehouse
    price_run = client.dag_runs(PRICE_DAG)[0]
    import pendulum

    monkeypatch.setenv("STOCKMIND_PRICE_SOURCE", "sample")
    monkeypatch.setenv("STOCKMIND_BATCH_SIZE", "2")
    # dag.test()'s interval ends at its logical date; the scheduler's run starts at it
    local = run_dag(PRICE_DAG, pendulum.parse(price_run["data_interval_end"]))
    assert local.state == "success"
    assert run_dag(TRANSFORM_DAG, None).state == "success"
    on_celery, on_local = content_digests(celery_warehouse), content_digests(warehouse)
    assert on_celery["raw.prices_daily"][0] > 0
    assert on_celery["marts.fct_indicators_daily"][0] > 0
    assert on_celery["raw.prices_daily"] == on_local["raw.prices_daily"]
    assert on_celery == on_local
