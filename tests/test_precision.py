"""The decided precision (``stockmind.precision``) on the WebSocket messages: quotes and
indicator updates leave the database rounded as the REST API's fields are."""

import random
from decimal import Decimal

import psycopg2
from stockmind import announce, events
from stockmind.precision import PLACES, round_to, sql_round


def test_a_noisy_provider_quote_is_sent_as_a_price(empty_db):
    """yfinance's minute bars are float32: 189.9199981689453 is sent as 189.92."""
    with psycopg2.connect(empty_db) as conn, conn.cursor() as cur:
        cur.execute(
            f"select {events.STOCK_UPDATE_SELECT} from (values ('AAPL', now(), "
            "189.9199981689453::float8, 1.2345678::float8, 0.65432109::float8, 1234.6::float8,"
            " 188.123456::float8, 190.00004999::float8, 187.99995::float8)) as q(symbol, ts,"
            " price, change, change_percent, volume, day_open, day_high, day_low)"
        )
        names = [c.name for c in cur.description]
        row = dict(zip(names, cur.fetchone(), strict=True))
    conn.close()
    assert row["price"] == 189.92 and row["change"] == 1.2346
    assert row["change_percent"] == 0.65 and row["volume"] == 1235
    assert (row["day_open"], row["day_high"], row["day_low"]) == (188.1235, 190.0, 188.0)


def test_indicator_updates_use_the_same_kinds():
    assert f"{sql_round('rsi_14', 'percent')} as rsi_14" in announce.COLUMNS
    assert f"{sql_round('sma_200', 'price')} as sma_200" in announce.COLUMNS
    assert f"{sql_round('obv', 'whole')} as obv" in announce.COLUMNS
    assert "10000::float8" in sql_round("x", "price") and PLACES["quantity"] == 6


def test_python_and_sql_round_alike(empty_db):
    """The marshmallow path (round_to) and the SQL path (sql_round, run by PostgreSQL) give
    the same number for every kind: binary ties, tiny, large, negative and numeric
    (Decimal) values included."""
    rng = random.Random(7)
    values = [2.345, -2.345, 0.125, 0.5, 1.5, -0.5, 94.31999999999998, -2.537266095781801]
    values += [1e-9, 123456789.98765, 1e15 + 0.5, 189.9199981689453]
    values += [rng.uniform(-1e4, 1e4) for _ in range(500)]
    values += [round(rng.uniform(0, 1000), 3) + 0.0005 for _ in range(500)]  # near-ties
    decimals = [Decimal(f"{rng.uniform(0, 1e4):.6f}") for _ in range(200)]
    with psycopg2.connect(empty_db) as conn, conn.cursor() as cur:
        for kind, places in PLACES.items():
            for batch, sql_type in ((values, "float8"), (decimals, "numeric")):
                cur.execute(
                    f"select array_agg({sql_round('v', kind)} order by i) "
                    f"from unnest(%s::{sql_type}[]) with ordinality as t(v, i)",
                    (batch,),
                )
                expected = cur.fetchone()[0]
                assert [round_to(v, places) for v in batch] == expected, kind
    conn.close()
    assert round_to(94.31999999999998, 4) == 94.32 and round_to(-2.537266095781801, 2) == -2.54
    assert round_to(12.345678, 6) == 12.345678 and round_to(7, 2) == 7
