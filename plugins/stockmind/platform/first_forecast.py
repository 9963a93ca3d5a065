"""The forecaster on a first ``make up``: train the quick model on the sample history,
promote it only if it beats the naive baseline (the registry's rule), and score every
symbol — with the champion, or, while there is none, with the challenger (the API then
labels the forecast with the reason it was not promoted). Later runs leave a registered
model alone and only score.
"""

from __future__ import annotations

import os
import time
import urllib.request
from collections.abc import Callable

from stockmind.platform.environment import mlflow_url
from stockmind.settings import Settings


def wait_for_mlflow(settings: Settings, timeout: float = 120) -> str:
    """The tracking server's URL once it answers ``/health``."""
    url = mlflow_url(settings)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=5) as reply:
                if reply.status == 200:
                    return url
        except OSError:
            pass
        time.sleep(1)
    raise RuntimeError(f"MLflow did not answer at {url} within {timeout:.0f} s: see .local/logs")


#: ``mlflow models serve`` measured ~1 GB resident (tests/test_ml_training.py); make up
#: starts it only with this much memory available (STOCKMIND_MODEL_SERVER=on|off forces)
MODEL_SERVER_MIN_AVAILABLE = 4 * 2**30


def available_memory() -> int:
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


def serve_model(settings: Settings, alias: str, say: Callable[[str], None] = print) -> str:
    """Start ``mlflow models serve`` for ``alias`` when it fits; the report's line."""
    from stockmind.platform.environment import airflow_ports
    from stockmind.platform.processes import service_pid, start_service

    mode = (os.environ.get("STOCKMIND_MODEL_SERVER") or "auto").lower()
    free = available_memory()
    if mode == "off" or (mode == "auto" and free < MODEL_SERVER_MIN_AVAILABLE):
        why = "STOCKMIND_MODEL_SERVER=off" if mode == "off" else f"{free / 2**30:.1f} GiB free"
        return f"not started ({why}; ~1 GB): .venv/bin/stockmind ml serve"
    if not service_pid(settings, "model-server"):
        os.environ["STOCKMIND_SERVE_ALIAS"] = alias
        say(f"model-server: pid {start_service(settings, 'model-server')}")
    port = airflow_ports(settings)["model"]
    return f"http://127.0.0.1:{port}/invocations   (mlflow models serve, the {alias})"


def first_forecast(
    settings: Settings, dsn: str, say: Callable[[str], None] = print
) -> tuple[str, str | None]:
    """Train (first run only) and score; returns the report's line and the alias scored
    with (None: no model)."""
    url = wait_for_mlflow(settings)
    os.environ["MLFLOW_TRACKING_URI"] = url
    from mlflow import MlflowClient
    from stockmind_ml.config import ForecastConfig
    from stockmind_ml.predict import score
    from stockmind_ml.registry import MODEL_NAME, alias_version
    from stockmind_ml.tasks import latest_trade_date
    from stockmind_ml.train import train_forecaster

    as_of = latest_trade_date(dsn)
    if as_of is None:
        return "no indicators yet: nothing to train on", None
    client = MlflowClient(url)
    trained = ""
    if not client.search_model_versions(f"name='{MODEL_NAME}'"):
        say("Forecaster: training the quick model on the sample history …")
        started = time.monotonic()
        run = train_forecaster(dsn, as_of, ForecastConfig.quick(), tracking_uri=url)
        trained = (
            f"trained v{run['version']} in {time.monotonic() - started:.0f} s ({run['why']}); "
        )
    alias = "champion" if alias_version(client, "champion") is not None else "challenger"
    result = score(dsn, as_of, alias=alias, tracking_uri=url)
    version = result.get("model_version", "-")
    line = trained + f"{result.get('scored', 0)} symbols scored with the {alias} (v{version})"
    return line, alias
