"""Data-quality checks of the daily maintenance run, and their record in ``ops.quality_checks``.

Four checks, each one parameterized statement over the raw layer, all judged "as of" the
run's date (the exchange-local date of the run's data interval end, never the clock), and
every statement only reads data from before that moment — so a re-run of an old interval
judges what that run saw:

``missing_trading_days``
    Per symbol, sessions of the last ``STOCKMIND_QUALITY_WINDOW_SESSIONS`` (20) with no bar,
    counted between the symbol's first and newest bar only: sessions before a listing are
    not missing, and a symbol that stopped delivering is ``stale_symbols``' business.
    Fails when any symbol has a gap.
``stale_symbols``
    Active symbols whose newest bar is older than ``STOCKMIND_STALE_SESSIONS`` (3) sessions
    before the run's date (no bar for the last N sessions), or which have none at all.
``no_minute_quotes``
    The last complete session before the run's date (9:30–16:00 exchange time) should hold
    minute quotes. Quotes are polled only in market hours (or always, for the demo), so
    the honest question is about market hours; fails only when *no* symbol was quoted in
    that session although the poll had been writing before it closed. A platform that has
    never polled, or whose poll started after the session, is not judged (ok, with why).
``quarantine_spike``
    Rows quarantined in the 24 hours before the run (a scheduled run's own interval)
    against ``STOCKMIND_QUARANTINE_SPIKE_FACTOR`` (3) times the daily average of the 14
    days before; at least ``STOCKMIND_QUARANTINE_SPIKE_FLOOR`` (50) rows, so a handful of
    bad rows on a quiet platform is not a spike.

"Active symbols" are those with bars, or listed in ``raw.symbols``, unless ``raw.symbols``
marks them inactive (mark a delisted symbol inactive and it stops being stale). Each
check's row: ``ok``, ``observed`` (the figure measured), ``threshold`` (the limit: for
``no_minute_quotes`` the least number of quoted symbols, for the others the most allowed),
``reason`` (for people, also when ok) and capped ``details``. A failing check does not fail
the task: it is a finding, reported in the task log, on ``/api/health`` and ``/metrics``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import asdict, dataclass, field
from zoneinfo import ZoneInfo

from stockmind.db import connect
from stockmind.settings import Settings, get_settings
from stockmind.trading_calendar import SESSION_CLOSE, SESSION_OPEN, trading_days

log = logging.getLogger(__name__)

#: Days of quarantine the spike is measured against (their daily average).
TRAILING_DAYS = 14
#: At most this many symbols are listed in a check's details, and fewer in its reason.
DETAIL_CAP = 50
REASON_CAP = 5

ACTIVE = """
bars as (
    select symbol, min(trade_date) as first_bar, max(trade_date) as last_bar
    from raw.prices_daily where trade_date <= %(last_session)s group by symbol
),
active as (
    select symbol, b.first_bar, b.last_bar
    from bars b full join (select symbol, is_active from raw.symbols) s using (symbol)
    where coalesce(s.is_active, true)
)
"""

MISSING_DAYS = f"""
with {ACTIVE},
sessions as (select unnest(%(sessions)s::date[]) as session)
select a.symbol, array_agg(x.session order by x.session) as missing
from active a
join sessions x on x.session between a.first_bar and a.last_bar
where not exists (
    select 1 from raw.prices_daily p where p.symbol = a.symbol and p.trade_date = x.session
)
group by a.symbol
order by count(*) desc, a.symbol
"""

STALE = f"""
with {ACTIVE}
select (select count(*) from active) as active,
       coalesce(json_agg(json_build_array(symbol, last_bar) order by last_bar nulls first,
                         symbol) filter (where last_bar is null or last_bar < %(stale_before)s),
                '[]') as stale
from active
"""

QUOTES = f"""
with {ACTIVE},
quoted as (
    select distinct symbol from raw.quotes_minute where ts >= %(open)s and ts < %(close)s
)
select (select count(*) from quoted) as quoted,
       -- the poll was running: it wrote quotes in the days before the session opened (a
       -- weekend or a holiday between; an odd historical quote loaded by hand does not count)
       exists (select 1 from raw.quotes_minute
               where ts >= %(open)s - interval '4 days' and ts < %(open)s) as polled_before,
       coalesce((select array_agg(symbol order by symbol) from active
                 where symbol not in (select symbol from quoted)), '{{}}') as unquoted
