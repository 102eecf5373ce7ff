"""`ipreg experiment run scripts/experiments/international.yaml`: the International Bureau joins three
offices, designates them on its Madrid and Hague registrations, and they decide on their designations, beside
national work; both checks pass, and every designation and decision is on chain exactly once."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from tests.experiment.conftest import ipreg_experiment, ops_rows, results_of, run_dir_of

INTERNATIONAL = Path(__file__).resolve().parents[2] / "scripts" / "experiments" / "international.yaml"


@pytest.fixture(scope="module")
def international_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("international")
    config = yaml.safe_load(INTERNATIONAL.read_text("utf-8"))
    config["workload"]["operations"] = 70  # the file's run, shortened for the suite
    shortened = folder / "international.yaml"
    shortened.write_text(yaml.safe_dump(config), "utf-8")
    return run_dir_of(ipreg_experiment("run", shortened, "--out", folder / "results"))


def test_designations_and_decisions_land_exactly_once_and_the_index_matches(international_run: Path) -> None:
    results = results_of(international_run)
    assert results["exactly_once"] == "PASS", results["checks"]["exactly_once"]
    assert results["index_matches_chain"] == "PASS", results["checks"]["index_matches_chain"]
    assert set(results["figures"]["per_office"]) == {"EP", "GB", "KR", "WO"}
    gas = results["figures"]["gas"]
    assert 40_000 < gas["designation"]["mean"] < 120_000


def test_every_decision_is_its_designated_offices_and_every_designation_the_bureaus(
    international_run: Path,
) -> None:
    rows = ops_rows(international_run)
    kinds = Counter(r["kind"] for r in rows if r["outcome"] == "confirmed")
    assert kinds["designation"] >= 5 and kinds["decision"] >= 5
    for row in rows:
        if row["kind"] == "designation":
            assert row["office"] == "WO" and row["right_id"].startswith("WO:")
        if row["kind"] == "decision":
            assert row["right_id"].endswith(f"@{row['office']}")
            assert row["outcome"] == "confirmed", row
