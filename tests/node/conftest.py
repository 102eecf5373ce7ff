"""Fixtures for the office node's tests: real ganache chains on free loopback ports, a deployed consortium.

Every chain runs in the test's temporary directory and is stopped at teardown. The chain helpers live in
`tests.support.chain`, shared with the gateway's tests; they are re-exported here for the node's tests.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from registry_node.devnet import ganache
from registry_node.node.consortium import deploy_consortium
from registry_node.node.transactor import Transactor
from registry_node.protocol.chain import connect
from registry_node.protocol.contract import load_artifact
from tests.support.chain import (
    OFFICES,
    Consortium,
    FreshChain,
    GanacheFactory,
    RawGanacheFactory,
    consortium_config,
    deploy_fresh,
    stop_process,
    wait_for_rpc,
)
from tests.support.softhsm import new_token, softhsm, softhsm_folder  # noqa: F401 - token tests

__all__ = [
    "Consortium",
    "FreshChain",
    "GanacheFactory",
    "RawGanacheFactory",
    "stop_process",
    "wait_for_rpc",
]


@pytest.fixture
def listening_port() -> Iterator[int]:
    """A loopback port something is listening on for the duration of the test."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


@pytest.fixture
def free_port() -> Callable[[], int]:
    """`registry_node.devnet.ganache.free_port`, for tests that take it as a fixture."""
    return ganache.free_port


@pytest.fixture
def start_ganache(tmp_path: Path) -> Iterator[GanacheFactory]:
    """`start_ganache([key, ...])` -> a running Ganache funding those keys; stopped after the test."""
    factory = GanacheFactory(tmp_path)
    try:
        yield factory
    finally:
        factory.stop_all()


@pytest.fixture
def start_raw_ganache(tmp_path: Path) -> Iterator[RawGanacheFactory]:
    """`start_raw_ganache([(key, balance)], *options)` -> RPC URL of a ganache run with those options."""
    factory = RawGanacheFactory(tmp_path)
    try:
        yield factory
    finally:
        factory.stop_all()


@pytest.fixture
def fresh_chain(start_ganache: GanacheFactory) -> FreshChain:
    return deploy_fresh(start_ganache)


@pytest.fixture(scope="module")
def consortium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Consortium]:
    """EP, GB and KR deployed by a separate deployer account on a fresh chain shared by the test module."""
    deployer: LocalAccount = Account.create()
    offices: dict[str, LocalAccount] = {code: Account.create() for code in OFFICES}
    factory = GanacheFactory(tmp_path_factory.mktemp("consortium"))
    try:
        chain = factory([deployer.key.to_0x_hex(), *(a.key.to_0x_hex() for a in offices.values())])
        w3 = connect(chain.rpc_url)
        abi = load_artifact().abi
        config = consortium_config(offices)
        deployment = deploy_consortium(Transactor(w3, deployer, abi), config)
        contract = w3.eth.contract(address=deployment.address, abi=abi)
        transactors = {code: Transactor(w3, acct, abi) for code, acct in offices.items()}
        yield Consortium(w3, deployment, contract, offices, transactors, deployer, config, chain)
    finally:
        factory.stop_all()
