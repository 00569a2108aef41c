"""Which models an incremental build rebuilds: those downstream of the datasets with new releases, except the chain
below a gate model whose rows did not change (tradewatch.transform.stale_models)."""

from tradewatch.transform import GATE_FLAG, gates, stale_models


def graph() -> dict:
    """raw census and bls -> staging views -> marts; a gate (weights) over census with a chain below it; a seed."""
    edges = {"stg_census": ["source.census_imports_hs"], "stg_bls": ["source.bls_series"],
             "trade": ["stg_census"], "prices": ["stg_bls"], "weights": ["stg_census", "seed.reference"],
             "lines": ["weights", "seed.reference"], "daily": ["lines"], "monthly_rates": ["daily", "trade"],
             "events": ["seed.reference"]}
    nodes = {f"model.p.{name}": {"name": name, "resource_type": "model", "relation_name": f'"w"."i"."{name}"',
                                 "config": {"meta": {GATE_FLAG: True} if name == "weights" else {}}}
             for name in edges}
    nodes["seed.reference"] = {"name": "reference", "resource_type": "seed", "config": {}}
    sources = {f"source.{name}": {"name": name, "schema": "raw"} for name in ("census_imports_hs", "bls_series")}

    def uid(name: str) -> str:
        return name if "." in name else f"model.p.{name}"

    return {"nodes": nodes, "sources": sources,
            "parent_map": {uid(child): [uid(p) for p in parents] for child, parents in edges.items()}}


def test_only_what_reads_a_changed_dataset_is_rebuilt():
    assert stale_models(graph(), {"bls_series"}, set()) == ["stg_bls", "prices"]
    assert stale_models(graph(), set(), set()) == []  # seeds and the project unchanged: nothing to do


def test_a_gate_whose_rows_did_not_change_stops_its_chain_but_not_what_also_reads_the_new_month():
    rebuilt = stale_models(graph(), {"census_imports_hs"}, {"weights"})
    assert rebuilt == ["stg_census", "trade", "monthly_rates"]  # monthly_rates also reads trade: rebuilt
    assert set(stale_models(graph(), {"census_imports_hs"}, set())) == {
        "stg_census", "trade", "weights", "lines", "daily", "monthly_rates"}  # the weights changed: all of it


def test_gates_are_the_models_flagged_in_the_project():
    assert gates(graph()) == {"weights": '"w"."i"."weights"'}
