"""A smoke run on a fresh hardhat node (npm hardhat@2.29.1), the other local chain, with the real gateway."""

from __future__ import annotations

from pathlib import Path

from tests.experiment.conftest import ipreg_experiment, ops_rows, results_of, run_dir_of

HARDHAT = """
name: hardhat-smoke
offices: 1
chain: hardhat
workload:
  operations: 10
  mix: {registration: 50, ownershipChange: 30, verification: 20}
load:
  concurrency: 4
"""


def test_a_run_on_hardhat_passes_and_measures_gas(tmp_path: Path) -> None:
    config = tmp_path / "hardhat.yaml"
    config.write_text(HARDHAT, "utf-8")
    run_dir = run_dir_of(ipreg_experiment("run", config, "--out", tmp_path / "results"))
    results = results_of(run_dir)
    assert results["exactly_once"] == "PASS" and results["index_matches_chain"] == "PASS"
    assert results["environment"]["chain"] == "hardhat"
    assert "HardhatNetwork" in (results["environment"]["chain_client"] or "")
    assert results["figures"]["gas"]["registration"]["mean"] > 21_000
    assert results["figures"]["chain_growth"]["state_bytes"] is None  # hardhat does not tell
    assert any(r["kind"] == "verification" and r["verdict"] for r in ops_rows(run_dir))
