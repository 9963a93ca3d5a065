"""Migrations from an empty database, on the plain-PostgreSQL path."""

import psycopg2
from stockmind import migrate


def _tables(dsn):
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(
            "select c.relname, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = 'raw' and c.relkind in ('r', 'p') and not c.relispartition"
        )
        return dict(cur.fetchall())


def test_upgrade_from_empty_creates_the_raw_layer(empty_db):
    assert migrate.current(empty_db) is None
    assert migrate.upgrade(empty_db) == migrate.head()
    tables = _tables(empty_db)
    assert tables == {
        "symbols": "r",
        "prices_daily": "p",  # partitioned: no TimescaleDB here
        "quotes_minute": "p",
        "rejected_rows": "r",
        "news_articles": "r",
        "news_article_symbols": "r",
    }
    with psycopg2.connect(empty_db) as conn, conn.cursor() as cur:
        cur.execute("select nspname from pg_namespace where nspname in ('raw', 'app') order by 1")
        assert [r[0] for r in cur.fetchall()] == ["app", "raw"]
        cur.execute(
            "select indexdef from pg_indexes where schemaname = 'raw' and tablename = 'prices_daily'"
        )
        defs = " ".join(r[0] for r in cur.fetchall())
        assert "USING brin (trade_date)" in defs and "(symbol, trade_date)" in defs


def test_upgrade_is_repeatable_and_reversible(empty_db):
    migrate.upgrade(empty_db)
    assert migrate.upgrade(empty_db) == migrate.head()  # second run: nothing to do
    migrate.downgrade(empty_db, "base")
    assert migrate.current(empty_db) is None
    assert _tables(empty_db) == {}
    migrate.upgrade(empty_db)
    assert set(_tables(empty_db)) == {
        "symbols", "prices_daily", "quotes_minute", "rejected_rows", "news_articles",
        "news_article_symbols",
    }  # fmt: skip


def test_timescaledb_required_but_absent_fails_clearly(empty_db, monkeypatch):
    import pytest

    monkeypatch.setenv("STOCKMIND_TIMESCALEDB", "on")
    with pytest.raises(RuntimeError, match="no timescaledb"):
        migrate.upgrade(empty_db)
    assert migrate.current(empty_db) is None  # nothing half-applied
