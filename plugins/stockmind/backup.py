"""Backup and restore of the warehouse: ``pg_dump`` in its custom format (compressed,
restorable table by table) and ``pg_restore`` into an empty database — ``stockmind db
backup PATH`` / ``stockmind db restore PATH``.

The client tools are PostgreSQL's own: the newest installed server's (Debian keeps them
under ``/usr/lib/postgresql/<version>/bin``), else the ones on PATH. A dump is taken in
one snapshot (``pg_dump`` is transactional), so it is consistent while DAGs write.
"""

from __future__ import annotations

import glob
import shutil
import subprocess
from pathlib import Path

from stockmind.db import redact, warehouse_dsn


def client_tool(name: str) -> str:
    """``pg_dump``/``pg_restore``: the newest Debian server's, else the one on PATH."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                   key=lambda p: int(Path(p).parts[-3]))  # fmt: skip
    tool = found[-1] if found else shutil.which(name)
    if not tool:
        raise FileNotFoundError(f"{name} not found: install PostgreSQL's client tools")
    return tool


def backup(path: Path, dsn: str | None = None) -> dict:
    """Dump the warehouse to ``path`` (custom format); returns its size and source."""
    dsn = dsn or warehouse_dsn()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [client_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
         f"--file={path}", dsn],
        capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"pg_dump of {redact(dsn)} failed: {done.stderr.strip()[-500:]}")
    return {"path": str(path), "bytes": path.stat().st_size, "database": redact(dsn)}


def restore(path: Path, dsn: str | None = None) -> dict:
    """Restore a dump into ``dsn`` (an empty database), in one transaction: a failure
    leaves the target as it was."""
    dsn = dsn or warehouse_dsn()
    if not Path(path).exists():
        raise FileNotFoundError(f"no backup at {path}")
    done = subprocess.run(
        [client_tool("pg_restore"), "--no-owner", "--no-privileges", "--single-transaction",
         "--exit-on-error", f"--dbname={dsn}", str(path)],
        capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"pg_restore into {redact(dsn)} failed: {done.stderr.strip()[-500:]}")
    return {"path": str(path), "database": redact(dsn)}
