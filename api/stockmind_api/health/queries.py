"""SQL of ``/api/health``: data freshness and the latest data-quality checks.

The latest trade date comes from the indicator mart (its trade_date index answers max()
at once); before dbt's first build there is none yet (null, not an error). The minute
quotes are read from ``raw.quotes_minute``, the real-time cache the API may read
directly (the one exception to "marts only": dbt builds daily, quotes arrive every
minute). ``ops.quality_checks`` holds the maintenance run's latest outcome of each
data-quality check (``stockmind.quality`` writes it); a warehouse migrated before it
existed, or never checked, has no rows: the checks have not run.
"""

from __future__ import annotations

from stockmind.pool import Pool

FRESHNESS = """
select (select max(trade_date) from marts.fct_indicators_daily) as latest_trade_date,
       (select max(ts) from raw.quotes_minute) as latest_quote_at,
       extract(epoch from now() - (select max(ts) from raw.quotes_minute))
           as quote_age_seconds
"""

NO_MART_YET = """
select null::date as latest_trade_date,
       (select max(ts) from raw.quotes_minute) as latest_quote_at,
       extract(epoch from now() - (select max(ts) from raw.quotes_minute))
           as quote_age_seconds
"""

QUALITY_CHECKS = """
select check_name as name, ok, observed, threshold, reason, checked_at
from ops.quality_checks
order by check_name
"""


def freshness(db: Pool) -> dict:
    """The latest trade date in the marts, the newest minute quote and its age."""
    built = db.fetch_one("select to_regclass('marts.fct_indicators_daily') as found")["found"]
    return db.fetch_one(FRESHNESS if built else NO_MART_YET)


def quality_checks(db: Pool) -> list[dict]:
    """The latest outcome of each data-quality check, by name (none: not run yet)."""
    # to_regclass raises (not null) without usage on the schema: a deployment that granted
    # the API role only the marts still gets an answer (checks "not_run")
    found = db.fetch_one(
        "select case when not exists (select 1 from pg_namespace where nspname = 'ops')"
        " then false when not has_schema_privilege(current_user, 'ops', 'usage') then false"
        " else to_regclass('ops.quality_checks') is not null end as found"
    )["found"]
    return db.fetch_all(QUALITY_CHECKS) if found else []
