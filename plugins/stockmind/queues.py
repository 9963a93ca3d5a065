"""Airflow task queues: where the heavy work runs when the executor has queues.

Under the CeleryExecutor a deployment can give each queue its own workers (compose's
``airflow-worker``, ``airflow-worker-dbt``, ``airflow-worker-ml``): dbt builds are
CPU- and memory-bound for minutes, and TensorFlow training needs ~2 GB, so neither
should starve the minute quote poll. The LocalExecutor ignores queues, so the default
platform runs the same DAGs unchanged. ``make up`` with ``STOCKMIND_EXECUTOR=celery``
starts workers that serve every queue.
"""

from __future__ import annotations

#: ingestion, the minute poll, profiles, news fetching, maintenance (Airflow's default queue)
DEFAULT = "default"
#: transform_market: ``dbt build`` and ``dbt docs generate``
DBT = "dbt"
#: train_forecaster, score_forecaster, sentiment scoring
ML = "ml"

ALL = (DEFAULT, DBT, ML)
