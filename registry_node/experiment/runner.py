"""One experiment run: a fresh deployment, one `ipreg node run` process per office, a real gateway
(`ipreg gateway run`), the seeded workload submitted open loop (arrival rate) or closed loop
(concurrency), faults injected on schedule, then the checks against the chain and the report.

Ctrl-C stops submitting; what was observed so far is still read back, checked and written.
Confirmation times come from polling each node's outbox every POLL_S (its granularity).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import secrets
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from web3 import Web3
from web3.contract import Contract

from registry_node.devnet.demo import IPREG, ChildProcess, _fund, _with_contract
from registry_node.devnet.ganache import PROJECT_ROOT, free_port
from registry_node.experiment import checks
from registry_node.experiment.chains import ChainBackend, chain_backend, chain_web3, charges_gas
from registry_node.experiment.collect import (
    collect_chain_facts,
    read_chain_rights,
    read_gateway_index,
    verify_on_gateway,
    wait_gateway_caught_up,
)
from registry_node.experiment.config import ExperimentConfig
from registry_node.experiment.faults import FaultInjector, Gate, Restored
from registry_node.experiment.metrics import compute_figures
from registry_node.experiment.observations import (
    ACCEPTED,
    CONFIRMED,
    FAILED,
    REJECTED,
    UNKNOWN,
    ChainFacts,
    FaultRecord,
    OpRecord,
)
from registry_node.experiment.report import write_report
from registry_node.experiment.workload import Operation, Workload
from registry_node.node.client import NodeClient, NodeUnreachable, ProblemError
from registry_node.node.consortium import ConsortiumConfig, FoundingOffice, deploy_consortium
from registry_node.node.service import init_node, load_keys, register_signing_key
from registry_node.node.settings import NodeSettings, token_digest
from registry_node.node.transactor import Transactor
from registry_node.protocol.contract import load_artifact
from registry_node.protocol.deployment import Deployment
from registry_node.protocol.errors import RegistryError
from registry_node.protocol.keys import SigningAlgorithm

POLL_S = 0.1
OPEN_LOOP_THREADS = 64
GATEWAY_CATCH_UP_S = 120.0
INTERRUPT_GRACE_S = 5.0
ANCHOR_WAIT_S = 1.0  # anchors mode: the longest a registration waits for its batch to fill


@dataclass
class OfficeProcess:
    code: str
    settings: NodeSettings
    token: str
    url: str
    child: ChildProcess | None = None


class ExperimentRun:
    def __init__(self, config: ExperimentConfig, out_dir: Path, console: Console | None = None) -> None:
        self.config = config
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        self.run_dir = (out_dir / f"{config.name}-{stamp}").resolve()
        self.console = console or Console(stderr=True)
        self.password = secrets.token_urlsafe(24)
        self.chain: ChainBackend = chain_backend(config.chain, self.run_dir)
        self.offices: dict[str, OfficeProcess] = {}
        self.gateway: ChildProcess | None = None
        self.gateway_dir = self.run_dir / "gateway"
        self.gateway_url = ""
        self.records: list[OpRecord] = []
        self.faults: list[FaultRecord] = []
        self.stop = threading.Event()
        self.interrupted = False
        self.timings: dict[str, float] = {}
        self._load_thread: threading.Thread | None = None
        self._tracker_stop = threading.Event()
        self._batches: dict[str, list[OpRecord]] = defaultdict(list)  # anchors mode: registrations waiting
        self._batch_since: dict[str, float] = {}
        self._batch_lock = threading.Lock()
        self._entries: dict[tuple[str, int], dict[str, Any]] = {}  # (office, outbox id) -> entry
        self.deferred_gas: list[float] = []
        self._accepted_evt: dict[int, threading.Event] = {}
        self._settled_evt: dict[int, threading.Event] = {}
        self._lock = threading.Lock()
        self.office_gates = {code: Gate() for code in config.office_codes}
        self.gateway_gate = Gate()
        self._clients: dict[str, NodeClient] = {}
        self._t0 = 0.0
        self._deployment: Deployment | None = None
        self._first_block = 0

    # ------------------------------------------------------------ the whole run

    def run(self) -> Path:
        """Runs the experiment and writes its results; returns the run's folder."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "logs").mkdir(exist_ok=True)
        self.console.print(
            f"[bold]{self.config.name}[/]: {self.config.offices} offices, {self.config.mode}, "
            f"{self.config.chain.kind}, {self.config.load.describe} -> {self.run_dir}"
        )
        started = datetime.now(UTC)
        clock = time.monotonic()
        try:
            self.chain.start()
            w3 = chain_web3(self.chain.rpc_url)
            contract = self._deploy(w3)
            self._start_processes()
            self._first_block = int(w3.eth.block_number) + 1
            self.timings["setup_s"] = round(time.monotonic() - clock, 2)
            try:
                self._drive()
            except KeyboardInterrupt:
                self._interrupt()
            self._finish(w3, contract, started)
        except KeyboardInterrupt:
            self._interrupt()
            self._finish(None, None, started)
        finally:
            self._stop_all()
        return self.run_dir

    def _interrupt(self) -> None:
        self.interrupted = True
        self.stop.set()
        self.console.print("[yellow]interrupted: writing the partial results[/]")

    # ------------------------------------------------------------ setting up

    def _deploy(self, w3: Web3) -> Contract:
        self.console.print(f"chain: {self.chain.name} at {self.chain.rpc_url}")
        funding = charges_gas(w3)
        for code in self.config.office_codes:
            token = secrets.token_urlsafe(32)
            port = free_port()
            settings = NodeSettings(
                office_code=code,
                office_name=f"{code} office (experiment {self.config.name})",
                data_dir=self.run_dir / "nodes" / code,
                operator_token_sha256=token_digest(token),
                rpc_url=self.chain.rpc_url,
                listen_port=port,
            )
            created = init_node(settings, self.password, SigningAlgorithm.ED25519)
            if funding:
                _fund(w3, self.chain.deployer, created.address)
            self.offices[code] = OfficeProcess(code, settings, token, f"http://127.0.0.1:{port}")
        founders = [
            FoundingOffice(
                code,
                o.settings.office_name,
                load_keys(o.settings, self.password).account.address,
                o.settings.public_url,
            )
            for code, o in self.offices.items()
        ]
        transactor = Transactor(w3, self.chain.deployer, load_artifact().abi)
        self._deployment = deploy_consortium(
            transactor, ConsortiumConfig(founders, max_offices=max(8, len(founders)))
        )
        deployment_path = self.run_dir / "deployment.json"
        deployment_path.write_text(json.dumps(self._deployment.to_json(), indent=2) + "\n")
        for office in self.offices.values():
            office.settings = _with_contract(
                office.settings, self._deployment.address, self._deployment.chain_id
            )
            register_signing_key(office.settings, load_keys(office.settings, self.password), w3)
        self.console.print(
            f"deployed SharedIPRegistry at {self._deployment.address} "
            f"(chain id {self._deployment.chain_id}), {len(self.offices)} offices"
        )
        return w3.eth.contract(
            address=Web3.to_checksum_address(self._deployment.address), abi=load_artifact().abi
        )

    def _env(self) -> dict[str, str]:
        return {
            **os.environ,
            "IPREG_NODE_PASSWORD": self.password,
            "IPREG_GATEWAY_PASSWORD": self.password,
            "IPREG_GATEWAY_POLL_INTERVAL_S": "0.2",
            "IPREG_NODE_ANCHOR_BATCH_SIZE": str(self.config.batch_size),
        }

    def _start_processes(self) -> None:
        """Nodes and gateway start side by side (each decrypts its keys first); then each must answer."""
        for code in self.offices:
            self._spawn_node(code)
            self._clients[code] = NodeClient(self.offices[code].url, self.offices[code].token)
        if self.config.gateway:
            port = free_port()
            self.gateway_url = f"http://127.0.0.1:{port}"
            result = subprocess.run(
                [
                    str(IPREG), "gateway", "init", "--data-dir", str(self.gateway_dir),
                    "--rpc", self.chain.rpc_url, "--deployment", str(self.run_dir / "deployment.json"),
                    "--listen-port", str(port), "--confirmations", "0",
                ],
                env=self._env(), capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL,
            )  # fmt: skip
            if result.returncode != 0:
                raise RegistryError(f"ipreg gateway init failed: {result.stderr.strip()}")
            self._spawn_gateway()
        for office in self.offices.values():
            assert office.child is not None
            office.child.wait_ready(f"{office.url}/openapi.json")
        if self.gateway is not None:
            self.gateway.wait_ready(f"{self.gateway_url}/v1/status")

    def _spawn_node(self, code: str) -> ChildProcess:
        office = self.offices[code]
        office.child = ChildProcess(
            f"office node {code}",
            ["node", "run", "--data-dir", str(office.settings.data_dir)],
            self.run_dir / "logs" / f"node-{code}.log",
            self._env(),
        )
        return office.child

    def _spawn_gateway(self) -> ChildProcess:
        self.gateway = ChildProcess(
            "gateway",
            ["gateway", "run", "--data-dir", str(self.gateway_dir)],
            self.run_dir / "logs" / "gateway.log",
            self._env(),
        )
        return self.gateway

    def _stop_all(self) -> None:
        for client in self._clients.values():
            client.close()
        if self.gateway is not None:
            self.gateway.stop()
        for office in self.offices.values():
            if office.child is not None:
                office.child.stop()
        self.chain.stop()

    # ------------------------------------------------------------ driving the workload

    def _operations(self) -> Iterator[OpRecord]:
        """Records of the workload's operations, as long as the run lasts."""
        limit = self.config.workload.operations
        duration = self.config.workload.duration_s
        for op in Workload(self.config):
            if self.stop.is_set() or (limit is not None and op.index >= limit):
                return
            if duration is not None and self.now() >= duration:
                return
            record = OpRecord(op)
            with self._lock:
                self.records.append(record)
                self._accepted_evt[op.index] = threading.Event()
                self._settled_evt[op.index] = threading.Event()
            yield record

    def progress_share(self) -> float:
        if self.config.workload.operations is not None:
            return len(self.records) / self.config.workload.operations
        assert self.config.workload.duration_s is not None
        return self.now() / self.config.workload.duration_s

    def _drive(self) -> None:
        self._t0 = time.monotonic()
        tracker = threading.Thread(target=self._track_confirmations, name="confirmations", daemon=True)
        injector = FaultInjector(self.config.faults, self, self.console)
        self.faults = injector.happened
        faults = threading.Thread(target=injector.run, name="faults", daemon=True)
        load = threading.Thread(target=self._load, name="load", daemon=True)
        self._load_thread = load
        tracker_stop = self._tracker_stop
        threads = [tracker, faults, load]
        if self.config.mode == "anchors":
            threads.append(threading.Thread(target=self._flush_batches, name="anchors", daemon=True))
        for thread in threads:
            thread.start()
        total = self.config.workload.operations
        columns = (
            TextColumn("{task.description:>10}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=self.console, transient=False) as progress:
            bars = {
                name: progress.add_task(name, total=total) for name in ("submitted", "accepted", "confirmed")
            }
            settle_deadline: float | None = None
            while True:
                counts = self._counts()
                for name, task in bars.items():
                    progress.update(task, completed=counts[name], total=total or max(1, counts["submitted"]))
                if not load.is_alive():
                    settle_deadline = settle_deadline or time.monotonic() + self.config.settle_timeout_s
                    if counts["open"] == 0 or time.monotonic() > settle_deadline:
                        break
                time.sleep(0.2)
        faults.join(timeout=120)
        tracker_stop.set()
        tracker.join(timeout=10)

    def _counts(self) -> dict[str, int]:
        with self._lock:
            records = list(self.records)
        submitted = sum(1 for r in records if r.submitted_s is not None)
        accepted = sum(1 for r in records if r.outcome in (ACCEPTED, CONFIRMED, FAILED))
        confirmed = sum(1 for r in records if r.outcome == CONFIRMED)
        settled = sum(1 for r in records if self._settled_evt[r.op.index].is_set())
        return {
            "submitted": submitted,
            "accepted": accepted,
            "confirmed": confirmed,
            "open": len(records) - settled,
        }

    def _load(self) -> None:
        if self.config.load.rate:
            interval = 1.0 / self.config.load.rate
            with ThreadPoolExecutor(OPEN_LOOP_THREADS, thread_name_prefix="submit") as pool:
                for i, record in enumerate(self._operations()):
                    delay = self._t0 + i * interval - time.monotonic()
                    if delay > 0 and self.stop.wait(delay):
                        self._settled_evt[record.op.index].set()
                        self._accepted_evt[record.op.index].set()
                        break
                    pool.submit(self._submit, record)
            return
        stream = self._operations()
        stream_lock = threading.Lock()

        def worker() -> None:
            while True:
                with stream_lock:
                    record = next(stream, None)
                if record is None:
                    return
                self._submit(record)
                while not self._settled_evt[record.op.index].wait(0.1):  # closed loop: until confirmed
                    if self.stop.is_set():
                        return

        workers = [
            threading.Thread(target=worker, daemon=True) for _ in range(self.config.load.concurrency or 1)
        ]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join()

    def _submit(self, record: OpRecord) -> None:
        op = record.op
        if op.kind == "registration" and self.config.mode == "anchors" and not self.stop.is_set():
            self._batch(record)  # its events are set when its batch is answered
            return
        try:
            if self.stop.is_set():
                return
            if op.after is not None and not self._wait_dependency(record):
                return
            if op.kind == "verification":
                self._verify(record)
                return
            with self.office_gates[op.office].passage(self.stop) as open_:
                if not open_:
                    return
                record.submitted_s = self.now()
                try:
                    answer = self._call(op)
                except ProblemError as err:
                    record.outcome, record.http_status = REJECTED, err.status
                    record.error = str(err)[:300]
                except (NodeUnreachable, httpx.HTTPError) as err:
                    record.outcome, record.error = UNKNOWN, f"no answer: {str(err)[:200]}"
                else:
                    record.accepted_s = self.now()
                    record.http_status = 202
                    record.outbox_id = int(answer["outboxId"])
                    record.record_hash = str(answer["recordHash"])
                    record.outcome = ACCEPTED
        except Exception as err:  # a bug in one submission must not hang the ones that wait on it
            record.outcome, record.error = UNKNOWN, f"{type(err).__name__}: {err}"[:300]
        finally:
            self._accepted_evt[op.index].set()
            if record.outcome != ACCEPTED:
                self._settled_evt[op.index].set()

    def _batch(self, record: OpRecord) -> None:
        """Anchors mode: a registration waits for its office's batch, which goes as one anchored import when
        it holds batch_size records or has waited ANCHOR_WAIT_S (latency includes that wait)."""
        code = record.op.office
        record.submitted_s = self.now()
        with self._batch_lock:
            self._batches[code].append(record)
            self._batch_since.setdefault(code, time.monotonic())
            full = self._take_batch(code) if len(self._batches[code]) >= self.config.batch_size else []
        if full:
            self._send_batch(code, full)

    def _take_batch(self, code: str) -> list[OpRecord]:
        batch, self._batches[code] = self._batches[code], []
        self._batch_since.pop(code, None)
        return batch

    def _flush_batches(self) -> None:
        while not self._tracker_stop.is_set():
            load_done = self._load_thread is not None and not self._load_thread.is_alive()
            due = []
            with self._batch_lock:
                for code in list(self._batches):
                    since = self._batch_since.get(code)
                    if since is not None and (load_done or time.monotonic() - since >= ANCHOR_WAIT_S):
                        due.append((code, self._take_batch(code)))
            for code, batch in due:
                self._send_batch(code, batch)
            self._tracker_stop.wait(0.1)

    def _send_batch(self, code: str, batch: list[OpRecord]) -> None:
        try:
            with self.office_gates[code].passage(self.stop) as open_:
                if not open_:
                    return
                files = [
                    (f"{r.op.right_id.replace(':', '_')}.xml", r.op.body["st96"].encode()) for r in batch
                ]
                try:
                    answer = self._clients[code].import_st96(files, mode="anchor")
                except ProblemError as err:
                    for record in batch:
                        record.outcome, record.http_status, record.error = (
                            REJECTED,
                            err.status,
                            str(err)[:300],
                        )
                    return
                except (NodeUnreachable, httpx.HTTPError) as err:
                    for record in batch:
                        record.outcome, record.error = UNKNOWN, f"no answer: {str(err)[:200]}"
                    return
                roots = {int(a["outboxId"]): str(a["root"]) for a in answer.get("anchors", [])}
                now = self.now()
                for record, item in zip(batch, answer["items"], strict=True):
                    if item.get("accepted"):
                        record.outcome, record.http_status, record.accepted_s = ACCEPTED, 202, now
                        record.outbox_id = int(item["outboxId"])
                        record.anchor_root = roots.get(record.outbox_id)
                    else:
                        record.outcome, record.http_status = REJECTED, 202
                        record.error = str(item.get("error"))[:300]
        except Exception as err:  # a bug in one batch must not hang the operations that wait on it
            for record in batch:
                if record.outcome not in (ACCEPTED, REJECTED):
                    record.outcome, record.error = UNKNOWN, f"{type(err).__name__}: {err}"[:300]
        finally:
            for record in batch:
                self._accepted_evt[record.op.index].set()
                if record.outcome != ACCEPTED:
                    self._settled_evt[record.op.index].set()

    def _wait_dependency(self, record: OpRecord) -> bool:
        op = record.op
        assert op.after is not None
        events = self._settled_evt if op.kind == "verification" else self._accepted_evt
        while not events[op.after].wait(0.1):
            if self.stop.is_set():
                return False
        before = self.records[op.after]
        if before.outcome not in (ACCEPTED, CONFIRMED) or (
            op.kind == "verification" and before.outcome != CONFIRMED
        ):
            record.error = f"operation {op.after} on this right did not get through ({before.outcome})"
            return False
        return True

    def _call(self, op: Operation) -> dict[str, Any]:
        client = self._clients[op.office]
        body = op.body
        if op.kind in ("registration", "confidentialFiling"):
            return client.register(body["right"], confidential=body["confidential"])
        assert op.expected_version is not None
        if op.kind == "ownershipChange":
            return client.transfer(op.right_id, op.expected_version, body["change"])
        if op.kind == "statusEvent":
            return client.record_status(op.right_id, op.expected_version, body["event"])
        return client.publish(op.right_id, op.expected_version)

    def _verify(self, record: OpRecord) -> None:
        with self.gateway_gate.passage(self.stop) as open_:
            if not open_:
                return
            record.submitted_s = self.now()
            try:
                with httpx.Client(base_url=self.gateway_url, timeout=30) as http:
                    status, verdict = verify_on_gateway(http, record.op.right_id)
            except httpx.HTTPError as err:
                record.outcome, record.error = UNKNOWN, f"no answer: {str(err)[:200]}"
                return
            record.http_status, record.verdict = status, verdict
            record.confirmed_s = self.now()
            record.outcome = CONFIRMED if status == 200 else REJECTED

    # ------------------------------------------------------------ confirmations

    def _track_confirmations(self) -> None:
        while not self._tracker_stop.is_set():
            for code in self.offices:
                if self.office_gates[code].up.is_set():
                    with contextlib.suppress(RegistryError, httpx.HTTPError, KeyError, ValueError):
                        self._poll_office(code)
            self._tracker_stop.wait(POLL_S)

    def _poll_office(self, code: str) -> None:
        with self._lock:
            waiting = [r for r in self.records if r.op.office == code and r.outcome == ACCEPTED]
        if not waiting:
            return
        client = self._clients[code]
        open_ids: set[int] = set()
        failed: dict[int, str] = {}
        for state in ("pending", "sent", "failed"):
            for entry in _outbox_entries(client, state):
                if state == "failed":
                    failed[int(entry["id"])] = str(entry.get("error") or "")
                else:
                    open_ids.add(int(entry["id"]))
        now = self.now()
        for record in waiting:
            assert record.outbox_id is not None
            if record.outbox_id in failed:
                record.outcome, record.error = FAILED, failed[record.outbox_id][:300]
            elif record.outbox_id not in open_ids:
                record.outcome, record.confirmed_s = CONFIRMED, now
            else:
                continue
            self._settled_evt[record.op.index].set()

    # ------------------------------------------------------------ faults (what FaultInjector breaks)

    def kill_node(self, code: str, down_s: float) -> Restored:
        office = self.offices[code]
        gate = self.office_gates[code]
        gate.close_and_drain()
        pending = _open_entries(self._clients[code])
        assert office.child is not None
        office.child.process.kill()  # SIGKILL: no clean shutdown, the outbox must recover
        office.child.process.wait()
        self.stop.wait(down_s)
        self._spawn_node(code).wait_ready(f"{office.url}/openapi.json")
        restored = Restored(self.now(), f"SIGKILL with {pending} outbox entries pending or sent")
        gate.up.set()
        return restored

    def restart_chain(self, down_s: float) -> Restored:
        self.chain.stop()
        self.stop.wait(down_s)
        self.chain.resume()
        return Restored(
            self.now(), f"{self.chain.name} stopped and resumed from its data dir; nodes kept accepting"
        )

    def restart_gateway(self, down_s: float) -> Restored:
        self.gateway_gate.close_and_drain()
        assert self.gateway is not None
        self.gateway.stop()
        self.stop.wait(down_s)
        self._spawn_gateway().wait_ready(f"{self.gateway_url}/v1/status")
        restored = Restored(self.now(), "stopped (SIGTERM) and started on its index")
        self.gateway_gate.up.set()
        return restored

    def load_running(self) -> bool:
        return self._load_thread is not None and self._load_thread.is_alive()

    def now(self) -> float:
        return time.monotonic() - self._t0

    # ------------------------------------------------------------ after the run

    def _finish(self, w3: Web3 | None, contract: Contract | None, started: datetime) -> None:
        wall_s = self.now() if self._t0 else 0.0
        self.timings["drive_s"] = round(wall_s, 2)
        checking = time.monotonic()
        if self.interrupted and w3 is not None:
            if self._load_thread is not None:
                self._load_thread.join(timeout=30)  # submissions in flight finish; queued ones are dropped
            self._tracker_stop_grace()
        self._tracker_stop.set()
        facts: ChainFacts | None = None
        exactly_once: dict[str, Any] = {"verdict": checks.FAIL}
        index: dict[str, Any] = {"verdict": checks.NOT_RUN, "reason": "gateway: false"}
        try:
            if w3 is None or contract is None:
                raise RegistryError("interrupted before the chain was up")
            self._attach_transactions()
            self._revive_chain_after_interrupt(w3)
            facts = collect_chain_facts(w3, contract, self._first_block, self.chain.state_bytes())
            self._attach_gas(facts)
            exactly_once = checks.check_exactly_once(self.records, facts.events)
        except Exception as err:  # an interrupted run still writes what it has
            exactly_once["reason"] = f"the chain could not be read: {type(err).__name__}: {err}"[:300]
        if self.config.gateway:
            try:
                if facts is None or contract is None:
                    raise RegistryError("the chain could not be read")
                if self.gateway is None or self.gateway.process.poll() is not None:
                    raise RegistryError("the gateway is not running (stopped by Ctrl-C?)")
                index = self._check_index(contract, facts)
            except Exception as err:
                index = {"verdict": checks.FAIL, "reason": f"{type(err).__name__}: {err}"[:300]}
        figures = compute_figures(self.config, self.records, facts, wall_s, self.deferred_gas)
        self.timings["checks_s"] = round(time.monotonic() - checking, 2)
        results = {
            "schema": "ipreg/experiment-results/1",
            "name": self.config.name,
            "started": started.isoformat(timespec="seconds"),
            "interrupted": self.interrupted,
            "config": self.config.to_json(),
            "environment": self._environment(w3),
            "deployment": self._deployment.to_json() if self._deployment else None,
            "exactly_once": exactly_once["verdict"],
            "index_matches_chain": index["verdict"],
            "ops_confirmed": figures["ops_confirmed"],
            "checks": {"exactly_once": exactly_once, "index_matches_chain": index},
            "faults": [f.to_json() for f in self.faults],
            "timings": self.timings,
            "figures": figures,
        }
        write_report(self.run_dir, results, self.records)
        verdict_style = "green" if results["exactly_once"] == checks.PASS else "red"
        self.console.print(
            f"[{verdict_style}]exactly_once {results['exactly_once']}[/], index_matches_chain "
            f"{results['index_matches_chain']}, {figures['ops_confirmed']} operations confirmed, "
            f"{figures['throughput_ops_per_s']:.2f} ops/s -> {self.run_dir / 'report.md'}"
        )

    def _tracker_stop_grace(self) -> None:
        """After Ctrl-C, give accepted operations a few seconds to be seen confirmed."""
        deadline = time.monotonic() + INTERRUPT_GRACE_S
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                for code in self.offices:
                    self._poll_office(code)
            if not any(r.outcome == ACCEPTED for r in self.records):
                return
            time.sleep(0.3)

    def _revive_chain_after_interrupt(self, w3: Web3) -> None:
        """Ctrl-C in a terminal reaches the chain too: a ganache is started again on its data so the
        partial run can still be checked against it."""
        try:
            w3.eth.block_number  # noqa: B018 - does the chain answer?
        except Exception:
            if not (self.interrupted and self.config.chain.keeps_data):
                raise
            self.chain.stop()
            self.chain.resume()

    def _attach_transactions(self) -> None:
        """Each accepted operation's transaction and block, from its node's outbox (kept for the gas)."""
        for code, client in self._clients.items():
            try:
                for entry in _outbox_entries(client, None):
                    self._entries[(code, int(entry["id"]))] = entry
            except (RegistryError, httpx.HTTPError):  # a node stopped by Ctrl-C: its gas stays unknown
                continue
        for record in self.records:
            found = self._entries.get((record.op.office, record.outbox_id or -1))
            if found:
                record.tx_hash = (found.get("txHash") or "").lower() or None
                record.block_number = found.get("blockNumber")

    def _attach_gas(self, facts: ChainFacts) -> None:
        """A transaction's gas and bytes are shared among the outbox entries it carried, and an entry's
        among the operations it stands for (an anchor: every record under it). Entries no operation
        stands for are the deferred registrations of anchored rights, first changed."""
        per_tx: dict[str, int] = defaultdict(int)
        for entry in self._entries.values():
            if entry.get("txHash"):
                per_tx[str(entry["txHash"]).lower()] += 1
        per_entry: dict[tuple[str, int], int] = defaultdict(int)
        for record in self.records:
            if record.tx_hash and record.outbox_id is not None:
                per_entry[(record.op.office, record.outbox_id)] += 1
        for record in self.records:
            if record.tx_hash and record.tx_hash in facts.gas_by_tx and record.outbox_id is not None:
                share = per_tx[record.tx_hash] * per_entry[(record.op.office, record.outbox_id)]
                record.gas = facts.gas_by_tx[record.tx_hash] / share
                record.chain_bytes = facts.bytes_by_tx.get(record.tx_hash, 0) / share
        for key, entry in self._entries.items():
            tx_hash = str(entry.get("txHash") or "").lower()
            if key not in per_entry and tx_hash in facts.gas_by_tx:
                self.deferred_gas.append(facts.gas_by_tx[tx_hash] / per_tx[tx_hash])

    def _check_index(self, contract: Contract, facts: ChainFacts) -> dict[str, Any]:
        status = wait_gateway_caught_up(self.gateway_url, facts.last_block, GATEWAY_CATCH_UP_S)
        keys = sorted({e.key for e in facts.events if e.name == "RightRegistered"})
        chain_rights = read_chain_rights(contract, keys)
        count, items = read_gateway_index(self.gateway_url)
        result = checks.check_index(chain_rights, count, items)
        result["gateway_status"] = status
        return result

    def _environment(self, w3: Web3 | None) -> dict[str, Any]:
        client = None
        with contextlib.suppress(Exception):
            client = w3.client_version if w3 is not None else None
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        return {
            "machine": platform.machine(),
            "system": platform.platform(),
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "chain": self.chain.name,
            "chain_client": client,
            "rpc_url": self.chain.rpc_url,
            "git_commit": commit or None,
            "confirmation_poll_s": POLL_S,
        }


def _outbox_entries(client: NodeClient, state: str | None) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = client.outbox(state, limit=500, offset=offset)
        entries += page["items"]
        if page.get("nextOffset") is None:
            return entries
        offset = int(page["nextOffset"])


def _open_entries(client: NodeClient) -> int:
    with contextlib.suppress(RegistryError, httpx.HTTPError):
        return sum(len(_outbox_entries(client, state)) for state in ("pending", "sent"))
    return -1


def run_experiment(config: ExperimentConfig, out_dir: Path, console: Console | None = None) -> Path:
    return ExperimentRun(config, out_dir, console).run()
