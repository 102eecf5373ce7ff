"""The capacity projection against figures computed by hand, and the committed world profile."""

from __future__ import annotations

from typing import Any

import pytest

from registry_node.experiment.capacity import load_world, project, render_capacity, world_from_dict
from registry_node.protocol.errors import ConfigError

RESULTS: dict[str, Any] = {
    "figures": {
        "mode": "per-right",
        "throughput_ops_per_s": 10.0,
        "gas": {k: {"mean": v} for k, v in {"registration": 50_000, "confidentialFiling": 40_000,
                "publication": 30_000, "ownershipChange": 40_000, "statusEvent": 40_000}.items()},
        "chain_bytes": {k: {"mean": v} for k, v in {"registration": 500, "confidentialFiling": 400,
                        "publication": 300, "ownershipChange": 600, "statusEvent": 700}.items()},
    }
}  # fmt: skip
WORLD = world_from_dict({
    "offices": 10,
    "per_year": {"patent_applications": 1_000_000, "trademark_classes": 2_000_000, "design_applications": 0,
                 "ownership_changes": 365_000, "status_events": 730_000},
    "back_file": {"patents_in_force": 1_000_000},
    "peak_factor": 2,
    "chain": {"block_gas_limit": 10_000_000, "block_time_s": 10},
})  # fmt: skip


def test_projection_matches_the_hand_computed_figures() -> None:
    p = project(RESULTS, WORLD)
    # gas a year: 1M x (40k + 30k) + 2M x 50k + 365k x 40k + 730k x 40k = 213.8 G
    assert p["gas_per_day"] == pytest.approx(213.8e9 / 365)  # 585.75 M
    assert p["blocks_per_day_needed"] == pytest.approx(58.5753, rel=1e-5)
    assert p["blocks_per_day_available"] == 8640  # one block every 10 s
    assert p["capacity_share"] == pytest.approx(0.0067795, rel=1e-4)  # 585.75 M / 86.4 G gas a day
    assert p["capacity_share_peak"] == pytest.approx(0.013559, rel=1e-4)
    # back file: 1M registrations x 50k = 50 G gas on the 99.32 % of 86.4 G a day left over
    assert p["back_file_gas"] == pytest.approx(50e9)
    assert p["back_file_days"] == pytest.approx(0.58266, rel=1e-4)
    # bytes a year: 1M x 700 + 2M x 500 + 365k x 600 + 730k x 700 = 2.43 GB
    assert p["chain_growth_bytes_per_year"] == pytest.approx(2.43e9)
    assert p["operations_per_year"] == 5_095_000
    assert p["max_ops_per_s"] == pytest.approx(23.831, rel=1e-4)  # 1M gas/s / 41,963 gas per op
    assert p["headroom"] == pytest.approx(147.5, rel=1e-3)
    assert p["state_growth_bytes_per_year"] == 3_000_000 * 32
    assert "scales to 148x" in p["verdict"]


def test_a_chain_too_small_says_where_it_stops_scaling() -> None:
    small = world_from_dict({**_world_dict(), "chain": {"block_gas_limit": 1_000_000, "block_time_s": 600}})
    p = project(RESULTS, small)
    assert p["capacity_share"] == pytest.approx(1.3318, rel=1e-4)  # 70 G gas a year on 52.56 G
    assert p["verdict"].startswith("does not scale")
    assert p["back_file_days"] is None  # no spare capacity: never


def test_an_unmeasured_operation_falls_back_to_registration_and_says_so() -> None:
    results = {"figures": {"mode": "anchors", "gas": {"registration": {"mean": 3_000}}, "chain_bytes": {}}}
    p = project(results, WORLD)
    assert p["flows"]["ownership_changes"]["gas_each"] == 3_000
    assert any("ownershipChange not measured" in note for note in p["notes"])
    assert p["state_growth_bytes_per_year"] == 0


def test_the_committed_world_profile_holds_the_wipo_figures() -> None:
    world = load_world()
    assert world.per_year["patent_applications"] == 3_460_000
    assert world.per_year["trademark_classes"] == 15_500_000
    assert world.per_year["design_applications"] == 1_500_000
    assert world.offices == 200
    assert "WIPO" in world.source
    assert "Capacity at world scale" in render_capacity(project(RESULTS, world))


def test_a_bad_world_profile_names_the_field() -> None:
    with pytest.raises(ConfigError) as refused:
        world_from_dict({**_world_dict(), "chain": {"block_gas_limit": 0, "block_time_s": 2}})
    assert refused.value.field == "chain.block_gas_limit"


def _world_dict() -> dict[str, Any]:
    return {"offices": 10, "per_year": {"patent_applications": 1_000_000}, "back_file": {"patents": 5},
            "chain": {"block_gas_limit": 10_000_000, "block_time_s": 10}}  # fmt: skip
