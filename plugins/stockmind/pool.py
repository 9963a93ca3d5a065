"""A connection pool for long-running services (the API), with prepared statements."""

from __future__ import annotations

import re
import threading

import psycopg2
import psycopg2.errors
import psycopg2.extensions


class PreparingConnection(psycopg2.extensions.connection):
    """A connection that remembers which statements it has prepared."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.prepared: set[str] = set()


class Pool:
    """A thread-safe psycopg2 connection pool handing out dict-row cursors (for services).

    Not ``psycopg2.pool.ThreadedConnectionPool``: that one closes every returned connection
    beyond ``minconn`` (so under concurrency each request pays a new backend, ~100 req/s
    instead of ~500 measured) and raises when exhausted. Here idle connections are kept
    (up to ``maxconn``), callers wait for a free one, and broken ones are discarded so a
    PostgreSQL restart heals by itself.
    """

    def __init__(self, dsn: str, minconn: int = 1, maxconn: int = 16, timeout: float = 30.0):
        self._dsn, self._timeout = dsn, timeout
        self._slots = threading.BoundedSemaphore(maxconn)
        self._idle: list[PreparingConnection] = []
        self._lock = threading.Lock()
        self.statement_log: list[str] | None = None  # a list: keep every statement sent
        for _ in range(minconn):
            self._idle.append(self._connect())

    def _connect(self) -> PreparingConnection:
        return psycopg2.connect(self._dsn, connection_factory=PreparingConnection)

    def getconn(self) -> psycopg2.extensions.connection:
        if not self._slots.acquire(timeout=self._timeout):
            raise psycopg2.OperationalError("no database connection free within the timeout")
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        try:
            return conn if conn is not None and not conn.closed else self._connect()
        except BaseException:
            self._slots.release()
            raise

    def putconn(self, conn: psycopg2.extensions.connection) -> None:
        """Return a connection; one that is closed or mid-transaction is dropped."""
        try:
            healthy = not conn.closed and (
                conn.info.transaction_status == psycopg2.extensions.TRANSACTION_STATUS_IDLE
            )
            if healthy:
                with self._lock:
                    self._idle.append(conn)
            elif not conn.closed:
                conn.close()
        finally:
            self._slots.release()

    def fetch_all(self, query: str, params=None) -> list[dict]:
        return self._fetch(query, params, many=True)

    def fetch_one(self, query: str, params=None) -> dict | None:
        return self._fetch(query, params, many=False)

    def fetch_prepared(self, name: str, query: str, params: dict, many: bool = False):
        """Like ``fetch_one``/``fetch_all``, as a server-side prepared statement (reads).

        For the hot read endpoints: their statements are large (JSON built in SQL) and
        planning them cost more than running them. ``query`` uses ``%(name)s`` parameters;
        each connection prepares it once. PostgreSQL re-plans it by itself when a table is
        rebuilt (dbt); a changed result type is answered by preparing it again.
        """
        names = list(dict.fromkeys(re.findall(r"%\((\w+)\)s", query)))
        placeholders = f"({', '.join(['%s'] * len(names))})" if names else ""
        values = [params[n] for n in names]
        body = re.sub(r"%\((\w+)\)s", lambda m: f"${names.index(m.group(1)) + 1}", query)

        def run(conn: PreparingConnection, cur) -> None:
            for attempt in (1, 2):
                if name not in conn.prepared:
                    cur.execute(f"prepare {name} as {body}".replace("%%", "%"))
                    conn.prepared.add(name)
                try:
                    cur.execute(f"execute {name}{placeholders}", values)
                    return
                except psycopg2.errors.FeatureNotSupported:  # the cached plan's result changed
                    cur.execute(f"deallocate {name}")
                    conn.prepared.discard(name)
                    if attempt == 2:
                        raise

        return self._autocommit(run, query, params, many, retry=True)

    def _fetch(self, query: str, params, many: bool):
        def run(conn, cur) -> None:
            cur.execute(query, params)

        is_read = query.lstrip()[:6].lower() in ("select", "with\n", "with ")
        return self._autocommit(run, query, params, many, retry=is_read)

    def _autocommit(self, run, query: str, params, many: bool, retry: bool):
        """Run one statement in autocommit: a read needs no BEGIN/COMMIT, which would be
        two more round trips (a third of a small request's time). A connection the server
        dropped (restart, idle kill) is discarded; a read is retried once on a new one."""
        from psycopg2.extras import RealDictCursor

        for attempt in (1, 2):
            conn = self.getconn()
            try:
                conn.autocommit = True
                with conn.cursor(cursor_factory=RealDictCursor) as cur:
                    self._log(cur, query, params)
                    run(conn, cur)
                    return cur.fetchall() if many else cur.fetchone()
            except (psycopg2.OperationalError, psycopg2.InterfaceError):
                if not conn.closed:  # e.g. a statement timeout: the connection is fine
                    raise
                if not retry or attempt == 2:
                    raise
            finally:
                if not conn.closed:
                    conn.autocommit = False
                self.putconn(conn)
        raise AssertionError("unreachable")

    def _log(self, cur, query: str, params) -> None:
        """Keep the statement with its parameters bound (EXPLAIN checks, pgbench scripts)."""
        if self.statement_log is not None:
            self.statement_log.append(" ".join(cur.mogrify(query, params).decode().split()))

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
