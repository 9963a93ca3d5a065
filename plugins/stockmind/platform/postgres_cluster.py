"""The project-local PostgreSQL cluster: data under ``.local/pg``, on a free loopback port.

``make up`` and the test suite run on it when ``DATABASE_URL`` is not given.  PostgreSQL
refuses to run as root, so as root the cluster belongs to the ``postgres`` system user
that Debian's package creates.  Every step is idempotent: ``up`` on a running cluster
only makes sure the databases exist.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
from pathlib import Path

from stockmind.db import LOCAL_DATABASES, LOCAL_PASSWORD, LOCAL_USER, create_database, local_dsn
from stockmind.settings import Settings

SERVER_CONF = {
    "listen_addresses": "'127.0.0.1'",
    "max_connections": "200",
    "shared_buffers": "'256MB'",
    "work_mem": "'32MB'",
    "maintenance_work_mem": "'256MB'",
    "max_wal_size": "'2GB'",
    "checkpoint_timeout": "'15min'",
    "log_min_duration_statement": "'2s'",
    "timezone": "'UTC'",
}


class ClusterError(RuntimeError):
    """The local cluster could not be set up or started; the message says why."""


def bin_dir() -> Path:
    """The newest installed PostgreSQL server's bin directory (Debian layout first)."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parent.parent.name),
    )
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise ClusterError(
        "no PostgreSQL server found: install Debian's `postgresql` package "
        "(make up does this as root), or set DATABASE_URL to an existing server"
    )


def _as_owner(cmd: list[str]) -> list[str]:
    """Run server commands as ``postgres`` when we are root (initdb refuses root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(_as_owner(cmd), capture_output=True, text=True, **kwargs)
    if proc.returncode != 0:
        raise ClusterError(f"{' '.join(cmd[:2])} failed:\n{proc.stdout}{proc.stderr}")
    return proc


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(preferred: int) -> int:
    """``preferred`` when nothing listens there, else any free loopback port."""
    if preferred and _port_is_free(preferred):
        return preferred
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalCluster:
    """Initialise, start, stop and inspect the project's own PostgreSQL."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.base = settings.pg_dir
        self.data = self.base / "data"
        self.run_dir = self.base / "run"
        self.log = self.base / "postgres.log"
        self.port_file = self.base / "port"

    # -- state -----------------------------------------------------------------------
    def initialized(self) -> bool:
        return (self.data / "PG_VERSION").exists()

    def running(self) -> bool:
        if not self.initialized():
            return False
        proc = subprocess.run(
            _as_owner([str(bin_dir() / "pg_ctl"), "-D", str(self.data), "status"]),
            capture_output=True,
            text=True,
        )
        return proc.returncode == 0

    def port(self) -> int | None:
        return int(self.port_file.read_text()) if self.port_file.exists() else None

    # -- lifecycle -------------------------------------------------------------------
    def _prepare_dirs(self) -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        self.run_dir.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            for path in (self.base, self.run_dir):
                os.chown(path, owner.pw_uid, owner.pw_gid)
            if self.log.exists():
                self._chown(self.log)
            probe = subprocess.run(["runuser", "-u", "postgres", "--", "test", "-w", self.base])
            if probe.returncode != 0:
                raise ClusterError(
                    f"the postgres user cannot write {self.base} (a parent folder is not "
                    "traversable); set STOCKMIND_PG_DIR to a folder it can reach"
                )

    def _chown(self, path: Path) -> None:
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(path, owner.pw_uid, owner.pw_gid)

    def init(self) -> None:
        self._prepare_dirs()
        pwfile = self.base / "pwfile"
        pwfile.write_text(LOCAL_PASSWORD + "\n")
        self._chown(pwfile)
        try:
            _run(
                [
                    str(bin_dir() / "initdb"),
                    "-D",
                    str(self.data),
                    "--username",
                    LOCAL_USER,
                    f"--pwfile={pwfile}",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                ]
            )
        finally:
            pwfile.unlink(missing_ok=True)

    def _write_conf(self, port: int) -> None:
        conf = dict(SERVER_CONF, port=str(port), unix_socket_directories=f"'{self.run_dir}'",
                    listen_addresses=f"'{self.settings.bind_host}'")  # fmt: skip
        body = "# managed by stockmind (platform/postgres_cluster.py); rewritten at every start\n"
        body += "".join(f"{key} = {value}\n" for key, value in conf.items())
        (self.data / "stockmind.conf").write_text(body)
        main_conf = self.data / "postgresql.conf"
        include = "include_if_exists = 'stockmind.conf'\n"
        if include not in main_conf.read_text():
            with main_conf.open("a") as fh:
                fh.write(include)
        self._chown(self.data / "stockmind.conf")

    def start(self) -> int:
        """Start the server (no-op when running); returns its port."""
        if self.running():
            return self.port() or self.settings.pg_port
        port = free_port(self.port() or self.settings.pg_port)
        self._prepare_dirs()
        self._write_conf(port)
        _run(
            [
                str(bin_dir() / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.log),
                "-w",
                "-t",
                "60",
                "start",
            ]
        )
        self.port_file.write_text(f"{port}\n")
        return port

    def stop(self) -> bool:
        """Stop the server (fast shutdown); False when it was not running."""
        if not self.running():
            return False
        _run([str(bin_dir() / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"])
        return True

    def up(self) -> int:
        """Initialise if needed, start, create the project's databases; returns the port."""
        if not self.initialized():
            self.init()
        port = self.start()
        self.create_databases(LOCAL_DATABASES)
        return port

    def create_databases(self, names: tuple[str, ...]) -> None:
        server = local_dsn(self.settings, "postgres")
        for name in names:
            create_database(server, name, exist_ok=True)
