"""The indexer against real chains: signed records written by office nodes, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from web3 import Web3

from gateway.read_model import db
from gateway.read_model.indexer import Indexer
from gateway.read_model.queries import Index, RightFilter
from registry_node.protocol.records import (
    Right,
    chain_right_id,
)
from tests.gateway.conftest import DATABASES, Registry, table_contents
from tests.support.records import EVIDENCE, LAPSE, assignment, granted_patent

MakeIndexer = Callable[..., Indexer]
# Sealing addresses: no key is needed, they only have to be distinct.
KR_VALIDATOR = Web3.to_checksum_address("0x" + "4b" * 20)
ORPHANED_VALIDATOR = Web3.to_checksum_address("0x" + "6f" * 20)
_numbers = iter(range(10_000_000, 99_999_999))


def patent(office: str = "EP", title: str = "Heat exchanger") -> Right:
    number = f"{office}{next(_numbers)}"
    return granted_patent(f"{office}:PAT:{number}", inventionTitle=title)


def cid(right_id: str) -> str:
    return "0x" + chain_right_id(right_id).hex()


def life(registry: Registry, office: str = "EP", assignee: str = "Nordic Heat AB") -> str:
    """A right registered, transferred and lapsed by `office`'s node; returns its id."""
    node = registry.nodes[office]
    right = patent(office)
    node.office.register(right)
    node.office.record_ownership_change(right.rightId, 1, assignment(right.rightId, assignee))
    node.office.record_status(right.rightId, 2, LAPSE)
    node.worker.drain()
    return right.rightId


def index_contents(indexer: Indexer) -> dict[str, Any]:
    """The chain's facts, and the content learned for them. Content learned for a record a reorganisation
    removed stays (it is keyed by hash, and still true), so only what the events reach is compared."""
    contents = {t.name: table_contents(indexer.engine, t.name) for t in db.INDEX_TABLES}
    hashes = {row[8] for row in contents["events"]}
    rights = {row[2] for row in contents["events"]}
    learned = [c for c in db.records.columns if c.name != "fetched_at"]  # when, not what, is learned
    with indexer.engine.connect() as conn:
        records = sorted(tuple(row) for row in conn.execute(select(*learned)))
    contents["records"] = [row for row in records if row[0] in hashes]
    contents["right_ids"] = [row for row in table_contents(indexer.engine, "right_ids") if row[0] in rights]
    return contents


@pytest.mark.parametrize("database_url", DATABASES, indirect=True)
def test_a_right_s_life_is_indexed_and_enriched_from_the_office_s_deep_link(
    registry: Registry, database_url: str, make_indexer: MakeIndexer
) -> None:
    rid = life(registry)
    indexer = make_indexer(registry, database_url)
    assert indexer.run_once() > 0
    assert indexer.enrich_once() >= 3
    index = Index(indexer.engine)

    right = index.right(cid(rid))
    assert right is not None
    assert right["rightId"] == rid  # learned from the record, checked against the chain id
    assert (right["officeCode"], right["kind"], right["version"], right["statusCode"]) == (
        "EP",
        "patent",
        3,
        "N6H13",
    )
    assert right["owners"] == [{"name": "Nordic Heat AB", "countryCode": "SE"}]
    assert right["title"] == "Heat exchanger"
    stored = registry.nodes["EP"].store.latest(rid)
    assert stored is not None and right["recordHash"] == stored.record_hash.hex()

    history = index.history(cid(rid))
    assert [h["action"] for h in history] == ["registration", "ownershipChange", "legalStatusEvent"]
    assert history[1]["conveyance"]["conveyanceCategory"] == "assignment"
    assert history[1]["conveyance"]["evidenceHash"] == EVIDENCE
    assert history[2]["statusEvent"]["detailedEventCode"] == "EPIDOSNLAPS"
    assert all(h["transactionHash"].startswith("0x") and h["blockHash"].startswith("0x") for h in history)

    roles = {k["role"] for k in index.document(EVIDENCE)}
    assert roles == {"evidence"}
    assert [k["version"] for k in index.document(right["recordHash"])] == [3]

    offices = {o["officeCode"]: o for o in index.offices()}
    assert set(offices) == {"EP", "GB", "KR"}
    assert [k["keyId"] for k in offices["EP"]["keys"]] == ["0x" + registry.nodes["EP"].key.key_id.hex()]
    assert offices["EP"]["endpoint"] == registry.nodes["EP"].server.url

    status = indexer.status()
    assert status.indexed_block == registry.w3.eth.block_number  # confirmations 0
    assert status.lag == 0 and status.chain_id == registry.w3.eth.chain_id


