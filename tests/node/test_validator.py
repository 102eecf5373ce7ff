"""Naming an office's chain validator from its node (`ipreg node set-validator`) on a real chain: the office's
account signs setValidator, a validator already named is left as it is, and the contract's refusals reach
the operator with the rule they broke and its values."""

from __future__ import annotations

import dataclasses
import os
import subprocess
from pathlib import Path
from typing import NamedTuple

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from registry_node.node.consortium import ConsortiumConfig, FoundingOffice, deploy_consortium
from registry_node.node.service import NodeKeys, init_node, load_keys, set_validator
from registry_node.node.settings import NodeSettings, settings_toml, token_digest
from registry_node.node.transactor import TransactionReverted, Transactor
from registry_node.protocol.chain import connect
from registry_node.protocol.contract import load_artifact
from registry_node.protocol.errors import RegistryError
from registry_node.protocol.keys import SigningAlgorithm
from tests.support.chain import GanacheFactory
from tests.support.keys import FAST_SCRYPT_N

PASSWORD = "validator test password"
IPREG = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "ipreg"
VALIDATOR_FIELD = 7  # OfficeView.validator
ZERO_ADDRESS = "0x" + "00" * 20


class NodeOnChain(NamedTuple):
    settings: NodeSettings
    keys: NodeKeys
    w3: Web3
    contract: Contract
    gb: Transactor  # another office of the consortium


@pytest.fixture
def ep_node(tmp_path: Path, start_ganache: GanacheFactory) -> NodeOnChain:
    """EP's node, created by `init_node`, in a consortium with GB deployed on a chain of its own."""
    settings = NodeSettings(
        office_code="EP",
        office_name="European Patent Office",
        data_dir=tmp_path / "ep",
        operator_token_sha256=token_digest("token"),
    )
    init_node(settings, PASSWORD, SigningAlgorithm.ED25519, scrypt_n=FAST_SCRYPT_N)
    account = load_keys(settings, PASSWORD).account
    deployer: LocalAccount = Account.create()
    gb: LocalAccount = Account.create()
    chain = start_ganache([a.key.to_0x_hex() for a in (deployer, gb, account)])
    w3 = connect(chain.rpc_url)
    abi = load_artifact().abi
    config = ConsortiumConfig(
        [
            FoundingOffice("EP", settings.office_name, account.address, "https://ep.example"),
            FoundingOffice("GB", "UK Intellectual Property Office", gb.address, "https://gb.example"),
        ]
    )
    deployment = deploy_consortium(Transactor(w3, deployer, abi), config)
    settings = dataclasses.replace(settings, rpc_url=chain.rpc_url, contract_address=deployment.address)
    settings.settings_path.write_text(settings_toml(settings), "utf-8")
    contract = w3.eth.contract(address=deployment.address, abi=abi)
    return NodeOnChain(settings, load_keys(settings, PASSWORD), w3, contract, Transactor(w3, gb, abi))


def ipreg_set_validator(node: NodeOnChain, address: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(IPREG), "node", "set-validator", address, "--data-dir", str(node.settings.data_dir)],
        env={**os.environ, "IPREG_NODE_PASSWORD": PASSWORD},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def validator_of(node: NodeOnChain, code: bytes) -> str:
    return str(node.contract.functions.office(code).call()[VALIDATOR_FIELD])


def test_the_node_names_its_validator_once_and_leaves_it_when_asked_again(ep_node: NodeOnChain) -> None:
    validator = Account.create().address

    named = set_validator(ep_node.settings, ep_node.keys, ep_node.w3, validator.lower())

    assert (named.validator, named.already_set) == (validator, False)
    assert named.block_number is not None
    assert validator_of(ep_node, b"EP") == validator
    assert ep_node.contract.functions.validatorOf(validator).call() == [b"EP", 1]
    head = ep_node.w3.eth.block_number
    again = set_validator(ep_node.settings, ep_node.keys, ep_node.w3, validator)
    assert (again.already_set, again.block_number) == (True, None)
    assert ep_node.w3.eth.block_number == head  # nothing sent


def test_a_refused_address_is_named_with_the_rule_it_breaks(ep_node: NodeOnChain) -> None:
    head = ep_node.w3.eth.block_number
    with pytest.raises(RegistryError, match=r"validator address '0x1234': not an Ethereum address"):
        set_validator(ep_node.settings, ep_node.keys, ep_node.w3, "0x1234")
    assert ep_node.w3.eth.block_number == head  # refused before anything is sent
    with pytest.raises(TransactionReverted, match=r"OfficeRegistryValidatorIsAccount\(.*office='EP'\)"):
        set_validator(ep_node.settings, ep_node.keys, ep_node.w3, ep_node.keys.account.address)
    with pytest.raises(TransactionReverted, match=r"OfficeRegistryValidatorIsAccount\(.*office='GB'\)"):
        set_validator(ep_node.settings, ep_node.keys, ep_node.w3, ep_node.gb.address)
    assert validator_of(ep_node, b"EP") == ZERO_ADDRESS


def test_the_command_changes_the_validator_and_reports_a_refusal_with_its_rule(ep_node: NodeOnChain) -> None:
    first, second = Account.create().address, Account.create().address
    assert ipreg_set_validator(ep_node, first).returncode == 0

    changed = ipreg_set_validator(ep_node, second)
    assert changed.returncode == 0, changed.stderr
    assert f"{second} named the validator of EP in block" in changed.stdout
    assert validator_of(ep_node, b"EP") == second
    assert ep_node.contract.functions.validatorOf(first).call() == [bytes(2), 0]  # released
    unchanged = ipreg_set_validator(ep_node, second)
    assert f"{second} is already the validator of EP" in unchanged.stdout

    gb_validator = Account.create().address
    ep_node.gb.send(ep_node.contract.functions.setValidator(gb_validator))
    taken = ipreg_set_validator(ep_node, gb_validator)
    assert taken.returncode == 1
    assert (
        f"refused by the contract: OfficeRegistryValidatorInUse(validator='{gb_validator.lower()}', "
        "office='GB')" in taken.stderr
    )
    assert validator_of(ep_node, b"EP") == second
