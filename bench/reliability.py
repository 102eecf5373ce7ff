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

Then a second consortium on a real permissioned network (bench/validator_faults.py: three go-ethereum Clique
validators, one per office, each in its own network namespace) goes through validator faults: one killed
with SIGKILL and restarted, one partitioned and healed, an office's own validator down while it submits,
two of three down. Its own ledger is checked the same way after each case. `--only ganache|geth` runs one
part.

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
import contextlib  # noqa: E402
import dataclasses  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from typing import Any  # noqa: E402

from bench.exactly_once import CaseFailed, Ledger, Target, Writer, status_event  # noqa: E402
from bench.open_loop import LoadResult, Mix, offer  # noqa: E402
from bench.validator_faults import PERIOD_S, NetworkProfile, ValidatorFaults  # noqa: E402
from registry_node.devnet.demo import GANACHE, Demo, DemoPorts  # noqa: E402
from registry_node.devnet.geth import GETH_VERSION  # noqa: E402
from registry_node.experiment.faults import ConsortiumFaults, FullDisk  # noqa: E402
from registry_node.experiment.metrics import machine  # noqa: E402
from registry_node.node.client import NodeClient  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "reliability.json"
GATEWAY_RATE_LIMIT_PER_S = 1000.0  # five times the offered 200 requests/s (bursts of twice as many)
DISK_OFFICE = "KR"  # its data dir is the small filesystem of the disk-full case
DISK_SIZE = "64m"
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
    network: NetworkProfile  # the cases on three geth validators (bench/validator_faults.py)


QUICK = Profile(
    "quick", load_s=10, load_rate=200, burst_changes=150, kills=3, chain_down_s=5, write_rate=20,
    settle_s=120,  # a bound, not a wait: at 60 s chain_outage's 300 changes did not settle at load average 13
    network=NetworkProfile(validator_down_s=5, partition_s=10, write_rate=5, settle_s=90,
                           cases=("validator_partitioned", "two_validators_down")),
)  # fmt: skip
# The quick profile's geth cases fit its budget (about 3 minutes with the network's set-up, which takes 1-2
# minutes on two shared cores): the partition (10 s, not 30) and two validators down, which also has the
# offices of the stopped validators failing over; the SIGKILLed validator and the office's own validator
# down run in the soak, where the partition lasts 30 s and a validator stays down 30 s.
SOAK = Profile(
    "soak", load_s=600, load_rate=200, burst_changes=1000, kills=10, chain_down_s=30, settle_s=300,
    write_rate=20, network=NetworkProfile(validator_down_s=30, partition_s=30, write_rate=10, settle_s=300),
)  # fmt: skip
PARTS = ("ganache", "geth")  # the demo consortium's cases, and the three-validator network's


# ------------------------------------------------------------ the suite


