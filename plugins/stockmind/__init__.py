"""StockMind core: settings, warehouse access, providers, validation and loaders.

Framework-free on purpose — Airflow DAGs, the Flask API and the ML code all import it,
and it imports none of them.
"""

__version__ = "0.1.0"
