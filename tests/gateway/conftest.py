"""Fixtures for the gateway's tests: a real PostgreSQL 15 server in a temporary directory, real ganache
chains with a consortium whose offices serve their deep links from real node apps, and the gateway's
read model on either database.

PostgreSQL comes from Debian's packages (`make setup` installs them); a machine without `initdb` fails
these tests rather than skipping them, so the PostgreSQL code path is never silently untested.
"""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from web3 import Web3
from web3.contract import Contract

from gateway.api.app import create_app
from gateway.deep_links import OfficeDocuments
from gateway.endpoint_policy import EndpointPolicy
from gateway.read_model.db import engine_for, migrate, open_database
from gateway.read_model.indexer import Indexer
from gateway.read_model.queries import Index
from gateway.services import Services
from gateway.settings import GatewaySettings
from gateway.validators import ValidatorsView
from gateway.verify.chain_reads import ChainReader
from gateway.verify.verifier import Verifier
from registry_node.devnet.postgres import LocalPostgres
from registry_node.node.api.app import create_app as create_node_app
from registry_node.node.consortium import ConsortiumConfig, FoundingOffice, deploy_consortium
from registry_node.node.international import record_decision
from registry_node.node.office import Office
from registry_node.node.onchain import ContractChainView
from registry_node.node.outbox import OutboxWorker
from registry_node.node.settings import NodeSettings, token_digest
from registry_node.node.store import Store
from registry_node.node.transactor import Transactor
from registry_node.protocol.chain import connect
from registry_node.protocol.contract import load_artifact
from registry_node.protocol.keys import OfficeSigningKey
from registry_node.protocol.records import Designation, DesignationDecision, Right
from tests.support.chain import OFFICES, VOTING_PERIOD_DAYS, GanacheFactory, free_port
from tests.support.records import granted_patent
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


