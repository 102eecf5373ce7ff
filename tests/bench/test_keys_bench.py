"""bench/keys.py's measurements, run at scrypt N=2^4 for two rounds so the benchmark cannot rot; no timing is
asserted (the figures come from `make bench`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import keys as keys_bench
from tests.support.keys import FAST_SCRYPT_N


def test_keys_benchmark_times_every_file_and_derives_guesses_and_ratios(tmp_path: Path) -> None:
    figures = keys_bench.measure(tmp_path, n=FAST_SCRYPT_N, runs=2)

    files = figures["files"]
    assert {name: row["protection"] for name, row in files.items()} == {
        "signing_key_scrypt": "scrypt (N=2^4, r=8, p=1)",
        "signing_key_pbkdf2": "PBKDF2-HMAC-SHA256, 2048 rounds",
        "account_keystore": "scrypt (N=2^4, r=8, p=1)",
    }
    for row in files.values():
        median = row["open_s"]["median"]
        assert 0 < row["open_s"]["min"] <= median <= row["open_s"]["p95"]
        assert row["guesses_per_second_per_core"] == pytest.approx(1 / median, rel=0.01)  # median rounded
    assert files["signing_key_pbkdf2"]["opens_timed"] == 2 * keys_bench.PBKDF2_BATCH
    assert figures["ratios"]["scrypt_over_pbkdf2"] > 0 and figures["ratios"]["scrypt_over_keystore"] > 0
    assert figures["kdf_only_s"]["scrypt"] > 0 and figures["kdf_only_s"]["pbkdf2_hmac_sha256_2048"] > 0
