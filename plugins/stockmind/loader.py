"""Loading checked rows: COPY into a temporary table, then one upsert, one transaction.

Why this shape: COPY is the fastest way into PostgreSQL, and the upsert from the
temporary table makes any re-run a no-op.  The ``where … is distinct from`` guard skips
rows whose values did not change, so a re-run writes no new row versions at all and the
tables stay byte-for-byte the same (``ingested_at`` keeps the first load's time).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from dataclasses import asdict, dataclass

import pandas as pd
import psycopg2
import psycopg2.errors
import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg2.extras import execute_values

from stockmind import partitioning
from stockmind.validation import Checked

LOAD_COLUMNS = ["symbol", "trade_date", "open", "high", "low", "close", "adj_close", "volume"]
VALUE_COLUMNS = LOAD_COLUMNS[2:]
PARTITION_LOCK = 7_411_001  # advisory lock key: partition DDL is serialised


@dataclass
class LoadStats:
    rows_in: int = 0
    written: int = 0  # inserted or changed
    unchanged: int = 0
    rejected: int = 0
    rejected_new: int = 0
    symbols: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def to_copy_buffer(frame: pd.DataFrame, columns: list[str]) -> io.BytesIO:
    """CSV for COPY, written by Arrow (shortest round-trip floats, ISO dates)."""
    table = pa.Table.from_pandas(frame[columns], preserve_index=False)
    if "trade_date" in columns:
        idx = table.schema.get_field_index("trade_date")
        table = table.set_column(idx, "trade_date", table.column(idx).cast(pa.date32()))
    buf = io.BytesIO()
    pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    buf.seek(0)
    return buf


def ensure_partitions(cur, table: str, first, last) -> None:
    """Create the native partitions a batch needs (no-op on TimescaleDB)."""
    if partitioning.timescale_in_use(cur):
        return
    cur.execute("select pg_advisory_xact_lock(%s)", (PARTITION_LOCK,))
    for stmt in partitioning.partition_statements(partitioning.policy_for(table), first, last):
        cur.execute(stmt)


def _json_value(value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.date().isoformat()
    if value is pd.NaT:
        return None
    if hasattr(value, "item"):  # numpy scalar
        return _json_value(value.item())
    return value


def quarantine_record(
    source: str, payload: dict, reason: str, run_id: str | None
) -> tuple[str, str | None, str, str, str, str | None]:
    """One ``raw.rejected_rows`` row; the payload hash makes re-runs no-ops."""
    text = json.dumps(payload, sort_keys=True, default=str)
    digest = hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()
    return (source, payload.get("symbol"), text, digest, reason, run_id)


def rejected_records(rejected: pd.DataFrame, source: str, run_id: str | None) -> list[tuple]:
    """Quarantine rows for the rows validation turned away, reasons attached."""
    records = []
    for row in rejected.to_dict("records"):
        reason = row.pop("reason")
        payload = {key: _json_value(val) for key, val in row.items()}
        records.append(quarantine_record(source, payload, reason, run_id))
    return records


def quarantine(cur, records: list[tuple]) -> int:
    """Insert rejected rows once; returns how many were new."""
    if not records:
        return 0
    inserted = execute_values(
        cur,
        """
        insert into raw.rejected_rows (source, symbol, payload, payload_hash, reason, dag_run_id)
        values %s
        on conflict (source, payload_hash, reason) do nothing
        returning 1
        """,
        records,
        fetch=True,
        page_size=1000,
    )
    return len(inserted)


COPY_PRICES = f"copy raw.prices_daily ({', '.join(LOAD_COLUMNS)}, source) from stdin (format csv)"

STAGE_PRICES = """
create temporary table _stage_prices (
    symbol text, trade_date date, open float8, high float8, low float8, close float8,
    adj_close float8, volume bigint
) on commit drop
"""

UPSERT_PRICES = f"""
insert into raw.prices_daily ({", ".join(LOAD_COLUMNS)}, source)
select {", ".join(LOAD_COLUMNS)}, %(source)s from _stage_prices
on conflict (symbol, trade_date) do update set
    {", ".join(f"{c} = excluded.{c}" for c in VALUE_COLUMNS)},
    source = excluded.source,
    ingested_at = now()
where ({", ".join(f"raw.prices_daily.{c}" for c in [*VALUE_COLUMNS, "source"])})
    is distinct from ({", ".join(f"excluded.{c}" for c in [*VALUE_COLUMNS, "source"])})
"""


def _target_has_rows(cur, good: pd.DataFrame, first, last) -> bool:
    cur.execute(
        "select exists (select 1 from raw.prices_daily "
        "where symbol = any(%s) and trade_date between %s and %s)",
        (list(good["symbol"].unique()), first, last),
    )
    return cur.fetchone()[0]


def _copy_direct(cur, good: pd.DataFrame, source: str) -> bool:
    """First load of these keys: COPY straight into the table (no staging, no upsert).

    Returns False when a concurrent writer got there first (unique violation): the
    savepoint is rolled back and the caller takes the upsert path instead.
    """
    cur.execute("savepoint direct_copy")
    try:
        cur.copy_expert(
            COPY_PRICES, to_copy_buffer(good.assign(source=source), [*LOAD_COLUMNS, "source"])
        )
    except psycopg2.errors.UniqueViolation:
        cur.execute("rollback to savepoint direct_copy")
        return False
    cur.execute("release savepoint direct_copy")
    return True


def _stage_and_upsert(cur, good: pd.DataFrame, source: str) -> int:
    cur.execute(STAGE_PRICES)
    cur.copy_expert(
        f"copy _stage_prices ({', '.join(LOAD_COLUMNS)}) from stdin with (format csv)",
        to_copy_buffer(good, LOAD_COLUMNS),
    )
    cur.execute(UPSERT_PRICES, {"source": source})
    return cur.rowcount


def load_prices(conn, checked: Checked, source: str, run_id: str | None = None) -> LoadStats:
    """Load the good rows and quarantine the bad ones, in one transaction.

    Keys the table does not hold yet (first loads, backfills) are COPY'd straight in;
    otherwise rows go through a temporary table and an upsert that skips unchanged rows.
    """
    good = checked.good
    stats = LoadStats(rows_in=len(good) + len(checked.rejected), rejected=len(checked.rejected))
    with conn, conn.cursor() as cur:
        if len(good):
            first, last = good["trade_date"].min().date(), good["trade_date"].max().date()
            ensure_partitions(cur, "raw.prices_daily", first, last)
            fresh = not _target_has_rows(cur, good, first, last)
            if fresh and _copy_direct(cur, good, source):
                stats.written = len(good)
            else:
                stats.written = _stage_and_upsert(cur, good, source)
            stats.unchanged = len(good) - stats.written
            stats.symbols = good["symbol"].nunique()
            cur.execute(
                "insert into raw.symbols (symbol, source) select unnest(%s::text[]), %s "
                "on conflict (symbol) do nothing",
                (sorted(good["symbol"].unique()), source),
            )
        stats.rejected_new = quarantine(cur, rejected_records(checked.rejected, source, run_id))
    return stats
