"""geth opens every keystore this project writes: a validator's sealing key, which it unlocks to seal, and
an office's account, which any Ethereum tool should read.

eth-keyfile draws a 16-byte AES-CTR IV and writes it as an integer's bytes, so 1 keystore in 256 (its IV
starting with a zero byte) came out with a 15-byte IV. Python reads that back; geth v1.13.15 panics ("bad
IV length"), and a validator died at its start in a CI run. Here the random source is made to draw such an
IV, and the real geth opens the keystore (`geth account update` decrypts it as `--unlock` does).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import Crypto.Random
import pytest
from eth_account import Account

from registry_node.devnet.geth import (
    Validator,
    ValidatorPorts,
    ValidatorSpec,
    clique_genesis,
    geth_executable,
    new_node_key,
)
from registry_node.devnet.network import GethNetwork
from registry_node.protocol.keys import create_account_keystore
from tests.support.network import eventually

PASSWORD = "correct horse battery staple"
ZERO_FIRST = b"\x00" + b"\x07" * 15


@pytest.fixture
def zero_first_iv(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every random draw of eth-keyfile (salt and IV) starts with a zero byte."""
    monkeypatch.setattr(Crypto.Random, "get_random_bytes", lambda n: ZERO_FIRST[:n])


def geth_opens(datadir: Path, address: str) -> subprocess.CompletedProcess[str]:
    """`geth account update`: decrypts the keystore with the password, then writes it under a new one."""
    return subprocess.run(
        [str(geth_executable()), "--datadir", str(datadir), "--lightkdf", "account", "update", address],
        input=f"{PASSWORD}\n{PASSWORD}\n{PASSWORD}\n",
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def only_keystore(datadir: Path) -> dict[str, Any]:
    (path,) = (datadir / "keystore").iterdir()
    keystore: dict[str, Any] = json.loads(path.read_text())
    return keystore


def test_without_the_fix_geth_refuses_such_a_keystore(tmp_path: Path, zero_first_iv: None) -> None:
    """What went wrong: the keystore as eth-account writes it."""
    account = Account.create()
    (tmp_path / "keystore").mkdir()
    raw = Account.encrypt(account.key, PASSWORD, kdf="scrypt", iterations=2**10)
    assert len(raw["crypto"]["cipherparams"]["iv"]) == 30
    (tmp_path / "keystore" / "key.json").write_text(json.dumps(raw))
    opened = geth_opens(tmp_path, account.address)
    assert opened.returncode != 0 and "bad IV length" in opened.stdout + opened.stderr


def test_geth_unlocks_a_validators_sealing_key_whose_iv_starts_with_a_zero_byte(
    tmp_path: Path, zero_first_iv: None
) -> None:
    sealer = Account.create()
    node_key, public_key = new_node_key()
    spec = ValidatorSpec("GB", sealer.address, public_key, ValidatorPorts(0, 0, 0))
    genesis = tmp_path / "genesis.json"
    genesis.write_text(json.dumps(clique_genesis(1515, 1, [sealer.address], {})))
    Validator(spec, tmp_path / "GB", 1515).create(genesis, sealer, node_key, PASSWORD)

    assert only_keystore(tmp_path / "GB")["crypto"]["cipherparams"]["iv"] == ZERO_FIRST.hex()
    opened = geth_opens(tmp_path / "GB", sealer.address)
    assert opened.returncode == 0, opened.stdout + opened.stderr


def test_geth_opens_an_offices_account_keystore_whose_iv_starts_with_a_zero_byte(
    tmp_path: Path, zero_first_iv: None
) -> None:
    (tmp_path / "keystore").mkdir()
    address = create_account_keystore(tmp_path / "keystore" / "account.json", PASSWORD, 2**10)
    assert only_keystore(tmp_path)["crypto"]["cipherparams"]["iv"] == ZERO_FIRST.hex()
    opened = geth_opens(tmp_path, address)
    assert opened.returncode == 0, opened.stdout + opened.stderr


def test_a_network_made_before_the_fix_resumes_and_its_validator_seals(tmp_path: Path) -> None:
    """Its sealing keystore on disk has a 15-byte IV: the validator's start writes it at 16 bytes first."""
    network = GethNetwork(tmp_path / "network", ["GB"], password=PASSWORD, period_s=1)
    network.start()
    try:
        first = network.validator("GB").head()
    finally:
        network.stop()
    (path,) = (network.validator("GB").folder / "keystore").iterdir()
    keystore = json.loads(path.read_text())
    sealing_key = Account.decrypt(keystore, PASSWORD)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Crypto.Random, "get_random_bytes", lambda n: ZERO_FIRST[:n])
        path.write_text(json.dumps(Account.encrypt(sealing_key, PASSWORD, kdf="scrypt", iterations=2**10)))
    assert len(json.loads(path.read_text())["crypto"]["cipherparams"]["iv"]) == 30

    resumed = GethNetwork.load(tmp_path / "network", PASSWORD)
    resumed.resume()
    try:
        eventually(lambda: resumed.validator("GB").head() > first + 1, "GB sealing again", timeout_s=30)
    finally:
        resumed.stop()
    assert json.loads(path.read_text())["crypto"]["cipherparams"]["iv"] == ZERO_FIRST.hex()
    assert Account.decrypt(json.loads(path.read_text()), PASSWORD) == sealing_key
