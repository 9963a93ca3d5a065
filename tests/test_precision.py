"""The decided precision (``stockmind.precision``) on the WebSocket messages: quotes and
indicator updates leave the database rounded as the REST API's fields are."""

import random

import psycopg2
from stockmind import announce, events
from stockmind.precision import PLACES, round_half_away, sql_round


def test_a_noisy_provider_quote_is_sent_as_a_price(empty_db):
    """yfinance's minute bars are float32: 189.9199981689453 is sent as 189.92."""
    with psycopg2.connect(empty_db) as conn, conn.cursor() as cur:
        cur.execute(
            f"select {events.STOCK_UPDATE_SELECT} from (values ('AAPL', now(), "
            "189.9199981689453::float8, 1.2345678::float8, 0.65432109::float8, 1234.5::float8,"
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
    assert "round((rsi_14)::numeric, 2)::float8 as rsi_14" in announce.COLUMNS
    assert "round((sma_200)::numeric, 4)::float8 as sma_200" in announce.COLUMNS
    assert "round((obv)::numeric)::bigint as obv" in announce.COLUMNS
    assert sql_round("x", "quantity") == f"round((x)::numeric, {PLACES['quantity']})::float8"


def test_rounding_matches_postgresql(empty_db):
    """The marshmallow path rounds exactly as the SQL path: same digits for ties, tiny
    and large values (PostgreSQL's ``round(x::numeric, n)::float8`` is the reference)."""
    rng = random.Random(7)
    values = [2.345, -2.345, 0.125, 94.31999999999998, -2.537266095781801, 1e-9, 123456789.98765]
    values += [rng.uniform(-1e4, 1e4) for _ in range(500)]
    values += [round(rng.uniform(0, 1000), 3) + 0.0005 for _ in range(500)]  # exact-tie style
    with psycopg2.connect(empty_db) as conn, conn.cursor() as cur:
        for places in (0, 2, 4):
            cur.execute(
                "select array_agg(round(v::numeric, %s)::float8 order by i) "
                "from unnest(%s::float8[]) with ordinality as t(v, i)",
                (places, values),
            )
            expected = cur.fetchone()[0]
            assert [round_half_away(v, places) for v in values] == expected
    conn.close()
