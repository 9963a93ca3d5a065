"""The service connection pool on a real PostgreSQL: reuse, prepared statements across
table rebuilds, recovery when the server drops a connection."""

import threading

import psycopg2
import pytest
from stockmind.pool import Pool


@pytest.fixture
def pool(empty_db):
    pool = Pool(empty_db, minconn=1, maxconn=2, timeout=5)
    yield pool
    pool.close()


def backend_pid(pool: Pool) -> int:
    return pool.fetch_one("select pg_backend_pid() as pid")["pid"]


def test_connections_are_kept_and_callers_wait_for_a_free_one(pool):
    assert backend_pid(pool) == backend_pid(pool)  # reused, not reopened
    results, barrier = [], threading.Barrier(6)

    def worker():
        barrier.wait()
        results.append(pool.fetch_one("select pg_sleep(0.05), 1 as one")["one"])

    threads = [threading.Thread(target=worker) for _ in range(6)]  # 6 callers, 2 connections
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [1] * 6


def test_prepared_statements_survive_a_rebuilt_table(pool, empty_db):
    conn = psycopg2.connect(empty_db)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("create table t as select 1 as id, 'a'::text as v")
    query = "select v from t where id = %(id)s"
    assert pool.fetch_prepared("t_by_id", query, {"id": 1}) == {"v": "a"}
    with conn.cursor() as cur:  # what dbt does to a table model: a new table, same name
        cur.execute("drop table t; create table t as select 1 as id, 'b'::varchar(5) as v")
    assert pool.fetch_prepared("t_by_id", query, {"id": 1}) == {"v": "b"}
    conn.close()


def test_a_dropped_connection_is_replaced_and_the_read_retried(pool, empty_db):
    before = backend_pid(pool)
    conn = psycopg2.connect(empty_db)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("select pg_terminate_backend(%s)", (before,))
    conn.close()
    assert backend_pid(pool) != before  # no error: the read ran again on a new connection


def test_a_statement_timeout_is_an_error_not_a_retry(empty_db):
    pool = Pool(empty_db + "?options=-c%20statement_timeout%3D100", maxconn=1)
    pid = backend_pid(pool)
    with pytest.raises(psycopg2.errors.QueryCanceled):
        pool.fetch_one("select pg_sleep(2)")
    assert backend_pid(pool) == pid  # the connection is fine and kept
    pool.close()
