"""StockMind's machine learning: the LSTM forecaster (and, later, the sentiment model).

Layout (cookiecutter-data-science, the MLflow guide): ``config`` (dataclasses, one per
run), ``features`` (scale-free, causal features and forward-return targets), ``dataset``
(marts → per-symbol sequences, chronological splits with a purge gap, a scaler fit on the
training window only), then the model, training, evaluation and prediction modules.

Imports the core (``stockmind``) only; TensorFlow is imported inside the functions that
train or predict, never at import time (DAG files import this package's entry points).
"""
