"""What it costs to open an office's key files, and so what a password guess costs whoever copies them.

Three files, each opened as the node opens it, in the same run: the signing key as `generate_signing_key`
writes it now (PKCS#8, PBES2/scrypt at N=2^18, r=8, p=1, by `load_signing_key`), the signing key as it was
written before (cryptography's BestAvailableEncryption: PBES2/PBKDF2-HMAC-SHA256 at 2,048 rounds, by the same
`load_signing_key`), and the transaction account's Ethereum keystore (scrypt at N=2^18, by `load_account`).
Rounds alternate the three (whose turn is first rotates), so drift on the machine falls on all alike; a
PBKDF2 open is too short to time alone, so each round times a batch of them and keeps the mean.

Writes bench/results/keys.json:

  open_s                     median, p95 and min seconds of one open (password right)
  guesses_per_second_per_core  1 / median open: what one core of this machine tries against the file with
                             the code the node itself runs. An attacker's tuned code or GPUs do better on
                             every file, PBKDF2 by far the most (scrypt's 256 MiB per guess is what limits
                             them); the figure is for comparing the files, not a bound
  kdf_only_s                 median seconds of the key derivation alone (hashlib.scrypt, hashlib.pbkdf2_hmac
                             with the files' parameters), the part an attacker cannot skip
  ratios                     scrypt file / PBKDF2 file, and scrypt file / keystore, from the medians
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from registry_node.experiment.metrics import machine, percentile
from registry_node.protocol.keys import (
    create_account_keystore,
    describe_account_protection,
    describe_key_protection,
    generate_signing_key,
    load_account,
    load_signing_key,
)
from registry_node.protocol.keys.pkcs8_scrypt import SCRYPT_N, SCRYPT_P, SCRYPT_R

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "keys.json"
RUNS, QUICK_RUNS = 15, 5
PBKDF2_BATCH = 50  # PBKDF2 opens per round, timed together
KDF_RUNS = 5

Opener = Callable[[], object]


def key_files(folder: Path, password: str, n: int) -> dict[str, tuple[Opener, str, int]]:
    """The three files, written in `folder` at scrypt cost `n`: name -> (open, protection, opens a round)."""
    scrypt_file = folder / "signing-key.pem"
    generate_signing_key(scrypt_file, password, scrypt_n=n)
    legacy_file = folder / "signing-key-pbkdf2.pem"
    write_pbkdf2_signing_key(legacy_file, password)
    keystore = folder / "account.json"
    create_account_keystore(keystore, password, scrypt_n=n)
    return {
        "signing_key_scrypt": (
            lambda: load_signing_key(scrypt_file, password),
            str(describe_key_protection(scrypt_file)),
            1,
        ),
        "signing_key_pbkdf2": (
            lambda: load_signing_key(legacy_file, password),
            str(describe_key_protection(legacy_file)),
            PBKDF2_BATCH,
        ),
        "account_keystore": (
            lambda: load_account(keystore, password),
            str(describe_account_protection(keystore)),
            1,
        ),
    }


def write_pbkdf2_signing_key(path: Path, password: str) -> None:
    """A signing key as the node wrote it before scrypt: cryptography's BestAvailableEncryption, with its
    metadata (written here by generate_signing_key, whose file is then replaced by the PBKDF2 one)."""
    generate_signing_key(path, password, scrypt_n=2**4)
    private_key = load_signing_key(path, password).private_key
    path.write_bytes(
        private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(password.encode("utf-8")),
        )
    )


def timed_opens(files: dict[str, tuple[Opener, str, int]], runs: int) -> dict[str, list[float]]:
    """`runs` rounds, each opening every file once (a batch of the PBKDF2 one), the first in turn rotating."""
    names = list(files)
    for opener, _, _ in files.values():
        opener()  # untimed: imports and caches
    seconds: dict[str, list[float]] = {name: [] for name in names}
    for i in range(runs):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            opener, _, batch = files[name]
            started = time.perf_counter()
            for _ in range(batch):
                opener()
            seconds[name].append((time.perf_counter() - started) / batch)
    return seconds


def kdf_only(n: int) -> dict[str, float]:
    """Median seconds of the derivations alone, with the files' parameters (PBKDF2 timed in batches)."""
    salt, password = os.urandom(16), b"correct horse battery staple"
    memory = 128 * SCRYPT_R * (n + 2 + SCRYPT_P) + 2**20

    def median_of(derive: Callable[[], bytes], batch: int) -> float:
        times = []
        for _ in range(KDF_RUNS):
            started = time.perf_counter()
            for _ in range(batch):
                derive()
            times.append((time.perf_counter() - started) / batch)
        return round(statistics.median(times), 6)

    return {
        "scrypt": median_of(
            lambda: hashlib.scrypt(password, salt=salt, n=n, r=SCRYPT_R, p=SCRYPT_P, maxmem=memory), 1
        ),
        "pbkdf2_hmac_sha256_2048": median_of(
            lambda: hashlib.pbkdf2_hmac("sha256", password, salt, 2048), PBKDF2_BATCH
        ),
    }


def measure(folder: Path, n: int = SCRYPT_N, runs: int = RUNS) -> dict[str, Any]:
    """The three files written in `folder` at scrypt cost `n`, opened `runs` rounds; the figures."""
    password = secrets.token_urlsafe(16)
    files = key_files(folder, password, n)
    seconds = timed_opens(files, runs)
    medians = {name: statistics.median(values) for name, values in seconds.items()}
    rows = {
        name: {
            "protection": protection,
            "open_s": {
                "median": round(medians[name], 6),
                "p95": round(percentile(seconds[name], 0.95), 6),
                "min": round(min(seconds[name]), 6),
            },
            "opens_timed": runs * batch,
            "guesses_per_second_per_core": round(1 / medians[name], 2),
        }
        for name, (_, protection, batch) in files.items()
    }
    return {
        "files": rows,
        "ratios": {
            "scrypt_over_pbkdf2": round(medians["signing_key_scrypt"] / medians["signing_key_pbkdf2"], 1),
            "scrypt_over_keystore": round(medians["signing_key_scrypt"] / medians["account_keystore"], 3),
        },
        "kdf_only_s": kdf_only(n),
    }


def run(runs: int, n: int = SCRYPT_N) -> dict[str, Any]:
    load_at_start = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="ipreg-keys-bench-") as tmp:
        figures = measure(Path(tmp), n, runs)
    return {
        "schema": "ipreg/keys-bench/1",
        "scrypt": {"n": n, "r": SCRYPT_R, "p": SCRYPT_P},
        "runs": runs,
        "pbkdf2_batch": PBKDF2_BATCH,
        **figures,
        "notes": {
            "open": "time.perf_counter around load_signing_key (with its metadata check) or load_account, "
            "the password right, after one untimed open of each; rounds alternate the files",
            "guesses": "1 / median open on one core of this machine with the node's own code; tuned attack "
            "code, GPUs and ASICs do better, PBKDF2 by far the most",
            "keystore": "eth-account derives with pycryptodome's scrypt, the signing key with hashlib's "
            "(OpenSSL's): the same parameters, different implementations",
        },
        "environment": {
            **machine(),
            "load_average_at_start": [round(x, 2) for x in load_at_start],
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        },
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_RUNS} rounds instead of {RUNS}")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"results file (default {RESULTS})")
    args = parser.parse_args(argv)
    figures = run(QUICK_RUNS if args.quick else RUNS)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n", "utf-8")
    summary = {name: row["open_s"]["median"] for name, row in figures["files"].items()}
    print(json.dumps({"open_median_s": summary, "ratios": figures["ratios"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
