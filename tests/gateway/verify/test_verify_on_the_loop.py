"""Gathering on the event loop: a light upload's evidence is gathered there only from what is cached for
the stated block (`Gatherer.cached`), gets the verdict a worker thread would give, and a new block is read
afresh."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from conftest import World, assignment, make_right  # type: ignore[import-not-found]  # this folder's conftest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from gateway.api.routes import verification
from gateway.verify.chain_reads import ChainReader, NotCached
from gateway.verify.judge import judge
from gateway.verify.uploads import is_light
from gateway.verify.verifier import Verifier
from registry_node.protocol.records import chain_right_id

UPLOAD_LIMIT = 64 * 1024


class Head:
    """The head the gateway's indexer last saw, moved by the test as an indexer pass would move it."""

    def __init__(self, number: int) -> None:
        self.number = number

    def __call__(self) -> int:
        return self.number


def served(world: World, right_id: str, version: int) -> bytes:
    return json.dumps(world.document("EP", right_id, version)).encode()


def passed(body: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c["result"] for c in body["checks"]}


def test_a_cached_view_of_the_reader_answers_only_what_its_cache_holds(world: World) -> None:
    reader = ChainReader(world.w3, world.contract)  # a reader of its own, so its cache starts empty
    block = world.w3.eth.block_number
    right = chain_right_id(world.facts["three_versions"])
    with pytest.raises(NotCached, match="a chain call is not cached"):
        reader.cached().right_of(right, block)
    with pytest.raises(NotCached, match="a chain read is not cached"):
        reader.cached().head()
    entry = reader.right_of(right, block)
    assert reader.cached().right_of(right, block) == entry
    assert entry.version == 3


def test_a_cold_gathering_needs_the_chain_and_a_warm_one_gives_the_threads_verdict(world: World) -> None:
    # A reader of its own, so its cache starts empty.
    verifier = Verifier(
        ChainReader(world.w3, world.contract),
        world.verifier.documents,
        known_head=Head(world.w3.eth.block_number),
    )
    upload = served(world, world.facts["three_versions"], 3)
    with pytest.raises(NotCached):
        verifier.gatherer.cached().upload(upload)
    in_thread = verifier.verify_document(upload)
    on_loop = judge(verifier.gatherer.cached().upload(upload))
    assert on_loop.to_json() == in_thread.to_json()
    assert on_loop.verdict == "authentic-current"


def test_a_deep_link_is_never_fetched_from_the_cache(world: World) -> None:
    """A bare record needs its signature from its office: that fetch is I/O even when every chain read is
    cached, so it is left to a worker thread."""
    verifier = Verifier(
        world.reader, world.verifier.documents, confirmations=0, known_head=Head(world.w3.eth.block_number)
    )
    record = json.dumps(world.document("EP", world.facts["three_versions"], 3)["record"]).encode()
    assert verifier.verify_document(record).verdict == "authentic-current"  # its chain reads now cached
    with pytest.raises(NotCached, match="a deep-link fetch is not cached"):
        verifier.gatherer.cached().upload(record)


def test_light_uploads_are_small_json_only() -> None:
    assert is_light(b'  {"canonical": "", "signature": {}}')
    assert not is_light(b"<pat:PatentPublication/>")
    assert not is_light(b"{}", content_type="application/xml")
    assert not is_light(b"{}", filename="record.XML")
    assert not is_light(b"plain file")
    assert not is_light(b"{" + b" " * (64 * 1024))


