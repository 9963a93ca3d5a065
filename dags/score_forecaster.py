"""
# score_forecaster

Forecasts every symbol with the registered forecaster after each dbt build (the
`marts.fct_indicators_daily` asset) and after each training (`ml.model_versions`):
`models:/stockmind-forecaster@champion` by default (`stockmind_ml.predict`).

* Writes `ml.predictions` (per symbol and horizon: target price, change %, interval,
  trend; per symbol: bullish score 0–100 and risk level), idempotent per
  (symbol, as_of, model version, horizon); the API reads the mart over it.
* Announces a `prediction_update` per symbol on the real-time channel, in the same
  transaction.
* With no champion yet it says so and scores nothing; trigger with param
  `alias = challenger` to score with the latest version anyway (the API then labels the
  forecast with the reason it is not the champion).
"""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import Asset, Param, dag, get_current_context, task
from stockmind.assets import FORECASTER_URI, MARTS, PREDICTIONS_URI
from stockmind.queues import ML

INDICATORS = Asset(name="marts.fct_indicators_daily", uri=MARTS["fct_indicators_daily"])
FORECASTER = Asset(name="ml.model_versions", uri=FORECASTER_URI)
PREDICTIONS = Asset(name="ml.predictions", uri=PREDICTIONS_URI)


@dag(
    dag_id="score_forecaster",
    schedule=INDICATORS | FORECASTER,  # new bars scored, or a new model
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["ml", "forecasting"],
    params={
        "alias": Param("champion", enum=["champion", "challenger"]),
        "as_of": Param(None, type=["null", "string"], description="YYYY-MM-DD (default: latest)"),
    },
    default_args={
        "owner": "ml",
        "queue": ML,  # TensorFlow: its own Celery workers in a deployment
        "retries": 2,
        "retry_delay": dt.timedelta(minutes=2),
        "execution_timeout": dt.timedelta(minutes=20),
    },
)
def score_forecaster():
    @task(outlets=[PREDICTIONS], multiple_outputs=False)
    def score() -> dict:
        from stockmind_ml.tasks import score_task

        params = get_current_context()["params"]
        return score_task(params["as_of"], params["alias"])

    score()


score_forecaster()
