"""The checks' logic on hand-made observations: what counts as landed exactly once, and as an index match."""

from __future__ import annotations

from registry_node.experiment.checks import check_exactly_once, check_index, state_digest
from registry_node.experiment.observations import ACCEPTED, CONFIRMED, REJECTED, UNKNOWN, ChainEvent, OpRecord
from registry_node.experiment.workload import Operation
from registry_node.protocol.records import chain_right_id

RIGHT = "EP:PAT:EP2026000001"
KEY = "0x" + chain_right_id(RIGHT).hex()
HASH = "ab" * 32


def record(index: int, kind: str, expected: int | None, outcome: str) -> OpRecord:
    op = Operation(index, kind, "EP", RIGHT, expected, {}, None)
    return OpRecord(op, outcome=outcome, record_hash=HASH)


def event(name: str, version: int, record_hash: str = "0x" + HASH) -> ChainEvent:
    return ChainEvent(name, KEY, version, record_hash, 10 + version, f"0x{version:064x}", 0)


def test_accepted_operations_each_on_chain_once_pass() -> None:
    records = [record(0, "registration", None, CONFIRMED), record(1, "ownershipChange", 1, ACCEPTED)]
    result = check_exactly_once(records, [event("RightRegistered", 1), event("OwnershipChanged", 2)])
    assert result["verdict"] == "PASS" and result["landed"] == 2


def test_a_missing_or_doubled_or_unexplained_change_fails() -> None:
    records = [record(0, "registration", None, CONFIRMED), record(1, "ownershipChange", 1, CONFIRMED)]
    assert check_exactly_once(records, [event("RightRegistered", 1)])["missing"] == 1
    doubled = [event("RightRegistered", 1), event("OwnershipChanged", 2), event("OwnershipChanged", 2)]
    assert check_exactly_once(records, doubled)["duplicated"] == 1
    extra = [event("RightRegistered", 1), event("OwnershipChanged", 2), event("LegalStatusChanged", 3)]
    result = check_exactly_once(records, extra)
    assert result["verdict"] == "FAIL" and result["unexplained_on_chain"] == 1


def test_a_wrong_record_hash_fails() -> None:
    result = check_exactly_once(
        [record(0, "registration", None, CONFIRMED)], [event("RightRegistered", 1, "0x" + "cd" * 32)]
    )
    assert result["verdict"] == "FAIL" and result["wrong_record_hash"] == 1


def test_an_unanswered_operation_may_land_at_most_once_and_a_rejected_one_explains_nothing() -> None:
    records = [record(0, "registration", None, UNKNOWN)]
    assert check_exactly_once(records, [event("RightRegistered", 1)])["verdict"] == "PASS"
    assert check_exactly_once(records, [])["verdict"] == "PASS"
    rejected = [record(0, "registration", None, REJECTED)]
    assert check_exactly_once(rejected, [event("RightRegistered", 1)])["verdict"] == "FAIL"


def test_the_index_matches_when_every_field_and_digest_agree() -> None:
    owner, status = "cd" * 32, "A1A10"
    chain = {KEY: {"version": 2, "office": "EP", "kind": 0, "confidential": False,
                   "stateDigest": state_digest(HASH, owner, status)}}  # fmt: skip
    item = {"chainRightId": KEY, "version": 2, "officeCode": "EP", "confidential": False, "recordHash": HASH,
            "ownerCommitment": owner, "statusCode": status}  # fmt: skip
    assert check_index(chain, 1, [item])["verdict"] == "PASS"
    assert check_index(chain, 1, [{**item, "version": 1}])["verdict"] == "FAIL"
    assert check_index(chain, 1, [{**item, "statusCode": "T6H13"}])["verdict"] == "FAIL"
    assert check_index(chain, 0, [])["mismatches"] == 1
    assert check_index(chain, 2, [item])["verdict"] == "FAIL"  # the count says two, the pages hold one
