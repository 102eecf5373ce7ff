"""The chain's head as one chain node saw it during a run: when each block was first seen, when each reached
the confirmation depth, and every reorganisation, with how many blocks it replaced.

The outboxes say when a node counted a change confirmed; this says what the chain did underneath, the same
way for every backend. A thread asks for the head every POLL_S. A head not seen before is followed back by
its parent hashes to a block already known: the blocks on the way are new, and the known chain above that
common ancestor has been replaced (a reorganisation as deep as the number of blocks replaced). Times are
the run's clock, so they are exact to about one poll.

On a Clique network the node watched is one validator (a node with failover to the others, so a killed
validator does not blind the watch); ganache and hardhat mine a block per transaction and never reorganise.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from web3 import Web3

from registry_node.protocol.chain import CHAIN_DOWN, validator_count
from registry_node.protocol.consensus.finality import majority_depth

POLL_S = 0.2
MAX_WALK_BACK = 512  # a head further than this from anything known restarts the watch from it


@dataclass(frozen=True)
class Reorg:
    at_s: float
    number: int  # the height of the first block replaced
    depth: int  # how many blocks of the chain seen before were replaced

    def to_json(self) -> dict[str, Any]:
        return {"at_s": round(self.at_s, 3), "number": self.number, "depth": self.depth}


@dataclass
class HeadLog:
    """What the watch saw: first-seen times by block hash, the time each block first had `depth` blocks
    (itself included) on top of it in the chain seen, and the reorganisations."""

    depth: int = 1
    first_seen: dict[str, float] = field(default_factory=dict)
    at_depth: dict[str, float] = field(default_factory=dict)
    reorgs: list[Reorg] = field(default_factory=list)
    polls: int = 0
    errors: int = 0


class HeadWatcher:
    """Watches `w3`'s head in a thread from `start()` to `stop()`; `clock` is the run's clock."""

    def __init__(self, w3: Web3, clock: Callable[[], float], poll_s: float = POLL_S) -> None:
        self.w3 = w3
        self.clock = clock
        self.poll_s = poll_s
        self.log = HeadLog()
        self._chain: dict[int, str] = {}  # number -> hash, the chain as last seen
        self._confirmed_to = -1  # every height up to here has reached the depth in the chain seen
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        with contextlib.suppress(*CHAIN_DOWN):
            self.log.depth = majority_depth(validator_count(self.w3))
        self._thread = threading.Thread(target=self._watch, name="heads", daemon=True)
        self._thread.start()

    def stop(self) -> HeadLog:
        """Stops the watch after one last look at the head; returns what it saw."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.poll()
        return self.log

    def _watch(self) -> None:
        while not self._stop.wait(self.poll_s):
            self.poll()

    def poll(self) -> None:
        """One look at the head; a node that does not answer is asked again at the next poll."""
        try:
            self._see(self._block("latest"))
        except (*CHAIN_DOWN, KeyError, TypeError, ValueError):
            self.log.errors += 1
        self.log.polls += 1

    def _block(self, which: str) -> dict[str, Any]:
        by_hash = which.startswith("0x") and len(which) == 66
        method = "eth_getBlockByHash" if by_hash else "eth_getBlockByNumber"
        answer = cast(Any, self.w3.provider).make_request(method, [which, False])
        block = answer.get("result") if isinstance(answer, dict) else None
        if not isinstance(block, dict):
            raise ValueError(f"no block {which}")
        return block

    def _see(self, head: dict[str, Any]) -> None:
        number, block_hash = int(head["number"], 16), str(head["hash"]).lower()
        if self._chain.get(number) == block_hash:
            return
        now = self.clock()
        new = [(number, block_hash)]
        parent, height = str(head["parentHash"]).lower(), number - 1
        while height >= 0 and self._chain and self._chain.get(height) != parent:
            if len(new) >= MAX_WALK_BACK or height < min(self._chain):
                self._chain.clear()  # lost track: start again from this head
                break
            block = self._block(parent)
            new.append((height, parent))
            parent, height = str(block["parentHash"]).lower(), height - 1
        ancestor = height  # the highest block the old and new chains share (or where the watch began)
        replaced = sum(1 for n in self._chain if n > ancestor and (n, self._chain[n]) not in new)
        if replaced:
            self.log.reorgs.append(Reorg(now, ancestor + 1, replaced))
        for n in [n for n in self._chain if n > ancestor]:
            del self._chain[n]
        for n, h in new:
            self._chain[n] = h
            self.log.first_seen.setdefault(h, now)
        self._confirmed_to = min(self._confirmed_to, ancestor) if self._confirmed_to >= 0 else ancestor
        top = number - self.log.depth + 1
        for n in range(max(self._confirmed_to + 1, min(self._chain)), top + 1):
            if n in self._chain:
                self.log.at_depth.setdefault(self._chain[n], now)
        self._confirmed_to = max(self._confirmed_to, top)
