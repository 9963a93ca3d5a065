# Airflow image with the StockMind lock and core package.  The same requirements.txt and
# the same migrations as the local path (`make up`); only the services around differ.
FROM apache/airflow:3.3.2-python3.11
COPY --chown=airflow:root requirements.txt /opt/stockmind/requirements.txt
RUN pip install --no-cache-dir -r /opt/stockmind/requirements.txt
COPY --chown=airflow:root pyproject.toml README.md /opt/stockmind/
COPY --chown=airflow:root plugins /opt/stockmind/plugins
COPY --chown=airflow:root api /opt/stockmind/api
RUN pip install --no-cache-dir --no-deps -e /opt/stockmind
