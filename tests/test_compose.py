"""docker-compose.yml is valid Compose (checked by the real Compose v2 binary, no engine)
and stays consistent with the local path."""

import subprocess
from pathlib import Path

import compose
import pytest
import yaml
from conftest import ROOT

BINARY = Path(compose.__file__).parent / "docker-compose"


def compose_config(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BINARY), "-f", str(path), "config", "--quiet"], capture_output=True, text=True
    )


def test_compose_file_is_valid():
    assert BINARY.exists()
    proc = compose_config(ROOT / "docker-compose.yml")
    assert proc.returncode == 0, proc.stderr


def test_the_validator_rejects_a_broken_file(tmp_path):
    broken = tmp_path / "docker-compose.yml"
    broken.write_text("services:\n  web:\n    image: nginx\n    ports: 80\n")
    assert compose_config(broken).returncode != 0


@pytest.fixture(scope="module")
def spec():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_production_shape(spec):
    services = spec["services"]
    assert services["postgres"]["image"].startswith("timescale/timescaledb:")
    for name in (
        "airflow-apiserver",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-triggerer",
        "airflow-worker",
        "redis",
        "stockmind-init",
    ):
        assert name in services
    env = services["airflow-worker"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["DATABASE_URL"].startswith("postgresql://") and env["STOCKMIND_TIMESCALEDB"] == "on"
    # the init job applies the same migrations as `make up`
    assert "stockmind db migrate" in " ".join(services["stockmind-init"]["command"])
