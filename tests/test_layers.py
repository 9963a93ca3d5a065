"""The layer rules of docs/architecture.md, read from every module's imports.

Every ``import`` counts, at module level or inside a function (a lazy import is still a
dependency: it only moves the cost), and so does ``importlib.import_module("…")`` or
``__import__("…")``; a dynamic import of a computed name is refused. The rules:

* core ``stockmind`` (not ``stockmind.platform``): no Airflow, Flask, gunicorn,
  TensorFlow/Keras or MLflow; never the platform part, the API, the DAGs or ``ml``;
* local platform ``stockmind.platform``: the core (and ``ml`` entry points); never the
  API's code (it starts the API by command line) or the DAGs;
* ``api`` (``stockmind_api``): the core only; never ``ml``, the platform part or DAGs,
  and no Airflow, TensorFlow/Keras or MLflow;
* ``dags``: the core and Airflow (``ml`` entry points later); never the API, the
  platform part, Flask, or TensorFlow/Keras/MLflow themselves (a task reaches them
  through an ``ml`` entry point);
* ``ml``: the core; never the API, the platform part, DAGs, Flask or Airflow;
* and no import cycle among the project's modules.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: where each layer's modules live: (folder, the module-name prefix of files in it)
SOURCES = {"plugins": "", "api": "", "dags": "dags.", "ml": ""}

HEAVY_ML = ("tensorflow", "keras", "mlflow")
WEB = ("flask", "flask_jwt_extended", "flask_limiter", "flask_smorest", "werkzeug", "gunicorn")
FORBIDDEN = {
    "core": (
        "airflow",
        *WEB,
        *HEAVY_ML,
        "stockmind.platform",
        "stockmind_api",
        "dags",
        "stockmind_ml",
    ),
    "platform": ("airflow", *WEB, "stockmind_api", "dags"),
    "api": ("airflow", *HEAVY_ML, "stockmind.platform", "dags", "stockmind_ml"),
    "dags": (*WEB, *HEAVY_ML, "stockmind.platform", "stockmind_api"),
    "ml": ("airflow", *WEB, "stockmind.platform", "stockmind_api", "dags"),
}


def layer_of(module: str) -> str | None:
    if module == "stockmind.platform" or module.startswith("stockmind.platform."):
        return "platform"
    top = module.split(".")[0]
    layers = {"stockmind": "core", "stockmind_api": "api", "stockmind_ml": "ml", "dags": "dags"}
    return layers.get(top)


def project_modules() -> dict[str, Path]:
    """Every Python module of the project by its import name."""
    found: dict[str, Path] = {}
    for folder, prefix in SOURCES.items():
        base = ROOT / folder
        for path in sorted(base.rglob("*.py")):
            parts = list(path.relative_to(base).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if parts:
                found[prefix + ".".join(parts)] = path
    return found


DYNAMIC_IMPORTS = {"import_module", "__import__", "find_spec"}


def imports_of(module: str, path: Path) -> set[str]:
    """Modules named by every import statement in the file, nested ones included, and by
    dynamic imports (``importlib.import_module("x")``, ``__import__("x")``): a string
    argument counts as an import; a computed one is refused, it could name anything."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in DYNAMIC_IMPORTS:
                arg = node.args[0] if node.args else None
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    names.add(arg.value)
                else:
                    names.add(f"<dynamic import at {path.name}:{node.lineno}>")
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def violations(graph: dict[str, set[str]]) -> list[str]:
    """Layer rule breaches in a module → imported-names graph."""
    found = []
    for module, names in sorted(graph.items()):
        layer = layer_of(module)
        for name in sorted(names):
            if name.startswith("<dynamic import"):
                found.append(f"{module} ({layer}): {name[1:-1]} with a computed name")
            for banned in FORBIDDEN.get(layer, ()):
                if name == banned or name.startswith(banned + "."):
                    found.append(f"{module} ({layer}) imports {name}")
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), over project modules."""
    edges = {m: sorted(n for n in names if n in graph and n != m) for m, names in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return groups


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return {m: imports_of(m, p) for m, p in project_modules().items()}


def test_every_layer_is_found(graph):
    layers = {layer_of(m) for m in graph}
    assert {"core", "platform", "api", "dags", "ml"} <= layers
    assert "stockmind.platform.cli" in graph and "stockmind_api.market.views" in graph


def test_no_module_breaks_a_layer_rule(graph):
    assert violations(graph) == []


def test_no_import_cycles(graph):
    assert cycles(graph) == []


def test_the_checks_catch_what_they_are_for(tmp_path):
    """The checker itself: a lazy import of the platform from the API, Flask in the core,
    dynamic imports, TensorFlow in a DAG and a two-module loop are each reported."""
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from stockmind.platform.processes import api_command\n")
    lazy = imports_of("stockmind_api.probe", probe)
    assert violations({"stockmind_api.probe": lazy}) == [
        "stockmind_api.probe (api) imports stockmind.platform.processes",
        "stockmind_api.probe (api) imports stockmind.platform.processes.api_command",
    ]
    assert violations({"stockmind.loader": {"flask"}}) == ["stockmind.loader (core) imports flask"]
    probe.write_text(
        "import importlib\n"
        "def f(name):\n"
        "    importlib.import_module('stockmind_api.config')\n"
        "    return __import__(name)\n"
    )
    assert violations({"stockmind.probe": imports_of("stockmind.probe", probe)}) == [
        "stockmind.probe (core): dynamic import at probe.py:4 with a computed name",
        "stockmind.probe (core) imports stockmind_api.config",
    ]
    assert violations({"dags.train": {"tensorflow"}}) == ["dags.train (dags) imports tensorflow"]
    loop = {"stockmind.a": {"stockmind.b"}, "stockmind.b": {"stockmind.a"}, "stockmind.c": set()}
    assert cycles(loop) == [["stockmind.a", "stockmind.b"]]


# -- the API's data contract: marts, its own app schema, and the named real-time cache --
# A first line, in the source: schema-qualified names in the API's SQL. The enforcement is
# the database's: the API's suites run as a role granted only those relations
# (conftest.api_reader_dsn), so a read of anything else fails there, whatever its spelling.
WAREHOUSE_SCHEMAS = ("raw", "staging", "intermediate", "public")
#: read directly by the API although not a mart: the minute quotes (dbt builds daily)
REALTIME_CACHE = {"raw.quotes_minute"}
RELATION = re.compile(r"\b(" + "|".join(WAREHOUSE_SCHEMAS) + r")\.([a-z_][a-z0-9_]*)\b")


def relations_named(source: str) -> set[str]:
    """Schema-qualified warehouse relations in the string literals of ``source``."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.update(".".join(m) for m in RELATION.findall(node.value))
    return found


def test_the_api_reads_only_marts_its_app_schema_and_the_quote_cache():
    named = {
        f"{path.relative_to(ROOT)}: {relation}"
        for path in sorted((ROOT / "api").rglob("*.py"))
        for relation in relations_named(path.read_text())
        if relation not in REALTIME_CACHE
    }
    assert named == set()


def test_the_schema_check_catches_a_raw_read():
    source = 'SQL = f"select close from raw.prices_daily where x"\nOK = "from marts.dim_symbols"'
    assert relations_named(source) == {"raw.prices_daily"}
    assert relations_named('Q = "select 1 from staging.stg_prices_daily"') == {
        "staging.stg_prices_daily"
    }


def test_every_package_is_installed():
    """pyproject lists packages one by one (two source roots): a new feature folder that
    is not listed would import from a checkout but be missing from a built wheel."""
    import tomllib

    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(init.parent.relative_to(ROOT / folder).parts)
        for folder in ("plugins", "api", "ml")
        for init in (ROOT / folder).rglob("__init__.py")
    }
    assert found == listed