class Suite:
    def __init__(
        self, profile: Profile, work_dir: Path, seed: int, say: Say, parts: tuple[str, ...] = PARTS
    ) -> None:
        self.profile = profile
        self.work_dir = work_dir
        self.say = say
        self.parts = parts
        self.rng = random.Random(seed)
        self.ledger = Ledger()
        self.cases: dict[str, dict[str, Any]] = {}
        self.faults: list[dict[str, Any]] = []
        self.disk = FullDisk(work_dir / "demo" / "nodes" / DISK_OFFICE, DISK_SIZE)
        env = {
            "IPREG_GATEWAY_RATE_LIMIT_PER_S": str(GATEWAY_RATE_LIMIT_PER_S),
            "IPREG_GATEWAY_POLL_INTERVAL_S": "0.2",
        }
        self.demo = Demo(work_dir / "demo", DemoPorts.free(GANACHE), say, env=env)
        self.mix = Mix(self.rng)  # the load's rights and documents, once the demo has started
        self.environment: dict[str, Any] = {}
        self.network = ValidatorFaults(work_dir / "network", profile.network, say, env)
        self._target: Target | None = None

    @property
    def breaker(self) -> ConsortiumFaults:
        """The fault injector of the demo consortium (which exists once the demo has started)."""
        return ConsortiumFaults(self.demo.consortium)

    @property
    def target(self) -> Target:
        """The demo consortium and the ledger of what its nodes accepted."""
        if self._target is None:
            self._target = Target(self.demo.consortium, self.ledger, self.profile.settle_s)
        return self._target

    def node_client(self, code: str) -> NodeClient:
        return self.target.node_client(code)

    def next_serial(self) -> int:
        return self.target.next_serial()

    def settle(self, offices: list[str]) -> int:
        return self.target.settle(offices)

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
        setup_s: dict[str, float] = {}
        if "ganache" in self.parts:
            try:
                self.disk.prepare()  # before the consortium creates the node in it
                self.say(f"starting the consortium in {self.work_dir}")
                if self._set_up("setup", self._start_demo, setup_s):
                    for name, case in cases:
                        self._run_case(name, case, self.target)
            finally:
                self.demo.stop()
                self.disk.release()
        if "geth" in self.parts:
            try:
                self.say(f"starting a consortium on three geth validators in {self.network.folder}")
                if self._set_up("network_setup", self.network.start, setup_s):
                    for name, case in self.network.cases():
                        self._run_case(name, case, self.network.target)
            finally:
                self.network.stop()
                self.faults += self.network.faults
        return self._results(started, time.monotonic() - clock, setup_s)

    def _start_demo(self) -> None:
        self.demo.start(threading.Event())
        self.target.baseline_block = int(self.target.w3().eth.block_number)
        self._load_pool()

    def _set_up(self, name: str, start: Callable[[], None], seconds: dict[str, float]) -> bool:
        """Runs `start`; a failure is reported as the case `name`, and its part's cases do not run."""
        clock = time.monotonic()
        try:
            start()
        except Exception as err:
            traceback.print_exc()
            self.cases[name] = {"passed": False, "failures": [f"{type(err).__name__}: {err}"], "checks": {}}
            return False
        finally:
            seconds[name] = round(time.monotonic() - clock, 1)
        return True

    def _run_case(self, name: str, case: Callable[[], dict[str, Any]], target: Target) -> None:
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
            checks: dict[str, Any] = target.checks()
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
        result = offer(self.demo.gateway_url, rate, duration, self.mix.call)
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
        calls = itertools.cycle([self.mix.verification_call() for _ in range(200)])
        result = offer(self.demo.gateway_url, 40, 10, lambda: next(calls))
        thread.join()
        self.ledger.request(result.offered)
        self._count_server_errors("gateway restart", result)
        self.faults.append(
            {"kind": "kill -9 + restart", "target": "gateway", "down_s": round(restart["down_s"], 2)}
        )
        failed = self.settle(["GB"])
        after = offer(self.demo.gateway_url, 40, 2, lambda: next(calls))
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
        offices = {code: office.url for code, office in self.demo.consortium.offices.items()}
        self.mix = Mix.of(self.demo.gateway_url, offices, self.rng)

    def _count_server_errors(self, where: str, result: LoadResult) -> None:
        for status, n in result.statuses.items():
            if status >= 500:
                for _ in range(n):
                    self.ledger.server_error(f"{where}: HTTP {status}")

    # ------------------------------------------------------------ results

    def _results(self, started: datetime, wall_s: float, setup_s: dict[str, float]) -> dict[str, Any]:
        last = {name: case["checks"].get("exactly_once", {}) for name, case in self.cases.items()}
        final = last[list(last)[-1]] if last else {}
        passed = bool(self.cases) and all(case["passed"] for case in self.cases.values())
        ledgers = [self.ledger, self.network.target.ledger]
        server_errors = [error for ledger in ledgers for error in ledger.server_errors]
        return {
            "schema": "ipreg/reliability/1",
            "profile": self.profile.name,
            "started": started.isoformat(timespec="seconds"),
            "passed": passed,
            "lost": max((c.get("lost", 0) for c in last.values()), default=0),
            "duplicated": max((c.get("duplicated", 0) for c in last.values()), default=0),
            "server_errors": len(server_errors),
            "faults_injected": len(self.faults),
            "requests": sum(ledger.requests for ledger in ledgers),
            "changes_accepted": sum(len(ledger.accepted) for ledger in ledgers),
            "expected_store_refusals": self.ledger.expected_refusals,
            "gateway_rate_limit_per_s": GATEWAY_RATE_LIMIT_PER_S,
            "exactly_once_final": final,
            "duration_s": round(wall_s, 1),
            "setup_s": setup_s,
            "parts": list(self.parts),
            "profile_settings": dataclasses.asdict(self.profile),
            "cases": self.cases,
            "faults": self.faults,
            "server_error_examples": server_errors[:10],
            "environment": self._environment(),
        }

    def _environment(self) -> dict[str, Any]:
        return {
            **machine(),
            "chain": "ganache 7.9.2 (instamine, data dir), three office node processes, one gateway process",
            "network": f"go-ethereum {GETH_VERSION} Clique, three validators (one per office, period "
            f"{PERIOD_S} s, each in its own network namespace), three office node processes on their own "
            "validator with the others as failover, one gateway process; nodes and gateway confirm at "
            "majority depth (2 blocks)",
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
    parser.add_argument("--quick", action="store_true", help="the bounded run make test makes (~8 min)")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"results file (default {RESULTS})")
    parser.add_argument("--load-seconds", type=float, help="how long the gateway load lasts")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", action="store_true", help="keep the consortium's folder (logs, stores)")
    parser.add_argument(
        "--only", choices=PARTS, help="run one part: the demo consortium's cases or the geth network's"
    )
    args = parser.parse_args(argv)
    profile = QUICK if args.quick else SOAK
    if args.load_seconds:
        profile = dataclasses.replace(profile, load_s=args.load_seconds)

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    with work_folder(args.keep) as folder:
        results = Suite(profile, folder, args.seed, say, (args.only,) if args.only else PARTS).run()
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
