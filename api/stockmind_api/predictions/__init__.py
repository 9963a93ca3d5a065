"""``/api/market/predictions/<symbol>``: the latest forecast of a symbol, with its model's
validation metrics beside the naive baseline's, so a user can judge it (public).

views → schemas → queries (over ``marts.fct_predictions`` and ``marts.dim_forecast_models``).
"""
