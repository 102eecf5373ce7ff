"""bench/validator_start.py run with one start each way on two validators, so the benchmark cannot rot; how
often each way stalls is its figure (`make bench`), never asserted here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import validator_start


def test_the_start_benchmark_reports_each_way_and_the_projects_start_reaches_the_block(
    tmp_path: Path,
) -> None:
    out = tmp_path / "validator_start.json"
    assert (
        validator_start.main(
            ["--starts", "1", "--validators", "2", "--blocks", "3", "--load", "0", "--out", str(out)]
        )
        == 0
    )

    figures = json.loads(out.read_text())
    assert figures["validators"] == 2 and figures["blocks"] == 3
    assert set(figures["ways"]) == {"in-turn first", "all at once"}
    assert all(way["starts"] == 1 for way in figures["ways"].values())
    in_turn = figures["ways"]["in-turn first"]
    assert in_turn["reached"] == 1 and in_turn["stalled"] == 0 and in_turn["errors"] == []
    assert 0 < in_turn["seconds_to_reach_median"] == in_turn["seconds_to_reach_max"]


def test_an_unknown_way_is_refused_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        validator_start.main(["--ways", "in turn"])
    assert "--ways: 'in turn': not a way (the ways: in-turn first, all at once)" in capsys.readouterr().err
