"""The sentiment registry's rule: every new version is the ``challenger``; it becomes the
``champion`` only when its validation macro-F1 beats the VADER baseline's and the current
champion's (higher is better) — measured on the validation split, never in training.
"""

from __future__ import annotations

GATE_METRIC = "validation_{model}_macro_f1"


def promotion_decision(
    candidate: dict[str, float], champion: dict[str, float] | None
) -> tuple[bool, str]:
    """(promote?, why) from the candidate's run metrics and the champion's (None: none)."""
    name = GATE_METRIC.format(model="local")
    mine, vader = candidate.get(name), candidate.get(GATE_METRIC.format(model="vader"))
    if mine is None or vader is None:
        return False, f"kept as challenger: {name} or the VADER baseline was not measured"
    if not mine > vader:
        return False, (
            f"kept as challenger: not better than the VADER baseline "
            f"({name} {mine:.4f} <= vader {vader:.4f})"
        )
    theirs = (champion or {}).get(name)
    if theirs is not None and not mine > theirs:
        return False, (
            f"kept as challenger: not better than the champion "
            f"({mine:.4f} <= champion {theirs:.4f})"
        )
    against = "the VADER baseline" + (" and the champion" if theirs is not None else "")
    return True, f"promoted: beats {against} on {name} ({mine:.4f})"
