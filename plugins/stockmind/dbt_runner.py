"""Running dbt with the project's settings (``stockmind dbt …``, the transform DAG).

dbt reads its connection from environment variables only (``dbt/profiles.yml``); they are
filled here from the same DSN everything else uses (DATABASE_URL or the local cluster).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

from stockmind.db import warehouse_dsn
from stockmind.settings import Settings, get_settings


def dbt_env(settings: Settings | None = None, dsn: str | None = None) -> dict[str, str]:
    settings = settings or get_settings()
    parts = urlsplit(dsn or warehouse_dsn(settings))
    env = dict(os.environ)
    env.update(
        {
            "STOCKMIND_DBT_HOST": parts.hostname or "localhost",
            "STOCKMIND_DBT_PORT": str(parts.port or 5432),
            "STOCKMIND_DBT_USER": unquote(parts.username or ""),
            "STOCKMIND_DBT_PASSWORD": unquote(parts.password or ""),
            "STOCKMIND_DBT_DBNAME": unquote(parts.path.lstrip("/")),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DO_NOT_TRACK": "true",
        }
    )
    return env


def dbt_dir(settings: Settings | None = None) -> Path:
    return (settings or get_settings()).root / "dbt"


def dbt_command(args: list[str], settings: Settings | None = None) -> list[str]:
    project = str(dbt_dir(settings))
    dbt = str(Path(sys.executable).parent / "dbt")
    return [dbt, *args, "--project-dir", project, "--profiles-dir", project]


def run_dbt(
    args: list[str], settings: Settings | None = None, dsn: str | None = None, **kwargs
) -> subprocess.CompletedProcess:
    """Run ``dbt <args>`` against the warehouse; raises when dbt fails."""
    return subprocess.run(
        dbt_command(args, settings), env=dbt_env(settings, dsn), check=True, **kwargs
    )


def run_results(settings: Settings | None = None) -> dict:
    """dbt's ``target/run_results.json`` of the last invocation."""
    return json.loads((dbt_dir(settings) / "target" / "run_results.json").read_text())


def model_seconds(model: str, settings: Settings | None = None) -> float:
    """How long ``model`` took in the last invocation."""
    for result in run_results(settings)["results"]:
        if result["unique_id"].split(".")[-1] == model:
            return result["execution_time"]
    raise KeyError(f"{model} not in the last dbt run")


def dbt_summary(settings: Settings | None = None) -> dict:
    """Counts by status and elapsed time from dbt's ``run_results.json`` (for XCom)."""
    results = run_results(settings)
    counts: dict[str, int] = {}
    for result in results["results"]:
        counts[result["status"]] = counts.get(result["status"], 0) + 1
    return {"elapsed_s": round(results["elapsed_time"], 1), **counts}


def build(settings: Settings | None = None, extra: list[str] | None = None) -> dict:
    """``dbt build`` (models and their tests), output streamed to the caller's log."""
    run_dbt(["build", *(extra or [])], settings)
    return dbt_summary(settings)


def generate_docs(settings: Settings | None = None) -> str:
    """``dbt docs generate``; returns the folder holding the static docs site."""
    run_dbt(["docs", "generate"], settings)
    return str(dbt_dir(settings) / "target")
