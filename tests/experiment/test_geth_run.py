"""A bounded run on a real go-ethereum Clique network of three validators (one per office), with the real
nodes and gateway: GB's validator is killed with SIGKILL a third of the way in and started again. Every
change still reaches the chain exactly once, the gateway's index equals the chain, and the report tells
the chain underneath: latency to the block and to majority depth, reorganisations, gas rate."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.experiment.conftest import ipreg_experiment, ops_rows, results_of, run_dir_of

GETH_KILL = """
name: geth-kill
offices: 3
seed: 5
chain: {geth: {validators: 3, period: 1}}
workload:
  operations: 30
  mix: {registration: 45, ownershipChange: 30, statusEvent: 15, verification: 10}
load:
  rate: 5
faults:
  - {kind: kill_validator, office: GB, at: 0.3, down_s: 2}
settle_timeout_s: 90
"""


@pytest.fixture(scope="module")
def geth_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("geth-run")
    config = folder / "geth-kill.yaml"
    config.write_text(GETH_KILL, "utf-8")
    return run_dir_of(ipreg_experiment("run", config, "--out", folder / "results", timeout_s=300))


def test_the_run_passes_both_checks_with_every_change_confirmed(geth_run: Path) -> None:
    results = results_of(geth_run)
    assert results["exactly_once"] == "PASS", results["checks"]["exactly_once"]
    assert results["index_matches_chain"] == "PASS", results["checks"]["index_matches_chain"]
    writes = [r for r in ops_rows(geth_run) if r["kind"] != "verification"]
    assert writes and {r["outcome"] for r in writes} == {"confirmed"}
    assert results["ops_confirmed"] == len(writes)
    assert results["environment"]["chain"] == "geth"
    assert list(results["environment"]["validators"]) == ["EP", "GB", "KR"]
    assert "Geth/v1.13.15" in (results["environment"]["chain_client"] or "")


def test_the_killed_validator_is_recorded_back_and_caught_up(geth_run: Path) -> None:
    (kill,) = results_of(geth_run)["faults"]
    assert (kill["kind"], kill["target"]) == ("kill_validator", "GB")
    assert kill["recovered_s"] > kill["at_s"]
    assert "SIGKILL" in kill["note"] and "it reached their head" in kill["note"]


def test_the_report_tells_the_chain_underneath(geth_run: Path) -> None:
    figures = results_of(geth_run)["figures"]
    confirmation = figures["confirmation"]
    assert confirmation["depth_blocks"] == 2  # a majority of 3 validators: the block and one on top
    to_block, to_depth = confirmation["one_block"], confirmation["majority"]
    assert to_block["n"] == to_depth["n"] == figures["ops_confirmed"]
    assert 0 < to_block["p50_s"] <= to_block["p95_s"] <= to_block["max_s"]
    assert to_block["p50_s"] <= to_depth["p50_s"] and to_block["p95_s"] <= to_depth["p95_s"]
    assert figures["reorgs"]["watched"] and figures["reorgs"]["count"] >= 0
    assert figures["reorgs"]["deepest"] == max((r["depth"] for r in figures["reorgs"]["seen"]), default=0)
    rate = figures["gas_rate"]
    assert rate["limit_gas_per_s"] == 100_000_000 and rate["period_s"] == 1
    assert 0 < rate["gas_per_s"] < rate["limit_gas_per_s"]
    report = (geth_run / "report.md").read_text("utf-8")
    assert "geth (3 Clique validators, 1 s period)" in report
    assert "### The chain underneath" in report and "submission to that block at depth 2" in report
    assert "kill_validator GB" in report


def test_no_validator_of_the_run_is_left_running(geth_run: Path) -> None:
    left = subprocess.run(["pgrep", "-f", str(geth_run / "network")], capture_output=True, text=True)
    assert left.stdout.strip() == ""
