"""The workload generator: the same seed gives the same operations, in the asked mix, with valid bodies."""

from __future__ import annotations

import itertools
from collections import Counter

from registry_node.experiment.config import config_from_dict
from registry_node.experiment.workload import Workload
from registry_node.protocol.records import LegalStatusEvent, OwnershipChange, Right


def operations(n: int, **settings: object) -> list:  # type: ignore[type-arg]
    return list(itertools.islice(Workload(config_from_dict({"name": "w", **settings})), n))


def test_the_same_seed_gives_the_same_operations() -> None:
    assert operations(200, seed=3) == operations(200, seed=3)
    assert operations(200, seed=3) != operations(200, seed=4)


def test_every_body_is_a_valid_record_and_versions_follow_each_other() -> None:
    versions: dict[str, int] = {}
    for op in operations(600, offices=3):
        if op.kind in ("registration", "confidentialFiling"):
            Right.model_validate(op.body["right"])
            assert op.right_id not in versions
            versions[op.right_id] = 1
        elif op.kind == "verification":
            assert op.after is not None
        else:
            assert op.expected_version == versions[op.right_id]
            versions[op.right_id] += 1
            if op.kind == "ownershipChange":
                OwnershipChange.model_validate(op.body["change"])
            if op.kind == "statusEvent":
                LegalStatusEvent.model_validate(op.body["event"])


def test_conveyances_follow_the_configured_mix() -> None:
    ops = operations(4000, workload={"mix": {"registration": 1, "ownershipChange": 3}})
    counts = Counter(op.detail for op in ops if op.kind == "ownershipChange")
    total = sum(counts.values())
    assert abs(counts["assignment"] / total - 0.38) < 0.04
    assert abs(counts["securityInterest"] / total - 0.22) < 0.04


def test_publications_only_open_sealed_rights() -> None:
    sealed: set[str] = set()
    for op in operations(500, workload={"mix": {"confidentialFiling": 1, "publication": 1}}):
        if op.kind == "confidentialFiling":
            sealed.add(op.right_id)
        elif op.kind == "publication":
            sealed.remove(op.right_id)
