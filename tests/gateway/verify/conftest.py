"""One scripted world for the verification tests: a real ganache chain, three offices writing real signed
records through their Office + Store + OutboxWorker, each office's real node API served by uvicorn on a
loopback port registered on chain as its endpoint.

EP serves its records as they are; GB's node sits behind `Tamper`, an ASGI wrapper a test switches into a
hostile mode (altered document, swapped signature, slow, huge, redirect); KR is suspended at the end of the
script, and its server can be stopped for a test (`world.kr_server.stopped()`).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from web3 import Web3
from web3.contract import Contract

from gateway.deep_links import OfficeDocuments
from gateway.endpoint_policy import EndpointPolicy
from gateway.verify.chain_reads import ChainReader
from gateway.verify.signer import GatewaySigner
from gateway.verify.verifier import Verifier
from registry_node.node.api.app import create_app
from registry_node.node.office import Office
from registry_node.node.onchain import ContractChainView
from registry_node.node.outbox import OutboxWorker
from registry_node.node.settings import NodeSettings, token_digest
from registry_node.node.store import Store
from registry_node.node.transactor import Transactor
from registry_node.protocol.contract import load_artifact
from registry_node.protocol.keys import OfficeSigningKey
from registry_node.protocol.merkle import MerkleTree
from registry_node.protocol.records import (
    OwnershipChange,
    Right,
    RightRecord,
    canonical_bytes,
)
from registry_node.protocol.signing import sign_document
from tests.support import records
from tests.support.chain import OFFICES, GanacheFactory, deploy_fresh, free_port
from tests.support.records import LAPSE, granted_patent
from tests.support.served import OfficeNode, ServedApp

EVIDENCE = b"deed of assignment, signed 2026-02-01"


def make_right(office: str, number: str, **changes: Any) -> Right:
    return granted_patent(f"{office}:PAT:{number}", **changes)


def assignment(right_id: str) -> OwnershipChange:
    """An assignment whose evidence is the deed these tests upload."""
    return records.assignment(right_id, evidence=hashlib.sha256(EVIDENCE).hexdigest())


class Tamper:
    """ASGI wrapper around a real node app; `mode` makes it hostile: alter, swap-signature, slow, huge,
    redirect. `None` passes every request through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.mode: str | None = None
        self.other_signature: dict[str, Any] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        mode = self.mode
        if scope["type"] != "http" or mode is None:
            await self.app(scope, receive, send)
            return
        if mode == "redirect":
            await send(
                {
                    "type": "http.response.start",
                    "status": 302,
                    "headers": [(b"location", b"http://127.0.0.1:9/elsewhere"), (b"content-length", b"0")],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        if mode == "slow":
            while self.mode == "slow":  # no answer at all until the test is done with this mode
                await asyncio.sleep(0.05)
        if mode == "huge":
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            chunk = b" " * 65536
            for _ in range(400):  # 26 MB unless the client hangs up first
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"{}"})
            return
        messages: list[Message] = []

        async def capture(message: Message) -> None:
            messages.append(message)

        await self.app(scope, receive, capture)
        start = messages[0]
        body = b"".join(m.get("body", b"") for m in messages[1:])
        if start["status"] == 200:
            data = json.loads(body)
            if mode == "alter":
                canonical = bytearray(base64.b64decode(data["canonical"]))
                canonical[canonical.index(b"Heat")] = ord("M")  # "Meat exchanger": one byte changed
                data["canonical"] = base64.b64encode(bytes(canonical)).decode()
            elif mode == "swap-signature":
                data["signature"] = self.other_signature
            body = json.dumps(data).encode()
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})


@dataclass
class World:
    w3: Web3
    contract: Contract
    rpc_url: str
    nodes: dict[str, OfficeNode]
    verifier: Verifier
    reader: ChainReader
    signer: GatewaySigner
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def gb(self) -> Tamper:
        tamper = self.nodes["GB"].tamper
        assert tamper is not None
        return tamper

    @contextmanager
    def hostile(self, mode: str) -> Iterator[None]:
        self.gb.mode = mode
        try:
            yield
        finally:
            self.gb.mode = None

    def document(self, code: str, right_id: str, version: int) -> dict[str, Any]:
        """A published version as the office's node serves it (the node's own deep link JSON)."""
        import httpx

        url = f"{self.nodes[code].server.url}/v1/documents/{right_id}/{version}"
        answer = httpx.get(url, timeout=5)
        assert answer.status_code == 200, answer.text
        data: dict[str, Any] = answer.json()
        return data


