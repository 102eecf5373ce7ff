"""The reliability suite's cases on a real permissioned network: three go-ethereum Clique validators, one per
office, each office node on its own validator with the others as failover, and the gateway following them.

The network is isolated (each validator in a network namespace of its own), so a partition really cuts a
validator off. While the three offices' operators submit (at most `write_rate` changes a second each):

  validator_killed      KR's validator killed with SIGKILL, restarted after `validator_down_s`: every
                        validator back on one head
  validator_partitioned GB's validator cut off for `partition_s`, then healed: every validator on the same
                        head hash afterwards (GB's own blocks of the partition lose to the longer chain)
  own_validator_down    EP's validator stopped while EP submits: EP's changes land in blocks sealed while it
                        was down, through GB's and KR's validators (the node's failover)
  two_validators_down   GB's and KR's validators stopped for `validator_down_s`: the chain stops (Clique lets
                        EP seal at most one block alone), the nodes keep answering 202, and everything lands
                        once the validators are back

Each case is followed by the suite's checks (bench/exactly_once.py): every accepted change is one chain event
with the record hash the node gave, nothing unexplained on chain, and the gateway's index equals chain state.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.exactly_once import CaseFailed, Ledger, Target, Writer
from registry_node.devnet.consortium import Founder, LocalConsortium
from registry_node.devnet.ganache import free_port
from registry_node.devnet.network import GethNetwork, network_status
from registry_node.protocol.records import chain_right_id

OFFICES = {"EP": "European Patent Office", "GB": "UK Intellectual Property Office",
           "KR": "Korean Intellectual Property Office"}  # fmt: skip
PERIOD_S = 1
CONVERGE_S = 120.0  # for a restarted or healed validator to be on the others' head
Case = Callable[[], dict[str, Any]]
CASES = ("validator_killed", "validator_partitioned", "own_validator_down", "two_validators_down")


@dataclass(frozen=True)
class NetworkProfile:
    validator_down_s: float
    partition_s: float
    write_rate: float  # changes/s at most, per office
    settle_s: float
    cases: tuple[str, ...] = CASES  # which of them run


class ValidatorFaults:
    """The three-validator consortium in `folder` and its cases; `target` holds its ledger and checks."""

    def __init__(
        self, folder: Path, profile: NetworkProfile, say: Callable[[str], None], env: dict[str, str]
    ):
        self.folder = folder
        self.profile = profile
        self.say = say
        password = secrets.token_urlsafe(16)
        self.network = GethNetwork(
            folder / "network", list(OFFICES), password=password, period_s=PERIOD_S, isolate=True
        )
        self.consortium = LocalConsortium(
            folder, self.network, password=password, gateway_port=free_port(), env=env
        )
        self.target = Target(self.consortium, Ledger(), profile.settle_s)
        self.faults: list[dict[str, Any]] = []

    def start(self) -> None:
        self.consortium.create([Founder(code, name, free_port()) for code, name in OFFICES.items()])
        self.consortium.start()

    def stop(self) -> None:
        self.consortium.stop()

    def cases(self) -> list[tuple[str, Case]]:
        """The profile's cases, in the order of CASES."""
        return [(name, getattr(self, name)) for name in CASES if name in self.profile.cases]

    # ------------------------------------------------------------ cases

    def validator_killed(self) -> dict[str, Any]:
        with self._writing(list(OFFICES)) as writers:
            at = time.monotonic()
            self.network.stop_validator("KR", kill=True)
            during = self._accepted_during(writers, self.profile.validator_down_s)
            self.network.start_validator("KR")
            converged_s = self._converge()
            down_s = time.monotonic() - at - converged_s
        self._fault("kill -9 + restart", "validator KR", down_s)
        self._settled(writers, "validator killed")
        return {
            "down_s": round(down_s, 2),
            "same_head_after_restart_s": round(converged_s, 2),
            "changes_accepted": sum(w.accepted for w in writers),
            "accepted_while_down": during,
        }

    def validator_partitioned(self) -> dict[str, Any]:
        with self._writing(list(OFFICES)) as writers:
            at = time.monotonic()
            self.network.partition("GB")
            try:
                unreachable = self._status("GB").error is not None
                during = self._accepted_during(writers, self.profile.partition_s)
            finally:
                self.network.heal("GB")
            cut_s = time.monotonic() - at
            converged_s = self._converge()
        self._fault("partition + heal", "validator GB", cut_s)
        self._settled(writers, "partition")
        if not unreachable:
            raise CaseFailed("partition: GB's validator still answered from the host while cut off")
        return {
            "partition_s": round(cut_s, 2),
            "same_head_hash_after_heal_s": round(converged_s, 2),
            "head": self._heads(),
            "changes_accepted": sum(w.accepted for w in writers),
            "accepted_while_partitioned": during,
        }

    def own_validator_down(self) -> dict[str, Any]:
        ep_rights_before = self._office_rights("EP")
        with self._writing(["EP"]) as writers:
            time.sleep(1)
            self.network.stop_validator("EP")
            first_block = self._head_through("GB") + 1
            at = time.monotonic()
            during = self._accepted_during(writers, self.profile.validator_down_s)
            time.sleep(2 * PERIOD_S + 1)  # the last sends reach a block before EP's validator returns
            last_block = self._head_through("GB")
            down_s = time.monotonic() - at
            self.network.start_validator("EP")
            converged_s = self._converge()
        self._fault("stopped (own validator)", "validator EP while office EP submits", down_s)
        self._settled(writers, "own validator down")
        landed = self._events_in_blocks(self._office_rights("EP") - ep_rights_before, first_block, last_block)
        if landed == 0:
            raise CaseFailed(
                f"own validator down: none of EP's changes landed in blocks {first_block}-{last_block}, "
                "sealed while EP's validator was down (no failover)"
            )
        return {
            "down_s": round(down_s, 2),
            "accepted_while_down": during,
            "landed_while_own_validator_down": landed,
            "blocks_while_down": [first_block, last_block],
            "same_head_after_restart_s": round(converged_s, 2),
            "changes_accepted": sum(w.accepted for w in writers),
        }

    def two_validators_down(self) -> dict[str, Any]:
        with self._writing(list(OFFICES)) as writers:
            self.network.stop_validator("GB")
            self.network.stop_validator("KR")
            at = time.monotonic()
            head_at_stop = self._head_through("EP")
            during = self._accepted_during(writers, self.profile.validator_down_s)
            sealed_alone = self._head_through("EP") - head_at_stop
            down_s = time.monotonic() - at
            self.network.start_validator("GB")
            self.network.start_validator("KR")
            converged_s = self._converge()
        self._fault("two stopped", "validators GB and KR", down_s)
        self._settled(writers, "two validators down")
        if sealed_alone > 1 or during == 0:
            raise CaseFailed(
                f"two validators down: EP sealed {sealed_alone} blocks alone (Clique allows 1), "
                f"{during} changes accepted meanwhile"
            )
        return {
            "down_s": round(down_s, 2),
            "blocks_sealed_by_ep_alone": sealed_alone,
            "accepted_while_chain_stopped": during,
            "same_head_after_restart_s": round(converged_s, 2),
            "changes_accepted": sum(w.accepted for w in writers),
        }

    # ------------------------------------------------------------ helpers

    @contextmanager
    def _writing(self, offices: list[str]) -> Iterator[list[Writer]]:
        """The offices' operators writing chains of two changes (two clients each) until the block ends."""
        writers = [Writer(self.target, code) for code in offices]
        stop = threading.Event()
        threads = [
            threading.Thread(target=w.write, args=(None, 2, 2, stop, self.profile.write_rate), daemon=True)
            for w in writers
        ]
        for thread in threads:
            thread.start()
        try:
            time.sleep(2)
            yield writers
            time.sleep(2)
        finally:
            stop.set()
            for thread in threads:
                thread.join()

    def _accepted_during(self, writers: list[Writer], seconds: float) -> int:
        before = sum(w.accepted for w in writers)
        time.sleep(seconds)
        return sum(w.accepted for w in writers) - before

    def _settled(self, writers: list[Writer], what: str) -> None:
        failed = self.target.settle(list(OFFICES))
        refused = [str(e) for w in writers for e in w.refused]
        if refused or failed:
            raise CaseFailed(f"{what}: refused {refused[:3]}, {failed} failed in the outboxes")

    def _fault(self, kind: str, target: str, down_s: float) -> None:
        self.faults.append({"kind": kind, "target": target, "down_s": round(down_s, 2)})

    def _status(self, code: str) -> Any:
        return next(s for s in network_status(self.network) if s.office == code)

    def _head_through(self, code: str) -> int:
        head = self._status(code).head_number
        if head is None:
            raise CaseFailed(f"validator {code} does not answer")
        return int(head)

    def _heads(self) -> dict[str, Any]:
        return {
            s.office: {"number": s.head_number, "hash": s.head_hash} for s in network_status(self.network)
        }

    def _converge(self) -> float:
        """Seconds until every validator reports the same head number and hash (asked together)."""
        clock = time.monotonic()
        while time.monotonic() - clock < CONVERGE_S:
            statuses = network_status(self.network)
            if (
                all(s.head_hash for s in statuses)
                and len({(s.head_number, s.head_hash) for s in statuses}) == 1
            ):
                return time.monotonic() - clock
            time.sleep(0.2)
        raise CaseFailed(f"the validators are not on one head within {CONVERGE_S:.0f} s: {self._heads()}")

    def _office_rights(self, code: str) -> set[tuple[str, int]]:
        return {key for key in self.target.ledger.accepted if key[0].startswith(f"{code}:")}

    def _events_in_blocks(self, keys: set[tuple[str, int]], first: int, last: int) -> int:
        events = self.target.right_events()
        chain_keys = {("0x" + chain_right_id(right).hex(), version) for right, version in keys}
        return sum(1 for key in chain_keys for _, block in events.get(key, []) if first <= block <= last)
