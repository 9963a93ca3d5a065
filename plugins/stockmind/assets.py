"""Asset URIs of the tables DAGs hand to each other (Airflow wraps them in ``Asset``).

Kept here, framework-free, so producer and consumer DAGs cannot spell them differently.
The host is a logical name for the warehouse, not a connection address.
"""

WAREHOUSE_HOST = "warehouse"
PRICES_DAILY_URI = f"postgres://{WAREHOUSE_HOST}:5432/stockmind/raw/prices_daily"
SYMBOLS_URI = f"postgres://{WAREHOUSE_HOST}:5432/stockmind/raw/symbols"
#: a new forecaster version registered (its row in ml.model_versions), and new forecasts
FORECASTER_URI = f"postgres://{WAREHOUSE_HOST}:5432/stockmind/ml/model_versions"
PREDICTIONS_URI = f"postgres://{WAREHOUSE_HOST}:5432/stockmind/ml/predictions"
#: news stored by ingest_news, and their sentiment scores
NEWS_ARTICLES_URI = f"postgres://{WAREHOUSE_HOST}:5432/stockmind/raw/news_articles"
SENTIMENT_SCORES_URI = f"postgres://{WAREHOUSE_HOST}:5432/stockmind/ml/sentiment_scores"

#: Every mart the transform DAG publishes (name → URI) for the ML and API DAGs.
MARTS = {
    name: f"postgres://{WAREHOUSE_HOST}:5432/stockmind/marts/{name}"
    for name in (
        "dim_symbols",
        "fct_prices_daily",
        "fct_prices_weekly",
        "fct_bars_hourly",
        "fct_indicators_daily",
        "fct_scanner_daily",
        "fct_scanner_weekly",
        "fct_movers_daily",
        "fct_movers_weekly",
        "fct_market_overview_daily",
        "fct_market_overview_weekly",
        "fct_predictions",
        "dim_forecast_models",
        "fct_news_articles",
        "fct_sentiment_daily",
    )
}
