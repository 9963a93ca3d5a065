"""
# train_forecaster

Trains the LSTM forecaster weekly (Saturday 07:00 New York) on the marts up to the data
interval's end: features and targets from `marts.fct_indicators_daily`, chronological
train / validation / test windows with a purge gap, the Keras LSTM with quantile heads,
and the naive, drift and ridge baselines on the same rows (`stockmind_ml.train`).

* **Tracked in MLflow**: params, the data window, the code version, per-epoch losses,
  every model's metrics (`{split}_{model}_{metric}_h{days}`), the model with its signature.
* **Registered** as `stockmind-forecaster`: the new version is the `challenger`; it
  becomes the `champion` only when it beats the naive baseline and the current champion
  on the validation MAE (one month). The run's `promotion` tag says why either way.
* **Any as-of date**: trigger with params `as_of` (YYYY-MM-DD), `quick` (the small
  configuration), `epochs`. TensorFlow is imported inside the task, never at parse time.
* Publishes `ml.model_versions`, which schedules `score_forecaster`.
"""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import Asset, Param, dag, get_current_context, task
from stockmind.assets import FORECASTER_URI
from stockmind.queues import ML

FORECASTER = Asset(name="ml.model_versions", uri=FORECASTER_URI)


@dag(
    dag_id="train_forecaster",
    schedule="0 7 * * 6",
    start_date=pendulum.datetime(2024, 1, 1, tz="America/New_York"),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["ml", "forecasting"],
    params={
        "as_of": Param(
            None, type=["null", "string"], description="YYYY-MM-DD (default: interval end)"
        ),
        "quick": Param(False, type="boolean", description="the small configuration (~1 min)"),
        "epochs": Param(None, type=["null", "integer"], description="at most this many epochs"),
    },
    default_args={
        "owner": "ml",
        "queue": ML,  # TensorFlow: its own Celery workers in a deployment
        "retries": 1,
        "retry_delay": dt.timedelta(minutes=10),
        "execution_timeout": dt.timedelta(hours=2),
    },
)
def train_forecaster():
    @task(outlets=[FORECASTER], multiple_outputs=False)
    def train() -> dict:
        from stockmind_ml.tasks import train_task

        context = get_current_context()
        params, end = context["params"], context["data_interval_end"]
        return train_task(params["as_of"], end.date(), params["quick"], params["epochs"])

    train()


train_forecaster()
