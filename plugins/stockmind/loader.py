"""Loading checked rows: COPY into a temporary table, then one upsert, one transaction.

Why this shape: COPY is the fastest way into PostgreSQL, and the upsert from the
temporary table makes any re-run a no-op.  The ``where … is distinct from`` guard skips
rows whose values did not change, so a re-run writes no new row versions at all and the
tables stay byte-for-byte the same (``ingested_at`` keeps the first load's time).

Change log: in the same transaction, every symbol whose bars were inserted, changed or
deleted gets one ``ops.change_log`` row (stream ``raw.prices_daily``) with its earliest
such trade date; dbt's incremental marts consume exactly those (dbt/macros/
change_window.sql). A re-run changes nothing and logs nothing. Anything else that writes
``raw.prices_daily`` must call :func:`log_price_changes` in its transaction too.

Deletions at the source: given the interval a fetch covered, stored bars of that source
inside it that the fetch no longer returns are deleted (and logged) — only for symbols
the fetch returned at least one row for, that had no provider error (an outage, a rate
limit or a partial answer never deletes anything), and whose rows all carried a readable
date. A date the source returned as a quarantined row keeps its stored bar: the source
still has the bar, we only could not trust this copy of it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import math
from collections.abc import Collection, Iterable
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
PRICES_STREAM = "raw.prices_daily"  # the change-log stream of the daily bars


@dataclass
class LoadStats:
    rows_in: int = 0
    written: int = 0  # inserted or changed
    unchanged: int = 0
    rejected: int = 0
    rejected_new: int = 0
    symbols: int = 0
    deleted: int = 0  # stored bars the source no longer returns

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
with written as (
    insert into raw.prices_daily ({", ".join(LOAD_COLUMNS)}, source)
    select {", ".join(LOAD_COLUMNS)}, %(source)s from _stage_prices
    on conflict (symbol, trade_date) do update set
        {", ".join(f"{c} = excluded.{c}" for c in VALUE_COLUMNS)},
        source = excluded.source,
        ingested_at = now()
    where ({", ".join(f"raw.prices_daily.{c}" for c in [*VALUE_COLUMNS, "source"])})
        is distinct from ({", ".join(f"excluded.{c}" for c in [*VALUE_COLUMNS, "source"])})
    returning symbol, trade_date
),

logged as (
    insert into ops.change_log (stream, symbol, first_date)
    select %(stream)s, symbol, min(trade_date) from written group by symbol
)

select count(*) from written
"""

# stored bars of this source in the fetched interval that the fetch no longer returned
DELETE_MISSING = """
with gone as (
    delete from raw.prices_daily as stored
    where stored.symbol = any(%(symbols)s)
        and stored.trade_date between %(first)s and %(last)s
        and stored.source = %(source)s
        and not exists (
            select 1
            from unnest(%(key_symbols)s::text[], %(key_dates)s::date[])
                as fetched (symbol, trade_date)
            where fetched.symbol = stored.symbol and fetched.trade_date = stored.trade_date
        )
    returning stored.symbol, stored.trade_date
),

logged as (
    insert into ops.change_log (stream, symbol, first_date)
    select %(stream)s, symbol, min(trade_date) from gone group by symbol
)

select count(*) from gone
"""


def log_price_changes(cur, changes: Iterable[tuple[str, object]]) -> int:
    """Record in ``ops.change_log`` that these symbols' bars changed from these trade dates
    on (inserted, updated or deleted), in the caller's transaction — what every writer of
    ``raw.prices_daily`` owes the incremental marts. Several dates per symbol: the
    earliest counts. Returns the rows logged."""
    rows = [(PRICES_STREAM, symbol, first) for symbol, first in changes]
    if rows:
        execute_values(
            cur, "insert into ops.change_log (stream, symbol, first_date) values %s", rows
        )
    return len(rows)


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
    cur.execute(UPSERT_PRICES, {"source": source, "stream": PRICES_STREAM})
    return cur.fetchone()[0]


def _returned_keys(checked: Checked, incomplete: Collection[str]) -> tuple[list, list, list]:
    """(symbols whose stored bars the fetch may retire, and the fetched (symbol, date)
    keys as two arrays): every row counts, quarantined ones too; a symbol with a provider
    error or a row without a readable date retires nothing."""
    rows = pd.concat(
        [checked.good[["symbol", "trade_date"]], checked.rejected[["symbol", "trade_date"]]],
        ignore_index=True,
    )
    rows = rows[rows["symbol"].notna()]
    undated = set(rows.loc[rows["trade_date"].isna(), "symbol"])
    symbols = sorted(set(rows["symbol"]) - undated - set(incomplete))
    keys = rows[rows["symbol"].isin(symbols)].drop_duplicates()
    dates = [ts.date() for ts in pd.to_datetime(keys["trade_date"])]
    return symbols, keys["symbol"].tolist(), dates


def _delete_missing(cur, checked: Checked, source: str, interval, incomplete) -> int:
    symbols, key_symbols, key_dates = _returned_keys(checked, incomplete)
    if not symbols:
        return 0
    cur.execute(
        DELETE_MISSING,
        {
            "symbols": symbols,
            "first": interval[0],
            "last": interval[1],
            "source": source,
            "key_symbols": key_symbols,
            "key_dates": key_dates,
            "stream": PRICES_STREAM,
        },
    )
    return cur.fetchone()[0]


def load_prices(
    conn,
    checked: Checked,
    source: str,
    run_id: str | None = None,
    interval: tuple[dt.date, dt.date] | None = None,
    incomplete: Collection[str] = (),
) -> LoadStats:
    """Load the good rows and quarantine the bad ones, in one transaction, logging every
    symbol whose bars changed in ``ops.change_log``.

    Keys the table does not hold yet (first loads, backfills) are COPY'd straight in;
    otherwise rows go through a temporary table and an upsert that skips unchanged rows.
    With ``interval`` (the dates the fetch covered, inclusive), stored bars of ``source``
    in it that the fetch no longer returned are deleted, for the symbols it returned rows
    for, less ``incomplete`` (symbols with a provider error); see the module docstring.
    """
    good = checked.good
    stats = LoadStats(rows_in=len(good) + len(checked.rejected), rejected=len(checked.rejected))
    with conn, conn.cursor() as cur:
        if interval is not None:
            stats.deleted = _delete_missing(cur, checked, source, interval, incomplete)
        if len(good):
            first, last = good["trade_date"].min().date(), good["trade_date"].max().date()
            ensure_partitions(cur, "raw.prices_daily", first, last)
            fresh = not _target_has_rows(cur, good, first, last)
            if fresh and _copy_direct(cur, good, source):
                stats.written = len(good)
                firsts = good.groupby("symbol")["trade_date"].min()
                log_price_changes(cur, ((s, ts.date()) for s, ts in firsts.items()))
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
