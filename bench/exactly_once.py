"""What the office nodes accepted, and the checks that it reached the chain exactly once and that the
gateway's index equals chain state: the bookkeeping every reliability case shares, whatever chain it runs on
(bench/reliability.py on ganache, bench/validator_faults.py on three geth validators).

A `Writer` is an operator's script: it writes chains of changes (a registration, then alternating ownership
changes and status events) to new rights of one office and records every answer in a `Ledger`. A request
left without an answer (the node was killed, or timed out) is settled by reading the right back once the node
answers again, so the ledger holds exactly what the node accepted. A `Target` is one running consortium with
its ledger: after a case it waits for the outboxes to empty and checks the ledger against chain events and
the gateway's index against chain state.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from web3 import Web3
from web3.contract import Contract

from registry_node.devnet.consortium import LocalConsortium
from registry_node.experiment.checks import check_index
from registry_node.experiment.collect import (
    RIGHT_EVENTS,
    read_chain_rights,
    read_gateway_index,
    wait_gateway_caught_up,
)
from registry_node.node.client import NodeClient, NodeUnreachable, ProblemError
from registry_node.protocol.chain import connect
from registry_node.protocol.contract import load_artifact
from registry_node.protocol.errors import RegistryError
from registry_node.protocol.records import chain_right_id

READ_BACK_S = 180.0  # for a killed node to answer again
CLIENT_TIMEOUT_S = 60.0


class CaseFailed(AssertionError):
    """A case's outcome is not what it must be."""


# ------------------------------------------------------------ what the nodes accepted


@dataclass
class Ledger:
    """Every change a node accepted, as (right id, version) -> the record hash it answered, and the HTTP
    requests and 5xx answers of the whole suite."""

    accepted: dict[tuple[str, int], str] = field(default_factory=dict)
    requests: int = 0
    server_errors: list[str] = field(default_factory=list)
    expected_refusals: int = 0  # the 507/503 answers the disk-full case asks for
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def request(self, n: int = 1) -> None:
        with self._lock:
            self.requests += n

    def accept(self, right_id: str, version: int, record_hash: str) -> None:
        with self._lock:
            self.accepted[(right_id, version)] = record_hash.lower().removeprefix("0x")

    def server_error(self, what: str) -> None:
        with self._lock:
            self.server_errors.append(what)


def new_right(right_id: str, serial: int) -> dict[str, Any]:
    number = right_id.split(":")[2]
    return {
        "rightId": right_id,
        "rightKindCategory": "patent",
        "applicationNumberText": number,
        "filingDate": "2026-01-15",
        "inventionTitle": f"Reliability suite invention {serial}",
        "ownerBag": [{"name": "Aurora Medical AB", "countryCode": "SE"}],
        "legalStatus": {"stateCode": "A", "stageCode": 1, "keyEventCode": "A10"},
    }


def ownership_change(right_id: str, step: int) -> dict[str, Any]:
    owners = ["Aurora Medical AB", "Thames Optics Ltd"]
    return {
        "conveyanceCategory": "assignment",
        "transferCategory": "full",
        "assignorBag": [{"name": owners[step % 2], "executionDate": "2026-02-01"}],
        "assigneeBag": [{"name": owners[(step + 1) % 2], "countryCode": "GB"}],
        "effectiveDate": "2026-02-01",
        "recordalDate": "2026-03-01",
        "rightIdBag": [right_id],
        "evidenceDocumentHash": hashlib.sha256(f"deed {right_id} {step}".encode()).hexdigest(),
    }


def status_event(step: int) -> dict[str, Any]:
    return {
        "standard": "ST.27",
        "status": {"stateCode": "A", "stageCode": 2, "keyEventCode": "D10"},
        "previousStageCode": 1,
        "eventDate": f"2026-04-{1 + step % 28:02d}",
        "effectiveDate": f"2026-04-{1 + step % 28:02d}",
    }


class Offices(Protocol):
    """Where a Writer sends its changes and records what was accepted."""

    ledger: Ledger

    def node_client(self, code: str) -> NodeClient: ...

    def next_serial(self) -> int: ...


