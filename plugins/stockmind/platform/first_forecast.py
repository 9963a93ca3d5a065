"""The forecaster on a first ``make up``: train the quick model on the sample history,
promote it only if it beats the naive baseline (the registry's rule), and score every
symbol — with the champion, or, while there is none, with the challenger (the API then
labels the forecast with the reason it was not promoted). Later runs leave a registered
model alone and only score.
"""

from __future__ import annotations

import datetime as dt
import os
import time
import urllib.request
from collections.abc import Callable

from stockmind.db import connect
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


def latest_trade_date(dsn: str) -> dt.date | None:
    conn = connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("select max(trade_date) from marts.fct_indicators_daily")
            return cur.fetchone()[0]
    finally:
        conn.close()


def first_forecast(settings: Settings, dsn: str, say: Callable[[str], None] = print) -> str:
    """Train (first run only) and score; returns the report's line."""
    url = wait_for_mlflow(settings)
    os.environ["MLFLOW_TRACKING_URI"] = url
    from mlflow import MlflowClient
    from stockmind_ml.config import ForecastConfig
    from stockmind_ml.predict import score
    from stockmind_ml.registry import MODEL_NAME
    from stockmind_ml.train import train_forecaster

    as_of = latest_trade_date(dsn)
    if as_of is None:
        return "no indicators yet: nothing to train on"
    client = MlflowClient(url)
    trained = ""
    if not client.search_model_versions(f"name='{MODEL_NAME}'"):
        say("Forecaster: training the quick model on the sample history …")
        started = time.monotonic()
        run = train_forecaster(dsn, as_of, ForecastConfig.quick(), tracking_uri=url)
        trained = (
            f"trained v{run['version']} in {time.monotonic() - started:.0f} s ({run['why']}); "
        )
    aliases = {a for v in client.search_model_versions(f"name='{MODEL_NAME}'") for a in v.aliases}
    alias = "champion" if "champion" in aliases else "challenger"
    result = score(dsn, as_of, alias=alias, tracking_uri=url)
    version = result.get("model_version", "-")
    return trained + f"{result.get('scored', 0)} symbols scored with the {alias} (v{version})"
