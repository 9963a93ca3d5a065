"""dbt docs: every model and every column is documented, and the catalog builds."""

import json

import pytest
from conftest import ROOT, run_dbt


@pytest.mark.slow
def test_every_model_and_column_is_documented(module_warehouse):
    run_dbt(module_warehouse, "run")  # the catalog reads the relations
    run_dbt(module_warehouse, "docs", "generate")
    target = ROOT / "dbt" / "target"
    manifest = json.loads((target / "manifest.json").read_text())
    catalog = json.loads((target / "catalog.json").read_text())
    models = {k: v for k, v in manifest["nodes"].items() if v["resource_type"] == "model"}
    assert len(models) >= 10
    for key, node in models.items():
        assert node["description"].strip(), f"{key} has no description"
        built = catalog["nodes"][key]["columns"]
        documented = {name for name, col in node["columns"].items() if col["description"].strip()}
        assert set(built) <= documented, f"{key}: undocumented columns {set(built) - documented}"
    assert (target / "index.html").exists()
