"""``make up`` / ``make down``: bring the whole local platform up, or take it down.

Up is idempotent: a running cluster or service is left as it is, migrations that are
applied are skipped, sample history already in the warehouse is not loaded again, and the
first backfill only fills runs that are missing or failed.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable

from stockmind import migrate, queues
from stockmind.db import connect, create_database, redact, warehouse_dsn, with_database
from stockmind.platform.airflow_client import AirflowAPIError, AirflowClient
from stockmind.platform.celery_workers import worker_services
from stockmind.platform.environment import (
    ADMIN_USER,
    admin_password,
    airflow_env,
    airflow_port,
    airflow_ports,
    mlflow_url,
    run_airflow,
)
from stockmind.platform.first_forecast import first_forecast, serve_model
from stockmind.platform.first_news import first_news
from stockmind.platform.postgres_cluster import LocalCluster
from stockmind.platform.processes import (
    LATE_SERVICES,
    service_pid,
    services,
    start_service,
    stop_service,
)
from stockmind.platform.sample_history import load_history
from stockmind.settings import Settings

PRICE_DAG = "ingest_prices_daily"
TRANSFORM_DAG = "transform_market"
QUOTES_DAG = "poll_quotes"
SCORE_DAG = "score_forecaster"  # train_forecaster stays paused: weekly retraining is opt-in
NEWS_DAG = "ingest_news"
MAINTENANCE_DAG = "maintain_warehouse"  # its quality checks judge the loaded history: last
DAGS = (PRICE_DAG, "refresh_symbols", TRANSFORM_DAG)


def _client(settings: Settings) -> AirflowClient:
    url = f"http://127.0.0.1:{airflow_port(settings)}"
    return AirflowClient(url, ADMIN_USER, admin_password(settings))


def wait_for_runs(client: AirflowClient, dag_id: str, timeout: float, say) -> dict[str, int]:
    """Poll until no run of ``dag_id`` is queued or running; returns counts by state."""
    deadline = time.monotonic() + timeout
    counts: dict[str, int] = {}
    last = ""
    while time.monotonic() < deadline:
        runs = client.dag_runs(dag_id)
        counts = {}
        for run in runs:
            counts[run["state"]] = counts.get(run["state"], 0) + 1
        line = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
        if line != last:
            say(f"  {dag_id}: {line}")
            last = line
        if runs and not counts.get("queued") and not counts.get("running"):
            return counts
        time.sleep(3)
    return counts


def warehouse_summary(dsn: str) -> dict:
    conn = connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "select count(distinct symbol), count(*), min(trade_date), max(trade_date) "
                "from raw.prices_daily"
            )
            symbols, rows, first, last = cur.fetchone()
            cur.execute("select count(*) from raw.rejected_rows")
            (rejected,) = cur.fetchone()
            cur.execute("select to_regclass('marts.fct_indicators_daily') is not null")
            indicators = 0
            if cur.fetchone()[0]:
                cur.execute("select count(*) from marts.fct_indicators_daily")
                (indicators,) = cur.fetchone()
    finally:
        conn.close()
    return {
        "symbols": symbols,
        "rows": rows,
        "first": first,
        "last": last,
        "rejected": rejected,
        "indicators": indicators,
    }


def bars_without_indicators(dsn: str) -> int:
    """Daily bars the indicator mart has not computed yet (all of them before dbt's first run)."""
    query = "select count(*) from raw.prices_daily p"
    conn = connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("select to_regclass('marts.fct_indicators_daily') is not null")
            if cur.fetchone()[0]:
                query += (
                    " where not exists (select 1 from marts.fct_indicators_daily i"
                    " where i.symbol = p.symbol and i.trade_date = p.trade_date)"
                )
            cur.execute(query)
            return cur.fetchone()[0]
    finally:
        conn.close()


def up(
    settings: Settings,
    backfill_days: int = 30,
    history_years: int = 3,
    say: Callable[[str], None] = print,
    forecasts: bool = True,
) -> dict:
    started = time.monotonic()
    if not settings.database_url:
        port = LocalCluster(settings).up()
        say(f"PostgreSQL: project-local cluster on 127.0.0.1:{port} ({settings.pg_dir})")
    dsn = warehouse_dsn(settings)
    if settings.database_url and not os.environ.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"):
        for name in ("airflow", "mlflow"):  # beside the warehouse, as on the local cluster
            create_database(with_database(dsn, "postgres"), name, exist_ok=True)
    say(f"Warehouse schema: revision {migrate.upgrade(dsn)}")
    say("Airflow metadata: airflow db migrate …")
    run_airflow(settings, ["db", "migrate"], capture_output=True, text=True)
    for name in services(settings):
        if name not in LATE_SERVICES:
            say(f"{name}: pid {start_service(settings, name)}")
    today = dt.date.today()
    start = today - dt.timedelta(days=backfill_days)
    # while Airflow boots: history straight into the warehouse, before any DAG runs
    history = load_history(settings, dsn, history_years, start)
    say(f"History: {history['line']}")
    client = _client(settings)
    client.wait_healthy(("metadatabase", "scheduler", "dag_processor"))
    for dag_id in DAGS:
        client.wait_dag(dag_id)
        client.unpause(dag_id)
    # Let the scheduler create its own run for the latest interval before the backfill
    # asks for the same logical dates (both at once race on the unique logical date).
    client.wait_for_any_run(PRICE_DAG)
    try:
        client.create_backfill(PRICE_DAG, f"{start}T00:00:00Z", f"{today}T00:00:00Z")
        say(f"Backfill {PRICE_DAG}: {start} .. {today} (sample source, offline)")
    except AirflowAPIError as exc:  # one already running, or nothing left to fill
        say(f"Backfill not created: {exc}")
    counts = wait_for_runs(client, PRICE_DAG, timeout=900, say=say)
    # the price asset events schedule dbt; wait until it has caught up with the last one
    client.wait_for_any_run(TRANSFORM_DAG, timeout=120)
    transform = wait_for_runs(client, TRANSFORM_DAG, timeout=900, say=say)
    if history["written"] and bars_without_indicators(dsn):
        # history added to a warehouse whose recent days were all loaded: no price run
        # announced it, so ask dbt directly (its incremental model takes the late bars)
        say(f"{TRANSFORM_DAG}: triggered for the history")
        client.trigger(TRANSFORM_DAG)
        transform = wait_for_runs(client, TRANSFORM_DAG, timeout=900, say=say)
    forecast, serving = "skipped (--no-forecast)", "not started (--no-forecast)"
    if forecasts:
        forecast, alias = first_forecast(settings, dsn, say)
        serving = serve_model(settings, alias, say) if alias else "no model to serve"
    say(f"Forecaster: {forecast}")
    news = first_news(settings, dsn, mlflow_url(settings) if forecasts else None, say)
    say(f"News: {news}")
    # the minute poll last: it would compete with the backfill for the scheduler
    for dag_id in (SCORE_DAG, NEWS_DAG, QUOTES_DAG, MAINTENANCE_DAG):  # on their schedules
        client.wait_dag(dag_id)
        client.unpause(dag_id)
    summary = warehouse_summary(dsn)
    report = {
        "seconds": round(time.monotonic() - started),
        "airflow_url": client.base_url,
        "user": ADMIN_USER,
        "password": admin_password(settings),
        "warehouse": redact(dsn),
        "runs": counts,
        "transform_runs": transform,
        "docs_url": f"http://127.0.0.1:{airflow_ports(settings)['docs']}",
        "api_url": f"http://127.0.0.1:{airflow_ports(settings)['rest']}/api",
        "page_url": f"http://127.0.0.1:{airflow_ports(settings)['rest']}/",
        "ws_url": f"ws://127.0.0.1:{airflow_ports(settings)['rest']}/ws/market",
        "limits": redact(airflow_env(settings)["API_RATE_LIMIT_STORAGE"]),
        "mlflow_url": mlflow_url(settings),
        "forecast": forecast,
        "serving": serving,
        "news": news,
        "polls_always": settings.polls_always(),
        "history": history["line"],
        "executor": executor_line(settings),
        **summary,
    }
    say(render(report))
    for dag_id, states in ((PRICE_DAG, counts), (TRANSFORM_DAG, transform)):
        if states.get("failed"):
            raise RuntimeError(
                f"{states['failed']} runs of {dag_id} failed: see the Airflow UI or "
                f"{settings.airflow_home / 'logs'}"
            )
    return report


def executor_line(settings: Settings) -> str:
    workers = worker_services(settings)
    if not workers:
        return "LocalExecutor (STOCKMIND_EXECUTOR=celery: Celery workers)"
    return (
        f"CeleryExecutor: {len(workers)} workers ({', '.join(workers)}) on queues "
        f"{', '.join(queues.ALL)}; broker: the local Redis"
    )


def render(r: dict) -> str:
    runs = ", ".join(f"{n} {s}" for s, n in sorted(r["runs"].items())) or "none yet"
    dbt_runs = ", ".join(f"{n} {s}" for s, n in sorted(r["transform_runs"].items())) or "none yet"
    hours = "around the clock" if r["polls_always"] else "in NYSE sessions"
    return f"""
StockMind is up ({r["seconds"]} s).
  Market page   {r["page_url"]}   (live chart, scanner, forecast, news)
  Airflow UI    {r["airflow_url"]}   user {r["user"]}   password {r["password"]}
  Warehouse     {r["warehouse"]}   (full DSN: .venv/bin/stockmind db url)
  Prices        {r["symbols"]} symbols, {r["rows"]} rows, {r["first"]} .. {r["last"]}
                ({r["rejected"]} rows quarantined in raw.rejected_rows)
  History       {r["history"]}
  Indicators    {r["indicators"]} rows in marts.fct_indicators_daily
  DAG runs      {PRICE_DAG}: {runs}; {TRANSFORM_DAG}: {dbt_runs}
  Executor      {r["executor"]}
  dbt docs      {r["docs_url"]}   (lineage of every model)
  REST API      {r["api_url"]}   (OpenAPI: /api/openapi.json, docs: /api/docs)
  Live quotes   {r["ws_url"]}   ({QUOTES_DAG} every minute, {hours})
  Rate limits   {r["limits"]}   (one budget per caller across the API's workers)
  MLflow        {r["mlflow_url"]}   (runs, the registry: stockmind-forecaster, stockmind-sentiment)
  Forecaster    {r["forecast"]}
  Model server  {r["serving"]}
  News          {r["news"]}
                ({NEWS_DAG} every 30 minutes; /api/market/news|sentiment/<symbol>)
  Airflow CLI   .venv/bin/stockmind airflow dags list
  Stop          make down
"""


def down(settings: Settings, say: Callable[[str], None] = print) -> None:
    for name in reversed(services(settings, started_before=True)):
        if stop_service(settings, name):
            say(f"{name}: stopped")
    if not settings.database_url and LocalCluster(settings).stop():
        say("PostgreSQL: stopped")
    say("StockMind is down.")


def status(settings: Settings) -> dict[str, str]:
    out = {
        name: f"running (pid {pid})" if (pid := service_pid(settings, name)) else "stopped"
        for name in services(settings, started_before=True)
    }
    if settings.database_url:
        out["postgresql"] = f"external: {redact(warehouse_dsn(settings))}"
    else:
        cluster = LocalCluster(settings)
        out["postgresql"] = f"running on port {cluster.port()}" if cluster.running() else "stopped"
    return out
