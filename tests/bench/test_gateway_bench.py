"""bench/gateway.py's measurements, run with tiny counts against a real consortium, so the benchmark cannot
rot; no timing is asserted (the figures come from `make bench`)."""

from __future__ import annotations

from pathlib import Path

from bench import gateway as gateway_bench

KEYS = (
    "verify_per_s", "bare_upload_per_s", "verify_ratio", "raw_crypto_per_s", "get_p50_ms", "get_p99_ms",
    "bare_p99_ms", "p99_ratio",
)  # fmt: skip


def test_gateway_benchmark_measures_every_figure(tmp_path: Path) -> None:
    with gateway_bench.consortium(tmp_path / "consortium", say=lambda line: None) as demo:
        results = gateway_bench.measure(
            demo, uploads_n=40, reads_n=40, crypto_n=20, clients=4, wrk_seconds=1,
            soak_seconds=3, soak_rate=40, say=lambda line: None,
        )  # fmt: skip
    assert results["clients"] == 4
    assert results["documents"] >= 40  # the seeded rights' current signed documents, each verified first
    for key in KEYS:
        assert results[key] > 0, key
    by_wrk = results["wrk"]  # Debian's wrk, installed by make setup, against the same server
    loads = [way for one in by_wrk["one_connection"].values() for way in (one["kept_alive"], one["closed"])]
    loads += [by_wrk["get_right"]["real"], by_wrk["get_right"]["bare"]]
    assert set(by_wrk["one_connection"]) == {"gateway_offices", "node_deep_link"}
    assert by_wrk["get_right"]["connections"] == 4
    for load in loads:
        assert load["requests"] > 0 and load["p50_ms"] > 0 and load["p99_ms"] >= load["p50_ms"], load
    workers = results["workers"]  # `serve --workers 1` and `--workers 2` on the same read model
    assert set(workers["by_workers"]) == {"1", "2"}
    for pool in workers["by_workers"].values():
        assert pool["verify_per_s"] > 0 and pool["bare_upload_per_s"] > 0 and pool["verify_ratio"] > 0
    assert workers["scaling"] > 0 and workers["get_right"]["workers"] == 2
    soak = results["soak"]  # PostgreSQL of its own, `gateway index` apart, `serve --workers 2`, open loop
    assert soak["workers"] == 2 and soak["database"].startswith("PostgreSQL 15")
    for way in ("real", "bare"):
        load = soak[way]
        assert load["requests"] == load["answered"] == 120 and load["errors"] == load["unanswered"] == 0, load
        assert 0 < load["p50_ms"] <= load["p99_ms"] <= load["p999_ms"] <= load["max_ms"], load
        assert sum(load["mix"].values()) == 120 and len(load["by_window"]["p99_ms"]) == 1
        assert load["worker_pauses"]["loop_lag"]["count"] > 0  # the workers' own probe, from /metrics
        assert load["load_generator"]["loop_lag_max_ms"] is not None  # and the load generator's
    assert soak["lost"] == 0 and soak["real"]["mix"] == soak["bare"]["mix"]  # the same requests both ways
