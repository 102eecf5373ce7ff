"""The reliability suite: load, faults and a full disk against a real consortium, with nothing lost.

A demo consortium (registry_node.devnet.demo on the one LocalConsortium: a ganache with a data dir, the EP,
GB and KR office node processes, the gateway process, a seeded history) is brought up in a temporary folder,
then the cases run in turn, breaking it through the experiments' fault injector
(registry_node.experiment.faults):

  load_gateway     200 requests/s for `load_s` of mixed queries (rights, history, state at a date, offices,
                   pages) and verifications (GET /v1/rights/{id}/verification, POST /v1/verifications of the
                   offices' authentic signed documents), open loop: no error, every verdict authentic-current
  burst_node       `burst_changes` changes to EP's node as fast as 16 clients send them: all confirmed once
  kill_node        EP's node killed with SIGKILL at `kills` random moments of a running workload, restarted
  chain_outage     the chain stopped for `chain_down_s` while the three offices submit, then resumed

The running workloads of kill_node and chain_outage are operators' scripts sending at most `write_rate`
changes a second per office: the offered load is the profile's, not however fast the nodes answer (when a
kept-alive request waited 44 ms for a delayed ACK, that wait was the only limit, and it hid one).
  gateway_restart  the gateway killed (SIGKILL) and restarted in the middle of a verification load
  disk_full        KR's data dir full (a small tmpfs when this machine can mount one, else its node's file
                   size limit lowered): new changes refused with a problem+json naming the store (507 or
                   503), none it had accepted lost, writes again once there is room

After every case: exactly once against chain state (every change a node accepted, 202 or read back after
an unanswered request, is one chain event of its (right, version) with the record hash the node gave;
nothing on chain that no accepted change explains) and the gateway's index equals chain state (every page
of GET /v1/rights against rightOf on chain for every right).

The gateway's per-client rate limit is set to GATEWAY_RATE_LIMIT_PER_S, five times the offered load, so a
429 here is an error like any other. Writes bench/results/reliability.json (or --out); exits 1 if a case
fails. `--quick` is the bounded run `make test` makes; the default is `make soak`.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(ROOT)  # run as a script: bench/gateway.py would otherwise shadow the `gateway` package

import argparse  # noqa: E402
import asyncio  # noqa: E402
import contextlib  # noqa: E402
import functools  # noqa: E402
import hashlib  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from collections import Counter, defaultdict  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from typing import Any  # noqa: E402

import aiohttp  # noqa: E402
import httpx  # noqa: E402
from web3 import Web3  # noqa: E402
from web3.contract import Contract  # noqa: E402

from registry_node.devnet.demo import GANACHE, Demo, DemoPorts  # noqa: E402
from registry_node.experiment.checks import check_index  # noqa: E402
from registry_node.experiment.collect import (  # noqa: E402
    RIGHT_EVENTS,
    read_chain_rights,
    read_gateway_index,
    wait_gateway_caught_up,
)
from registry_node.experiment.faults import ConsortiumFaults, FullDisk  # noqa: E402
from registry_node.experiment.metrics import machine, percentile  # noqa: E402
from registry_node.node.client import NodeClient, NodeUnreachable, ProblemError, right_path  # noqa: E402
from registry_node.protocol.chain import connect  # noqa: E402
from registry_node.protocol.contract import load_artifact  # noqa: E402
from registry_node.protocol.errors import RegistryError  # noqa: E402
from registry_node.protocol.records import chain_right_id  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "reliability.json"
GATEWAY_RATE_LIMIT_PER_S = 1000.0  # five times the offered 200 requests/s (bursts of twice as many)
DISK_OFFICE = "KR"  # its data dir is the small filesystem of the disk-full case
DISK_SIZE = "64m"
READ_BACK_S = 180.0  # for a killed node to answer again
CLIENT_TIMEOUT_S = 60.0
Say = Callable[[str], None]


@dataclass(frozen=True)
class Profile:
    name: str
    load_s: float
    load_rate: float
    burst_changes: int
    kills: int
    chain_down_s: float
    settle_s: float  # for the outboxes to empty after a case
    write_rate: float  # changes/s at most, per office, in the running workloads of kill_node and chain_outage


QUICK = Profile(
    "quick", load_s=10, load_rate=200, burst_changes=150, kills=3, chain_down_s=5, settle_s=60, write_rate=20
)
SOAK = Profile(
    "soak", load_s=600, load_rate=200, burst_changes=1000, kills=10, chain_down_s=30, settle_s=300,
    write_rate=20,
)  # fmt: skip


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

    def __init__(self, suite: Suite, office: str, refusals_expected: bool = False) -> None:
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


# ------------------------------------------------------------ offered load on the gateway


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: bytes | None = None
    verdict: str | None = None  # the verdict the answer must carry


@dataclass
class LoadResult:
    offered: int = 0
    answered: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    unanswered: list[str] = field(default_factory=list)
    wrong_verdicts: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    by_kind: Counter[str] = field(default_factory=Counter)
    latencies_by_kind: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    duration_s: float = 0.0

    @property
    def errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 400) + len(self.wrong_verdicts)

    def figures(self) -> dict[str, Any]:
        return {
            "requests": self.offered,
            "answered": self.answered,
            "achieved_per_s": round(self.answered / self.duration_s, 1) if self.duration_s else 0.0,
            "errors": self.errors,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "unanswered": len(self.unanswered),
            "wrong_verdicts": len(self.wrong_verdicts),
            "p50_ms": _ms(self.latencies_ms, 0.50),
            "p99_ms": _ms(self.latencies_ms, 0.99),
            "max_ms": round(max(self.latencies_ms), 1) if self.latencies_ms else None,
            "mix": dict(self.by_kind),
            "p99_ms_by_kind": {k: _ms(v, 0.99) for k, v in sorted(self.latencies_by_kind.items())},
            "examples": (self.unanswered + self.wrong_verdicts)[:5],
        }


def _ms(latencies_ms: list[float], share: float) -> float | None:
    """The percentile in milliseconds to 0.1, None when nothing was answered."""
    return round(percentile(latencies_ms, share), 1) if latencies_ms else None


async def _offer(
    url: str, rate: float, duration_s: float, pick: Callable[[], tuple[str, Call]]
) -> LoadResult:
    """Open loop: request i leaves at i/rate seconds whatever the answers before it, so a slow gateway
    shows as latency (and, past the client timeout, as unanswered requests) instead of a lower rate."""
    result = LoadResult()
    timeout = aiohttp.ClientTimeout(total=CLIENT_TIMEOUT_S)
    connector = aiohttp.TCPConnector(limit=512)
    async with aiohttp.ClientSession(url, connector=connector, timeout=timeout) as session:

        async def one(kind: str, call: Call) -> None:
            started = time.perf_counter()
            try:
                async with session.request(call.method, call.path, data=call.body) as answer:
                    data = await answer.read()
                    status = answer.status
            except (aiohttp.ClientError, TimeoutError) as err:
                result.unanswered.append(f"{kind} {call.path}: {type(err).__name__} {err}"[:200])
                return
            result.latencies_ms.append((time.perf_counter() - started) * 1000)
            result.latencies_by_kind[kind].append(result.latencies_ms[-1])
            result.answered += 1
            result.statuses[status] += 1
            if status == 200 and call.verdict is not None:
                verdict = json.loads(data).get("verdict")
                if verdict != call.verdict:
                    result.wrong_verdicts.append(f"{kind} {call.path}: {verdict}, not {call.verdict}")

        tasks = []
        clock = time.monotonic()
        for i in range(int(rate * duration_s)):
            delay = clock + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            kind, call = pick()
            result.offered += 1
            result.by_kind[kind] += 1
            tasks.append(asyncio.create_task(one(kind, call)))
        await asyncio.gather(*tasks)
        result.duration_s = time.monotonic() - clock
    return result


# ------------------------------------------------------------ the suite


class Suite:
    def __init__(self, profile: Profile, work_dir: Path, seed: int, say: Say) -> None:
        self.profile = profile
        self.work_dir = work_dir
        self.say = say
        self.rng = random.Random(seed)
        self.ledger = Ledger()
        self.cases: dict[str, dict[str, Any]] = {}
        self.faults: list[dict[str, Any]] = []
        self._serials = itertools.count(1)
        self._serial_lock = threading.Lock()
        self.disk = FullDisk(work_dir / "demo" / "nodes" / DISK_OFFICE, DISK_SIZE)
        env = {
            "IPREG_GATEWAY_RATE_LIMIT_PER_S": str(GATEWAY_RATE_LIMIT_PER_S),
            "IPREG_GATEWAY_POLL_INTERVAL_S": "0.2",
        }
        self.demo = Demo(work_dir / "demo", DemoPorts.free(GANACHE), say, env=env)
        self.breaker = ConsortiumFaults(self.demo.consortium)
        self.pool: list[str] = []  # published rights the load verifies
        self.uploads: list[tuple[str, bytes]] = []  # their signed documents, as the deep links serve them
        self.environment: dict[str, Any] = {}

    def node_client(self, code: str) -> NodeClient:
        return self.demo.consortium.offices[code].client(timeout_s=CLIENT_TIMEOUT_S)

    def next_serial(self) -> int:
        with self._serial_lock:
            return next(self._serials)

    # ------------------------------------------------------------ running

    def run(self) -> dict[str, Any]:
        started = datetime.now(UTC)
        clock = time.monotonic()
        cases: list[tuple[str, Callable[[], dict[str, Any]]]] = [
            ("load_gateway", self.load_gateway),
            ("burst_node", self.burst_node),
            ("kill_node", self.kill_node),
            ("chain_outage", self.chain_outage),
            ("gateway_restart", self.gateway_restart),
            ("disk_full", self.disk_full),
        ]
        setup_s = 0.0
        try:
            self.disk.prepare()  # before the consortium creates the node in it
            self.say(f"starting the consortium in {self.work_dir}")
            try:
                self.demo.start(threading.Event())
                self._baseline_block = int(self._w3().eth.block_number)
                self._load_pool()
            except Exception as err:
                traceback.print_exc()
                self.cases["setup"] = {
                    "passed": False,
                    "failures": [f"{type(err).__name__}: {err}"],
                    "checks": {},
                }
                cases = []
            setup_s = time.monotonic() - clock
            for name, case in cases:
                self._run_case(name, case)
        finally:
            self.demo.stop()
            self.disk.release()
        return self._results(started, time.monotonic() - clock, setup_s)

    def _run_case(self, name: str, case: Callable[[], dict[str, Any]]) -> None:
        self.say(f"case {name}")
        clock = time.monotonic()
        figures: dict[str, Any] = {}
        failures: list[str] = []
        try:
            figures = case()
        except CaseFailed as err:
            failures.append(str(err))
        except Exception as err:  # a broken case is reported, and the next one still runs
            failures.append(f"{type(err).__name__}: {err}")
            traceback.print_exc()
        figures["duration_s"] = round(time.monotonic() - clock, 1)
        try:
            checks: dict[str, Any] = {
                "exactly_once": self.check_exactly_once(),
                "index_equals_chain": self.check_index(),
            }
        except Exception as err:
            checks = {"error": f"{type(err).__name__}: {err}"}
            failures.append(f"checks could not run: {err}")
        for check_name, check in checks.items():
            if isinstance(check, dict) and check.get("verdict") != "PASS":
                failures.append(f"{check_name}: {check.get('examples') or check}")
        self.cases[name] = {"passed": not failures, "failures": failures, **figures, "checks": checks}
        mark = "passed" if not failures else "FAILED: " + "; ".join(failures)[:500]
        self.say(f"  {name} {mark} ({figures['duration_s']} s)")

    # ------------------------------------------------------------ cases

    def load_gateway(self) -> dict[str, Any]:
        rate, duration = self.profile.load_rate, self.profile.load_s
        result = asyncio.run(_offer(self.demo.gateway_url, rate, duration, self._mixed_call))
        self.ledger.request(result.offered)
        figures = result.figures()
        self._count_server_errors("gateway load", result)
        self.say(f"  {figures['answered']}/{figures['requests']} answered, p99 {figures['p99_ms']} ms")
        if result.errors or result.unanswered:
            raise CaseFailed(f"gateway load: {figures['errors']} errors, {figures['unanswered']} unanswered, "
                             f"statuses {figures['statuses']}, e.g. {figures['examples']}")  # fmt: skip
        return {"offered_per_s": rate, "gateway_rate_limit_per_s": GATEWAY_RATE_LIMIT_PER_S, **figures}

    def burst_node(self) -> dict[str, Any]:
        steps = 3 if self.profile.burst_changes <= 300 else 4
        rights = self.profile.burst_changes // steps
        writer = Writer(self, "EP")
        clock = time.monotonic()
        writer.write(rights, steps, threads=16)
        accepted_s = time.monotonic() - clock
        failed = self.settle(["EP"])
        confirmed_s = time.monotonic() - clock
        if writer.accepted != rights * steps or writer.refused or failed:
            raise CaseFailed(
                f"burst: {writer.accepted} of {rights * steps} accepted, refused "
                f"{[str(e) for e in writer.refused[:3]]}, {failed} failed in the outbox"
            )
        return {
            "changes": rights * steps,
            "rights": rights,
            "accepted_in_s": round(accepted_s, 2),
            "confirmed_in_s": round(confirmed_s, 2),
            "confirmed_per_s": round(rights * steps / confirmed_s, 2),
        }

    def kill_node(self) -> dict[str, Any]:
        writer = Writer(self, "EP")
        stop = threading.Event()
        load = threading.Thread(
            target=writer.write, args=(None, 3, 4, stop, self.profile.write_rate), daemon=True
        )
        load.start()
        downtimes = []
        try:
            for _ in range(self.profile.kills):
                time.sleep(self.rng.uniform(0.5, 4.0))
                at = time.monotonic()
                with self.breaker.node_killed("EP"):
                    pass  # started again at once
                downtimes.append(time.monotonic() - at)
                self.faults.append(
                    {"kind": "kill -9", "target": "node EP", "down_s": round(downtimes[-1], 2)}
                )
            time.sleep(1.5)
        finally:
            stop.set()
            load.join()
        failed = self.settle(["EP"])
        if writer.refused or failed:
            raise CaseFailed(f"kills: refused {[str(e) for e in writer.refused[:3]]}, {failed} failed")
        return {
            "kills": len(downtimes),
            "changes_accepted": writer.accepted,
            "unanswered_then_read_back": writer.unanswered,
            "restart_s_max": round(max(downtimes), 2) if downtimes else None,
        }

    def chain_outage(self) -> dict[str, Any]:
        writers = [Writer(self, code) for code in ("EP", "GB", "KR")]
        stop = threading.Event()
        threads = [
            threading.Thread(target=w.write, args=(None, 2, 2, stop, self.profile.write_rate), daemon=True)
            for w in writers
        ]
        for thread in threads:
            thread.start()
        try:
            time.sleep(2)
            with self.breaker.chain_stopped():
                at = time.monotonic()
                before = sum(w.accepted for w in writers)
                time.sleep(self.profile.chain_down_s)
                during = sum(w.accepted for w in writers) - before
            down_s = time.monotonic() - at
            self.faults.append({"kind": "chain stopped", "target": "ganache", "down_s": round(down_s, 2)})
            time.sleep(2)
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        failed = self.settle(["EP", "GB", "KR"])
        refused = [str(e) for w in writers for e in w.refused]
        if refused or failed or during == 0:
            raise CaseFailed(
                f"chain outage: {during} changes accepted while the chain was down, refused {refused[:3]}, "
                f"{failed} failed in the outboxes"
            )
        return {
            "chain_down_s": round(down_s, 2),
            "changes_accepted": sum(w.accepted for w in writers),
            "accepted_while_chain_down": during,
        }

    def gateway_restart(self) -> dict[str, Any]:
        writer = Writer(self, "GB")
        restart: dict[str, float] = {}

        def restart_gateway() -> None:
            time.sleep(1.5)
            at = time.monotonic()
            with self.breaker.gateway_stopped(kill=True):
                writer.write(5, 2, threads=2)  # changes the gateway must index after its restart
            restart["down_s"] = time.monotonic() - at

        thread = threading.Thread(target=restart_gateway, daemon=True)
        thread.start()
        calls = itertools.cycle([self._verification_call() for _ in range(200)])
        result = asyncio.run(_offer(self.demo.gateway_url, 40, 10, lambda: next(calls)))
        thread.join()
        self.ledger.request(result.offered)
        self._count_server_errors("gateway restart", result)
        self.faults.append(
            {"kind": "kill -9 + restart", "target": "gateway", "down_s": round(restart["down_s"], 2)}
        )
        failed = self.settle(["GB"])
        after = asyncio.run(_offer(self.demo.gateway_url, 40, 2, lambda: next(calls)))
        self.ledger.request(after.offered)
        self._count_server_errors("gateway after restart", after)
        figures = result.figures()
        if result.errors or after.errors or after.unanswered or failed:
            raise CaseFailed(
                f"gateway restart: {figures['errors']} errors during, {after.errors} errors and "
                f"{len(after.unanswered)} unanswered after, {failed} failed outbox entries, e.g. "
                f"{(result.wrong_verdicts + after.wrong_verdicts + after.unanswered)[:3]}"
            )
        return {
            "gateway_down_s": round(restart["down_s"], 2),
            "verifications": figures,
            "unanswered_while_down": figures["unanswered"],
            "after_restart": after.figures(),
        }

    def disk_full(self) -> dict[str, Any]:
        code = DISK_OFFICE
        writer = Writer(self, code, refusals_expected=True)
        with self.node_client(code) as client:
            for _ in range(3):  # accepted before the disk fills: some still in the outbox when it does
                writer.chain(client, 1)
            accepted_before = writer.accepted
            with self.breaker.disk_full(code, self.disk):
                self.faults.append(
                    {"kind": "disk full", "target": f"node {code}", "method": self.disk.method}
                )
                attempts = 0
                while not writer.refused and attempts < 500:  # a WAL may have room for a few pages yet
                    writer.chain(client, 1)
                    attempts += 1
                for _ in range(3):  # still refused, and a change to an accepted right too
                    writer.chain(client, 1)
                first = next(
                    right for (right, version) in self.ledger.accepted if right.startswith(f"{code}:PAT:")
                )
                current = int(client.right(first)["version"])
                writer.submit(
                    client, first, current + 1, lambda: client.record_status(first, current, status_event(9))
                )
                refused = list(writer.refused)
                accepted_while_full = writer.accepted - accepted_before
            writer.refused.clear()
            writer.chain(client, 2)  # room again: the node takes changes without a restart
        failed = self.settle([code])
        problems = []
        for err in refused:
            fields = [f for f, _ in err.field_errors]
            if err.status not in (503, 507) or fields != ["store"] or "not accepted" not in str(err):
                problems.append(f"{err.status} {err.problem}")
        if not refused or problems or writer.refused or failed:
            raise CaseFailed(
                f"disk full: {len(refused)} refusals, not as they must be: {problems[:2]}; after freeing: "
                f"{[str(e) for e in writer.refused[:2]]}; {failed} failed in the outbox"
            )
        return {
            "method": self.disk.method,
            "refusals": len(refused),
            "refusal_statuses": dict(Counter(e.status for e in refused)),
            "refusal": refused[0].problem,
            "accepted_before_full": accepted_before,
            "accepted_after_fill_before_first_refusal": accepted_while_full,
        }

    # ------------------------------------------------------------ load material

    def _load_pool(self) -> None:
        """The published rights of the seeded history and their signed documents from the deep links."""
        with httpx.Client(base_url=self.demo.gateway_url, timeout=30) as gateway:
            items = gateway.get("/v1/rights", params={"limit": 100}).raise_for_status().json()["items"]
        for item in items:
            if item["confidential"] or not item["rightId"]:
                continue
            node = self.demo.consortium.offices[item["officeCode"]].url
            url = f"{node}/v1/documents/{right_path(item['rightId'])}/{item['version']}"
            self.pool.append(item["rightId"])
            self.uploads.append((item["rightId"], httpx.get(url, timeout=30).raise_for_status().content))
        if not self.pool:
            raise CaseFailed("the seeded consortium has no published right")
        self._today = datetime.now(UTC).date().isoformat()

    def _mixed_call(self) -> tuple[str, Call]:
        kind = self.rng.choices(
            ["right", "history", "state", "offices", "page", "verify-right", "verify-upload"],
            [20, 15, 10, 10, 10, 20, 15],
        )[0]
        right = right_path(self.rng.choice(self.pool))
        if kind == "right":
            return kind, Call("GET", f"/v1/rights/{right}")
        if kind == "history":
            return kind, Call("GET", f"/v1/rights/{right}/history")
        if kind == "state":
            return kind, Call("GET", f"/v1/rights/{right}/state?date={self._today}")
        if kind == "offices":
            return kind, Call("GET", "/v1/offices")
        if kind == "page":
            return kind, Call("GET", f"/v1/rights?limit={self.rng.choice([10, 50, 100])}")
        return self._verification_call(kind)

    def _verification_call(self, kind: str | None = None) -> tuple[str, Call]:
        kind = kind or self.rng.choice(["verify-right", "verify-upload"])
        if kind == "verify-right":
            right = right_path(self.rng.choice(self.pool))
            return kind, Call("GET", f"/v1/rights/{right}/verification", verdict="authentic-current")
        _, document = self.rng.choice(self.uploads)
        return kind, Call("POST", "/v1/verifications", document, verdict="authentic-current")

    def _count_server_errors(self, where: str, result: LoadResult) -> None:
        for status, n in result.statuses.items():
            if status >= 500:
                for _ in range(n):
                    self.ledger.server_error(f"{where}: HTTP {status}")

    # ------------------------------------------------------------ settling and the checks

    def settle(self, offices: list[str]) -> int:
        """Waits until the offices' outboxes are empty; returns how many entries the contract refused."""
        failed = 0
        for code in offices:
            with self.node_client(code) as client:
                client.wait_for_outbox(self.profile.settle_s)
                failed += len(client.outbox("failed", limit=500)["items"])
        return failed

    def _w3(self) -> Web3:
        return connect(self.demo.consortium.chain.rpc_url)

    def _contract(self, w3: Web3) -> Contract:
        assert self.demo.consortium.deployment is not None
        address = Web3.to_checksum_address(self.demo.consortium.deployment.address)
        return w3.eth.contract(address=address, abi=load_artifact().abi)

    def _right_events(self) -> dict[tuple[str, int], list[tuple[str, int]]]:
        """(chain right id, version) -> [(record hash, block)] of every right event on chain."""
        w3 = self._w3()
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
        events = self._right_events()
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
            if key not in accepted and any(block > self._baseline_block for _, block in found):
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
        w3 = self._w3()
        contract = self._contract(w3)
        head = int(w3.eth.block_number)
        status = wait_gateway_caught_up(self.demo.gateway_url, head, self.profile.settle_s)
        keys = sorted({key for key, version in self._right_events() if version == 1})
        count, items = read_gateway_index(self.demo.gateway_url)
        result = check_index(read_chain_rights(contract, keys), count, items)
        result["indexed_block"] = status.get("indexedBlock")
        result["head_block"] = head
        return result

    # ------------------------------------------------------------ results

    def _results(self, started: datetime, wall_s: float, setup_s: float) -> dict[str, Any]:
        last = {name: case["checks"].get("exactly_once", {}) for name, case in self.cases.items()}
        final = last[list(last)[-1]] if last else {}
        passed = bool(self.cases) and all(case["passed"] for case in self.cases.values())
        return {
            "schema": "ipreg/reliability/1",
            "profile": self.profile.name,
            "started": started.isoformat(timespec="seconds"),
            "passed": passed,
            "lost": max((c.get("lost", 0) for c in last.values()), default=0),
            "duplicated": max((c.get("duplicated", 0) for c in last.values()), default=0),
            "server_errors": len(self.ledger.server_errors),
            "faults_injected": len(self.faults),
            "requests": self.ledger.requests,
            "changes_accepted": len(self.ledger.accepted),
            "expected_store_refusals": self.ledger.expected_refusals,
            "gateway_rate_limit_per_s": GATEWAY_RATE_LIMIT_PER_S,
            "exactly_once_final": final,
            "duration_s": round(wall_s, 1),
            "setup_s": round(setup_s, 1),
            "profile_settings": self.profile.__dict__,
            "cases": self.cases,
            "faults": self.faults,
            "server_error_examples": self.ledger.server_errors[:10],
            "environment": self._environment(),
        }

    def _environment(self) -> dict[str, Any]:
        return {
            **machine(),
            "chain": "ganache 7.9.2 (instamine, data dir), three office node processes, one gateway process",
            "root": os.geteuid() == 0,
            "full_disk": self.disk.method,
            "load_client": "one asyncio process (aiohttp), open loop, keep-alive connections",
        }


@contextlib.contextmanager
def work_folder(keep: bool) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="ipreg-reliability-"))
    try:
        yield folder
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the bounded run make test makes (~3 min)")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"results file (default {RESULTS})")
    parser.add_argument("--load-seconds", type=float, help="how long the gateway load lasts")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", action="store_true", help="keep the consortium's folder (logs, stores)")
    args = parser.parse_args(argv)
    profile = QUICK if args.quick else SOAK
    if args.load_seconds:
        profile = Profile(**{**profile.__dict__, "load_s": args.load_seconds})

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    with work_folder(args.keep) as folder:
        results = Suite(profile, folder, args.seed, say).run()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str) + "\n", "utf-8")
    say(
        f"{'PASSED' if results['passed'] else 'FAILED'}: lost {results['lost']}, duplicated "
        f"{results['duplicated']}, server errors {results['server_errors']}, faults "
        f"{results['faults_injected']}, requests {results['requests']} -> {args.out}"
    )
    return 0 if results["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
