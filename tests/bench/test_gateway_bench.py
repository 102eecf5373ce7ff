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
        results = gateway_bench.measure(demo, uploads_n=40, reads_n=40, crypto_n=20, clients=4)
    assert results["clients"] == 4
    assert results["documents"] >= 40  # the seeded rights' current signed documents, each verified first
    for key in KEYS:
        assert results[key] > 0, key
