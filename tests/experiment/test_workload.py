"""The workload generator: the same seed gives the same operations, in the asked mix, with valid bodies, and
each right's changes chain version by version (deliberate conflicts only when asked for)."""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from registry_node.experiment.config import CHANGE_KINDS, OPERATION_KINDS, config_from_dict
from registry_node.experiment.workload import Operation, Workload
from registry_node.protocol.records import (
    Designation,
    DesignationDecision,
    LegalStatusEvent,
    OwnershipChange,
    Right,
)


def operations(n: int, **config: object) -> list[Operation]:
    return list(itertools.islice(Workload(config_from_dict({"name": "w", **config})), n))


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


def chains_of(ops: list[Operation]) -> dict[str, list[Operation]]:
    chains: dict[str, list[Operation]] = defaultdict(list)
    for op in ops:
        chains[op.right_id].append(op)
    return chains


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    seed=st.integers(0, 2**32),
    offices=st.integers(1, 4),
    weights=st.lists(st.integers(0, 6), min_size=len(OPERATION_KINDS), max_size=len(OPERATION_KINDS)),
    conflicts=st.sampled_from([0.0, 0.1, 0.4]),
    count=st.integers(1, 300),
)
def test_each_right_s_changes_name_the_version_the_previous_one_produced(
    seed: int, offices: int, weights: list[int], conflicts: float, count: int
) -> None:
    mix = dict(zip(OPERATION_KINDS, weights, strict=True))
    assume(sum(weights) > 0)
    assume(not conflicts or any(mix[kind] for kind in CHANGE_KINDS))
    ops = operations(count, seed=seed, offices=offices, workload={"mix": mix, "conflicts": conflicts})
    by_index = {op.index: op for op in ops}
    for right_id, chain in chains_of(ops).items():
        first, *rest = chain
        if "@" in right_id:  # a designation: its office's first decision follows the Bureau's designation
            assert first.kind == "decision" and (first.expected_version, first.version) == (0, 1)
            assert first.after is not None and by_index[first.after].kind == "designation"
        else:
            assert first.kind in ("registration", "confidentialFiling"), right_id
            assert (first.expected_version, first.after, first.version) == (None, None, 1)
        version, last = 1, first.index
        for op in rest:
            assert op.after == last, f"{op.index} {right_id} points at {op.after}, not {last}"
            if op.kind == "verification":
                assert op.expected_version is None
            elif op.conflict:
                assert conflicts and op.kind in CHANGE_KINDS
                assert op.expected_version == version - 1 >= 1
                assert op.body["expectedVersion"] == op.expected_version
            else:
                assert op.kind not in ("registration", "confidentialFiling"), f"{right_id} registered twice"
                assert op.expected_version == op.body["expectedVersion"] == version
                version, last = version + 1, op.index


def test_without_conflicts_asked_for_no_operation_is_a_conflict() -> None:
    assert not any(op.conflict for op in operations(2000, seed=5))


def test_the_conflict_share_is_the_configured_share_of_changes() -> None:
    ops = operations(4000, seed=2, workload={"conflicts": 0.1})
    changes = [op for op in ops if op.kind in CHANGE_KINDS]
    share = sum(op.conflict for op in changes) / len(changes)
    assert 0.07 < share < 0.13


def test_designations_and_decisions_bring_in_the_bureau_and_chain_on_the_designation() -> None:
    mix = {"registration": 1, "designation": 2, "decision": 3}
    config = config_from_dict({"name": "w", "offices": 3, "workload": {"mix": mix}})
    assert config.office_codes == ("EP", "GB", "KR", "WO")
    designated: dict[str, set[str]] = defaultdict(set)
    decisions: dict[str, int] = {}
    designation_op: dict[str, int] = {}
    ops = list(itertools.islice(Workload(config), 400))
    for op in ops:
        if op.kind == "registration" and op.office == "WO":
            assert Right.model_validate(op.body["right"]).rightKindCategory in ("trademark", "design")
        elif op.kind == "designation":
            assert op.office == "WO" and op.right_id.startswith("WO:")
            designation = Designation.model_validate(op.body["designation"])
            assert designation.designatedOfficeCode not in designated[op.right_id]  # each office once
            designated[op.right_id].add(designation.designatedOfficeCode)
            designation_op[f"{op.right_id}@{designation.designatedOfficeCode}"] = op.index
        elif op.kind == "decision":
            ir, office = op.right_id.rsplit("@", 1)
            assert op.office == office and office in designated[ir]
            DesignationDecision.model_validate(op.body["decision"])
            expected = decisions.get(op.right_id, 0)
            assert op.expected_version == expected
            if expected == 0:  # the first decision waits until the designation is on chain
                assert op.after == designation_op[op.right_id] and op.waits_for_chain
            decisions[op.right_id] = expected + 1
    kinds = Counter(op.kind for op in ops)
    assert kinds["designation"] > 50 and kinds["decision"] > 50
    assert {o for offices in designated.values() for o in offices} == {"EP", "GB", "KR"}


def test_without_designations_in_the_mix_the_bureau_is_not_an_office() -> None:
    assert config_from_dict({"name": "w", "offices": 3}).office_codes == ("EP", "GB", "KR")
