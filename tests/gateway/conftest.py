"""Fixtures for the gateway's tests: a real PostgreSQL 15 server in a temporary directory, real ganache
chains with a consortium whose offices serve their deep links from real node apps, and the gateway's
read model on either database.

PostgreSQL comes from Debian's packages (`make setup` installs them); a machine without `initdb` fails
these tests rather than skipping them, so the PostgreSQL code path is never silently untested.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from sqlalchemy import text
from sqlalchemy.engine import Engine
from web3 import Web3
from web3.contract import Contract

from gateway.deep_links import OfficeDocuments
from gateway.endpoint_policy import EndpointPolicy
from gateway.read_model.db import engine_for, migrate
from gateway.read_model.indexer import Indexer
from registry_node.devnet.postgres import LocalPostgres
from registry_node.node.api.app import create_app as create_node_app
from registry_node.node.consortium import ConsortiumConfig, FoundingOffice, deploy_consortium
from registry_node.node.office import Office
from registry_node.node.onchain import ContractChainView
from registry_node.node.outbox import OutboxWorker
from registry_node.node.settings import NodeSettings, token_digest
from registry_node.node.store import Store
from registry_node.node.transactor import Transactor
from registry_node.protocol.chain import connect
from registry_node.protocol.contract import load_artifact
from registry_node.protocol.keys import OfficeSigningKey
from tests.support.chain import OFFICES, VOTING_PERIOD_DAYS, GanacheFactory, free_port
from tests.support.served import OfficeNode, ServedApp

# ------------------------------------------------------------ PostgreSQL


@pytest.fixture(scope="session")
def postgres() -> Iterator[LocalPostgres]:
    """A PostgreSQL server on a free loopback port, with a random superuser password, for the session (fsync
    off: a test's database is thrown away)."""
    with LocalPostgres(durable=False) as server:
        yield server


DATABASES = ["sqlite", "postgres"]


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh empty read model on the database the test is parametrised with (`db` param)."""
    kind = getattr(request, "param", "sqlite")
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'gateway.sqlite'}"
    server: LocalPostgres = request.getfixturevalue("postgres")
    return server.create_database()


def new_engine(url: str) -> Engine:
    engine = engine_for(url)
    migrate(engine)
    return engine


# ------------------------------------------------------------ a consortium with live deep links


@dataclass
class Registry:
    """A consortium on its own ganache whose EP and GB offices run real nodes serving deep links."""

    w3: Web3
    contract: Contract
    accounts: dict[str, LocalAccount]
    transactors: dict[str, Transactor]
    nodes: dict[str, OfficeNode]
    rpc_url: str
    chain: Any

    def drain(self) -> None:
        for node in self.nodes.values():
            node.worker.drain()

    def rpc(self, method: str, *params: Any) -> Any:
        answer = self.w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer["result"]


def start_registry(base: Path, start: GanacheFactory, serving: tuple[str, ...] = ("EP", "GB")) -> Registry:
    deployer: LocalAccount = Account.create()
    accounts: dict[str, LocalAccount] = {code: Account.create() for code in OFFICES}
    ports = {code: free_port() for code in OFFICES}
    chain = start(["0x" + a.key.hex() for a in (deployer, *accounts.values())])
    w3 = connect(chain.rpc_url)
    abi = load_artifact().abi
    config = ConsortiumConfig(
        [
            FoundingOffice(code, OFFICES[code][0], acct.address, f"http://127.0.0.1:{ports[code]}")
            for code, acct in accounts.items()
        ],
        voting_period_s=VOTING_PERIOD_DAYS * 86_400,
    )
    deployment = deploy_consortium(Transactor(w3, deployer, abi), config)
    contract = w3.eth.contract(address=deployment.address, abi=abi)
    transactors = {code: Transactor(w3, acct, abi) for code, acct in accounts.items()}
    nodes = {}
    for code in serving:
        store = Store(base / f"{code}.sqlite")
        key = OfficeSigningKey.generate()
        office = Office(code, store, key)
        transactors[code].send(
            contract.functions.addSigningKey(key.key_id, key.algorithm.chain_value, key.public_key_bytes)
        )
        settings = NodeSettings(
            office_code=code,
            office_name=OFFICES[code][0],
            data_dir=base,
            operator_token_sha256=token_digest("t"),
            contract_address=deployment.address,
            listen_port=ports[code],
        )
        app = create_node_app(settings, office, store, ContractChainView(contract))
        server = ServedApp(app, ports[code]).start()
        worker = OutboxWorker(store, w3, contract, accounts[code])
        nodes[code] = OfficeNode(code, office, store, worker, transactors[code], key, server)
    return Registry(w3, contract, accounts, transactors, nodes, chain.rpc_url, chain)


@contextlib.contextmanager
def running_registry(base: Path, serving: tuple[str, ...] = ("EP", "GB")) -> Iterator[Registry]:
    """A registry on its own chain under `base` (deep links of the offices in `serving`);
    its deep-link servers and chain stop on leaving."""
    factory = GanacheFactory(base)
    registry = None
    try:
        registry = start_registry(base, factory, serving)
        yield registry
    finally:
        if registry is not None:
            for node in registry.nodes.values():
                node.server.stop()
        factory.stop_all()


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A registry shared by the test module (tests add rights; none stops the chain)."""
    with running_registry(tmp_path_factory.mktemp("registry")) as registry:
        yield registry


@pytest.fixture
def own_registry(tmp_path: Path) -> Iterator[Registry]:
    """A registry of the test's own, for tests that stop the chain or revert it."""
    with running_registry(tmp_path) as registry:
        yield registry


@pytest.fixture
def make_indexer() -> Iterator[Callable[..., Indexer]]:
    """`make_indexer(registry, database_url, **options)` -> an Indexer with its own web3 connection."""
    made: list[OfficeDocuments] = []

    def make(registry: Registry, url: str, **options: Any) -> Indexer:
        w3 = Web3(Web3.HTTPProvider(registry.rpc_url, request_kwargs={"timeout": 10}))
        # the offices serve their deep links on loopback
        documents = OfficeDocuments(timeout_s=2.0, policy=EndpointPolicy(allow_private=True))
        made.append(documents)
        contract = w3.eth.contract(address=registry.contract.address, abi=load_artifact().abi)
        options.setdefault("confirmations", 0)
        return Indexer(new_engine(url), w3, contract, documents, **options)

    yield make
    for documents in made:
        with contextlib.suppress(Exception):
            documents.close()


def table_contents(engine: Engine, table: str) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return sorted(tuple(row) for row in conn.execute(text(f"SELECT * FROM {table}")))
