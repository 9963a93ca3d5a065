"""``/metrics``: the warehouse's figures — what the DAG runs did, how fresh the data is,
and the data-quality checks — read at scrape time.

Why at scrape time: the warehouse is the one state every API worker shares, so whichever
worker answers reports the same figures and nothing needs summing across processes. Two
statements per scrape (one transaction each, 2 s statement timeout), both index reads:

* ``ops.pipeline_runs`` (``stockmind.run_log.record_run``, written by each loading DAG's
  summarize step) and ``ops.quality_checks`` (the maintenance DAG's checks), one row;
* freshness: the newest trade date of ``marts.fct_indicators_daily`` (as
  ``/api/health``), the newest minute of ``raw.quotes_minute`` (the cache the API may
  read directly; one backward probe of its (symbol, ts) key per ``marts.dim_symbols``
  symbol — a plain ``max(ts)`` reads every partition: 67 ms on 670k rows against
  0.4 ms) and the newest ``marts.fct_news_articles`` article.

Metrics (gauges):

* ``stockmind_pipeline_last_run_rows_loaded{dag_id}``,
  ``stockmind_pipeline_last_run_rows_quarantined{dag_id}``,
  ``stockmind_pipeline_last_run_finished_timestamp_seconds{dag_id}``,
  ``stockmind_pipeline_last_run_interval_end_timestamp_seconds{dag_id}`` — the latest
  finished run of each DAG;
* ``stockmind_data_latest_timestamp_seconds{dataset}`` and
  ``stockmind_data_age_seconds{dataset}`` for ``prices_daily`` (the trade date at 00:00
  UTC), ``quotes_minute`` and ``news_articles``; absent while a dataset is empty;
* ``stockmind_quality_check_ok{check}`` (1/0), ``stockmind_quality_check_observed{check}``,
  ``stockmind_quality_check_threshold{check}``,
  ``stockmind_quality_check_timestamp_seconds{check}``;
* ``stockmind_warehouse_scrape_ok`` — 0 when a statement failed (database down, marts not
  built yet, a missing grant): ``/metrics`` still answers 200 with the other figures.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from stockmind.pool import Pool

log = logging.getLogger("stockmind_api.metrics")
TIMEOUT_MS = 2000

# the latest run per DAG: a loose index scan over (dag_id, finished_at desc), one probe
# per DAG, so the cost does not grow with the runs kept (poll_quotes adds 1,440 a day)
OPS = """
with recursive dags (dag_id) as (
    (select dag_id from ops.pipeline_runs order by dag_id limit 1)
    union all
    select (select p.dag_id from ops.pipeline_runs as p
            where p.dag_id > dags.dag_id order by p.dag_id limit 1)
    from dags where dags.dag_id is not null
)
select
    (select coalesce(json_agg(json_build_object(
                'dag_id', r.dag_id, 'loaded', r.rows_loaded, 'quarantined', r.rows_quarantined,
                'finished', extract(epoch from r.finished_at),
                'interval_end', extract(epoch from r.interval_end))), '[]'::json)
     from dags
     cross join lateral (
         select * from ops.pipeline_runs as p
         where p.dag_id = dags.dag_id order by p.finished_at desc limit 1
     ) as r) as runs,
    (select coalesce(json_agg(json_build_object(
                'check', q.check_name, 'ok', q.ok, 'observed', q.observed,
                'threshold', q.threshold, 'checked', extract(epoch from q.checked_at))
                order by q.check_name), '[]'::json)
     from ops.quality_checks as q) as checks
"""

FRESHNESS = """
select extract(epoch from now())::float8 as now,
       (select extract(epoch from max(trade_date)::timestamp)::float8
        from marts.fct_indicators_daily) as prices_daily,
       (select extract(epoch from max(q.ts))::float8
        from marts.dim_symbols as s
        cross join lateral (
            select m.ts from raw.quotes_minute as m
            where m.symbol = s.symbol order by m.ts desc limit 1
        ) as q) as quotes_minute,
       (select extract(epoch from published_at)::float8
        from marts.fct_news_articles order by published_at desc limit 1) as news_articles
"""
DATASETS = ("prices_daily", "quotes_minute", "news_articles")


class WarehouseMetrics:
    """A prometheus_client collector over the app's pool (``Metrics.register``)."""

    def __init__(self, pool: Pool):
        self.pool = pool

    def _read(self, query: str) -> dict:
        from psycopg2.extras import RealDictCursor

        conn = self.pool.getconn()
        try:
            with conn, conn.cursor(cursor_factory=RealDictCursor) as cur:
                cur.execute("select set_config('statement_timeout', %s, true)", (str(TIMEOUT_MS),))
                cur.execute(query)
                return cur.fetchone()
        finally:
            self.pool.putconn(conn)

    def collect(self) -> Iterator[Metric]:
        ok = True
        try:
            ops = self._read(OPS)
        except Exception as exc:  # never a failed scrape: scrape_ok says it
            log.warning("metrics: reading ops.pipeline_runs/quality_checks failed: %s", exc)
            ok, ops = False, {"runs": [], "checks": []}
        try:
            fresh = self._read(FRESHNESS)
        except Exception as exc:
            log.warning("metrics: reading data freshness failed: %s", exc)
            ok, fresh = False, None
        yield from _runs(ops["runs"])
        yield from _freshness(fresh)
        yield from _checks(ops["checks"])
        yield GaugeMetricFamily(
            "stockmind_warehouse_scrape_ok",
            "1 when every warehouse figure of this scrape was read",
            value=int(ok),
        )


def _family(name: str, doc: str, label: str) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=[label])


def _runs(runs: list[dict]) -> Iterator[Metric]:
    prefix = "stockmind_pipeline_last_run_"
    fields = {
        "loaded": _family(prefix + "rows_loaded", "Rows the latest run loaded", "dag_id"),
        "quarantined": _family(
            prefix + "rows_quarantined", "Rows the latest run sent to quarantine", "dag_id"
        ),
        "finished": _family(
            prefix + "finished_timestamp_seconds", "When the latest run finished", "dag_id"
        ),
        "interval_end": _family(
            prefix + "interval_end_timestamp_seconds",
            "The end of the latest run's data interval",
            "dag_id",
        ),
    }
    for run in runs:
        for key, family in fields.items():
            if run[key] is not None:
                family.add_metric([run["dag_id"]], float(run[key]))
    yield from fields.values()


def _freshness(fresh: dict | None) -> Iterator[Metric]:
    latest = _family("stockmind_data_latest_timestamp_seconds", "The newest data point", "dataset")
    age = _family("stockmind_data_age_seconds", "Age of the newest data point", "dataset")
    for dataset in DATASETS if fresh else ():
        if fresh[dataset] is not None:
            latest.add_metric([dataset], fresh[dataset])
            age.add_metric([dataset], fresh["now"] - fresh[dataset])
    yield latest
    yield age


def _checks(checks: list[dict]) -> Iterator[Metric]:
    prefix = "stockmind_quality_check_"
    fields = {
        "ok": _family(prefix + "ok", "1 when the data-quality check passed", "check"),
        "observed": _family(prefix + "observed", "The figure the check measured", "check"),
        "threshold": _family(prefix + "threshold", "The limit it was held to", "check"),
        "checked": _family(prefix + "timestamp_seconds", "When it was last checked", "check"),
    }
    for check in checks:
        for key, family in fields.items():
            if check[key] is not None:
                family.add_metric([check["check"]], float(check[key]))
    yield from fields.values()
