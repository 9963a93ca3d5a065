"""Asset URIs of the tables DAGs hand to each other (Airflow wraps them in ``Asset``).

Kept here, framework-free, so producer and consumer DAGs cannot spell them differently.
The host is a logical name for the warehouse, not a connection address.
"""

WAREHOUSE_HOST = "warehouse"
PRICES_DAILY_URI = f"postgres://{WAREHOUSE_HOST}:5432/stockmind/raw/prices_daily"
SYMBOLS_URI = f"postgres://{WAREHOUSE_HOST}:5432/stockmind/raw/symbols"
INDICATORS_DAILY_URI = f"postgres://{WAREHOUSE_HOST}:5432/stockmind/marts/fct_indicators_daily"

#: Every mart the transform DAG publishes (name → URI) for the ML and API DAGs.
MARTS = {
    name: f"postgres://{WAREHOUSE_HOST}:5432/stockmind/marts/{name}"
    for name in (
        "fct_indicators_daily",
        "fct_scanner_daily",
        "fct_scanner_weekly",
        "mart_movers_daily",
        "mart_movers_weekly",
        "mart_market_overview_daily",
        "mart_market_overview_weekly",
    )
}
