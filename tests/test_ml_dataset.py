"""The forecaster's dataset: scale-free causal features, chronological splits with a purge
gap, a scaler fit on the training window only — and no look-ahead, proven by changing
every bar after the as-of date."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from conftest import load_sample, run_dbt
from stockmind.providers.synthetic import synthetic_bars
from stockmind_ml.config import ForecastConfig
from stockmind_ml.dataset import build_dataset, load_bars
from stockmind_ml.features import FEATURES, INPUT_COLUMNS, add_features

AS_OF = dt.date(2025, 6, 30)
CONFIG = ForecastConfig(sequence_length=20, validation_days=40, test_days=40, purge_days=63)


def indicator_bars(symbols=("AAA", "BBB", "CCC"), end=dt.date(2026, 3, 31)) -> pd.DataFrame:
    """Sample bars with stand-in indicators (trailing pandas windows: causal like the
    mart's), from 2021 on."""
    frames = []
    for symbol in symbols:
        bars = synthetic_bars(symbol, end)
        bars = bars[bars["trade_date"] >= "2021-01-01"].reset_index(drop=True)
        close = bars["close"]
        std_20 = close.rolling(20).std(ddof=0)
        ema = {n: close.ewm(span=n, adjust=False).mean() for n in (12, 26)}
        macd = ema[12] - ema[26]
        diff = close.diff()
        gain, loss = diff.clip(lower=0).rolling(14).mean(), (-diff.clip(upper=0)).rolling(14).mean()
        bars = bars.assign(
            sma_20=close.rolling(20).mean(),
            sma_50=close.rolling(50).mean(),
            sma_200=close.rolling(200).mean(),
            ema_12=ema[12],
            ema_26=ema[26],
            rsi_14=100 - 100 / (1 + gain / loss),
            macd_hist=macd - macd.ewm(span=9, adjust=False).mean(),
            bb_middle=close.rolling(20).mean(),
            bb_upper=close.rolling(20).mean() + 2 * std_20,
            bb_lower=close.rolling(20).mean() - 2 * std_20,
            atr_14=(bars["high"] - bars["low"]).rolling(14).mean(),
        )
        frames.append(bars[INPUT_COLUMNS].astype({"volume": "float64"}))  # as load_bars
    return pd.concat(frames, ignore_index=True)


def scrambled_after(bars: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Every bar after ``as_of`` changed: prices, volumes and indicators."""
    changed = bars.copy()
    later = changed["trade_date"] > pd.Timestamp(as_of)
    rng = np.random.default_rng(1)
    numeric = [c for c in INPUT_COLUMNS if c not in ("symbol", "trade_date")]
    changed.loc[later, numeric] *= rng.uniform(0.5, 2.0, size=(later.sum(), len(numeric)))
    return changed


def test_features_at_a_date_use_no_later_bar():
    assert not set(FEATURES) & set(INPUT_COLUMNS)  # no feature shadows a mart column
    bars = indicator_bars()
    full = add_features(bars)
    cut = add_features(bars[bars["trade_date"] <= pd.Timestamp(AS_OF)])
    before = full[full["trade_date"] <= pd.Timestamp(AS_OF)].reset_index(drop=True)
    pd.testing.assert_frame_equal(before[list(FEATURES)], cut[list(FEATURES)])
    # and they are scale-free: a symbol at 10x the price has the same features
    tenfold = bars.copy()
    prices = ["open", "high", "low", "close", "sma_20", "sma_50", "sma_200", "ema_12", "ema_26"]
    prices += ["macd_hist", "bb_upper", "bb_middle", "bb_lower", "atr_14"]
    tenfold[prices] *= 10
    pd.testing.assert_frame_equal(
        add_features(tenfold)[list(FEATURES)], full[list(FEATURES)], rtol=1e-9
    )


def test_nothing_after_the_as_of_date_changes_the_dataset():
    """Change every bar after AS_OF: splits, scaler, every training/validation/test window,
    its targets and the prediction inputs at AS_OF are identical."""
    bars = indicator_bars()
    one = build_dataset(bars, CONFIG, AS_OF)
    other = build_dataset(scrambled_after(bars, AS_OF), CONFIG, AS_OF)
    assert one.bounds == other.bounds
    np.testing.assert_array_equal(one.scaler.mean, other.scaler.mean)
    np.testing.assert_array_equal(one.scaler.std, other.scaler.std)
    for split in ("train", "validation", "test"):
        a, b = one.windows(split), other.windows(split)
        assert len(a.x) > 0
        np.testing.assert_array_equal(a.x, b.x)
        np.testing.assert_array_equal(a.y, b.y)
    np.testing.assert_array_equal(one.latest().x, other.latest().x)
    assert set(one.latest().keys["trade_date"]) == {pd.Timestamp(AS_OF)}
    # the control: the same change before AS_OF does change it
    assert not np.array_equal(
        build_dataset(scrambled_after(bars, AS_OF - dt.timedelta(days=200)), CONFIG, AS_OF)
        .windows("test")
        .y,
        one.windows("test").y,
    )


def test_splits_are_chronological_with_a_purge_gap():
    data = build_dataset(indicator_bars(), CONFIG, AS_OF)
    calendar = sorted(data.frame["trade_date"].unique())
    position = {pd.Timestamp(d): i for i, d in enumerate(calendar)}
    (_, t1), (v0, v1), (s0, s1) = (data.bounds[s] for s in ("train", "validation", "test"))
    assert position[v0] - position[t1] - 1 == CONFIG.purge_days
    assert position[s0] - position[v1] - 1 == CONFIG.purge_days
    assert position[s1] + max(CONFIG.horizons) == position[pd.Timestamp(AS_OF)]
    # walk-forward: consecutive test windows of test_days each, together the test split
    (w1a, w1b), (w2a, w2b) = data.bounds["test_w1"], data.bounds["test_w2"]
    assert (w1a, w2b) == (s0, s1) and position[w2a] == position[w1b] + 1
    assert position[w1b] - position[w1a] + 1 == CONFIG.test_days
    assert len(data.windows("test_w1").x) + len(data.windows("test_w2").x) == len(
        data.windows("test").x
    )
    train, validation = data.windows("train"), data.windows("validation")
    assert train.keys["trade_date"].max() <= t1 < validation.keys["trade_date"].min()
    assert train.x.shape[1:] == (CONFIG.sequence_length, len(FEATURES))
    assert train.y.shape[1] == len(CONFIG.horizons)
    assert not np.isnan(train.x).any() and not np.isnan(train.y).any()


def test_the_scaler_sees_the_training_window_only():
    bars = indicator_bars()
    data = build_dataset(bars, CONFIG, AS_OF)
    first_validation = data.bounds["validation"][0]
    changed = scrambled_after(bars, first_validation.date())
    again = build_dataset(changed, CONFIG, AS_OF)
    np.testing.assert_array_equal(data.scaler.mean, again.scaler.mean)
    train = data.windows("train").x.reshape(-1, len(FEATURES))
    assert np.abs(train.mean(axis=0)).max() < 0.25  # standardised on its own window


def test_a_too_short_history_is_a_clear_error():
    with pytest.raises(ValueError, match="not enough history"):
        build_dataset(indicator_bars(end=dt.date(2021, 9, 30)), CONFIG, dt.date(2021, 9, 30))


def test_purge_shorter_than_the_longest_horizon_is_refused():
    with pytest.raises(ValueError, match="purge_days"):
        ForecastConfig(purge_days=21)


@pytest.mark.slow
def test_bars_come_from_the_indicator_mart(module_warehouse):
    load_sample(module_warehouse, ["AAPL", "KO"], dt.date(2021, 1, 4), dt.date(2025, 6, 30))
    run_dbt(module_warehouse, "run", "--select", "+fct_indicators_daily")
    bars = load_bars(module_warehouse, AS_OF)
    assert set(bars["symbol"]) == {"AAPL", "KO"}
    assert bars["trade_date"].max() == pd.Timestamp(AS_OF)
    data = build_dataset(bars, ForecastConfig.quick(), AS_OF)
    assert len(data.windows("train").x) > 500 and len(data.latest().x) == 2
