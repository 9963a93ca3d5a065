"""The LSTM (real Keras, tiny) and its yardsticks: quantile heads with the pinball loss,
the naive / drift / ridge baselines, and metrics named for side-by-side comparison."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
from stockmind_ml.config import ForecastConfig
from stockmind_ml.dataset import build_dataset
from stockmind_ml.evaluate import information_coefficient, metrics
from stockmind_ml.features import FEATURES
from test_ml_dataset import AS_OF, indicator_bars

pytestmark = pytest.mark.slow  # TensorFlow's import alone costs ~5 s

TINY = dataclasses.replace(
    ForecastConfig.quick(), sequence_length=20, validation_days=40, test_days=40, epochs=2
)


def test_pinball_loss_is_half_the_mae_at_the_median():
    from stockmind_ml.model import pinball_loss

    y = np.array([[1.0], [-2.0]], "float32")
    pred = np.zeros((2, 1, 1), "float32")
    assert float(pinball_loss((0.5,))(y, pred)) == pytest.approx(0.75)
    # a 0.9 quantile pays 9x more below the truth than above it
    assert float(pinball_loss((0.9,))(np.array([[1.0]], "float32"), np.zeros((1, 1, 1)))) == (
        pytest.approx(0.9)
    )


def test_a_tiny_lstm_trains_predicts_intervals_and_is_compared_with_baselines():
    from stockmind_ml.baselines import Drift, RidgeBaseline, naive
    from stockmind_ml.model import build_model, fit, predict_quantiles

    data = build_dataset(indicator_bars(("AAA", "BBB", "CCC", "DDD")), TINY, AS_OF)
    train, validation, test = (data.windows(s) for s in ("train", "validation", "test"))
    model = build_model(TINY, len(FEATURES))
    epochs = []
    history = fit(
        model, TINY, (train.x, train.y), (validation.x, validation.y),
        on_epoch=lambda epoch, logs: epochs.append(logs["val_loss"]),
    )  # fmt: skip
    assert len(history["loss"]) == len(epochs) >= 1 and np.isfinite(epochs).all()
    quantiles = predict_quantiles(model, test.x)
    assert quantiles.shape == (len(test.x), len(TINY.horizons), len(TINY.quantiles))
    assert (np.diff(quantiles, axis=-1) >= 0).all()  # no crossing: low <= median <= high
    horizons = len(TINY.horizons)
    found = metrics(
        "test", "lstm", TINY.horizons, test.keys["trade_date"], quantiles[:, :, 1], test.y,
        interval=(quantiles[:, :, 0], quantiles[:, :, -1]),
    )  # fmt: skip
    found |= metrics("test", "naive", TINY.horizons, test.keys["trade_date"],
                     naive(test.x, horizons), test.y)  # fmt: skip
    found |= metrics("test", "drift", TINY.horizons, test.keys["trade_date"],
                     Drift(train.y).predict(test.x), test.y)  # fmt: skip
    ridge = RidgeBaseline(train.x, train.y).predict(test.x)
    found |= metrics("test", "ridge", TINY.horizons, test.keys["trade_date"], ridge, test.y)
    for name in ("lstm", "naive", "drift", "ridge"):
        for h in TINY.horizons:
            assert np.isfinite(found[f"test_{name}_mae_h{h}"])
    assert 0 <= found["test_lstm_coverage_h21"] <= 1
    assert np.isnan(found["test_naive_direction_h5"])  # a zero forecast has no direction
    assert 0 < found["test_drift_direction_h5"] < 1
    naive_mae = np.abs(test.y).mean(axis=0)
    assert found["test_naive_mae_h63"] == pytest.approx(float(naive_mae[-1]))


def test_information_coefficient_is_a_rank_correlation_per_date():
    dates = pd.Series(["d1"] * 4 + ["d2"] * 4)
    actual = np.array([1, 2, 3, 4, 4, 3, 2, 1], "float64")
    assert information_coefficient(dates, actual * 10, actual) == pytest.approx(1.0)
    assert information_coefficient(dates, -actual, actual) == pytest.approx(-1.0)
    assert np.isnan(information_coefficient(pd.Series(["d"] * 2), actual[:2], actual[:2]))
