"""The forecaster's configuration: one frozen dataclass per run, logged as MLflow params.

Horizons are trading days (5, 21, 63 ≈ 1 week, 1 month, 3 months — labelled 7/30/90
calendar days in the API). The purge gap between splits is at least the longest horizon,
so no training target overlaps the validation window (and none of those the test
window): a target at day t uses the close of day t + h.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

#: horizon in trading days → its label (calendar days, as the seeds' API names them)
HORIZONS: dict[int, str] = {5: "1w", 21: "1m", 63: "3m"}


@dataclass(frozen=True)
class ForecastConfig:
    """Everything a training run depends on (besides the data and the code version)."""

    horizons: tuple[int, ...] = tuple(HORIZONS)
    sequence_length: int = 60  # trading days of features per sample
    validation_days: int = 126  # ~6 months of dates in the validation window
    test_days: int = 126  # ~6 months of dates in each walk-forward test window
    test_windows: int = 2  # consecutive test windows after the validation window
    purge_days: int = 63  # gap between windows: >= the longest horizon
    lstm_units: tuple[int, ...] = (32, 16)
    dropout: float = 0.1
    learning_rate: float = 1e-3
    batch_size: int = 512
    epochs: int = 20
    patience: int = 3  # early stopping on the validation loss
    quantiles: tuple[float, ...] = (0.1, 0.5, 0.9)  # interval heads (pinball loss)
    seed: int = 7
    clip_sigma: float = 5.0  # scaled features are clipped to ±clip_sigma
    max_samples: int | None = 150_000  # training windows sampled (bounds an epoch on 2 cores)
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.purge_days < max(self.horizons):
            raise ValueError(
                f"purge_days ({self.purge_days}) must be at least the longest horizon "
                f"({max(self.horizons)}): a training target would see the validation window"
            )
        if self.test_windows < 1:
            raise ValueError("test_windows must be at least 1")
        if self.sequence_length < 2:
            raise ValueError("sequence_length must be at least 2")

    def params(self) -> dict:
        """Flat values for ``mlflow.log_params``."""
        return {
            k: (",".join(map(str, v)) if isinstance(v, tuple) else v)
            for k, v in asdict(self).items()
            if k != "extra"
        } | self.extra

    @classmethod
    def quick(cls) -> ForecastConfig:
        """Small enough to train in about a minute on 2 cores (make up, the tests)."""
        return cls(
            sequence_length=30,
            validation_days=63,
            test_days=63,
            lstm_units=(16,),
            epochs=3,
            patience=1,
            max_samples=20_000,
        )
