"""The sentiment model's configuration: one frozen dataclass per training run, logged as
MLflow params and saved with the artifact, so a shipped model says how it was made.

Hyper-parameters that matter (the regularisation ``C``) are chosen by cross-validation
inside the training split; the validation split is only ever used to report and gate.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

#: The dataset's integer labels (twitter-financial-news-sentiment) → ours.
DATA_LABELS: dict[int, str] = {0: "negative", 1: "positive", 2: "neutral"}
#: The model's class order (sklearn sorts string classes), also the artifact's.
CLASSES: tuple[str, ...] = ("negative", "neutral", "positive")
#: Bumped whenever ``text.preprocess`` or the analyzers change: an artifact made with
#: another version would silently see different features, so loading refuses it.
PREPROCESSING_VERSION = "1"

MODEL_NAME = "stockmind-sentiment"
EXPERIMENT = "stockmind-sentiment"


@dataclass(frozen=True)
class SentimentConfig:
    """Everything a training run depends on besides the data and the code version."""

    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (2, 5)  # within word boundaries (char_wb)
    min_df: int = 2  # a term seen once is noise and would only grow the artifact
    sublinear_tf: bool = True
    c_grid: tuple[float, ...] = (2.0, 5.0, 10.0, 20.0)  # inverse regularisation, by CV
    cv_folds: int = 3
    max_iter: int = 1000
    seed: int = 7

    def __post_init__(self) -> None:
        if not self.c_grid:
            raise ValueError("c_grid needs at least one value")
        if len(self.c_grid) > 1 and self.cv_folds < 2:
            raise ValueError("choosing C among several needs cv_folds >= 2")
        for low, high in (self.word_ngrams, self.char_ngrams):
            if not 1 <= low <= high:
                raise ValueError(f"bad n-gram range ({low}, {high})")

    def params(self) -> dict:
        """Flat values for ``mlflow.log_params``."""
        return {
            k: (",".join(map(str, v)) if isinstance(v, tuple) else v)
            for k, v in asdict(self).items()
        } | {"preprocessing_version": PREPROCESSING_VERSION}

    @classmethod
    def quick(cls) -> SentimentConfig:
        """One C, no cross-validation: a training run in seconds (tests, ``make up``)."""
        return cls(c_grid=(5.0,), cv_folds=0)
