"""docker-compose.yml stays level with the repository's files and programs: its build
contexts, bind mounts and container paths exist, the Dockerfiles COPY only what exists and
is not ignored, and every command names a program, entry point or CLI that accepts it."""

from __future__ import annotations

import fnmatch
import importlib
import importlib.util
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from compose_helpers import (
    airflow_argv,
    argvs,
    compose_dockerfiles,
    compose_spec,
    dockerfile_env,
    dockerfile_instructions,
    ours,
)
from conftest import ROOT

VENV_BIN = Path(sys.executable).parent
#: programs our image has besides the lock's console scripts (apache/airflow's runtime)
IMAGE_PROGRAMS = {"/usr/bin/dumb-init", "/bin/bash", "curl"}
#: console scripts and interpreters from the lock (the image installs requirements.txt)
LOCK_PROGRAMS = {"airflow", "celery", "gunicorn", "mlflow", "stockmind", "dbt", "python"}


@pytest.fixture(scope="module")
def services() -> dict[str, dict]:
    return compose_spec()["services"]


# -- paths ----------------------------------------------------------------------------
def dockerfile_folders() -> set[str]:
    """Folders the Dockerfile makes (``install -d …``): volume mount points."""
    made = set()
    for path in compose_dockerfiles():
        for op, rest in dockerfile_instructions(path):
            if op == "RUN" and "install -d" in rest:
                made |= {t for t in shlex.split(rest) if t.startswith("/")}
    return made


def ignored(rel: str, patterns: list[str]) -> bool:
    parts = rel.strip("/").split("/")
    for i in range(1, len(parts) + 1):
        prefix = "/".join(parts[:i])
        for pat in patterns:
            if fnmatch.fnmatch(prefix, pat) or (
                pat.startswith("**/") and fnmatch.fnmatch(parts[i - 1], pat[3:])
            ):
                return True
    return False


def test_build_contexts_and_bind_mounts_exist(services):
    missing = []
    for name, svc in services.items():
        build = svc.get("build")
        if build:
            context = Path(build["context"])
            if not context.is_dir() or not context.is_relative_to(ROOT):
                missing.append(f"{name}: build context {context}")
            if not (context / build.get("dockerfile", "Dockerfile")).is_file():
                missing.append(f"{name}: dockerfile {build.get('dockerfile')}")
        for mount in svc.get("volumes") or []:
            if mount["type"] == "bind":
                source = Path(mount["source"])
                if not source.exists() or not source.is_relative_to(ROOT):
                    missing.append(f"{name}: bind mount {source}")
    assert not missing, "\n".join(missing)


def test_dockerfiles_copy_only_what_exists_and_is_not_ignored():
    dockerfiles = compose_dockerfiles()
    assert dockerfiles
    problems = []
    for path in dockerfiles:
        ignore_file = path.with_name(path.name + ".dockerignore")
        assert ignore_file.is_file(), f"{ignore_file.name}: keeps .venv and .local out"
        patterns = [
            line.strip()
            for line in ignore_file.read_text().splitlines()
            if line.strip() and not line.lstrip().startswith("#")
        ]
        assert not [p for p in patterns if p.startswith("!")], "exceptions are not modelled here"
        for big in (".venv", ".local", ".git", "node_modules"):
            if not ignored(big, patterns):
                problems.append(f"{ignore_file.name}: does not ignore {big}")
        for op, rest in dockerfile_instructions(path):
            if op != "COPY":
                continue
            tokens = shlex.split(rest)
            if any(t.startswith("--from") for t in tokens):
                continue
            for source in [t for t in tokens if not t.startswith("--")][:-1]:
                if not (ROOT / source).exists():
                    problems.append(f"{path.name}: COPY {source}: not in the repository")
                elif ignored(source, patterns):
                    problems.append(f"{path.name}: COPY {source}: excluded by {ignore_file.name}")
    assert not problems, "\n".join(problems)


def test_container_paths_exist_in_the_image(services):
    """Folders named for our image exist there: copied from the repository, made by the
    Dockerfile, or the base image's AIRFLOW_HOME/logs."""
    root = dockerfile_env()["STOCKMIND_ROOT"]
    made = dockerfile_folders() | {"/opt/airflow/logs"}
    problems = []
    for name, svc in ours(services).items():
        named = [m["target"] for m in svc.get("volumes") or []]
        named += [a for a in (svc.get("command") or []) if a.startswith(root + "/")]
        # a file an environment variable names may be made at run time: its folder exists
        files = [v for v in (svc.get("environment") or {}).values() if str(v).startswith("/")]
        for target in named + files:
            if {target, str(Path(target).parent) if target in files else target} & (
                made | set(svc.get("tmpfs", []))
            ):
                continue
            if target.startswith(root + "/"):
                rel = target.removeprefix(root + "/")
                if (ROOT / rel).exists() and not ignored(rel, ["dbt/target", "dbt/logs"]):
                    continue
            problems.append(f"{name}: {target} is neither copied nor made in the image")
    assert not problems, "\n".join(problems)


# -- commands -------------------------------------------------------------------------
def test_every_command_names_a_program_the_image_has(services):
    problems = []
    for name, svc in ours(services).items():
        for argv in argvs(svc):
            program = argv[0]
            if program in IMAGE_PROGRAMS:
                continue
            if program not in LOCK_PROGRAMS:
                problems.append(f"{name}: {program!r} is neither in the lock nor in the image")
            elif not (VENV_BIN / program).exists():
                problems.append(f"{name}: {program!r} is not a console script of the lock")
    assert not problems, "\n".join(problems)