"""

QUARANTINE = """
with counted as (
    select source || ': ' || reason as label, rejected_at >= %(day_start)s as in_day,
           count(*) as n
    from raw.rejected_rows
    where rejected_at >= %(trailing_start)s and rejected_at < %(at)s
    group by 1, 2
)
select coalesce(sum(n) filter (where in_day), 0)::bigint as day_rows,
       coalesce(sum(n) filter (where not in_day), 0)::bigint as trailing_rows,
       coalesce(json_object_agg(label, n) filter (where in_day), '{}') as by_reason
from counted
"""

UPSERT = """
insert into ops.quality_checks as q
    (check_name, as_of, ok, observed, threshold, reason, details, checked_at)
values (%s, %s, %s, %s, %s, %s, %s, now())
on conflict (check_name) do update set
    as_of = excluded.as_of, ok = excluded.ok, observed = excluded.observed,
    threshold = excluded.threshold, reason = excluded.reason, details = excluded.details,
    checked_at = excluded.checked_at
-- a re-run of an older interval (a cleared or backfilled run) keeps the newer outcome
where excluded.as_of >= q.as_of
"""


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome: one row of ``ops.quality_checks``."""

    name: str
    ok: bool
    observed: float | None
    threshold: float | None
    reason: str
    details: dict = field(default_factory=dict)


def sessions_before(day: dt.date, count: int) -> list[dt.date]:
    """The last ``count`` trading sessions strictly before ``day``, oldest first."""
    span = dt.timedelta(days=count * 2 + 10)  # weekends and holidays: 2× is plenty
    return trading_days(day - span, day - dt.timedelta(days=1))[-count:]


def _named(symbols: list[str]) -> str:
    shown = ", ".join(symbols[:REASON_CAP])
    return shown + (f" and {len(symbols) - REASON_CAP} more" if len(symbols) > REASON_CAP else "")


def check_missing_days(cur, sessions: list[dt.date]) -> CheckResult:
    """Symbols with sessions missing inside their history, in the last sessions."""
    cur.execute(MISSING_DAYS, {"sessions": sessions, "last_session": sessions[-1]})
    rows = cur.fetchall()
    window = f"{sessions[0]}..{sessions[-1]}"
    details = {
        "window": [str(sessions[0]), str(sessions[-1])],
        "missing_sessions": sum(len(missing) for _, missing in rows),
        "symbols": {s: [str(d) for d in missing] for s, missing in rows[:DETAIL_CAP]},
    }
    if not rows:
        reason = f"every symbol has a bar for each of its sessions in {window}"
        return CheckResult("missing_trading_days", True, 0, 0, reason, details)
    named = _named([f"{s} ({len(missing)})" for s, missing in rows])
    reason = f"{len(rows)} symbol(s) miss trading days in the sessions {window}: {named}"
    return CheckResult("missing_trading_days", False, len(rows), 0, reason, details)


def check_stale(cur, sessions: list[dt.date], stale_sessions: int) -> CheckResult:
    """Active symbols without a bar in the last ``stale_sessions`` sessions."""
    stale_before = sessions[-stale_sessions]
    cur.execute(STALE, {"last_session": sessions[-1], "stale_before": stale_before})
    active, stale = cur.fetchone()
    details = {
        "active": active,
        "sessions": stale_sessions,
        "expected_bar_since": str(stale_before),
        "symbols": {symbol: last for symbol, last in stale[:DETAIL_CAP]},
    }
    if not stale:
        reason = f"{active} active symbol(s), each with a bar since {stale_before}"
        if not active:
            reason = "no symbols yet: nothing to be stale"
        return CheckResult("stale_symbols", True, 0, 0, reason, details)
    named = _named([f"{s} (last {last or 'never'})" for s, last in stale])
    reason = (
        f"{len(stale)} of {active} active symbol(s) have no bar in the last "
        f"{stale_sessions} sessions (since {stale_before}): {named}"
    )
    return CheckResult("stale_symbols", False, len(stale), 0, reason, details)


