"""``NOTICE.md`` beside a written artifact: what the model learned from (with the data's
licence notice, which the MIT licence asks to keep with copies and derived works), how
to reproduce it and what it measured — so the file explains itself wherever it goes."""

from __future__ import annotations

from pathlib import Path

TEMPLATE = """# Shipped sentiment model

`sentiment.json` + `sentiment.npz`: the local finance-sentiment classifier
(`stockmind_ml.sentiment`; TF-IDF word 1–2-grams + char_wb 2–5-grams → multinomial
logistic regression, C = {c:g} chosen by {folds}). Plain arrays and JSON — no pickle;
loaded by `stockmind_ml.sentiment.local.load_local` when no MLflow champion is reachable.
Model id: `stockmind-sentiment/shipped-{sha8}` (sha256 of the two files: `{sha}`).

## Reproduce

    stockmind sentiment train --data PATH --write-artifact --no-register

where `PATH` holds `sent_train.csv` and `sent_valid.csv` (e.g. `../shared/data/sentiment`).
Trained on the train split only ({train} texts, sha256 `{train_sha}`); evaluated on the
validation split (sha256 `{valid_sha}`):

| model | accuracy | macro-F1 |
|---|---:|---:|
| local (this model) | {la:.4f} | {lm:.4f} |
| VADER (lexicon baseline) | {va:.4f} | {vm:.4f} |
| majority class (neutral) | {ma:.4f} | {mm:.4f} |

## Training data

twitter-financial-news-sentiment by zeroshot
(<https://huggingface.co/datasets/zeroshot/twitter-financial-news-sentiment>): English
finance tweets and headlines labelled bearish (0) / bullish (1) / neutral (2), here
negative / positive / neutral. Licensed under the MIT licence:

    MIT License

    Copyright (c) zeroshot

    Permission is hereby granted, free of charge, to any person obtaining a copy
    of this software and associated documentation files (the "Software"), to deal
    in the Software without restriction, including without limitation the rights
    to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
    copies of the Software, and to permit persons to whom the Software is
    furnished to do so, subject to the following conditions:

    The above copyright notice and this permission notice shall be included in all
    copies or substantial portions of the Software.

    THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
    IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
    FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
    AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
    LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
    OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
    SOFTWARE.
"""


def write_notice(folder: Path, meta: dict, sha: str) -> Path:
    """Write ``folder/NOTICE.md`` for the artifact whose metadata and sha256 are given."""
    training, validation, config = meta["training"], meta["validation"], meta["config"]
    folds = config.get("cv_folds") or 0
    grid = str(config.get("c_grid", ""))
    chosen = (
        f"{folds}-fold cross-validation within the train split over C ∈ {{{grid}}}"
        if folds and "," in grid
        else "configuration (no search)"
    )
    text = TEMPLATE.format(
        c=config["c"], folds=chosen, sha8=sha[:8], sha=sha,
        train=training["train_samples"], train_sha=training["train_sha256"],
        valid_sha=validation["valid_sha256"],
        **{f"{k[0]}{m[0]}": validation[f"validation_{k}_{m}"]
           for k in ("local", "vader", "majority") for m in ("accuracy", "macro_f1")},
    )  # fmt: skip
    path = Path(folder) / "NOTICE.md"
    path.write_text(text)
    return path
