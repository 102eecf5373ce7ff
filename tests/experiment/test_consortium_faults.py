"""What the one fault injector breaks (`ConsortiumFaults`), on a real local consortium: an office node killed
with SIGKILL, the chain stopped, the gateway killed, an office node's disk full. Each part comes back, and
nothing it accepted is lost. The experiment runner and bench/reliability.py break things through these."""

from __future__ import annotations

import itertools
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import requests
from web3 import Web3
from web3.contract import Contract

from registry_node.devnet.chains import GanacheChain
from registry_node.devnet.consortium import Founder, LocalConsortium
from registry_node.devnet.ganache import free_port
from registry_node.experiment.collect import wait_gateway_caught_up
from registry_node.experiment.faults import ConsortiumFaults, FullDisk
from registry_node.node.client import NodeClient, NodeUnreachable, ProblemError
from registry_node.protocol.chain import connect
from registry_node.protocol.contract import load_artifact
from registry_node.protocol.records import chain_right_id
from tests.support.keys import FAST_SCRYPT_N
from tests.support.records import patent_right

OUTBOX_S = 120.0
SERIALS = itertools.count(1)


@dataclass
class Broken:
    consortium: LocalConsortium
    faults: ConsortiumFaults
    disk: FullDisk
    contract: Contract

    def client(self, code: str) -> NodeClient:
        return self.consortium.offices[code].client()

    def version_on_chain(self, right_id: str) -> int:
        return int(self.contract.functions.rightOf(chain_right_id(right_id)).call()[0])


def new_right(code: str) -> dict[str, Any]:
    return patent_right(f"{code}:PAT:{code}2026{next(SERIALS):07d}")


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broken]:
    """EP and KR with the gateway; KR's data dir is the small disk of the disk-full case."""
    folder = tmp_path_factory.mktemp("consortium")
    consortium = LocalConsortium(
        folder, GanacheChain(folder / "chain"), gateway_port=free_port(), key_scrypt_n=FAST_SCRYPT_N
    )
    disk = FullDisk(folder / "nodes" / "KR")
    disk.prepare()
    try:
        deployment = consortium.create(
            [Founder("EP", "European Patent Office", free_port()), Founder("KR", "KIPO", free_port())]
        )
        consortium.start()
        w3 = connect(consortium.chain.rpc_url)
        address = Web3.to_checksum_address(deployment.address)
        yield Broken(
            consortium,
            ConsortiumFaults(consortium),
            disk,
            w3.eth.contract(address=address, abi=load_artifact().abi),
        )
    finally:
        consortium.stop()
        disk.release()


def test_a_node_killed_with_sigkill_starts_again_with_what_it_accepted(broken: Broken) -> None:
    before = new_right("EP")
    with broken.client("EP") as ep:
        accepted = ep.register(before)
        ep.wait_for_outbox(OUTBOX_S)
    killed = broken.consortium.nodes["EP"].process
    with broken.faults.node_killed("EP"):
        assert killed.returncode == -signal.SIGKILL  # no clean shutdown
        with broken.client("EP") as ep, pytest.raises(NodeUnreachable):
            ep.right(before["rightId"])
    assert broken.consortium.nodes["EP"].process.pid != killed.pid
    after = new_right("EP")
    with broken.client("EP") as ep:
        assert ep.right(before["rightId"])["recordHash"] == accepted["recordHash"]
        ep.register(after)
        ep.wait_for_outbox(OUTBOX_S)
    assert broken.version_on_chain(before["rightId"]) == broken.version_on_chain(after["rightId"]) == 1


def test_a_stopped_chain_resumes_with_its_blocks_and_the_nodes_accept_meanwhile(broken: Broken) -> None:
    w3 = broken.contract.w3
    head = int(w3.eth.block_number)
    right = new_right("EP")
    with broken.faults.chain_stopped(), broken.client("EP") as ep:
        with pytest.raises(requests.ConnectionError):
            w3.eth.block_number  # noqa: B018 - the chain is down
        accepted = ep.register(right)
        assert accepted["outboxId"] and accepted["recordHash"]
    with broken.client("EP") as ep:
        ep.wait_for_outbox(OUTBOX_S)
    assert int(w3.eth.block_number) > head
    assert broken.version_on_chain(right["rightId"]) == 1


def test_a_killed_gateway_starts_again_on_its_index(broken: Broken) -> None:
    head = int(broken.contract.w3.eth.block_number)
    url = broken.consortium.gateway_url
    assert int(wait_gateway_caught_up(url, head, OUTBOX_S).get("indexedBlock") or 0) >= head
    gateway = broken.consortium.gateway
    assert gateway is not None
    with broken.faults.gateway_stopped(kill=True):
        assert gateway.process.returncode == -signal.SIGKILL
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{url}/v1/status", timeout=5)
    status = httpx.get(f"{url}/v1/status", timeout=30).json()
    assert int(status["indexedBlock"]) >= head  # its index survived the kill
    assert (
        broken.consortium.gateway is not None and broken.consortium.gateway.process.pid != gateway.process.pid
    )


def test_a_full_disk_refuses_changes_naming_the_store_and_takes_them_once_there_is_room(
    broken: Broken,
) -> None:
    with broken.client("KR") as kr:
        kept = new_right("KR")
        kr.register(kept)
        refused: list[ProblemError] = []
        with broken.faults.disk_full("KR", broken.disk):
            for _ in range(500):  # a WAL may have room for a few pages yet
                try:
                    kr.register(new_right("KR"))
                except ProblemError as err:
                    refused.append(err)
                    break
        assert refused, f"nothing refused on a full disk ({broken.disk.method})"
        assert refused[0].status in (503, 507) and [f for f, _ in refused[0].field_errors] == ["store"]
        assert "not accepted" in str(refused[0])
        again = new_right("KR")
        kr.register(again)  # room again: no restart needed
        kr.wait_for_outbox(OUTBOX_S)
        assert kr.outbox("failed")["items"] == []
    assert broken.version_on_chain(kept["rightId"]) == broken.version_on_chain(again["rightId"]) == 1
