"""What DAG tasks call: each task body is one call into here (a DAG file is configuration).

Functions take and return small, JSON-able values, because that is what crosses XCom.
"""

from __future__ import annotations

import datetime as dt

from stockmind.ingest import ingest_price_batch, summarize
from stockmind.profiles import refresh_profiles
from stockmind.providers import get_provider
from stockmind.settings import get_settings
from stockmind.trading_calendar import interval_trade_dates
from stockmind.universe import batches, resolve_universe


def plan_symbol_batches(
    universe: str | None = None, batch_size: int | None = None
) -> list[list[str]]:
    """The universe split into batches, one mapped task each."""
    settings = get_settings()
    symbols = resolve_universe(universe or settings.effective_universe())
    return batches(symbols, batch_size or settings.batch_size)


def load_prices_for_interval(
    symbols: list[str], interval_start: dt.datetime, interval_end: dt.datetime, run_id: str
) -> dict:
    """Load one batch for the trade dates of a data interval (exchange time zone)."""
    settings = get_settings()
    start, end = interval_trade_dates(interval_start, interval_end, settings.exchange_tz)
    return ingest_price_batch(symbols, start, end, get_provider(), run_id=run_id).as_dict()


def summarize_reports(
    reports: list[dict], run_id: str | None = None, interval_end: dt.datetime | None = None
) -> dict:
    """Add up the batch reports of one daily load; with a run id, record the run in
    ``ops.pipeline_runs`` (rows written, rows rejected to quarantine) for ``/metrics``."""
    from stockmind.run_log import record_run

    total = summarize(list(reports))
    if run_id:
        record_run(
            "ingest_prices_daily", run_id, interval_end, total["written"], total["rejected"], total
        )
    return total


def refresh_profile_batch(symbols: list[str]) -> dict:
    return refresh_profiles(symbols, get_provider())


def market_is_open(at: dt.datetime) -> bool:
    """Whether the minute poll should run at ``at`` (``STOCKMIND_MARKET_HOURS``)."""
    from stockmind.trading_calendar import is_market_open

    settings = get_settings()
    return settings.polls_always() or is_market_open(at, settings.exchange_tz)


def poll_quote_batch(symbols: list[str], at: dt.datetime, run_id: str) -> dict:
    """One batch of the minute poll: quotes upserted and announced (``stock_update``)."""
    from stockmind.quotes import poll_quotes

    return poll_quotes(symbols, get_provider(), at, run_id=run_id)


def summarize_polls(
    reports: list[dict], run_id: str | None = None, interval_end: dt.datetime | None = None
) -> dict:
    """Add up the batch reports of one poll (transient symbols listed); with a run id,
    record the run in ``ops.pipeline_runs`` (quotes changed, rows rejected) for
    ``/metrics``."""
    from stockmind.run_log import record_run

    total: dict = {"batches": len(reports), "transient": []}
    for report in reports:
        for key, value in report.items():
            if isinstance(value, int):
                total[key] = total.get(key, 0) + value
        total["transient"] += report.get("transient", [])
    if run_id:
        loaded, rejected = total.get("changed", 0), total.get("rejected", 0)
        record_run("poll_quotes", run_id, interval_end, loaded, rejected, total)
    return total


def apply_retention_as_of(at: dt.datetime) -> list[str]:
    """Drop the partitions past their retention on the date of ``at`` (exchange zone)."""
    from zoneinfo import ZoneInfo

    from stockmind.maintenance import apply_retention

    return apply_retention(today=at.astimezone(ZoneInfo(get_settings().exchange_tz)).date())


def housekeeping_as_of(at: dt.datetime) -> dict:
    """Quarantine and run records (``ops.pipeline_runs``, each DAG's latest kept) older
    than ``STOCKMIND_QUARANTINE_DAYS`` deleted (quarantine counted by reason first), then
    ``ANALYZE`` of the tables that changed."""
    from zoneinfo import ZoneInfo

    from stockmind.maintenance import analyze_changed, prune_quarantine
    from stockmind.run_log import prune_runs

    settings = get_settings()
    today = at.astimezone(ZoneInfo(settings.exchange_tz)).date()
    pruned = prune_quarantine(today=today, keep_days=settings.quarantine_days)
    runs = prune_runs(at - dt.timedelta(days=settings.quarantine_days))
    return pruned | {"run_records_deleted": runs, "analyzed": analyze_changed()}


def prune_hourly_as_of(at: dt.datetime) -> dict:
    """Hourly bars older than ``STOCKMIND_RETENTION_HOURLY_MONTHS`` before the date of
    ``at`` (exchange zone) deleted; returns how many."""
    from zoneinfo import ZoneInfo

    from stockmind.maintenance import prune_hourly_bars

    settings = get_settings()
    today = at.astimezone(ZoneInfo(settings.exchange_tz)).date()
    return prune_hourly_bars(
        today=today, keep_months=settings.retention_hourly_months, tz=settings.exchange_tz
    )


def clean_airflow_metadata_as_of(at: dt.datetime) -> dict:
    """``airflow db clean`` of the metadata older than ``STOCKMIND_AIRFLOW_CLEAN_DAYS``
    before ``at`` (the run's data interval, so a re-run cleans what its run did); returns
    the rows deleted per table (nothing when the setting is 0)."""
    from stockmind.maintenance import clean_airflow_metadata

    days = get_settings().airflow_clean_days
    if days == 0:
        return {"before": None, "deleted": {}}
    return clean_airflow_metadata(at - dt.timedelta(days=days))


def transform_market() -> dict:
    """dbt build of every model and test (indicators, scanners), then an
    ``indicator_update`` per symbol with its latest indicators."""
    from stockmind.announce import announce_indicators
    from stockmind.dbt_runner import build

    results = build()
    results["indicator_updates"] = announce_indicators()
    return results


def transform_docs() -> str:
    from stockmind.dbt_runner import generate_docs

    return generate_docs()


def quality_as_of(at: dt.datetime) -> dict:
    """The data-quality checks as of ``at`` (the run's data interval, so a re-run judges
    what its run saw), recorded in ``ops.quality_checks``; a failing check is a finding
    for ``/api/health`` and ``/metrics``, not a task failure."""
    from stockmind.quality import check_quality

    return check_quality(at)
