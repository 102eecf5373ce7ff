"""Submitting a run's workload and observing what happens to each operation.

Operations go open loop (request i leaves at i/rate seconds, whatever the answers before it) or closed loop
(`concurrency` operations in flight, each until it is confirmed). In anchors mode registrations wait for
their office's batch, sent as one anchored import. An operation that depends on an earlier one (a change
to a right, a verification of it) waits until that one got through. Submissions to a part that is down
wait at its Gate. Confirmation times come from polling each node's outbox every POLL_S (its granularity).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from registry_node.experiment.collect import verify_on_gateway
from registry_node.experiment.config import ExperimentConfig
from registry_node.experiment.faults import Gate
from registry_node.experiment.observations import ACCEPTED, CONFIRMED, FAILED, REJECTED, UNKNOWN, OpRecord
from registry_node.experiment.workload import Operation, Workload
from registry_node.node.client import NodeClient, NodeUnreachable, ProblemError
from registry_node.protocol.errors import RegistryError

POLL_S = 0.1
OPEN_LOOP_THREADS = 64
INTERRUPT_GRACE_S = 5.0
ANCHOR_WAIT_S = 1.0  # anchors mode: the longest a registration waits for its batch to fill


class WorkloadDriver:
    """Drives `config`'s workload against the offices' nodes (`clients`) and the gateway; `stop` ends the
    submitting. Every operation's record is in `records`, in workload order."""

    def __init__(
        self,
        config: ExperimentConfig,
        clients: dict[str, NodeClient],
        gateway_url: str,
        stop: threading.Event,
    ) -> None:
        self.config = config
        self.gateway_url = gateway_url
        self.stop = stop
        self.records: list[OpRecord] = []
        self.office_gates = {code: Gate() for code in config.office_codes}
        self.gateway_gate = Gate()
        self.started = False
        self._clients = clients
        self._t0 = 0.0
        self._load_thread: threading.Thread | None = None
        self._tracker_stop = threading.Event()
        self._tracker: threading.Thread | None = None
        self._batches: dict[str, list[OpRecord]] = defaultdict(list)  # anchors mode: registrations waiting
        self._batch_since: dict[str, float] = {}
        self._batch_lock = threading.Lock()
        self._accepted_evt: dict[int, threading.Event] = {}
        self._settled_evt: dict[int, threading.Event] = {}
        self._lock = threading.Lock()

    def start(self) -> None:
        """Starts the clock, the load, the confirmation tracker and (anchors mode) the batch sender."""
        self._t0 = time.monotonic()
        self.started = True
        self._tracker = threading.Thread(target=self._track_confirmations, name="confirmations", daemon=True)
        self._load_thread = threading.Thread(target=self._load, name="load", daemon=True)
        threads = [self._tracker, self._load_thread]
        if self.config.mode == "anchors":
            threads.append(threading.Thread(target=self._flush_batches, name="anchors", daemon=True))
        for thread in threads:
            thread.start()

    def now(self) -> float:
        """Seconds since the clock started."""
        return time.monotonic() - self._t0

    def load_running(self) -> bool:
        return self._load_thread is not None and self._load_thread.is_alive()

    def join_load(self, timeout_s: float) -> None:
        if self._load_thread is not None:
            self._load_thread.join(timeout=timeout_s)

    def stop_tracking(self, timeout_s: float | None = None) -> None:
        """Stops the confirmation tracker (and the batch sender); with a timeout, waits for the tracker."""
        self._tracker_stop.set()
        if timeout_s is not None and self._tracker is not None:
            self._tracker.join(timeout=timeout_s)

    # ------------------------------------------------------------ submitting

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

    def counts(self) -> dict[str, int]:
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
        events = self._settled_evt if op.waits_for_chain else self._accepted_evt
        while not events[op.after].wait(0.1):
            if self.stop.is_set():
                return False
        before = self.records[op.after]
        if before.outcome not in (ACCEPTED, CONFIRMED) or (
            op.waits_for_chain and before.outcome != CONFIRMED
        ):
            record.waited_on = op.after
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
            return client.record_ownership_change(op.right_id, op.expected_version, body["change"])
        if op.kind == "statusEvent":
            return client.record_status(op.right_id, op.expected_version, body["event"])
        if op.kind == "designation":
            return client.designate(op.right_id, op.expected_version, body["designation"])
        if op.kind == "decision":
            return client.record_decision(op.right_id, op.expected_version, body["decision"])
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
            for code in self._clients:
                if self.office_gates[code].up.is_set():
                    with contextlib.suppress(RegistryError, httpx.HTTPError, KeyError, ValueError):
                        self.poll_office(code)
            self._tracker_stop.wait(POLL_S)

    def poll_office(self, code: str) -> None:
        with self._lock:
            waiting = [r for r in self.records if r.op.office == code and r.outcome == ACCEPTED]
        if not waiting:
            return
        client = self._clients[code]
        open_ids: set[int] = set()
        failed: dict[int, str] = {}
        for state in ("pending", "sent", "failed"):
            for entry in outbox_entries(client, state):
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

    def settle_grace(self) -> None:
        """After Ctrl-C, give accepted operations a few seconds to be seen confirmed."""
        deadline = time.monotonic() + INTERRUPT_GRACE_S
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                for code in self._clients:
                    self.poll_office(code)
            if not any(r.outcome == ACCEPTED for r in self.records):
                return
            time.sleep(0.3)


def outbox_entries(client: NodeClient, state: str | None) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = client.outbox(state, limit=500, offset=offset)
        entries += page["items"]
        if page.get("nextOffset") is None:
            return entries
        offset = int(page["nextOffset"])


def open_entries(client: NodeClient) -> int:
    with contextlib.suppress(RegistryError, httpx.HTTPError):
        return sum(len(outbox_entries(client, state)) for state in ("pending", "sent"))
    return -1
