# Airflow image with the StockMind lock and packages.  The same requirements.txt, the same
# migrations and the same npm lock as the local path (`make up`); only the services around
# differ.
FROM node:22-slim AS web
WORKDIR /web
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM apache/airflow:3.3.2-python3.11
COPY --chown=airflow:root requirements.txt /opt/stockmind/requirements.txt
RUN pip install --no-cache-dir -r /opt/stockmind/requirements.txt
COPY --chown=airflow:root pyproject.toml README.md /opt/stockmind/
COPY --chown=airflow:root plugins /opt/stockmind/plugins
COPY --chown=airflow:root api /opt/stockmind/api
COPY --chown=airflow:root ml /opt/stockmind/ml
COPY --from=web --chown=airflow:root /web/node_modules /opt/stockmind/node_modules
RUN pip install --no-cache-dir --no-deps -e /opt/stockmind
