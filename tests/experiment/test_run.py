"""`ipreg experiment run scripts/experiments/smoke.yaml`: two offices, a hundred operations on a fresh
ganache, one office node killed with SIGKILL mid-run and restarted, the real gateway. Its outputs are
checked, and ops.csv is counted against the chain itself (the run's ganache, started again on its data)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import matplotlib.image
import pytest
from web3 import Web3

from registry_node.devnet.ganache import Ganache, free_port
from registry_node.protocol.contract import load_artifact
from tests.experiment.conftest import assert_valid_png, ipreg_experiment, ops_rows, results_of, run_dir_of

SMOKE = Path(__file__).resolve().parents[2] / "scripts" / "experiments" / "smoke.yaml"
EVENT_OF_KIND = {"registration": "RightRegistered", "confidentialFiling": "RightRegistered",
                 "ownershipChange": "OwnershipChanged", "statusEvent": "LegalStatusChanged",
                 "publication": "RightPublished"}  # fmt: skip


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_dir_of(ipreg_experiment("run", SMOKE, "--out", tmp_path_factory.mktemp("results")))


def test_the_run_passes_both_checks_and_says_how_many_operations_were_confirmed(smoke_run: Path) -> None:
    results = results_of(smoke_run)
    assert results["exactly_once"] == "PASS", results["checks"]["exactly_once"]
    assert results["index_matches_chain"] == "PASS", results["checks"]["index_matches_chain"]
    assert results["ops_confirmed"] >= 60  # of 100: verifications are counted apart
    assert results["checks"]["exactly_once"]["accepted"] == results["checks"]["exactly_once"]["landed"]
    assert results["config"]["name"] == "smoke" and results["environment"]["chain"] == "ganache"
    figures = results["figures"]
    assert figures["throughput_ops_per_s"] > 0
    assert figures["latency"]["registration"]["p50_s"] <= figures["latency"]["registration"]["max_s"]
    assert 25_000 < figures["gas"]["ownershipChange"]["mean"] < 60_000
    assert figures["chain_growth"]["blocks"] > 0 and figures["chain_growth"]["log_bytes"] > 0
    assert figures["chain_growth"]["state_bytes"] > 0  # ganache's database on disk
    assert set(figures["per_office"]) == {"EP", "GB"}
    assert results["capacity"]["blocks_per_day_needed"] > 0


def test_the_killed_node_came_back_and_nothing_was_lost_or_doubled(smoke_run: Path) -> None:
    results = results_of(smoke_run)
    (kill,) = results["faults"]
    assert kill["kind"] == "kill_node" and kill["target"] == "GB"
    assert kill["recovered_s"] > kill["at_s"]
    rows = [r for r in ops_rows(smoke_run) if r["office"] == "GB" and r["kind"] in EVENT_OF_KIND]
    assert any(float(r["submitted_s"]) > kill["recovered_s"] for r in rows), "GB took work after its restart"
    assert {r["outcome"] for r in rows} == {"confirmed"}


def test_ops_csv_counts_equal_the_chain_state(smoke_run: Path) -> None:
    rows = ops_rows(smoke_run)
    assert [int(r["index"]) for r in rows] == list(range(len(rows)))
    confirmed = Counter(
        EVENT_OF_KIND[r["kind"]] for r in rows if r["kind"] in EVENT_OF_KIND and r["outcome"] == "confirmed"
    )
    assert sum(confirmed.values()) == results_of(smoke_run)["ops_confirmed"]
    deployment: dict[str, Any] = json.loads((smoke_run / "deployment.json").read_text())
    with Ganache(data_dir=smoke_run / "chain", port=free_port()) as chain:
        w3 = Web3(Web3.HTTPProvider(chain.rpc_url))
        address = deployment["contracts"]["SharedIPRegistry"]
        contract = w3.eth.contract(address=address, abi=load_artifact().abi)
        start = deployment["deployment"]["blockNumber"]
        on_chain = {
            name: len(contract.events[name]().get_logs(from_block=start))
            for name in set(EVENT_OF_KIND.values())
        }
        for row in rows:
            if row["kind"] in EVENT_OF_KIND and row["outcome"] == "confirmed":
                version = contract.functions.rightOf(Web3.keccak(text=row["right_id"])).call()[0]
                assert version >= int(row["version"])
    assert on_chain == {name: confirmed.get(name, 0) for name in on_chain}


def test_plots_are_pngs_and_the_report_embeds_every_one(smoke_run: Path) -> None:
    report = (smoke_run / "report.md").read_text("utf-8")
    for name in ("throughput.png", "latency_cdf.png", "gas_per_operation.png"):
        assert_valid_png(smoke_run / name)
        assert matplotlib.image.imread(smoke_run / name).shape[0] > 100
        assert f"]({name})" in report
    assert "**PASS**" in report and "## Capacity" in report and "kill_node GB" in report


def test_capacity_prints_the_projection_of_a_run(smoke_run: Path) -> None:
    printed = ipreg_experiment("capacity", smoke_run / "results.json").stdout
    assert "Capacity at world scale (per-right mode)" in printed
    assert "blocks per day needed" in printed and "Where it stops scaling" in printed
    assert results_of(smoke_run)["capacity"]["chain_profile"] == {
        "block_gas_limit": 30_000_000,
        "block_time_s": 2.0,
    }