def _node(tmp: Path, fresh: Any, code: str, abi: list[dict[str, Any]], hostile: bool) -> OfficeNode:
    store = Store(tmp / f"{code}.sqlite")
    key = OfficeSigningKey.generate()
    office = Office(code, store, key)
    account = fresh.offices[code]
    worker = OutboxWorker(store, fresh.w3, fresh.contract, account)
    transactor = Transactor(fresh.w3, account, abi)
    transactor.send(
        fresh.contract.functions.addSigningKey(key.key_id, key.algorithm.chain_value, key.public_key_bytes)
    )
    settings = NodeSettings(
        office_code=code,
        office_name=OFFICES[code][0],
        data_dir=tmp / code,
        operator_token_sha256=token_digest("operator-token"),
    )
    app: ASGIApp = create_app(settings, office, store, ContractChainView(fresh.contract))
    tamper = Tamper(app) if hostile else None
    server = ServedApp(tamper or app, free_port()).start()
    transactor.send(fresh.contract.functions.setEndpoint(server.url))
    return OfficeNode(code, office, store, worker, transactor, key, server, tamper)


def _script(world: World, abi: list[dict[str, Any]]) -> None:
    """The history every test reads; facts name what each test needs."""
    ep, gb, kr = world.nodes["EP"], world.nodes["GB"], world.nodes["KR"]
    facts = world.facts

    # EP: a right through three versions, a confidential one, an anchored batch.
    rid = "EP:PAT:EP1000001"
    ep.office.register(make_right("EP", "EP1000001"))
    ep.worker.drain()
    ep.office.record_ownership_change(rid, 1, assignment(rid))
    ep.worker.drain()
    ep.office.record_status(rid, 2, LAPSE)
    ep.worker.drain()
    facts["three_versions"] = rid
    ep.office.register(make_right("EP", "EP1000002"), confidential=True)
    ep.worker.drain()
    facts["confidential"] = "EP:PAT:EP1000002"

    anchored = []
    for number in ("EP1000010", "EP1000011"):
        record = RightRecord(version=1, right=make_right("EP", number), changeKind="registration")
        canonical = canonical_bytes(record)
        anchored.append((canonical, sign_document(canonical, ep.key, "EP")))
    tree = MerkleTree.from_record_hashes([hashlib.sha256(c).digest() for c, _ in anchored])
    ep.transactor.send(
        world.contract.functions.anchor(tree.root, len(anchored), hashlib.sha256(b"manifest").digest())
    )
    facts["anchored"] = [
        {"canonical": c, "signature": s, "root": tree.root, "proof": tree.proof(hashlib.sha256(c).digest())}
        for c, s in anchored
    ]

    # EP revokes its key, then (wrongly) keeps signing with it.
    revoked = ep.transactor.send(world.contract.functions.revokeSigningKey(ep.key.key_id))
    facts["revoked_at"] = int(revoked["blockNumber"])
    ep.office.register(make_right("EP", "EP1000003"))
    ep.worker.drain()
    facts["signed_after_revocation"] = "EP:PAT:EP1000003"
    rotated = OfficeSigningKey.generate()
    ep.transactor.send(
        world.contract.functions.addSigningKey(
            rotated.key_id, rotated.algorithm.chain_value, rotated.public_key_bytes
        )
    )
    ep.office.signing_key = ep.key = rotated

    # GB: two rights; the second one's signature is the one a hostile GB swaps in.
    gb.office.register(make_right("GB", "GB2000001"))
    gb.office.register(make_right("GB", "GB2000002", inventionTitle="Heat pump"))
    gb.worker.drain()
    facts["gb"] = "GB:PAT:GB2000001"
    gb_tamper = gb.tamper
    assert gb_tamper is not None
    gb_tamper.other_signature = world.document("GB", "GB:PAT:GB2000002", 1)["signature"]

    # KR: a right, then KR is suspended by the other two offices.
    kr.office.register(make_right("KR", "KR3000001"))
    kr.worker.drain()
    facts["kr"] = "KR:PAT:KR3000001"
    gb.transactor.send(world.contract.functions.proposeSuspension(b"KR"))
    proposal = int(world.contract.functions.proposalCount().call())
    ep.transactor.send(world.contract.functions.approve(proposal))
    assert int(world.contract.functions.office(b"KR").call()[1]) == 2, "KR should be suspended"


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("verify-world")
    factory = GanacheFactory(tmp)
    nodes: dict[str, OfficeNode] = {}
    try:
        fresh = deploy_fresh(factory)
        abi = load_artifact().abi
        for code in OFFICES:
            nodes[code] = _node(tmp, fresh, code, abi, hostile=(code == "GB"))
        reader = ChainReader(fresh.w3, fresh.contract)
        loopback_offices = EndpointPolicy(allow_private=True)
        documents = OfficeDocuments(timeout_s=1.0, max_bytes=256 * 1024, policy=loopback_offices)
        verifier = Verifier(reader, documents, confirmations=0)
        world = World(
            fresh.w3, fresh.contract, fresh.chain.rpc_url, nodes, verifier, reader, GatewaySigner.ephemeral()
        )
        _script(world, abi)
        yield world
    finally:
        for node in nodes.values():
            node.server.stop()
        factory.stop_all()
