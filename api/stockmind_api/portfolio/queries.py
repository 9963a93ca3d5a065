"""SQL for holdings and watchlists. Every statement is scoped to the owner (user_id), so
another user's row is indistinguishable from a missing one."""

from __future__ import annotations

from psycopg2.errors import CheckViolation, DataError, ForeignKeyViolation, UniqueViolation
from stockmind.pool import Pool

LATEST_PRICE = """
    left join lateral (
        select close_unadjusted as current_price, trade_date as price_date
        from marts.fct_prices_daily p where p.symbol = t.symbol
        order by trade_date desc limit 1
    ) price on true
"""

HOLDING_COLUMNS = """
    t.id, t.symbol, t.shares, t.average_price, t.purchase_date, t.notes,
    price.current_price, price.price_date,
    t.shares * t.average_price as total_cost,
    t.shares * price.current_price as current_value,
    t.shares * (price.current_price - t.average_price) as profit_loss,
    100 * (price.current_price - t.average_price) / nullif(t.average_price, 0)
        as profit_loss_percent
"""

WATCH_COLUMNS = """
    t.id, t.symbol, t.alert_price_above, t.alert_price_below, t.notes,
    price.current_price, price.price_date,
    price.current_price >= t.alert_price_above as above_alert,
    price.current_price <= t.alert_price_below as below_alert
"""

HOLDING = f"select {HOLDING_COLUMNS} from app.holdings t {LATEST_PRICE}"
WATCH = f"select {WATCH_COLUMNS} from app.watchlist t {LATEST_PRICE}"

TABLES = {
    "holdings": (HOLDING, ("shares", "average_price", "purchase_date", "notes")),
    "watchlist": (WATCH, ("alert_price_above", "alert_price_below", "notes")),
}
ROW_COLUMNS = {"holdings": HOLDING_COLUMNS, "watchlist": WATCH_COLUMNS}


class Conflict(Exception):
    """The user already has a row for this symbol."""


class UnknownSymbol(Exception):
    pass


class Inconsistent(Exception):
    """The values break a table constraint (e.g. alert below >= alert above)."""


def list_rows(db: Pool, table: str, user_id: int) -> list[dict]:
    select, _ = TABLES[table]
    return db.fetch_all(f"{select} where t.user_id = %s order by t.symbol", (user_id,))


def get_row(db: Pool, table: str, user_id: int, row_id: int) -> dict | None:
    select, _ = TABLES[table]
    return db.fetch_one(f"{select} where t.user_id = %s and t.id = %s", (user_id, row_id))


def create_row(db: Pool, table: str, user_id: int, values: dict) -> dict:
    _, columns = TABLES[table]
    cols = ["user_id", "symbol", *[c for c in columns if c in values]]
    params = {"user_id": user_id, **values}
    try:
        row = db.fetch_one(
            f"insert into app.{table} ({', '.join(cols)}) "
            f"values ({', '.join(f'%({c})s' for c in cols)}) returning id",
            params,
        )
    except UniqueViolation as exc:
        raise Conflict(values["symbol"]) from exc
    except ForeignKeyViolation as exc:
        raise UnknownSymbol(values["symbol"]) from exc
    except (CheckViolation, DataError) as exc:
        raise Inconsistent(exc.diag.constraint_name or exc.diag.message_primary) from exc
    return get_row(db, table, user_id, row["id"])


def update_row(db: Pool, table: str, user_id: int, row_id: int, values: dict) -> dict | None:
    _, columns = TABLES[table]
    sets = {c: values[c] for c in columns if c in values}
    if sets:
        assignments = ", ".join(f"{c} = %({c})s" for c in sets)
        try:
            updated = db.fetch_one(
                f"update app.{table} set {assignments}, updated_at = now() "
                "where id = %(id)s and user_id = %(user_id)s returning id",
                {**sets, "id": row_id, "user_id": user_id},
            )
        except (CheckViolation, DataError) as exc:
            raise Inconsistent(exc.diag.constraint_name or exc.diag.message_primary) from exc
        if updated is None:
            return None
    return get_row(db, table, user_id, row_id)


def delete_row(db: Pool, table: str, user_id: int, row_id: int) -> dict | None:
    """Delete the owner's row; returns it as ``get_row`` showed it (None: no such row).

    One statement: the valuation is computed from the row the delete returns."""
    return db.fetch_one(
        f"with t as (delete from app.{table} where id = %s and user_id = %s returning *) "
        f"select {ROW_COLUMNS[table]} from t {LATEST_PRICE}",
        (row_id, user_id),
    )