@pytest.fixture()
def loop_client(world: World, monkeypatch: pytest.MonkeyPatch) -> tuple[TestClient, Head, list[str]]:
    """The verification route over a verifier whose head moves only when the test says so, counting the
    gatherings handed to a worker thread."""
    head = Head(world.w3.eth.block_number)
    verifier = Verifier(world.reader, world.verifier.documents, confirmations=0, known_head=head)
    threaded: list[str] = []
    real = verification.run_outbound

    async def counted(request: Any, function: Callable[..., Any], *args: Any) -> Any:
        threaded.append(function.__name__)
        return await real(request, function, *args)

    monkeypatch.setattr(verification, "run_outbound", counted)
    app = FastAPI()
    app.state.services = SimpleNamespace(
        settings=SimpleNamespace(max_upload_bytes=UPLOAD_LIMIT), verifier=verifier, signer=world.signer
    )
    app.include_router(verification.router)
    return TestClient(app), head, threaded


def test_a_new_block_with_a_changed_right_gives_the_new_verdict_not_a_cached_one(
    world: World, loop_client: tuple[TestClient, Head, list[str]]
) -> None:
    client, head, threaded = loop_client
    ep = world.nodes["EP"]
    right_id = "EP:PAT:EP1000090"
    ep.office.register(make_right("EP", "EP1000090"))
    ep.worker.drain()
    head.number = world.w3.eth.block_number
    first = served(world, right_id, 1)

    cold = client.post("/v1/verifications", content=first).json()
    assert cold["verdict"] == "authentic-current" and threaded == ["upload"]
    warm = client.post("/v1/verifications", content=first).json()
    assert threaded == ["upload"], "an upload gathered from the block's cache stays on the loop"
    assert warm["verdict"] == "authentic-current" and warm["block"] == cold["block"]
    assert all(
        passed(warm)[name] == "pass" for name in ("chain-state", "record-hash", "signature", "key-validity")
    )

    ep.office.record_ownership_change(right_id, 1, assignment(right_id))
    ep.worker.drain()
    same_block = client.post("/v1/verifications", content=first).json()
    assert same_block["verdict"] == "authentic-current", "state at the stated block has not changed"

    head.number = world.w3.eth.block_number  # the indexer saw the new block
    superseded = client.post("/v1/verifications", content=first).json()
    assert superseded["verdict"] == "authentic-superseded", superseded
    assert superseded["block"]["number"] == head.number and superseded["currentVersion"] == 2
    assert threaded == ["upload"] * 2, "the new block's state was read from the chain"
    current = client.post("/v1/verifications", content=served(world, right_id, 2)).json()
    assert current["verdict"] == "authentic-current" and current["version"] == 2


def test_a_right_registered_after_the_indexers_last_head_is_judged_at_the_chains_own_head(
    world: World,
) -> None:
    """An auditor who asks right after an office recorded a right must not hear that it does not exist:
    the indexer's head may be a poll behind the chain."""
    head = Head(world.w3.eth.block_number)  # the indexer has not seen what follows
    verifier = Verifier(world.reader, world.verifier.documents, confirmations=0, known_head=head)
    ep = world.nodes["EP"]
    ep.office.register(make_right("EP", "EP1000091"))
    ep.worker.drain()

    verdict = verifier.verify_right("EP:PAT:EP1000091")

    assert verdict.verdict == "authentic-current", verdict.to_json()
    assert verdict.block.number == world.w3.eth.block_number > head.number


def test_a_record_of_a_change_newer_than_the_indexers_head_is_not_called_tampered(world: World) -> None:
    ep = world.nodes["EP"]
    right_id = "EP:PAT:EP1000092"
    ep.office.register(make_right("EP", "EP1000092"))
    ep.worker.drain()
    head = Head(world.w3.eth.block_number)
    verifier = Verifier(world.reader, world.verifier.documents, confirmations=0, known_head=head)
    ep.office.record_ownership_change(right_id, 1, assignment(right_id))
    ep.worker.drain()

    verdict = verifier.verify_document(served(world, right_id, 2))

    assert verdict.verdict == "authentic-current", verdict.to_json()
    assert verdict.version == 2 and verdict.block.number > head.number
    # a record the chain held at the indexer's head is judged there, with no second look at the chain
    assert verifier.verify_document(served(world, right_id, 1)).block.number == head.number
