"""Ingestion use cases — the code the DAGs and ``stockmind ingest`` both run.

A batch is: fetch from the provider → validate → load good rows and quarantine bad
ones (one transaction) → record per-symbol provider failures in the quarantine too.
The fetched interval is authoritative for the symbols the source answered for: a stored
bar of that source inside it that the source no longer returns is deleted (an outage, a
provider error or a rate limit for a symbol deletes nothing; ``stockmind.loader``).
Rate-limited symbols are loaded as far as they came and then raise
:class:`TransientProviderError`, so Airflow's task retry fetches them again (the load
is idempotent, so the retry costs nothing for the rows already in).
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

from stockmind.db import connect
from stockmind.loader import LoadStats, load_prices, quarantine, quarantine_record
from stockmind.providers import PriceProvider, get_provider
from stockmind.universe import batches
from stockmind.validation import validate_prices

log = logging.getLogger(__name__)


class TransientProviderError(RuntimeError):
    """The provider throttled us past our retries; try the task again later."""


@dataclass
class BatchReport:
    symbols: int
    start: str
    end: str
    source: str
    load: dict[str, int] = field(default_factory=dict)
    provider_errors: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def _provider_error_records(errors: dict[str, str], source, start, end, run_id) -> list[tuple]:
    """Symbols the source could not deliver, kept in the quarantine beside bad rows."""
    return [
        quarantine_record(
            source,
            {"symbol": symbol, "start": str(start), "end": str(end), "error": message},
            "provider_error",
            run_id,
        )
        for symbol, message in sorted(errors.items())
    ]


def ingest_price_batch(
    symbols: Sequence[str],
    start: dt.date,
    end: dt.date,
    provider: PriceProvider | None = None,
    run_id: str | None = None,
    dsn: str | None = None,
    as_of: dt.date | None = None,
) -> BatchReport:
    """Fetch, validate and load one batch of symbols for [start, end]."""
    provider = provider or get_provider()
    result = provider.fetch_daily(list(symbols), start, end)
    checked = validate_prices(result.frame, as_of=as_of)
    conn = connect(dsn)
    try:
        stats = load_prices(
            conn, checked, provider.name, run_id, interval=(start, end), incomplete=result.errors
        )
        permanent = {s: e for s, e in result.errors.items() if s not in result.transient}
        with conn, conn.cursor() as cur:
            quarantine(cur, _provider_error_records(permanent, provider.name, start, end, run_id))
    finally:
        conn.close()
    report = BatchReport(
        symbols=len(symbols),
        start=str(start),
        end=str(end),
        source=provider.name,
        load=stats.as_dict(),
        provider_errors=result.errors,
    )
    log.info("batch loaded: %s", report.as_dict())
    if result.transient:
        raise TransientProviderError(
            f"{len(result.transient)} symbols still rate limited: {sorted(result.transient)[:10]}"
        )
    return report


def summarize(reports: Sequence[dict]) -> dict[str, int]:
    """Add up batch reports (dicts, as they travel through XCom)."""
    total = LoadStats().as_dict()
    errors = 0
    for report in reports:
        for key, value in report["load"].items():
            total[key] += value
        errors += len(report["provider_errors"])
    return {**total, "batches": len(reports), "provider_errors": errors}


def ingest_prices(
    symbols: Sequence[str],
    start: dt.date,
    end: dt.date,
    provider: PriceProvider,
    batch_size: int = 50,
    run_id: str | None = None,
    dsn: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Load many symbols batch by batch (one transaction each), reporting progress."""
    progress = progress or (lambda msg: print(msg, file=sys.stderr, flush=True))
    reports = []
    parts = batches(list(symbols), batch_size)
    done = 0
    for i, batch in enumerate(parts, 1):
        report = ingest_price_batch(batch, start, end, provider, run_id=run_id, dsn=dsn)
        reports.append(report.as_dict())
        done += report.load["rows_in"]
        progress(
            f"[{i}/{len(parts)}] {len(batch)} symbols: {report.load['written']} written, "
            f"{report.load['unchanged']} unchanged, {report.load['rejected']} rejected "
            f"({done:,} rows so far)"
        )
    return summarize(reports)
