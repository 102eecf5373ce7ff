"""bench/receipts.py's measurements, run with tiny counts on a real three-validator network, so the benchmark
cannot rot; no timing is asserted (the figures come from `make bench`)."""

from __future__ import annotations

from pathlib import Path

from bench import receipts as receipts_bench

OFFICES = ("EP", "GB", "KR")


def test_receipts_benchmark_sizes_and_times_every_receipt_it_verified(tmp_path: Path) -> None:
    gathered = receipts_bench.gather(tmp_path / "n3", OFFICES, per_office=1, report=lambda line: None)
    figures = receipts_bench.measure(gathered, runs=2, report=lambda line: None)

    rows = {row["right_id"]: row for row in figures["receipts"]}
    assert set(rows) == {f"{code}:PAT:{code}7700001" for code in OFFICES}
    assert rows[receipts_bench.moved_right("EP")]["version"] == 3  # two ownership changes after registering
    assert figures["anchor_validators"] == 3 and figures["majority"] == 2
    for row in rows.values():
        assert row["bytes_indent2"] > row["bytes_compact"] > row["seals_bytes"] + row["key_proof_bytes"] > 0
        assert row["seal_headers"] >= 1  # the majority of three is two sealers: the block's and at least one
        assert row["anchored_s"]["median"] > 0 and row["consistency_s"]["median"] > 0
        assert row["anchor_cost_ratio"] > 0
