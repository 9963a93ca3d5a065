"""docker-compose.yml and .env.example stay level with the code: every environment
variable compose sets is read by the code, every one the code reads is documented in
.env.example and forwarded to the containers that read it, and nothing documented is dead."""

from __future__ import annotations

import ast
import importlib.util
import json
import re
from pathlib import Path

import pytest
from compose_helpers import COMPOSE_FILE, ENV_EXAMPLE, compose_spec, dockerfile_env, ours
from conftest import ROOT

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
    "STOCKMIND_AIRFLOW_DB_URL": "the Airflow metadata URL again, for maintenance's airflow db "
    "clean inside a task (Airflow 3 blocks the usual one there); set beside it, never by hand",
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


@pytest.fixture(scope="module")
def services() -> dict[str, dict]:
    return compose_spec()["services"]


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