def check_minute_quotes(cur, session: dt.date, tz: str) -> CheckResult:
    """Minute quotes in the market hours of the last complete session."""
    zone = ZoneInfo(tz)
    opens = dt.datetime.combine(session, SESSION_OPEN, zone)
    closes = dt.datetime.combine(session, SESSION_CLOSE, zone)
    cur.execute(QUOTES, {"last_session": session, "open": opens, "close": closes})
    quoted, polled_before, unquoted = cur.fetchone()
    details = {
        "session": str(session),
        "market_hours": [opens.isoformat(), closes.isoformat()],
        "unquoted": len(unquoted),
        "unquoted_symbols": unquoted[:DETAIL_CAP],
    }
    if quoted:
        reason = f"{quoted} symbol(s) quoted in market hours on {session}"
        if unquoted:
            reason += f"; without quotes: {_named(unquoted)}"
        return CheckResult("no_minute_quotes", True, quoted, 1, reason, details)
    if not polled_before:
        reason = (
            f"not judged: no minute quote stored in the 4 days before {session}'s open "
            "(the poll was not running then: never started, or started after)"
        )
        return CheckResult("no_minute_quotes", True, 0, 1, reason, details | {"judged": False})
    reason = (
        f"no minute quotes at all in market hours on {session}, though the poll was "
        "running in the days before"
    )
    return CheckResult("no_minute_quotes", False, 0, 1, reason, details)


def check_quarantine_spike(cur, at: dt.datetime, factor: float, floor: int) -> CheckResult:
    """Rows quarantined in the 24 hours before ``at`` against the trailing daily average."""
    day_start = at - dt.timedelta(days=1)
    trailing_start = day_start - dt.timedelta(days=TRAILING_DAYS)
    cur.execute(QUARANTINE, {"at": at, "day_start": day_start, "trailing_start": trailing_start})
    day_rows, trailing_rows, by_reason = cur.fetchone()
    average = trailing_rows / TRAILING_DAYS
    threshold = max(float(floor), round(factor * average, 2))
    details = {
        "since": day_start.isoformat(),
        "trailing_daily_average": round(average, 2),
        "by_reason": dict(sorted(by_reason.items(), key=lambda kv: -kv[1])[:DETAIL_CAP]),
    }
    rule = f"{factor:g}× the {TRAILING_DAYS}-day daily average {average:.1f}, at least {floor}"
    if day_rows <= threshold:
        reason = f"{day_rows} row(s) quarantined in the last 24 h (limit {threshold:g}: {rule})"
        return CheckResult("quarantine_spike", True, day_rows, threshold, reason, details)
    top = ", ".join(f"{k} {v}" for k, v in list(details["by_reason"].items())[:REASON_CAP])
    reason = f"{day_rows} rows quarantined in the last 24 h, over {threshold:g} ({rule}): {top}"
    return CheckResult("quarantine_spike", False, day_rows, threshold, reason, details)


def run_checks(cur, at: dt.datetime, settings: Settings) -> list[CheckResult]:
    """Every check as of ``at`` (its exchange-local date is the run's date)."""
    today = at.astimezone(ZoneInfo(settings.exchange_tz)).date()
    count = max(settings.quality_window_sessions, settings.stale_sessions)
    sessions = sessions_before(today, count)
    return [
        check_missing_days(cur, sessions[-settings.quality_window_sessions :]),
        check_stale(cur, sessions, settings.stale_sessions),
        check_minute_quotes(cur, sessions[-1], settings.exchange_tz),
        check_quarantine_spike(
            cur, at, settings.quarantine_spike_factor, settings.quarantine_spike_floor
        ),
    ]


def write_results(cur, results: list[CheckResult], as_of: dt.date) -> None:
    """Replace each check's row (the table holds the latest outcome of each), unless the
    stored one judged a later date."""
    for r in results:
        details = json.dumps(r.details | {"as_of": str(as_of)}, default=str)
        cur.execute(UPSERT, (r.name, as_of, r.ok, r.observed, r.threshold, r.reason, details))


def check_quality(at: dt.datetime, dsn: str | None = None) -> dict:
    """Run every check as of ``at``, record them in ``ops.quality_checks``, log each
    outcome; returns a small summary (it travels through XCom)."""
    settings = get_settings()
    conn = connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            results = run_checks(cur, at, settings)
            as_of = at.astimezone(ZoneInfo(settings.exchange_tz)).date()
            write_results(cur, results, as_of)
    finally:
        conn.close()
    for r in results:
        (log.info if r.ok else log.warning)(
            "quality check %s: %s — %s", r.name, "ok" if r.ok else "FAILED", r.reason
        )
    failed = [r.name for r in results if not r.ok]
    return {
        "as_of": str(as_of),
        "ok": not failed,
        "failed": failed,
        "checks": {
            r.name: {k: v for k, v in asdict(r).items() if k not in ("name", "details")}
            for r in results
        },
    }
