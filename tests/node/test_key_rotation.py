"""Rotating an office's signing key (`ipreg node rotate-key`) on a real chain: the new key is published, the
previous one revoked from that block on (never before), and node.toml names the new key file."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from registry_node.node.consortium import ConsortiumConfig, FoundingOffice, deploy_consortium
from registry_node.node.key_rotation import rotate_signing_key
from registry_node.node.service import init_node, load_keys, register_signing_key
from registry_node.node.settings import NodeSettings, load_settings, settings_toml, token_digest
from registry_node.node.transactor import Transactor
from registry_node.protocol.chain import connect, fee_fields
from registry_node.protocol.contract import load_artifact
from registry_node.protocol.keys import ScryptCost, SigningAlgorithm, describe_key_protection
from tests.support.chain import GanacheFactory
from tests.support.keys import FAST_SCRYPT_N

PASSWORD = "rotation test password"
IPREG = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "ipreg"


def test_rotation_publishes_the_new_key_revokes_the_old_from_then_on_and_the_node_signs_with_it(
    tmp_path: Path, start_ganache: GanacheFactory
) -> None:
    deployer: LocalAccount = Account.create()
    chain = start_ganache([deployer.key.to_0x_hex()])
    w3 = connect(chain.rpc_url)
    settings = NodeSettings(
        office_code="EP",
        office_name="European Patent Office",
        data_dir=tmp_path / "ep",
        operator_token_sha256=token_digest("token"),
        rpc_url=chain.rpc_url,
    )
    node = init_node(settings, PASSWORD, SigningAlgorithm.ED25519, scrypt_n=FAST_SCRYPT_N)
    transactor = Transactor(w3, deployer, load_artifact().abi)
    w3.eth.wait_for_transaction_receipt(_fund(w3, deployer, node.address))
    config = ConsortiumConfig(
        [FoundingOffice("EP", settings.office_name, node.address, "https://ep.example")]
    )
    deployment = deploy_consortium(transactor, config)
    settings = dataclasses.replace(settings, contract_address=deployment.address)
    settings.settings_path.write_text(settings_toml(settings), "utf-8")
    keys = load_keys(settings, PASSWORD)
    first = register_signing_key(settings, keys, w3)
    contract = w3.eth.contract(address=deployment.address, abi=load_artifact().abi)

    rotation = rotate_signing_key(settings, PASSWORD, w3)

    assert rotation.previous_key_id == first.key_id
    assert rotation.key_id != first.key_id and rotation.key_file.name == "signing-key-2.pem"
    assert rotation.added_block is not None and rotation.revoked_block is not None
    revoked = rotation.revoked_block
    assert contract.functions.isKeyValidAt(b"EP", first.key_id, revoked - 1).call()
    assert not contract.functions.isKeyValidAt(b"EP", first.key_id, revoked).call()
    assert contract.functions.isKeyValidAt(b"EP", rotation.key_id, revoked).call()
    reloaded = load_settings(settings.settings_path)
    assert reloaded.signing_key == rotation.key_file
    assert describe_key_protection(rotation.key_file).scrypt == ScryptCost(n=2**18, r=8, p=1)
    assert load_keys(reloaded, PASSWORD).signing_key.key_id == rotation.key_id

    # the command does the same again, keeping the previous key valid when asked
    result = subprocess.run(
        [str(IPREG), "node", "rotate-key", "--data-dir", str(settings.data_dir), "--keep-previous", "--json"],
        env={**os.environ, "IPREG_NODE_PASSWORD": PASSWORD},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["previousKeyId"] == rotation.key_id.hex()
    assert shown["keyFile"].endswith("signing-key-3.pem") and shown["previousRevokedAtBlock"] is None
    head = w3.eth.block_number
    assert contract.functions.isKeyValidAt(b"EP", rotation.key_id, head).call()
    assert contract.functions.isKeyValidAt(b"EP", bytes.fromhex(shown["keyId"]), head).call()


def test_rotation_with_a_wrong_password_changes_nothing(tmp_path: Path) -> None:
    settings = NodeSettings(
        office_code="GB",
        office_name="UK Intellectual Property Office",
        data_dir=tmp_path / "gb",
        operator_token_sha256=token_digest("token"),
        contract_address="0x" + "11" * 20,
    )
    init_node(settings, PASSWORD, SigningAlgorithm.ED25519, scrypt_n=FAST_SCRYPT_N)
    result = subprocess.run(
        [str(IPREG), "node", "rotate-key", "--data-dir", str(settings.data_dir)],
        env={**os.environ, "IPREG_NODE_PASSWORD": "wrong"},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode != 0 and "wrong" not in result.stderr
    assert sorted(p.name for p in settings.data_dir.glob("signing-key*")) == [
        "signing-key.pem",
        "signing-key.pem.json",
    ]
    assert load_settings(settings.settings_path).signing_key.name == "signing-key.pem"


def _fund(w3: Web3, sender: LocalAccount, to: str) -> Any:
    tx: Any = {"to": to, "value": 10**21, "gas": 21_000, "chainId": w3.eth.chain_id, **fee_fields(w3)}
    tx["nonce"] = w3.eth.get_transaction_count(sender.address, "pending")
    return w3.eth.send_raw_transaction(sender.sign_transaction(tx).raw_transaction)