class Pacer:
    """At most `rate_per_s` calls a second across threads: each call waits for its slot, one interval after
    the last. A writer that fell behind (its node was down) does not catch up in a burst."""

    def __init__(self, rate_per_s: float) -> None:
        self.interval = 1.0 / rate_per_s
        self._next = time.monotonic()
        self._lock = threading.Lock()

    def wait(self, stop: threading.Event | None) -> None:
        with self._lock:
            now = time.monotonic()
            at = max(self._next, now)
            self._next = at + self.interval
        if at > now:
            if stop is None:
                time.sleep(at - now)
            else:
                stop.wait(at - now)


class Writer:
    """An operator's script writing chains of changes (a registration, then alternating ownership changes and
    status events) to new rights of one office. Every answer is recorded; a request left without an answer
    (the node was killed) is settled by reading the right back once the node answers again."""

    def __init__(self, suite: Offices, office: str, refusals_expected: bool = False) -> None:
        self.suite = suite
        self.office = office
        self.refusals_expected = refusals_expected
        self.accepted = 0
        self.refused: list[ProblemError] = []
        self.unanswered = 0
        self._lock = threading.Lock()
        self._pacer: Pacer | None = None
        self._stop: threading.Event | None = None

    def write(
        self,
        rights: int | None,
        steps: int,
        threads: int,
        stop: threading.Event | None = None,
        rate_per_s: float | None = None,
    ) -> None:
        """`rights` chains of `steps` changes over `threads` clients (until `stop` when rights is None), at
        most `rate_per_s` changes a second when it is given."""
        numbers = iter(range(rights)) if rights is not None else itertools.count()
        lock = threading.Lock()
        self._pacer = Pacer(rate_per_s) if rate_per_s is not None else None
        self._stop = stop

        def work() -> None:
            with self.suite.node_client(self.office) as client:
                while stop is None or not stop.is_set():
                    with lock:
                        if next(numbers, None) is None:
                            return
                    self.chain(client, steps)

        pool = [threading.Thread(target=work, daemon=True) for _ in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()

    def chain(self, client: NodeClient, steps: int) -> None:
        serial = self.suite.next_serial()
        right_id = f"{self.office}:PAT:{self.office}2031{serial:06d}"
        body = new_right(right_id, serial)
        if not self.submit(client, right_id, 1, lambda: client.register(body)):
            return
        for step in range(1, steps):
            version = step + 1
            if step % 2:
                change = ownership_change(right_id, step)
                send = functools.partial(client.record_ownership_change, right_id, step, change)
            else:
                send = functools.partial(client.record_status, right_id, step, status_event(step))
            ok = self.submit(client, right_id, version, send)
            if not ok:
                return

    def submit(self, client: NodeClient, right_id: str, version: int, send: Callable[[], Any]) -> bool:
        ledger = self.suite.ledger
        if self._pacer is not None:
            self._pacer.wait(self._stop)
        while True:
            ledger.request()
            try:
                answer = send()
            except ProblemError as err:
                self._refused(err, right_id, version)
                return False
            except (NodeUnreachable, httpx.HTTPError, RegistryError):
                with self._lock:
                    self.unanswered += 1
                stored = self.read_back(client, right_id, version)
                if stored is None:
                    continue  # the node never stored it: send it again
                ledger.accept(right_id, version, stored)
            else:
                ledger.accept(right_id, version, str(answer["recordHash"]))
            with self._lock:
                self.accepted += 1
            return True

    def _refused(self, err: ProblemError, right_id: str, version: int) -> None:
        with self._lock:
            self.refused.append(err)
        if err.status >= 500:
            if self.refusals_expected and err.status in (503, 507):
                with self.suite.ledger._lock:
                    self.suite.ledger.expected_refusals += 1
            else:
                self.suite.ledger.server_error(f"{self.office} {right_id} v{version}: {err.status} {err}")

    def read_back(self, client: NodeClient, right_id: str, version: int) -> str | None:
        """The record hash of `version` if the node stored it, None if it did not (waits for the node)."""
        deadline = time.monotonic() + READ_BACK_S
        while time.monotonic() < deadline:
            self.suite.ledger.request()
            try:
                shown = client.right(right_id)
            except ProblemError as err:
                if err.status == 404:
                    return None
                if err.status >= 500:
                    self.suite.ledger.server_error(f"{self.office} read {right_id}: {err.status} {err}")
                time.sleep(0.2)
                continue
            except (NodeUnreachable, httpx.HTTPError, RegistryError):
                time.sleep(0.2)
                continue
            if int(shown["version"]) < version:
                return None
            if int(shown["version"]) == version:
                return str(shown["recordHash"])
            raise CaseFailed(f"{right_id}: the node holds version {shown['version']}, beyond {version}")
        raise CaseFailed(f"{self.office}'s node did not answer within {READ_BACK_S:.0f} s")


# ------------------------------------------------------------ a consortium and its checks


class Target:
    """A running consortium the cases write to, with the ledger of what its nodes accepted. Chain events
    from blocks after `baseline_block` that the ledger does not explain are a failure (set it once the
    consortium is up: a seeded history before it is not the suite's)."""

    def __init__(self, consortium: LocalConsortium, ledger: Ledger, settle_s: float) -> None:
        self.consortium = consortium
        self.ledger = ledger
        self.settle_s = settle_s
        self.baseline_block = 0
        self._serials = itertools.count(1)
        self._serial_lock = threading.Lock()

    def node_client(self, code: str) -> NodeClient:
        return self.consortium.offices[code].client(timeout_s=CLIENT_TIMEOUT_S)

    def next_serial(self) -> int:
        with self._serial_lock:
            return next(self._serials)

    def checks(self) -> dict[str, Any]:
        return {"exactly_once": self.check_exactly_once(), "index_equals_chain": self.check_index()}

    def settle(self, offices: list[str]) -> int:
        """Waits until the offices' outboxes are empty; returns how many entries the contract refused."""
        failed = 0
        for code in offices:
            with self.node_client(code) as client:
                client.wait_for_outbox(self.settle_s)
                failed += len(client.outbox("failed", limit=500)["items"])
        return failed

    def w3(self) -> Web3:
        return connect(self.consortium.chain.office_rpc_urls(""))

    def _contract(self, w3: Web3) -> Contract:
        assert self.consortium.deployment is not None
        address = Web3.to_checksum_address(self.consortium.deployment.address)
        return w3.eth.contract(address=address, abi=load_artifact().abi)

    def right_events(self) -> dict[tuple[str, int], list[tuple[str, int]]]:
        """(chain right id, version) -> [(record hash, block)] of every right event on chain."""
        w3 = self.w3()
        contract = self._contract(w3)
        head = int(w3.eth.block_number)
        found: dict[tuple[str, int], list[tuple[str, int]]] = defaultdict(list)
        for name in RIGHT_EVENTS:
            for log in contract.events[name]().get_logs(from_block=0, to_block=head):
                args = log["args"]
                if name == "RightRegistered":
                    version, record_hash = 1, args["state"]["recordHash"]
                else:
                    version, record_hash = int(args["version"]), args["recordHash"]
                key = ("0x" + bytes(args["rightId"]).hex(), version)
                found[key].append((bytes(record_hash).hex(), int(log["blockNumber"])))
        return found

    def check_exactly_once(self) -> dict[str, Any]:
        events = self.right_events()
        accepted = {("0x" + chain_right_id(r).hex(), v): (r, h) for (r, v), h in self.ledger.accepted.items()}
        lost, wrong, unexplained = [], [], []
        duplicated = [f"{key} x{len(found)}" for key, found in events.items() if len(found) > 1]
        for key, (right_id, record_hash) in accepted.items():
            found = events.get(key, [])
            if not found:
                lost.append(f"{right_id} v{key[1]}")
            elif found[0][0] != record_hash:
                wrong.append(f"{right_id} v{key[1]}: chain {found[0][0]}, node answered {record_hash}")
        for key, found in events.items():
            if key not in accepted and any(block > self.baseline_block for _, block in found):
                unexplained.append(f"{key[0]} v{key[1]}")
        problems = lost + duplicated + wrong + unexplained
        return {
            "verdict": "PASS" if not problems else "FAIL",
            "accepted": len(accepted),
            "events": sum(len(f) for f in events.values()),
            "lost": len(lost),
            "duplicated": len(duplicated),
            "wrong_record_hash": len(wrong),
            "unexplained_on_chain": len(unexplained),
            "examples": problems[:10],
        }

    def check_index(self) -> dict[str, Any]:
        w3 = self.w3()
        contract = self._contract(w3)
        head = int(w3.eth.block_number)
        status = wait_gateway_caught_up(self.consortium.gateway_url, head, self.settle_s)
        keys = sorted({key for key, version in self.right_events() if version == 1})
        count, items = read_gateway_index(self.consortium.gateway_url)
        result = check_index(read_chain_rights(contract, keys), count, items)
        result["indexed_block"] = status.get("indexedBlock")
        result["head_block"] = head
        return result
