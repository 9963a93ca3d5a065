# syntax=docker/dockerfile:1
# The one StockMind image every compose service but PostgreSQL and Redis runs: Airflow's
# components and Celery workers, the MLflow server and model server, the REST API under
# gunicorn and the dbt docs.  The same lock (requirements.txt), migrations, DAGs, dbt
# project and npm lock as the local path (`make up`); only the services around differ.
# What the build may read is limited by airflow.Dockerfile.dockerignore beside this file.

FROM node:22-slim AS web
WORKDIR /web
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# Airflow's image: Python 3.11 in a virtualenv at /home/airflow/.local (its bin is on
# PATH: airflow, celery, gunicorn, mlflow, dbt and stockmind land there), curl and
# dumb-init, user airflow (uid 50000, gid 0).
FROM apache/airflow:3.3.2-python3.11

ENV STOCKMIND_ROOT=/opt/stockmind \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/stockmind/dags \
    AIRFLOW__CORE__PLUGINS_FOLDER=/opt/stockmind/plugins \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    DO_NOT_TRACK=true \
    MLFLOW_DISABLE_TELEMETRY=true \
    AIRFLOW__COSMOS__ENABLE_TELEMETRY=False \
    DBT_SEND_ANONYMOUS_USAGE_STATS=false

# the lock first: code changes do not reinstall the stack
COPY --chown=airflow:root requirements.txt /opt/stockmind/requirements.txt
RUN pip install --no-cache-dir -r /opt/stockmind/requirements.txt

COPY --chown=airflow:root pyproject.toml README.md THIRD_PARTY_NOTICES.md /opt/stockmind/
COPY --chown=airflow:root plugins /opt/stockmind/plugins
COPY --chown=airflow:root api /opt/stockmind/api
COPY --chown=airflow:root ml /opt/stockmind/ml
COPY --chown=airflow:root dags /opt/stockmind/dags
COPY --chown=airflow:root dbt /opt/stockmind/dbt
COPY --from=web --chown=airflow:root /web/node_modules /opt/stockmind/node_modules
# editable, as `make up` installs it: STOCKMIND_ROOT is the checkout the code runs from
RUN pip install --no-cache-dir --no-deps -e /opt/stockmind \
    && python -m compileall -q /opt/stockmind/plugins /opt/stockmind/api /opt/stockmind/ml

# Mount points of compose's named volumes, made here so a fresh volume starts owned by
# airflow (Docker copies the image's folder, owner included, into an empty volume).
USER root
RUN install -d -o airflow -g root -m 0775 \
        /opt/stockmind/dbt/target /opt/stockmind/dbt/logs \
        /opt/mlflow/artifacts /opt/airflow/auth
USER airflow
WORKDIR /opt/stockmind
