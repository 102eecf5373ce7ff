"""Who could seal which block, read from a chain node: the validator history a trust anchor is written from.

Clique keeps its signer set in snapshots (`clique_getSigners` at a block: the signers that may seal the next
one). The set changes only at a block whose header carries a vote (a non-zero `miner`), so the history is
read by walking the headers once and asking for the signers after each voting block; a
`ValidatorHistory` remembers how far it walked and goes on from there. Which office a validator belongs to
comes from OfficeRegistry's `ValidatorChanged` events. A chain that does not answer `clique_getSigners` (a
single-process development chain) has engine "none" and no validators.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from eth_utils.crypto import keccak
from web3 import Web3
from web3.exceptions import Web3Exception

from registry_node.protocol.chain import CHAIN_DOWN, ChainError, rpc_batch
from registry_node.protocol.consensus.anchor import ConsortiumAnchor, ValidatorTerm
from registry_node.protocol.contract import office_code

BATCH = 200
NO_VOTE = "0x" + "00" * 20
VALIDATOR_CHANGED = "0x" + bytes(keccak(text="ValidatorChanged(bytes2,address)")).hex()


@dataclass
class _Walk:
    scanned: int = -1  # the last block whose snapshot is applied
    current: frozenset[str] = frozenset()
    since: dict[str, int] = field(default_factory=dict)  # current signer -> the first block it could seal
    ended: list[tuple[str, int, int]] = field(default_factory=list)  # (address, from, until)


class ValidatorHistory:
    """The chain's validator history, read incrementally; thread-safe."""

    def __init__(self, w3: Web3, contract_address: str) -> None:
        self.w3 = w3
        self.contract = Web3.to_checksum_address(contract_address)
        self._walk = _Walk()
        self._engine: str | None = None
        self._genesis: bytes | None = None
        self._named: dict[str, str] = {}  # validator address -> the office that named it
        self._named_to = -1  # the last block whose ValidatorChanged events are in _named
        self._lock = threading.Lock()

    def anchor(self) -> ConsortiumAnchor:
        """The trust anchor as of the chain's head; ChainError when the chain cannot be read."""
        try:
            return self._anchor()
        except ChainError:
            raise
        except (*CHAIN_DOWN, Web3Exception, ValueError) as err:
            raise ChainError(f"the chain did not answer: {type(err).__name__}: {err}") from None

    def _anchor(self) -> ConsortiumAnchor:
        with self._lock:
            head = int(self.w3.eth.block_number)
            engine = self._engine_of()
            terms: list[ValidatorTerm] = []
            if engine == "clique":
                self._walk_to(head)
                offices = self._offices(head)
                spans = [*self._walk.ended, *((a, s, None) for a, s in self._walk.since.items())]
                terms = [ValidatorTerm(a, offices.get(a), s, u) for a, s, u in spans]
                terms.sort(key=lambda t: (t.office or "~", t.from_block, t.address))
            return ConsortiumAnchor(
                chain_id=int(self.w3.eth.chain_id),
                genesis_hash=self._genesis_hash(),
                contract=self.contract,
                engine=engine,
                as_of_block=head,
                validators=tuple(terms),
            )

    def _engine_of(self) -> str:
        if self._engine is None:
            (answer,) = rpc_batch(self.w3, [("clique_getSigners", ["0x0"])])
            self._engine = "clique" if isinstance(answer.result, list) and answer.result else "none"
        return self._engine

    def _genesis_hash(self) -> bytes:
        if self._genesis is None:
            self._genesis = bytes(self.w3.eth.get_block(0)["hash"])
        return self._genesis

    def _walk_to(self, head: int) -> None:
        walk = self._walk
        if walk.scanned < 0:
            walk.current = frozenset(self._signers_after(0))
            walk.since = dict.fromkeys(walk.current, 0)
            walk.scanned = 0
        while walk.scanned < head:
            numbers = list(range(walk.scanned + 1, min(head, walk.scanned + BATCH) + 1))
            headers = rpc_batch(self.w3, [("eth_getBlockByNumber", [hex(n), False]) for n in numbers])
            voting = []
            for number, answer in zip(numbers, headers, strict=True):
                if not isinstance(answer.result, dict):
                    raise ChainError(f"block {number} could not be read: {answer.error}")
                if str(answer.result.get("miner", NO_VOTE)).lower() != NO_VOTE:
                    voting.append(number)
            signers = rpc_batch(self.w3, [("clique_getSigners", [hex(n)]) for n in voting])
            for number, answer in zip(voting, signers, strict=True):
                self._apply(number, _addresses(answer.result, number))
            walk.scanned = numbers[-1]

    def _apply(self, number: int, after: set[str]) -> None:
        """The signers after block `number`: they may seal from number + 1."""
        walk = self._walk
        for gone in walk.current - after:
            walk.ended.append((gone, walk.since.pop(gone), number + 1))
        for new in after - walk.current:
            walk.since[new] = number + 1
        walk.current = frozenset(after)

    def _signers_after(self, number: int) -> set[str]:
        (answer,) = rpc_batch(self.w3, [("clique_getSigners", [hex(number)])])
        return _addresses(answer.result, number)

    def _offices(self, head: int) -> dict[str, str]:
        """Each validator address with the office that named it (`ValidatorChanged`), read on from where the
        last reading stopped."""
        if head > self._named_to:
            logs = self.w3.eth.get_logs(
                {
                    "address": self.contract,
                    "fromBlock": self._named_to + 1,
                    "toBlock": head,
                    "topics": [VALIDATOR_CHANGED],
                }
            )
            for log in sorted(logs, key=lambda entry: (int(entry["blockNumber"]), int(entry["logIndex"]))):
                office = office_code(bytes(log["topics"][1])[:2])
                address = "0x" + bytes(log["data"])[12:32].hex()
                if int(address, 16):
                    self._named[address] = office
            self._named_to = head
        return dict(self._named)


def _addresses(result: Any, number: int) -> set[str]:
    if not isinstance(result, list):
        raise ChainError(f"clique_getSigners at block {number} gave no list: {result!r}")
    return {str(a).lower() for a in result}