@pytest.mark.parametrize("database_url", DATABASES, indirect=True)
def test_an_office_s_validator_is_indexed_from_its_event_and_served_with_the_office(
    registry: Registry, database_url: str, make_indexer: MakeIndexer
) -> None:
    indexer = make_indexer(registry, database_url)
    index = Index(indexer.engine)
    first, second = Web3.to_checksum_address("0x" + "e1" * 20), Web3.to_checksum_address("0x" + "e2" * 20)

    registry.transactors["EP"].send(registry.contract.functions.setValidator(first))
    indexer.run_once()
    assert index.office("EP")["validator"] == first  # type: ignore[index]
    registry.transactors["EP"].send(registry.contract.functions.setValidator(second))
    indexer.run_once()
    assert index.office("EP")["validator"] == second  # type: ignore[index]
    assert {o["officeCode"]: o["validator"] for o in index.offices()}["GB"] is None  # never named one


@pytest.mark.parametrize("database_url", DATABASES, indirect=True)
def test_a_restarted_indexer_resumes_from_its_last_block(
    registry: Registry, database_url: str, make_indexer: MakeIndexer
) -> None:
    first = life(registry)
    indexer = make_indexer(registry, database_url)
    indexer.run_once()
    reached = indexer.status().indexed_block
    second = life(registry, "GB")
    restarted = make_indexer(registry, database_url)  # a new process on the same read model
    assert restarted.run_once() == registry.w3.eth.block_number - reached
    index = Index(restarted.engine)
    assert index.right(cid(first)) is not None and index.right(cid(second)) is not None
    assert len(index.history(cid(first))) == 3  # nothing indexed twice
    assert restarted.run_once() == 0


@pytest.mark.parametrize("database_url", DATABASES, indirect=True)
def test_the_head_seen_in_memory_is_the_one_the_read_model_records(
    registry: Registry, database_url: str, make_indexer: MakeIndexer
) -> None:
    indexer = make_indexer(registry, database_url)
    assert indexer.head_seen is None  # nothing seen by this process yet: the gateway asks the read model
    indexer.run_once()
    registry.rpc("evm_mine")
    assert indexer.head_seen == registry.w3.eth.block_number - 1 == indexer.status().head_block
    indexer.run_once()
    assert indexer.head_seen == registry.w3.eth.block_number == indexer.status().head_block


@pytest.mark.parametrize("database_url", DATABASES, indirect=True)
def test_confirmation_depth_holds_back_the_newest_blocks(
    registry: Registry, database_url: str, make_indexer: MakeIndexer
) -> None:
    indexer = make_indexer(registry, database_url, confirmations=3)
    indexer.run_once()
    rid = life(registry)  # three blocks
    head = registry.w3.eth.block_number
    indexer.run_once()
    assert indexer.status().indexed_block == head - 3
    assert indexer.status().lag == 3
    index = Index(indexer.engine)
    assert index.right(cid(rid)) is None or index.right(cid(rid))["version"] < 3  # type: ignore[index]
    for _ in range(3):
        registry.rpc("evm_mine")
    indexer.run_once()
    right = index.right(cid(rid))
    assert right is not None and right["version"] == 3


@pytest.mark.parametrize("database_url", DATABASES, indirect=True)
def test_a_reorganisation_is_rolled_back_and_the_index_equals_a_rebuild(
    own_registry: Registry, database_url: str, make_indexer: MakeIndexer, request: pytest.FixtureRequest
) -> None:
    registry = own_registry
    kept = life(registry)
    snapshot = registry.rpc("evm_snapshot")
    orphaned = life(registry, assignee="Orphaned Owner AB")
    registry.transactors["GB"].send(registry.contract.functions.setValidator(ORPHANED_VALIDATOR))
    indexer = make_indexer(registry, database_url)
    indexer.run_once()
    indexer.enrich_once()
    index = Index(indexer.engine)
    assert index.right(cid(orphaned)) is not None
    orphan_block = indexer.status().indexed_block

    registry.rpc("evm_revert", snapshot)
    for node in registry.nodes.values():  # the nodes' outboxes saw blocks that are gone: start afresh
        node.worker._next_nonce = None
    registry.rpc("evm_mine")
    registry.rpc("evm_mine")
    registry.transactors["KR"].send(registry.contract.functions.setEndpoint("https://kr.example/v2"))
    registry.transactors["KR"].send(registry.contract.functions.setValidator(KR_VALIDATOR))
    for _ in range(orphan_block - registry.w3.eth.block_number + 1):
        registry.rpc("evm_mine")  # the new branch is longer than the old one
    assert registry.w3.eth.block_number > orphan_block

    indexer.run_once()
    assert index.right(cid(orphaned)) is None
    assert index.history(cid(orphaned)) == []
    assert index.right(cid(kept)) is not None
    assert index.office("KR")["endpoint"] == "https://kr.example/v2"  # type: ignore[index]
    assert index.office("KR")["validator"] == KR_VALIDATOR  # type: ignore[index]
    assert index.office("GB")["validator"] is None  # type: ignore[index]
    assert index.document(EVIDENCE) and all(k["chainRightId"] == cid(kept) for k in index.document(EVIDENCE))

    rebuilt = make_indexer(registry, _sibling_url(database_url, request))
    rebuilt.run_once()
    rebuilt.enrich_once()
    indexer.enrich_once()
    assert index_contents(rebuilt) == index_contents(indexer)


