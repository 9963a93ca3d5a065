"""The classifier: word 1–2-grams and char_wb 2–5-grams, each TF-IDF weighted and
L2-normalised, side by side into one multinomial logistic regression.

Why this and not a transformer: ~10k labelled headlines are enough for a linear model
to beat the lexicon baseline clearly (see docs/benchmarks.md), it trains in seconds on
two cores, scores thousands of texts a second without a GPU, and ships as a ~2 MB
artifact of plain arrays. Word n-grams carry the phrases ("cuts to neutral", "beats
estimates"), char n-grams make it robust to inflections and unseen spellings.

sklearn is needed only to train (``build_pipeline``); scoring uses
``artifact.LinearSentiment``, which is exported from the fitted pipeline.
"""

from __future__ import annotations

import numpy as np

from stockmind_ml.sentiment.config import SentimentConfig
from stockmind_ml.sentiment.text import CharAnalyzer, WordAnalyzer


def build_pipeline(config: SentimentConfig, c: float):
    """An unfitted sklearn pipeline: FeatureUnion(word, char) → LogisticRegression."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    def vectorizer(analyzer):
        return TfidfVectorizer(
            analyzer=analyzer, min_df=config.min_df, sublinear_tf=config.sublinear_tf,
            norm="l2", smooth_idf=True, lowercase=False, dtype=np.float64,
        )  # fmt: skip

    features = FeatureUnion(
        [
            ("word", vectorizer(WordAnalyzer(config.word_ngrams))),
            ("char", vectorizer(CharAnalyzer(config.char_ngrams))),
        ]
    )
    # newton-cg: a handful of iterations on this problem, several times faster than lbfgs
    classifier = LogisticRegression(C=c, solver="newton-cg", max_iter=config.max_iter)
    return Pipeline([("features", features), ("classifier", classifier)])


def vocabulary_in_column_order(vectorizer) -> list[str]:
    """The fitted vectorizer's terms, the i-th term being feature column i."""
    terms = [""] * len(vectorizer.vocabulary_)
    for term, column in vectorizer.vocabulary_.items():
        terms[column] = term
    return terms
