"""What the benchmarks share: the real data file, a throwaway database, the report.

Each benchmark owns one marked section of docs/benchmarks.md and rewrites only that.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from stockmind import migrate
from stockmind.db import create_database, drop_database, local_dsn, normalize_dsn, with_database
from stockmind.platform.environment import redis_url
from stockmind.platform.postgres_cluster import LocalCluster
from stockmind.platform.processes import redis_command
from stockmind.settings import Settings, get_settings

ROOT = Path(__file__).resolve().parent.parent


def shared_file() -> Path:
    base = os.environ.get("STOCKMIND_SHARED_DATA") or ROOT.parent / "shared" / "data"
    path = Path(base) / "prices" / "all_stocks_5yr.csv.gz"
    if not path.exists():
        sys.exit(f"shared data not found at {path}: set STOCKMIND_SHARED_DATA")
    return path


def server_dsn() -> str:
    settings = get_settings()
    if settings.database_url:
        return with_database(normalize_dsn(settings.database_url), "postgres")
    LocalCluster(settings).up()
    return local_dsn(settings, "postgres")


@contextmanager
def throwaway_warehouse() -> Iterator[str]:
    """A migrated warehouse database that is dropped afterwards."""
    server = server_dsn()
    name = f"stockmind_bench_{uuid.uuid4().hex[:8]}"
    dsn = create_database(server, name)
    try:
        migrate.upgrade(dsn)
        yield dsn
    finally:
        drop_database(server, name)


HEADER = "# Benchmarks\n\nWritten by `make bench`; each section by the script it names.\n"


def write_section(path: str | Path, name: str, body: str) -> None:
    path = Path(path)
    text = path.read_text() if path.exists() else HEADER
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{body.strip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    text = (
        pattern.sub(lambda _: block, text)
        if pattern.search(text)
        else text.rstrip() + "\n\n" + block + "\n"
    )
    path.write_text(text)


@contextmanager
def local_redis() -> Iterator[str]:
    """A Redis started as ``make up`` starts it (the platform's command), in a temp home:
    rate limits and connection caps live there, as under ``make up``. Yields its URL."""
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=Path(home))
        server = subprocess.Popen(redis_command(settings), stdout=subprocess.DEVNULL)
        try:
            time.sleep(0.5)
            yield redis_url(settings)
        finally:
            server.terminate()
            server.wait(timeout=10)
