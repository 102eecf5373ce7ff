"""Why operations did not get through: every refused, failed, unanswered or unsent operation, with the reason.

A default workload chains each right's changes version by version, so on a healthy consortium nothing is
refused and nothing waits in vain: any entry here is a finding, not noise. An unsent operation names the
one it waited on and the operation at the root of its chain (the one that was actually refused), so a
single refusal that stranded a right's later changes reads as one cause, not many. A deliberate conflict
(`workload.conflicts`) that a node refused with 409 is counted apart, as intended; one that got through is
a finding about the node.
"""

from __future__ import annotations

from typing import Any

from registry_node.experiment.observations import (
    ACCEPTED,
    CONFIRMED,
    FAILED,
    NOT_SENT,
    REJECTED,
    UNKNOWN,
    OpRecord,
)

CONFLICT_STATUS = 409  # the node's answer to a change that names a version its right has moved past
STOPPED = "not sent before the run stopped"


def explain_refusals(records: list[OpRecord]) -> dict[str, Any]:
    """Counts and one item per operation that did not get through, in workload order (results.json)."""
    by_index = {record.op.index: record for record in records}
    items = [_item(record, by_index) for record in records if record.outcome not in (ACCEPTED, CONFIRMED)]
    conflicts = [record for record in records if record.op.conflict]
    unexpected = [item for item in items if not item["intended"]]
    return {
        "refused": sum(1 for item in unexpected if item["outcome"] in (REJECTED, FAILED)),
        "unsent": sum(1 for item in unexpected if item["outcome"] == NOT_SENT),
        "no_answer": sum(1 for item in unexpected if item["outcome"] == UNKNOWN),
        "refused_as_intended": len(items) - len(unexpected),
        "conflicts": len(conflicts),
        "conflicts_not_refused": sum(1 for record in conflicts if record.outcome in (ACCEPTED, CONFIRMED)),
        "operations": items,
    }


def _item(record: OpRecord, by_index: dict[int, OpRecord]) -> dict[str, Any]:
    op = record.op
    return {
        "index": op.index,
        "right_id": op.right_id,
        "kind": op.kind,
        "office": op.office,
        "expected_version": op.expected_version,
        "outcome": record.outcome,
        "http_status": record.http_status,
        "reason": _reason(record),
        "intended": _refused_as_intended(record),
        "waited_on": record.waited_on,
        "blocked_by": _root(record, by_index),
    }


def _refused_as_intended(record: OpRecord) -> bool:
    return record.op.conflict and record.outcome == REJECTED and record.http_status == CONFLICT_STATUS


def _reason(record: OpRecord) -> str:
    if record.error:
        return record.error
    if record.outcome == NOT_SENT:
        return STOPPED
    if record.verdict is not None:  # a verification the gateway did not answer with a verdict
        return f"the gateway answered {record.http_status}: {record.verdict}"
    return f"HTTP {record.http_status}" if record.http_status else record.outcome


def _root(record: OpRecord, by_index: dict[int, OpRecord]) -> int | None:
    """The operation whose failure left this one unsent, following unsent operations back along the right's
    chain; None for an operation that was sent (or never waited)."""
    root = None
    seen: set[int] = set()
    current = record
    while current.waited_on is not None and current.waited_on not in seen:
        seen.add(current.waited_on)
        root = current.waited_on
        before = by_index.get(root)
        if before is None:
            break
        current = before
    return root


def render_refusals(refusals: dict[str, Any]) -> list[str]:
    """The report's section: the counts, then one row per operation (refused-as-intended conflicts too),
    with the version it named beside the node's reason, so a refusal that does not fit its version shows."""
    lines = [
        "## Operations that did not get through",
        "",
        f"Refused {refusals['refused']}, unsent {refusals['unsent']}, no answer {refusals['no_answer']}; "
        f"refused as intended {refusals['refused_as_intended']} of {refusals['conflicts']} deliberate "
        f"conflicts ({refusals['conflicts_not_refused']} got through).",
        "",
    ]
    if not refusals["operations"]:
        return [*lines, "Every operation got through.", ""]
    lines += [
        "| # | right | kind | version named | outcome | reason | waited on | blocked by |",
        "| ---: | --- | --- | ---: | --- | --- | ---: | ---: |",
    ]
    for item in refusals["operations"]:
        outcome = "refused as intended" if item["intended"] else item["outcome"]
        reason = str(item["reason"]).replace("|", "\\|").replace("\n", " ")
        lines.append(
            f"| {item['index']} | {item['right_id']} | {item['kind']} | {_blank(item['expected_version'])} | "
            f"{outcome} | {reason} | "
            f"{_blank(item['waited_on'])} | {_blank(item['blocked_by'])} |"
        )
    return [*lines, ""]


def _blank(value: int | None) -> str:
    return "" if value is None else str(value)
