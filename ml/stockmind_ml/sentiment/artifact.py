"""The trained model as plain arrays: scoring with numpy/scipy, saving and loading
without pickle.

An artifact is two files: ``sentiment.json`` (format and preprocessing versions, the
configuration, the class order, both vocabularies in column order, what it was trained
on and how well it did) and ``sentiment.npz`` (idf weights, coefficients, intercepts;
loaded with ``allow_pickle=False``). Loading a file can therefore never run code. The
npz is written with fixed zip timestamps, so the same model gives the same bytes and
its sha256 names the model (``stockmind-sentiment/shipped-<sha[:8]>``).

Scoring repeats exactly what the fitted pipeline does: counts of the known n-grams →
``1 + log(tf)`` → × idf → L2-normalised per block → linear scores → softmax.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from stockmind_ml.sentiment.config import CLASSES, PREPROCESSING_VERSION
from stockmind_ml.sentiment.text import preprocess, word_char_ngrams, word_ngrams

FORMAT = 1
JSON_NAME, NPZ_NAME = "sentiment.json", "sentiment.npz"
BLOCKS = ("word", "char")
CACHE_WORDS = 50_000  # words whose char n-gram columns are remembered (tens of MB at most)


@dataclass
class LinearSentiment:
    """TF-IDF blocks + a multinomial linear model, ready to score."""

    vocabularies: dict[str, list[str]]  # block → terms in column order
    idf: dict[str, np.ndarray]  # block → idf weight per column
    coef: np.ndarray  # (classes, word columns + char columns)
    intercept: np.ndarray  # (classes,)
    meta: dict  # config, classes, training facts

    def __post_init__(self) -> None:
        self.classes = tuple(self.meta["classes"])
        self._index = {b: {t: i for i, t in enumerate(self.vocabularies[b])} for b in BLOCKS}
        self._ngrams = {b: tuple(self.meta["config"][f"{b}_ngrams"]) for b in BLOCKS}
        self._char_cache: dict[str, list[int]] = {}
        width = sum(len(self.vocabularies[b]) for b in BLOCKS)
        if self.coef.shape != (len(self.classes), width):
            raise ValueError(f"coefficients {self.coef.shape} do not fit {width} features")

    @classmethod
    def from_pipeline(cls, pipeline, meta: dict) -> LinearSentiment:
        """Export a fitted ``model.build_pipeline`` pipeline."""
        from stockmind_ml.sentiment.model import vocabulary_in_column_order

        union = dict(pipeline.named_steps["features"].transformer_list)
        classifier = pipeline.named_steps["classifier"]
        if tuple(classifier.classes_) != CLASSES:
            raise ValueError(f"unexpected classes {classifier.classes_}")
        return cls(
            vocabularies={b: vocabulary_in_column_order(union[b]) for b in BLOCKS},
            idf={b: np.asarray(union[b].idf_, dtype=np.float64) for b in BLOCKS},
            coef=np.asarray(classifier.coef_, dtype=np.float64),
            intercept=np.asarray(classifier.intercept_, dtype=np.float64),
            meta={**meta, "classes": list(CLASSES)},
        )

    def _columns(self, text: str) -> tuple[list[int], list[int]]:
        """Known feature columns of one text (repeats kept: they are the counts)."""
        clean = preprocess(text)
        get = self._index["word"].get
        words = [i for i in map(get, word_ngrams(clean, self._ngrams["word"], clean=True))
                 if i is not None]  # fmt: skip
        chars: list[int] = []
        cache, index, ngrams = self._char_cache, self._index["char"], self._ngrams["char"]
        for word in clean.split():
            found = cache.get(word)
            if found is None:  # a word's char n-grams never change: look them up once
                found = [i for i in map(index.get, word_char_ngrams(word, ngrams))
                         if i is not None]  # fmt: skip
                if len(cache) < CACHE_WORDS:
                    cache[word] = found
            chars.extend(found)
        return words, chars

    def _block(self, block: str, columns: list[list[int]]) -> sp.csr_matrix:
        """TF-IDF rows of one block from each text's columns, as the vectorizer makes them."""
        lengths = np.fromiter(map(len, columns), dtype=np.int64, count=len(columns))
        flat = np.fromiter(chain.from_iterable(columns), dtype=np.int64, count=int(lengths.sum()))
        rows = np.repeat(np.arange(len(columns)), lengths)
        shape = (len(columns), len(self._index[block]))
        x = sp.csr_matrix((np.ones(len(flat)), (rows, flat)), shape=shape)
        x.sum_duplicates()
        if self.meta["config"]["sublinear_tf"]:
            np.log(x.data, out=x.data)
            x.data += 1.0
        x.data *= self.idf[block][x.indices]
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
        norms[norms == 0.0] = 1.0
        return sp.csr_matrix(sp.diags(1.0 / norms) @ x)

    def probabilities(self, texts: list[str]) -> np.ndarray:
        """(texts, classes) class probabilities, classes in ``self.classes`` order."""
        if not texts:
            return np.zeros((0, len(self.classes)))
        words, chars = zip(*map(self._columns, texts), strict=True)
        x = sp.hstack([self._block("word", words), self._block("char", chars)], format="csr")
        scores = np.asarray(x @ self.coef.T) + self.intercept
        scores -= scores.max(axis=1, keepdims=True)
        np.exp(scores, out=scores)
        return scores / scores.sum(axis=1, keepdims=True)

    def labels_and_scores(self, texts: list[str]) -> tuple[list[str], np.ndarray]:
        """Argmax labels and P(positive) − P(negative) per text."""
        p = self.probabilities(list(texts))
        labels = [self.classes[i] for i in p.argmax(axis=1)] if len(p) else []
        pos, neg = self.classes.index("positive"), self.classes.index("negative")
        return labels, np.clip(p[:, pos] - p[:, neg], -1.0, 1.0)

    def save(self, folder: Path) -> str:
        """Write the two files into ``folder``; returns the artifact's sha256."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        meta = {"format": FORMAT, "preprocessing_version": PREPROCESSING_VERSION,
                **self.meta, "vocabularies": self.vocabularies}  # fmt: skip
        (folder / JSON_NAME).write_text(json.dumps(meta, ensure_ascii=False, indent=0) + "\n")
        arrays = {"coef": self.coef, "intercept": self.intercept,
                  **{f"idf_{b}": self.idf[b] for b in BLOCKS}}  # fmt: skip
        with zipfile.ZipFile(folder / NPZ_NAME, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, array in sorted(arrays.items()):
                buffer = io.BytesIO()
                np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
                info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, buffer.getvalue())
        return digest(folder)

    @classmethod
    def load(cls, folder: Path) -> LinearSentiment:
        """Read an artifact written by ``save`` (no pickle; refuses other versions)."""
        folder = Path(folder)
        meta = json.loads((folder / JSON_NAME).read_text())
        if meta.pop("format") != FORMAT:
            raise ValueError(f"{folder}: unsupported sentiment artifact format")
        version = meta.pop("preprocessing_version")
        if version != PREPROCESSING_VERSION:
            raise ValueError(
                f"{folder}: made with preprocessing {version}, this code is "
                f"{PREPROCESSING_VERSION}; retrain with `stockmind sentiment train`"
            )
        vocabularies = meta.pop("vocabularies")
        with np.load(folder / NPZ_NAME, allow_pickle=False) as arrays:
            return cls(
                vocabularies=vocabularies,
                idf={b: arrays[f"idf_{b}"] for b in BLOCKS},
                coef=arrays["coef"],
                intercept=arrays["intercept"],
                meta=meta,
            )


def digest(folder: Path) -> str:
    """sha256 over the artifact's two files (json, then npz)."""
    sha = hashlib.sha256()
    for name in (JSON_NAME, NPZ_NAME):
        sha.update((Path(folder) / name).read_bytes())
    return sha.hexdigest()