def _sibling_url(url: str, request: pytest.FixtureRequest) -> str:
    """Another empty database of the same kind as `url`."""
    if url.startswith("sqlite"):
        return url.replace("gateway.sqlite", "rebuilt.sqlite")
    return request.getfixturevalue("postgres").create_database()  # type: ignore[no-any-return]


@pytest.mark.parametrize("database_url", DATABASES, indirect=True)
def test_the_indexer_survives_the_chain_being_unreachable_and_catches_up(
    own_registry: Registry, database_url: str, make_indexer: MakeIndexer
) -> None:
    registry = own_registry
    first = life(registry)
    indexer = make_indexer(registry, database_url, poll_interval_s=0.05, backoff_max_s=0.2)
    stop = threading.Event()
    thread = threading.Thread(target=indexer.run, args=(stop,))
    thread.start()
    try:
        index = Index(indexer.engine)
        _wait(lambda: index.right(cid(first)) is not None)
        _wait(lambda: (index.right(cid(first)) or {}).get("owners") is not None)
        registry.chain.stop()
        _wait(lambda: indexer.status().last_error is not None)
        assert index.right(cid(first)) is not None  # the read model keeps answering
        registry.chain.start()
        second = life(registry, "GB")
        _wait(lambda: index.right(cid(second)) is not None)
        _wait(lambda: indexer.status().last_error is None and indexer.status().lag == 0)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_enrichment_retries_an_unreachable_office_later(
    registry: Registry, database_url: str, make_indexer: MakeIndexer
) -> None:
    rid = life(registry, "GB")
    indexer = make_indexer(registry, database_url)
    indexer.run_once()
    server = registry.nodes["GB"].server
    server.stop()
    try:
        for _ in range(4):  # one GB item tried a pass; the office is skipped for the rest of it
            indexer.enrich_once()
        right = Index(indexer.engine).right(cid(rid))
        assert right is not None and right["owners"] is None and right["rightId"] is None
        errors = {row[9] for row in table_contents(indexer.engine, "fetch_queue") if row[2] == "GB"}
        assert any(e and "could not connect" in e for e in errors)
    finally:
        server.start()
    indexer.enrich_once(now=time.time() + 3600)
    right = Index(indexer.engine).right(cid(rid))
    assert right is not None and right["rightId"] == rid and right["owners"] is not None


def test_state_at_a_date_follows_the_scripted_history(
    registry: Registry, make_indexer: MakeIndexer, tmp_path: Any
) -> None:
    ep = registry.nodes["EP"]
    right = patent()
    rid = right.rightId
    days: list[dt.date] = []

    def block_day() -> dt.date:
        stamp = registry.w3.eth.get_block("latest")["timestamp"]
        return dt.datetime.fromtimestamp(stamp, dt.UTC).date()

    registry.rpc("evm_increaseTime", 3 * 86_400)
    ep.office.register(right)
    ep.worker.drain()
    days.append(block_day())
    registry.rpc("evm_increaseTime", 3 * 86_400)
    ep.office.record_ownership_change(rid, 1, assignment(rid))
    ep.worker.drain()
    days.append(block_day())
    registry.rpc("evm_increaseTime", 3 * 86_400)
    ep.office.record_status(rid, 2, LAPSE)
    ep.worker.drain()
    days.append(block_day())

    indexer = make_indexer(registry, f"sqlite:///{tmp_path / 'dated.sqlite'}")
    indexer.run_once()
    indexer.enrich_once()
    index = Index(indexer.engine)
    one_day = dt.timedelta(days=1)
    assert index.state_at(cid(rid), days[0] - one_day) is None
    on_registration = index.state_at(cid(rid), days[0])
    assert on_registration is not None and on_registration["version"] == 1
    assert on_registration["owners"] == [{"name": "Acme Thermal GmbH", "countryCode": "DE"}]
    assert index.state_at(cid(rid), days[1] - one_day)["version"] == 1  # type: ignore[index]
    after_transfer = index.state_at(cid(rid), days[1] + one_day)
    assert after_transfer is not None and after_transfer["version"] == 2
    assert after_transfer["owners"] == [{"name": "Nordic Heat AB", "countryCode": "SE"}]
    assert after_transfer["statusCode"] == "A4F10"
    lapsed = index.state_at(cid(rid), days[2])
    assert lapsed is not None and (lapsed["version"], lapsed["statusCode"]) == (3, "N6H13")
    assert lapsed["asOf"] == f"{days[2].isoformat()}T23:59:59Z"
    assert index.rights(RightFilter(status="N6"), 100).count >= 1


def _wait(condition: Callable[[], bool], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("condition not reached in time")
        time.sleep(0.05)
