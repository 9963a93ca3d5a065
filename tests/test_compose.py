"""docker-compose.yml is valid Compose (checked by the real Compose v2 binary, no engine)
with the production shape: health checks, restart policies and named volumes.
The paths and commands are in test_compose_sources.py, the environment in test_compose_env.py."""

from __future__ import annotations

import pytest
from compose_helpers import (
    COMPOSE_FILE,
    ENV_EXAMPLE,
    airflow_argv,
    compose_config,
    compose_spec,
    dockerfile_env,
    needs_binary,
    ours,
)


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
    return compose_spec()


@pytest.fixture(scope="module")
def services(spec) -> dict[str, dict]:
    return spec["services"]


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
