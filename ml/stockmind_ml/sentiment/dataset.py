"""The labelled headlines: ``sent_train.csv`` / ``sent_valid.csv`` (``text,label``,
0 = bearish, 1 = bullish, 2 = neutral — twitter-financial-news-sentiment, MIT licence).

The data are not in the repository (../shared/data/sentiment, or wherever
``--data`` points); their sha256 is logged with every run and saved in the artifact, so
a model says exactly which files it learned from.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pandas as pd

from stockmind_ml.sentiment.config import DATA_LABELS

SPLITS = {"train": "sent_train.csv", "valid": "sent_valid.csv"}


def default_data_dir() -> Path | None:
    """``$STOCKMIND_SHARED_DATA/sentiment`` or ``../shared/data/sentiment`` when present."""
    root = Path(__file__).resolve().parents[3]
    for base in (os.environ.get("STOCKMIND_SHARED_DATA"), root.parent / "shared" / "data"):
        if base and (Path(base) / "sentiment" / SPLITS["train"]).is_file():
            return Path(base) / "sentiment"
    return None


def load_split(data_dir: Path, split: str) -> pd.DataFrame:
    """One split as ``text`` and ``label`` (negative / positive / neutral) columns.

    Refuses unknown labels and empty texts rather than guessing: a changed file should
    fail the run, not quietly train on something else."""
    path = Path(data_dir) / SPLITS[split]
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: pass the folder holding {SPLITS[split]}")
    frame = pd.read_csv(path, dtype={"text": str}, keep_default_na=False)
    if set(frame.columns) != {"text", "label"}:
        raise ValueError(f"{path}: expected columns text,label, got {list(frame.columns)}")
    unknown = set(frame["label"]) - set(DATA_LABELS)
    if unknown:
        raise ValueError(f"{path}: unknown labels {sorted(unknown)}")
    if (frame["text"].str.strip() == "").any():
        raise ValueError(f"{path}: empty texts")
    return pd.DataFrame({"text": frame["text"], "label": frame["label"].map(DATA_LABELS)})


def file_sha256(data_dir: Path, split: str) -> str:
    return hashlib.sha256((Path(data_dir) / SPLITS[split]).read_bytes()).hexdigest()
