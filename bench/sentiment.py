"""Sentiment benchmark: the shipped local model vs the VADER lexicon (and Gemini, when a
key is set) on the validation split of twitter-financial-news-sentiment.

Measured in one run, on the same texts: accuracy, macro-F1 and the confusion matrix of
each scorer, and its throughput (texts per second through ``classify``, the local model
from a fresh load so its per-word cache starts cold). Gemini is scored on a seeded
sample only (its free tier is limited in requests), and the other scorers are reported
on that same sample beside it.

Usage: ``python bench/sentiment.py [--data PATH] [--gemini-sample N] [--write docs/benchmarks.md]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

from common import write_section
from stockmind_ml.sentiment.config import CLASSES
from stockmind_ml.sentiment.dataset import default_data_dir, load_split
from stockmind_ml.sentiment.evaluate import metrics


def measure(scorer, texts: list[str], truth: list[str]) -> dict:
    """Labels, metrics, confusion matrix and throughput of one scorer on ``texts``."""
    started = time.perf_counter()
    answers = scorer.classify(texts)
    seconds = time.perf_counter() - started
    labels = [a["label"] if isinstance(a, dict) else getattr(a, "label", None) for a in answers]
    scored = [(t, p) for t, p in zip(truth, labels, strict=True) if p is not None]
    found, matrix = metrics("validation", "m", [t for t, _ in scored], [p for _, p in scored])
    return {"accuracy": found["validation_m_accuracy"], "macro_f1": found["validation_m_macro_f1"],
            "matrix": matrix, "rate": len(texts) / seconds, "seconds": seconds,
            "coverage": len(scored) / max(len(texts), 1), "model": scorer.model}  # fmt: skip


def table(results: dict[str, dict]) -> str:
    rows = ["| scorer | model | accuracy | macro-F1 | texts/s |", "|---|---|---:|---:|---:|"]
    for name, r in results.items():
        rate = "—" if r.get("rate") is None else f"{r['rate']:,.0f}"
        model = f"`{r['model']}`" if r["model"] else "—"
        rows.append(f"| {name} | {model} | {r['accuracy']:.4f} | {r['macro_f1']:.4f} | {rate} |")
    return "\n".join(rows)


def matrices(results: dict[str, dict]) -> str:
    head = "| true ↓ / predicted → | " + " | ".join(CLASSES) + " |"
    out = []
    for name, r in results.items():
        if "matrix" not in r:
            continue
        rows = [f"**{name}**", "", head, "|---|" + "---:|" * len(CLASSES)]
        rows += [f"| {c} | " + " | ".join(str(v) for v in r["matrix"][i]) + " |"
                 for i, c in enumerate(CLASSES)]  # fmt: skip
        out.append("\n".join(rows))
    return "\n\n".join(out)


def gemini_section(texts: list[str], truth: list[str], sample: int, local, vader) -> str:
    """Gemini beside the others on a seeded sample — or why it was skipped."""
    if not os.environ.get("GEMINI_API_KEY"):
        return "Gemini: skipped — GEMINI_API_KEY is not set."
    import random

    try:
        from stockmind.sentiment.gemini import GeminiScorer

        rows = sorted(random.Random(7).sample(range(len(texts)), min(sample, len(texts))))
        some, labels = [texts[i] for i in rows], [truth[i] for i in rows]
        gemini = GeminiScorer(max_requests=len(some) // 10 + 5)
        results = {name: measure(s, some, labels) for name, s in
                   (("gemini", gemini), ("local", local), ("vader", vader))}  # fmt: skip
    except Exception as error:  # a bench reports what happened rather than dying
        return f"Gemini: skipped — {type(error).__name__}: {str(error)[:200]}"
    g = results["gemini"]
    return (
        f"Gemini on a seeded sample of {len(some)} validation texts ({g['coverage']:.0%} "
        f"answered; metrics over the answered ones; {gemini.requests_made} requests, "
        f"failures {dict(gemini.failures) or 'none'}):\n\n{table(results)}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, help="folder with sent_valid.csv")
    parser.add_argument("--gemini-sample", type=int, default=200)
    parser.add_argument("--write", help="write the Markdown report here")
    args = parser.parse_args()
    data = args.data or default_data_dir()
    if data is None:
        sys.exit("sentiment data not found: set STOCKMIND_SHARED_DATA or pass --data")
    from stockmind_ml.sentiment.lexicon import VaderSentiment
    from stockmind_ml.sentiment.local import load_shipped

    valid = load_split(data, "valid")
    texts, truth = list(valid["text"]), list(valid["label"])
    started = time.perf_counter()
    local = load_shipped()
    loading = time.perf_counter() - started
    vader = VaderSentiment()
    results = {"local": measure(local, texts, truth), "vader": measure(vader, texts, truth)}
    warm = measure(local, texts, truth)["rate"]
    majority, _ = metrics("validation", "m", truth, ["neutral"] * len(truth))
    results["majority (neutral)"] = {"model": None, "accuracy": majority["validation_m_accuracy"],
                                     "macro_f1": majority["validation_m_macro_f1"]}  # fmt: skip
    gemini = gemini_section(texts, truth, args.gemini_sample, local, vader)
    print(gemini, file=sys.stderr)
    ratio = results["local"]["rate"] / results["vader"]["rate"]
    report = f"""## News sentiment (local model vs VADER)

Measured by `bench/sentiment.py` on {dt.date.today()}, {os.cpu_count()} cores, on the
validation split of twitter-financial-news-sentiment ({len(texts):,} texts; the model never
saw them: C was chosen by cross-validation inside the train split). The local model is
the artifact shipped in `ml/stockmind_ml/sentiment/artifacts/` (loaded in
{loading:.2f} s); targets: accuracy ≥ 0.82 and macro-F1 ≥ 0.75.

{table(results)}

Throughput is one `classify` call over all {len(texts):,} texts on one core; the local
model from a fresh load (cold per-word cache) — {warm:,.0f} texts/s on a second pass —
is {ratio:.2f}x VADER's rate measured in the same run.

Confusion matrices (rows: true label, columns: predicted):

{matrices(results)}

{gemini}
"""
    print(report)
    if args.write:
        write_section(args.write, "sentiment", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