def start_registry(
    base: Path,
    start: GanacheFactory,
    serving: tuple[str, ...] = ("EP", "GB"),
    offices: Mapping[str, tuple[str, str]] = OFFICES,
    wrap: Callable[[str, ASGIApp], ASGIApp] | None = None,
) -> Registry:
    """A consortium of `offices` (code: name, endpoint) on a chain started by `start`; the offices in
    `serving` run nodes whose deep links are served for real (each app through `wrap(code, app)` when given,
    where a test makes an office hostile)."""
    deployer: LocalAccount = Account.create()
    accounts: dict[str, LocalAccount] = {code: Account.create() for code in offices}
    ports = {code: free_port() for code in offices}
    chain = start(["0x" + a.key.hex() for a in (deployer, *accounts.values())])
    w3 = connect(chain.rpc_url)
    abi = load_artifact().abi
    config = ConsortiumConfig(
        [
            FoundingOffice(code, offices[code][0], acct.address, f"http://127.0.0.1:{ports[code]}")
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
            office_name=offices[code][0],
            data_dir=base,
            operator_token_sha256=token_digest("t"),
            contract_address=deployment.address,
            listen_port=ports[code],
        )
        app: ASGIApp = create_node_app(settings, office, store, ContractChainView(contract))
        server = ServedApp(wrap(code, app) if wrap is not None else app, ports[code]).start()
        worker = OutboxWorker(store, w3, contract, accounts[code])
        nodes[code] = OfficeNode(code, office, store, worker, transactors[code], key, server)
    return Registry(w3, contract, accounts, transactors, nodes, chain.rpc_url, chain)


@contextlib.contextmanager
def running_registry(
    base: Path,
    serving: tuple[str, ...] = ("EP", "GB"),
    offices: Mapping[str, tuple[str, str]] = OFFICES,
    wrap: Callable[[str, ASGIApp], ASGIApp] | None = None,
) -> Iterator[Registry]:
    """A registry on its own chain under `base` (deep links of the offices in `serving`);
    its deep-link servers and chain stop on leaving."""
    factory = GanacheFactory(base)
    registry = None
    try:
        registry = start_registry(base, factory, serving, offices, wrap)
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


# ------------------------------------------------------------ rights across offices (issue 15)

INTERNATIONAL_OFFICES = {
    **OFFICES,
    "WO": ("WIPO International Bureau", "https://wo.example/registry"),
    "EM": ("European Union Intellectual Property Office", "https://em.example/registry"),
}
"""The founding offices of a consortium with WIPO's International Bureau; EM runs no node (it is designated
and decides nothing)."""

IR = "WO:TM:1234567"
"""The Madrid registration the international world designates GB, KR and EM on."""


def decision(
    category: str,
    date: str,
    status: tuple[str, int, str | None],
    classes: list[str] | None = None,
    scope: str | None = None,
    previous_stage: int = 0,
) -> DesignationDecision:
    """A designated office's decision on a Madrid designation (ST.61); `classes` makes it partial (a final
    decision here confirms the refusal, for those classes)."""
    state, stage, key_event = status
    return DesignationDecision.model_validate(
        {
            "decisionCategory": category,
            "scopeCategory": "partial" if classes else scope,
            "protectionCategory": "refused" if category == "finalDecision" else None,
            "classificationBag": classes,
            "decisionDate": date,
            "standard": "ST.61",
            "status": {"stateCode": state, "stageCode": stage, "keyEventCode": key_event},
            "previousStageCode": previous_stage,
        }
    )


class AlteredDecisions:
    """ASGI wrapper of an office's node: while `active`, every signed document it serves has one character of
    its canonical bytes changed (the year of its decision date), its signature left as it was."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.active = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.active:
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []

        async def capture(message: Message) -> None:
            messages.append(message)

        await self.app(scope, receive, capture)
        start, body = messages[0], b"".join(m.get("body", b"") for m in messages[1:])
        if start["status"] == 200:
            data = json.loads(body)
            canonical = base64.b64decode(data["canonical"]).replace(
                b'"decisionDate":"2024', b'"decisionDate":"2023'
            )
            data["canonical"] = base64.b64encode(canonical).decode()
            body = json.dumps(data).encode()
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def index_to_the_head(indexer: Indexer) -> None:
    """The indexer's events to the chain's head, then every record it found enriched."""
    indexer.run_once()
    while indexer.enrich_once():
        pass


@dataclass
class InternationalWorld:
    """WO's Madrid registration designating GB (protected), KR (refused in part for class 09, then a final
    decision) and EM (no decision yet); patents linked by priority claims across EP, GB and KR; the gateway's
    index of it all and its API."""

    registry: Registry
    altered: dict[str, AlteredDecisions]
    indexer: Indexer
    client: TestClient
    documents: OfficeDocuments
    facts: dict[str, Any]

    def catch_up(self) -> None:
        self.registry.drain()
        index_to_the_head(self.indexer)

    def decide(self, designation: str, expected: int, made: DesignationDecision) -> None:
        office = designation.rsplit("@", 1)[1]
        node = self.registry.nodes[office]
        record_decision(node.office, ContractChainView(self.registry.contract), designation, expected, made)
        node.worker.drain()


GEOGRAPHICAL_INDICATION = Right.model_validate(
    {
        "rightId": "KR:GI:GI0000001",
        "rightKindCategory": "geographicalIndication",
        "applicationNumberText": "GI0000001",
        "giNameText": "Boseong Green Tea",
        "productText": "Green tea",
        "geographicRegionDescriptionText": "Boseong County, South Jeolla Province",
        "ownerBag": [{"name": "Boseong Green Tea Producers' Association", "countryCode": "KR"}],
        "legalStatus": {"stateCode": "A", "stageCode": 4, "keyEventCode": "F10"},
    }
)
"""A geographical indication KR registers in the international world."""


def _international_script(registry: Registry) -> dict[str, Any]:
    wo, gb, kr, ep = (registry.nodes[code] for code in ("WO", "GB", "KR", "EP"))
    mark = Right.model_validate(
        {
            "rightId": IR,
            "rightKindCategory": "trademark",
            "applicationNumberText": "1234567",
            "registrationNumberText": "1234567",
            "registrationDate": "2024-01-15",
            # published in WIPO's gazette: by the gazette's identifier, with no publication number
            "publicationBag": [
                {
                    "gazetteIdentifier": "WIPO Gazette of International Marks 2024/04",
                    "publicationDate": "2024-01-25",
                }
            ],
            "markVerbalElementText": "AURORA",
            "classificationBag": ["09", "25"],
            "ownerBag": [{"name": "Aurora Brands SA", "countryCode": "CH"}],
            "legalStatus": {"stateCode": "A", "stageCode": 4, "keyEventCode": "F10"},
        }
    )
    wo.office.register(mark)
    designations = [
        Designation(designatedOfficeCode="GB", designationDate="2024-01-15"),
        Designation(designatedOfficeCode="KR", designationDate="2024-01-15"),
        Designation(
            designatedOfficeCode="EM", designationCategory="subsequent", designationDate="2024-03-01"
        ),
    ]
    for version, designation in enumerate(designations, start=1):
        wo.office.designate(IR, version, designation)
    wo.worker.drain()
    view = ContractChainView(registry.contract)
    protected = decision("grantOfProtection", "2024-05-02", ("A", 4, "F10"))
    refused = decision("provisionalRefusal", "2024-06-10", ("A", 2, "D10"), ["09"])
    final = decision("finalDecision", "2024-09-02", ("A", 4, "F10"), ["09"], previous_stage=2)
    for designated, version, made in (("GB", 0, protected), ("KR", 0, refused), ("KR", 1, final)):
        node = registry.nodes[designated]
        record_decision(node.office, view, f"{IR}@{designated}", version, made)
        node.worker.drain()

    # A GB patent, an EP patent claiming its priority by right id, a KR one claiming it by number only, and an
    # EP patent claiming a US application that is not in the registry.
    gb.office.register(granted_patent("GB:PAT:GB2000001", filingDate="2019-03-01"))
    gb.worker.drain()
    priority = {"relationCategory": "priorityClaim", "ipOfficeCode": "GB",
                "applicationNumberText": "GB2000001", "filingDate": "2019-03-01"}  # fmt: skip
    ep.office.register(
        granted_patent("EP:PAT:EP3000001", familyLinkBag=[{**priority, "rightId": "GB:PAT:GB2000001"}])
    )
    kr.office.register(granted_patent("KR:PAT:KR4000001", familyLinkBag=[priority]))
    us = {"relationCategory": "priorityClaim", "ipOfficeCode": "US", "applicationNumberText": "16/123,456"}
    ep.office.register(granted_patent("EP:PAT:EP3000002", familyLinkBag=[us]))
    kr.office.register(GEOGRAPHICAL_INDICATION)
    registry.drain()
    return {"ir": IR, "gb_priority": "GB:PAT:GB2000001", "ep": "EP:PAT:EP3000001", "kr": "KR:PAT:KR4000001",
            "ep_us": "EP:PAT:EP3000002", "gi": GEOGRAPHICAL_INDICATION.rightId}  # fmt: skip


@pytest.fixture(scope="module")
def international(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InternationalWorld]:
    """The international world, on its own chain, indexed into SQLite and served by the gateway's API."""
    base = tmp_path_factory.mktemp("international")
    altered: dict[str, AlteredDecisions] = {}

    def wrap(code: str, app: ASGIApp) -> ASGIApp:
        altered[code] = AlteredDecisions(app)
        return altered[code]

    with running_registry(base, ("WO", "EP", "GB", "KR"), INTERNATIONAL_OFFICES, wrap) as registry:
        facts = _international_script(registry)
        settings = GatewaySettings(
            data_dir=base,
            rpc_url=registry.rpc_url,
            contract_address=registry.contract.address,
            confirmations=0,
        )
        engine = open_database(settings.database_url)
        w3 = Web3(Web3.HTTPProvider(registry.rpc_url))
        contract = w3.eth.contract(address=registry.contract.address, abi=load_artifact().abi)
        documents = OfficeDocuments(timeout_s=2, policy=EndpointPolicy(allow_private=True))
        indexer = Indexer(engine, w3, contract, documents, confirmations=0)
        verifier = Verifier(ChainReader(w3, contract), documents, confirmations=0)
        validators = ValidatorsView(contract, w3, [registry.rpc_url])
        services = Services(settings, engine, w3, contract, Index(engine), verifier, validators)
        world = InternationalWorld(
            registry, altered, indexer, TestClient(create_app(services)), documents, facts
        )
        world.catch_up()
        try:
            yield world
        finally:
            documents.close()
