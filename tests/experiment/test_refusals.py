"""Every operation that did not get through is explained: the node's reason, and for an unsent one the
operation it waited on and the refusal at the root of its chain; deliberate conflicts are counted apart.

The driver is run against in-process nodes that keep only versions and answer as the node API does (202,
or 409 for a version the right has moved past), so its ordering is checked under open-loop concurrency
without a chain."""

from __future__ import annotations

import threading
import time
from typing import Any

from registry_node.experiment.config import ExperimentConfig, config_from_dict
from registry_node.experiment.driver import WorkloadDriver
from registry_node.experiment.observations import CONFIRMED, NOT_SENT, REJECTED, OpRecord
from registry_node.experiment.refusals import explain_refusals, render_refusals
from registry_node.experiment.workload import Operation
from registry_node.node.client import NodeClient, ProblemError

MIX = {
    "registration": 30,
    "ownershipChange": 30,
    "statusEvent": 20,
    "confidentialFiling": 10,
    "publication": 10,
}


class VersionCheckingNode(NodeClient):
    """An office node reduced to its version check; `refuse` lists (right, expected version) it refuses
    outright, as a node refuses a change it finds invalid. Its outbox confirms everything at once."""

    def __init__(self, refuse: frozenset[tuple[str, int]] = frozenset()) -> None:
        super().__init__("http://node.invalid", "token")
        self.versions: dict[str, int] = {}
        self.refuse = refuse
        self._lock = threading.Lock()
        self._next_id = 0

    def register(self, right: Any, confidential: bool = False) -> dict[str, Any]:
        return self._accept(str(right["rightId"]), 0)

    def record_ownership_change(self, right_id: str, expected_version: int, change: Any) -> dict[str, Any]:
        return self._accept(right_id, expected_version)

    def record_status(self, right_id: str, expected_version: int, event: Any) -> dict[str, Any]:
        return self._accept(right_id, expected_version)

    def publish(self, right_id: str, expected_version: int) -> dict[str, Any]:
        return self._accept(right_id, expected_version)

    def outbox(self, state: str | None = None, limit: int = 100, offset: int = 0) -> dict[str, Any]:
        return {"items": [], "nextOffset": None}

    def _accept(self, right_id: str, expected: int) -> dict[str, Any]:
        with self._lock:
            if (right_id, expected) in self.refuse:
                raise ProblemError(400, {"detail": f"ownerBag: {right_id} has no such owner"})
            actual = self.versions.get(right_id, 0)
            if actual != expected:
                raise ProblemError(409, {"detail": f"{right_id} is at version {actual}, not {expected}"})
            self.versions[right_id] = actual + 1
            self._next_id += 1
            return {"outboxId": self._next_id, "recordHash": f"{self._next_id:064x}"}


def config(**workload: Any) -> ExperimentConfig:
    return config_from_dict({
        "name": "driver", "offices": 2, "seed": 11, "gateway": False, "load": {"rate": 500},
        "workload": {"operations": 200, "mix": MIX, **workload},
    })  # fmt: skip


def drive(config: ExperimentConfig, nodes: dict[str, VersionCheckingNode]) -> list[OpRecord]:
    """Runs the driver until every operation is settled (a readiness wait with a deadline, not a sleep)."""
    driver = WorkloadDriver(config, dict(nodes), "http://gateway.invalid", threading.Event())
    driver.start()
    deadline = time.monotonic() + 60
    while driver.load_running() or driver.counts()["open"]:
        assert time.monotonic() < deadline, driver.counts()
        time.sleep(0.05)
    driver.stop_tracking(timeout_s=5)
    return driver.records


def nodes_for(config: ExperimentConfig, **kwargs: Any) -> dict[str, VersionCheckingNode]:
    return {code: VersionCheckingNode(**kwargs) for code in config.office_codes}


def test_a_default_workload_races_nothing_every_operation_gets_through() -> None:
    run = config()
    records = drive(run, nodes_for(run))
    refusals = explain_refusals(records)
    assert refusals["operations"] == [], refusals["operations"][:3]
    assert (refusals["refused"], refusals["unsent"], refusals["no_answer"]) == (0, 0, 0)
    assert {r.outcome for r in records} == {CONFIRMED}
    assert sum(r.op.kind == "publication" for r in records) > 5  # changes after publications are in it


def test_deliberate_conflicts_are_refused_as_intended_and_strand_nothing() -> None:
    run = config(conflicts=0.2)
    records = drive(run, nodes_for(run))
    refusals = explain_refusals(records)
    assert refusals["conflicts"] > 5
    assert refusals["refused_as_intended"] == refusals["conflicts"]
    assert (refusals["refused"], refusals["unsent"], refusals["conflicts_not_refused"]) == (0, 0, 0)
    intended = refusals["operations"][0]
    assert intended["intended"] and intended["http_status"] == 409
    assert "is at version" in intended["reason"]
    assert {r.outcome for r in records if not r.op.conflict} == {CONFIRMED}


def test_a_refused_change_is_explained_and_so_are_the_changes_it_stranded() -> None:
    run = config()
    first_change = next(
        r.op for r in drive(run, nodes_for(run)) if r.op.kind == "ownershipChange" and r.op.expected_version
    )
    right = first_change.right_id
    assert first_change.expected_version is not None
    refuse = frozenset({(right, first_change.expected_version)})
    records = drive(run, nodes_for(run, refuse=refuse))
    refusals = explain_refusals(records)
    later = [r.op.index for r in records if r.op.right_id == right and r.op.index > first_change.index]
    assert refusals["refused"] == 1 and refusals["unsent"] == len(later) > 0
    refused, *stranded = refusals["operations"]
    assert (refused["index"], refused["right_id"], refused["kind"]) == (
        first_change.index,
        right,
        "ownershipChange",
    )
    assert refused["outcome"] == REJECTED and refused["reason"] == f"ownerBag: {right} has no such owner"
    assert [s["index"] for s in stranded] == later
    assert all(s["outcome"] == NOT_SENT and s["blocked_by"] == first_change.index for s in stranded)
    assert stranded[0]["waited_on"] == first_change.index
    assert "did not get through" in stranded[0]["reason"]


def test_the_report_section_lists_each_operation_with_its_reason() -> None:
    refused = OpRecord(Operation(3, "statusEvent", "EP", "EP:TM:40000001", 1, {}, 0), outcome=REJECTED)
    refused.http_status, refused.error = 409, "EP:TM:40000001 is at version 2, not 1"
    waiting = OpRecord(Operation(7, "ownershipChange", "EP", "EP:TM:40000001", 2, {}, 3), waited_on=3)
    waiting.error = "operation 3 on this right did not get through (rejected)"
    stopped = OpRecord(Operation(9, "registration", "EP", "EP:PAT:EP2026000009", None, {}))
    refusals = explain_refusals([refused, waiting, stopped])
    assert (refusals["refused"], refusals["unsent"]) == (1, 2)
    assert refusals["operations"][2]["reason"] == "not sent before the run stopped"
    section = "\n".join(render_refusals(refusals))
    assert "Refused 1, unsent 2" in section
    assert (
        "| 3 | EP:TM:40000001 | statusEvent | 1 | rejected | EP:TM:40000001 is at version 2, not 1 |  |  |"
        in section
    )
    assert "| 7 | EP:TM:40000001 | ownershipChange | 2 | not sent |" in section and "| 3 | 3 |" in section


def test_a_run_where_everything_got_through_says_so() -> None:
    assert "Every operation got through." in render_refusals(explain_refusals([]))