def _importable(dotted: str) -> bool:
    """``pkg.module`` or ``pkg.module:attr`` / ``pkg.module.Attr`` (without importing
    Airflow-side modules, whose import needs a configured Airflow)."""
    module, _, attr = dotted.partition(":")
    attr = attr.removesuffix("()")
    if not attr:
        try:
            if importlib.util.find_spec(module) is not None:
                return True
        except ModuleNotFoundError:  # a parent is a module, not a package: module.Attr
            pass
    if not attr:
        module, _, attr = module.rpartition(".")
    try:
        return callable(getattr(importlib.import_module(module), attr, None))
    except ImportError:
        return False


def test_every_python_entry_point_exists(services):
    problems = []
    for name, svc in ours(services).items():
        for argv in argvs(svc):
            named = []
            if argv[0] == "python" and "-m" in argv:
                named.append(argv[argv.index("-m") + 1])
            if argv[0] == "celery" and "--app" in argv:
                # the module only: the attribute exists once Airflow is configured
                named.append(argv[argv.index("--app") + 1].rpartition(".")[0])
            if argv[0] == "gunicorn":
                named += [argv[-1], argv[argv.index("--worker-class") + 1]]
            problems += [f"{name}: {n} is not importable" for n in named if not _importable(n)]
            if argv[0] == "stockmind":
                from stockmind.platform.cli import build_parser

                try:
                    build_parser().parse_args(argv[1:])
                except SystemExit:
                    problems.append(f"{name}: `{shlex.join(argv)}` is not a stockmind command")
    assert not problems, "\n".join(problems)


PARSE_AIRFLOW = """
import contextlib, io, json, sys
from airflow.cli import cli_parser
parser, bad = cli_parser.get_parser(), {}
for argv in json.loads(sys.argv[1]):
    out = io.StringIO()
    try:
        with contextlib.redirect_stderr(out), contextlib.redirect_stdout(out):
            parser.parse_args(argv)
    except SystemExit as exc:
        if exc.code:
            bad[" ".join(argv)] = out.getvalue().strip().splitlines()[-1:]
print(json.dumps(bad))
"""


def test_every_airflow_command_parses(services, tmp_path):
    """Airflow's own CLI parser (as configured in compose: the CeleryExecutor's commands)
    accepts every `airflow …` the services and their health checks run."""
    commands = [
        argv[1:] for svc in ours(services).values() for argv in argvs(svc) if argv[0] == "airflow"
    ]
    assert len(commands) >= 6, commands
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    proc = subprocess.run(
        [sys.executable, "-c", PARSE_AIRFLOW, json.dumps(commands)],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == {}


def test_the_api_runs_as_make_up_runs_it(services, monkeypatch):
    from stockmind.platform.processes import api_command
    from stockmind.settings import DEFAULT_ROOT

    monkeypatch.delenv("API_WORKERS", raising=False)
    monkeypatch.delenv("API_THREADS", raising=False)
    api = services["stockmind-api"]
    argv = argvs(api)[0]
    assert argv[0] == "gunicorn"
    # the same arguments, with the checkout's paths where the image has them
    root = dockerfile_env()["STOCKMIND_ROOT"]
    local = [a.replace(str(DEFAULT_ROOT), root) for a in api_command("0.0.0.0:8000")[1:]]
    assert argv[1:] == local
    assert any(p["target"] == 8000 for p in api["ports"])
    # metrics across gunicorn workers: a folder emptied at every start
    assert api["environment"]["PROMETHEUS_MULTIPROC_DIR"] in api["tmpfs"]
    assert api["environment"]["API_RATE_LIMIT_STORAGE"].startswith("redis://")


def _flags(argv: list[str]) -> set[str]:
    return {a for a in argv if a.startswith("-")}


def test_mlflow_runs_as_make_up_runs_it(services):
    from stockmind.platform.processes import mlflow_command, model_server_command
    from stockmind.settings import get_settings

    local = mlflow_command(get_settings())
    server = argvs(services["mlflow"])[0]
    assert server[:2] == ["mlflow", "server"] and _flags(server) == _flags(local)
    assert server[server.index("--workers") + 1] == local[local.index("--workers") + 1]
    assert server[server.index("--backend-store-uri") + 1].endswith("/mlflow")
    local = model_server_command("champion", 5001)
    serve = argvs(services["model-server"])[0]
    assert serve[:3] == ["mlflow", "models", "serve"] and _flags(serve) == _flags(local)
    assert serve[serve.index("-m") + 1] == local[local.index("-m") + 1]


def test_celery_workers_serve_every_queue(services):
    from stockmind import queues

    served: dict[str, str] = {}
    for name, svc in ours(services).items():
        argv = airflow_argv(svc) or []
        if argv[:2] == ["celery", "worker"]:
            given = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a in ("--queues", "-q")]
            assert given, f"{name}: `{shlex.join(argv)}` names no --queues (serves every queue)"
            for queue in given[-1].split(","):
                served[queue] = name
    want = {
        q: "airflow-worker" if q == queues.DEFAULT else f"airflow-worker-{q}" for q in queues.ALL
    }
    assert served == want, f"queue -> worker service: {served}, want {want} (stockmind/queues.py)"
    # one JWT secret and one execution API for every Airflow component
    airflow = {n: s["environment"] for n, s in ours(services).items() if airflow_argv(s)}
    for key in ("AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__CORE__EXECUTION_API_SERVER_URL"):
        values = {name: env.get(key) for name, env in airflow.items()}
        assert len(set(values.values())) == 1 and None not in values.values(), values
    assert airflow["airflow-worker"]["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == (
        "http://airflow-apiserver:8080/execution/"
    )
