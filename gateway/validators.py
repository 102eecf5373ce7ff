"""What the gateway can tell an auditor about the validators that seal the chain it follows.

From the registry: each office's validator address and standing (OfficeRegistry). From the chain: Clique's
signers, and whose seal each of the latest blocks carries (`clique_getSigner`). From each chain node the
gateway is configured with: its head, its peers and the validator it seals as (`eth_coinbase`). Read live,
at most every CACHE_S, with short timeouts: a validator that is down shows as such and slows nothing.
On a chain that is not Clique (a single-process development chain) there are no validators to show.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from web3 import Web3
from web3.contract import Contract

from registry_node.protocol.chain import CHAIN_DOWN, RpcAnswer, rpc_batch, web3_for
from registry_node.protocol.consensus.finality import majority_depth
from registry_node.protocol.contract import OfficeView

RECENT_BLOCKS = 32
CACHE_S = 2.0
NODE_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class NodeSeen:
    head_number: int | None
    head_hash: str | None
    peers: int | None


@dataclass(frozen=True)
class ValidatorSeen:
    office: str
    office_status: str
    address: str | None
    signer: bool  # among Clique's signers at the head
    sealed: list[int] = field(default_factory=list)  # which of the latest blocks it sealed
    node: NodeSeen | None = None  # from a chain node the gateway follows that seals as this validator


@dataclass(frozen=True)
class NetworkSeen:
    engine: str  # "clique", or "none" for a chain without validators
    head_number: int | None
    signers: list[str]
    final_depth: int  # blocks, the block itself included, that a majority of validators seal
    recent_blocks: int
    validators: list[ValidatorSeen]
    read_at: float


class ValidatorsView:
    """The network as the gateway sees it, read again at most every CACHE_S."""

    def __init__(self, contract: Contract, w3: Web3, node_urls: Sequence[str]) -> None:
        self.contract = contract
        self.w3 = w3
        self.nodes = [web3_for(url, NODE_TIMEOUT_S) for url in node_urls]
        self._lock = threading.Lock()
        self._seen: NetworkSeen | None = None

    def read(self) -> NetworkSeen:
        with self._lock:
            if self._seen is None or time.time() - self._seen.read_at >= CACHE_S:
                self._seen = self._read()
            return self._seen

    def _read(self) -> NetworkSeen:
        head = int(self.w3.eth.block_number)
        signers_answer = _answer(self.w3, "clique_getSigners", ["latest"])
        offices = self._offices()
        if not isinstance(signers_answer, list):
            return NetworkSeen("none", head, [], 1, 0, [], time.time())
        signers = [str(s).lower() for s in signers_answer]
        first = max(1, head - RECENT_BLOCKS + 1)
        sealers = rpc_batch(self.w3, [("clique_getSigner", [hex(n)]) for n in range(first, head + 1)])
        sealed_by: dict[str, list[int]] = {}
        for number, answer in zip(range(first, head + 1), sealers, strict=True):
            if isinstance(answer.result, str):
                sealed_by.setdefault(answer.result.lower(), []).append(number)
        nodes = self._nodes()
        validators = [
            ValidatorSeen(
                office=code,
                office_status=status,
                address=address,
                signer=address is not None and address in signers,
                sealed=sealed_by.get(address or "", []),
                node=nodes.get(address or ""),
            )
            for code, status, address in offices
        ]
        return NetworkSeen(
            "clique", head, signers, majority_depth(len(signers)), head - first + 1, validators, time.time()
        )

    def _offices(self) -> list[tuple[str, str, str | None]]:
        views = [OfficeView.from_call(self.contract.functions.office(code).call())
                 for code in self.contract.functions.officeCodes().call()]  # fmt: skip
        return [(v.code, v.status, v.validator.lower() if v.validator else None) for v in views]

    def _nodes(self) -> dict[str, NodeSeen]:
        """Each configured chain node, by the validator it seals as."""
        seen: dict[str, NodeSeen] = {}
        for node in self.nodes:
            try:
                head, peers, coinbase = rpc_batch(
                    node,
                    [
                        ("eth_getBlockByNumber", ["latest", False]),
                        ("net_peerCount", []),
                        ("eth_coinbase", []),
                    ],
                )
            except CHAIN_DOWN:
                continue
            if isinstance(coinbase.result, str) and isinstance(head.result, dict):
                seen[coinbase.result.lower()] = NodeSeen(
                    int(head.result["number"], 16), str(head.result["hash"]), _int(peers)
                )
        return seen


def _answer(w3: Web3, method: str, params: list[Any]) -> Any:
    (answer,) = rpc_batch(w3, [(method, params)])
    return None if answer.error else answer.result


def _int(answer: RpcAnswer) -> int | None:
    return int(answer.result, 16) if isinstance(answer.result, str) else None
