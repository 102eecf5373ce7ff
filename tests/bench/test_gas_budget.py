"""Gas per operation stays within the issue's budgets; gas is deterministic, so this is a regression test."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = [
    "register",
    "register_batch10_per_right",
    "register_batch100_per_right",
    "ownership_change",
    "status_event",
    "reveal",
    "anchor_batch16",
    "anchor_batch256",
    "anchor_batch4096",
    "vote",
    "set_validator",
    "change_validator",
]
ANCHORS = ["anchor_batch16", "anchor_batch256", "anchor_batch4096"]


@pytest.fixture(scope="module")
def gas(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("bench") / "gas.json"
    result = subprocess.run(
        [str(PROJECT_ROOT / ".venv" / "bin" / "python"), "bench/gas.py", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    data: dict[str, Any] = json.loads(out.read_text("utf-8"))
    return data


@pytest.mark.parametrize("name", OPERATIONS)
def test_every_operation_reports_its_gas_and_floor(gas: dict[str, Any], name: str) -> None:
    entry = gas["operations"][name]
    assert type(entry["gas"]) is int
    assert type(entry["floor"]) is int
    assert entry["gas"] >= entry["floor"] > 21_000 // 100


def test_bulk_registration_costs_at_most_30000_gas_per_right(gas: dict[str, Any]) -> None:
    assert gas["operations"]["register_batch100_per_right"]["gas"] <= 30_000


def test_an_ownership_change_costs_at_most_45000_gas(gas: dict[str, Any]) -> None:
    assert gas["operations"]["ownership_change"]["gas"] <= 45_000


@pytest.mark.parametrize("name", ANCHORS)
def test_an_anchor_of_any_batch_size_costs_at_most_50000_gas(gas: dict[str, Any], name: str) -> None:
    assert gas["operations"][name]["gas"] <= 50_000


@pytest.mark.parametrize("name", ["set_validator", "change_validator"])
def test_naming_or_changing_a_validator_costs_at_most_80000_gas(gas: dict[str, Any], name: str) -> None:
    assert gas["operations"][name]["gas"] <= 80_000


def test_the_report_says_every_target_is_met(gas: dict[str, Any]) -> None:
    assert {name: target["met"] for name, target in gas["targets"].items()} == {
        "register_batch100_per_right": True,
        "ownership_change": True,
        "anchor_any_batch": True,
        "validator_any_change": True,
    }
