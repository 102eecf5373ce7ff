"""`ipreg experiment sweep FILE --offices 1,2` on a tiny workload, then `compare` of its two runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from registry_node.experiment.config import config_from_dict
from registry_node.experiment.sweep import chain_label, parse_chains
from registry_node.protocol.errors import ConfigError
from tests.experiment.conftest import assert_valid_png, ipreg_experiment, results_of

TINY = """
name: tiny
seed: 3
workload:
  operations: 10
  mix: {registration: 50, ownershipChange: 30, statusEvent: 10, verification: 10}
load:
  concurrency: 4
"""


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sweep")
    config = folder / "tiny.yaml"
    config.write_text(TINY, "utf-8")
    result = ipreg_experiment("sweep", config, "--offices", "1,2", "--out", folder / "results", timeout_s=300)
    return Path(result.stdout.strip().splitlines()[-1])


def test_a_sweep_runs_each_size_and_plots_throughput_against_offices(sweep_dir: Path) -> None:
    sweep = json.loads((sweep_dir / "sweep.json").read_text())
    assert [run["offices"] for run in sweep["runs"]] == [1, 2]
    for run in sweep["runs"]:
        assert run["exactly_once"] == "PASS" and run["index_matches_chain"] == "PASS"
        assert results_of(sweep_dir / run["run_dir"])["config"]["offices"] == run["offices"]
    assert_valid_png(sweep_dir / "throughput_vs_offices.png")
    assert "throughput_vs_offices.png" in (sweep_dir / "sweep.md").read_text()


def test_compare_prints_and_plots_two_runs_side_by_side(sweep_dir: Path, tmp_path: Path) -> None:
    first, second = sorted(p for p in sweep_dir.iterdir() if p.is_dir())
    printed = ipreg_experiment("compare", first, second / "results.json", "--out", tmp_path).stdout
    assert "throughput ops/s" in printed and "gas registration" in printed
    assert "tiny-o1" in printed and "tiny-o2" in printed
    for name in ("gas_per_operation.png", "latency_p50.png"):
        assert_valid_png(tmp_path / name)
        assert name in (tmp_path / "comparison.md").read_text()


def test_a_chain_sweep_names_each_chain_and_refuses_one_it_does_not_know() -> None:
    config = config_from_dict({"name": "c", "offices": 5, "chain": {"geth": {"validators": 5, "period": 2}}})
    chains = parse_chains("ganache, hardhat,geth3,geth5", config)
    assert [chain_label(c) for c in chains] == ["ganache", "hardhat", "geth3", "geth5"]
    assert [c.period_s for c in chains if c.kind == "geth"] == [2, 2]  # the file's period
    for bad in ("geth6", "geth", "besu", ""):
        with pytest.raises(ConfigError) as refused:
            parse_chains(bad, config)
        assert refused.value.field == "--chains"


def test_a_chain_sweep_refuses_a_validator_fault_on_a_chain_without_validators() -> None:
    config = config_from_dict(
        {"name": "c", "offices": 3, "chain": {"geth": {}}, "faults": [{"kind": "kill_validator", "at": 0.5}]}
    )
    assert [chain_label(c) for c in parse_chains("geth3", config)] == ["geth3"]
    with pytest.raises(ConfigError) as refused:
        parse_chains("geth3,ganache", config)
    assert refused.value.field == "faults[0].kind"
