"""The model registry's rules: every new version is the ``challenger``; it becomes the
``champion`` only when it beats the naive baseline and the current champion on the
configured validation metric (lower is better), never on training loss.
"""

from __future__ import annotations

MODEL_NAME = "stockmind-forecaster"
GATE_METRIC = "validation_{model}_mae_h21"


def promotion_decision(
    candidate: dict[str, float], champion: dict[str, float] | None, metric: str = GATE_METRIC
) -> tuple[bool, str]:
    """(promote?, why) from the candidate's run metrics and the champion's (None: none)."""
    mine = candidate.get(metric.format(model="lstm"))
    naive = candidate.get(metric.format(model="naive"))
    if mine is None or naive is None:
        return False, f"kept as challenger: {metric.format(model='lstm')} was not measured"
    if not mine < naive:
        return False, (
            f"kept as challenger: not better than the naive baseline "
            f"({metric.format(model='lstm')} {mine:.6f} >= naive {naive:.6f})"
        )
    theirs = (champion or {}).get(metric.format(model="lstm"))
    if theirs is not None and not mine < theirs:
        return False, (
            f"kept as challenger: not better than the champion "
            f"({mine:.6f} >= champion {theirs:.6f})"
        )
    against = "the naive baseline" + (" and the champion" if theirs is not None else "")
    return True, f"promoted: beats {against} on {metric.format(model='lstm')} ({mine:.6f})"


def alias_version(client, alias: str, name: str = MODEL_NAME) -> int | None:
    """The version holding ``alias`` (None: no such alias or model yet).

    Asked by alias, not read from ``search_model_versions``: through a tracking *server*
    (REST) that search returns versions without their aliases, so a promoted model looked
    like a challenger-only one (``make up`` scored and served the "challenger" while the
    run said "promoted")."""
    from mlflow.exceptions import MlflowException

    try:
        return int(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def champion_metrics(client, name: str = MODEL_NAME) -> dict[str, float] | None:
    """The run metrics of ``name``'s current champion (None: no champion yet)."""
    version = alias_version(client, "champion", name)
    if version is None:
        return None
    return client.get_run(client.get_model_version(name, str(version)).run_id).data.metrics


def gate_new_version(client, name: str, version, results: dict, decide) -> tuple[bool, str]:
    """Every registered model's rule: the new version is the ``challenger``; ``decide``
    (its metrics, the champion's or None → (promote?, why)) may make it the ``champion``."""
    client.set_registered_model_alias(name, "challenger", version)
    promote, why = decide(results, champion_metrics(client, name))
    if promote:
        client.set_registered_model_alias(name, "champion", version)
    return promote, why
