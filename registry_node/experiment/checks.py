"""The two verdicts every run ends with, computed from plain data read from the chain and the gateway.

exactly_once: every operation a node accepted is on chain exactly once, as the event of its right and
version with the record hash the node answered; nothing is on chain that no operation explains; a
refused operation left nothing behind. An operation whose answer was lost (a transport error) may have
landed at most once.

index_matches_chain: the gateway lists exactly the rights on chain, each with the chain's version, office,
confidential flag and state digest (bytes24 of keccak256(abi.encode(recordHash, ownerCommitment, status))).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from registry_node.experiment.observations import (
    ACCEPTED,
    CONFIRMED,
    FAILED,
    UNKNOWN,
    ChainEvent,
    OpRecord,
)
from registry_node.protocol.contract import RightState, text_bytes
from registry_node.protocol.records import chain_right_id

PASS, FAIL, NOT_RUN = "PASS", "FAIL", "NOT RUN"
EVENT_OF_KIND = {
    "registration": "RightRegistered",
    "confidentialFiling": "RightRegistered",
    "ownershipChange": "OwnershipChanged",
    "statusEvent": "LegalStatusChanged",
    "publication": "RightPublished",
    "designation": "Designated",
    "decision": "LegalStatusChanged",  # a designated office's first decision registers: RightRegistered
}
SHOWN = 10  # problems listed by name in the results; the counts are complete


def check_exactly_once(records: list[OpRecord], events: list[ChainEvent]) -> dict[str, Any]:
    on_chain: dict[tuple[str, int], list[ChainEvent]] = defaultdict(list)
    for event in events:
        if event.name in EVENT_OF_KIND.values():
            on_chain[(event.key, event.version)].append(event)
    claimed: set[tuple[str, int]] = set()
    missing, duplicated, wrong, refused_landed = [], [], [], []
    accepted = landed = 0
    anchors: dict[str, list[ChainEvent]] = defaultdict(list)
    for event in events:
        if event.name == "RootAnchored":
            anchors[event.key.lower()].append(event)
    anchored: dict[str, int] = defaultdict(int)  # root -> accepted registrations under it
    for record in records:
        op = record.op
        if op.kind not in EVENT_OF_KIND or op.version is None:
            continue
        slot = ("0x" + chain_right_id(op.right_id).hex(), op.version)
        found = [e for e in on_chain.get(slot, []) if e.name == _event_name(op.kind, op.version)]
        if record.anchor_root and record.outcome in (ACCEPTED, CONFIRMED):
            # anchored: proven by its root; its own state appears (once) only when it is first changed
            accepted += 1
            root = record.anchor_root.lower()
            anchored[root] += 1
            if not anchors.get(root):
                missing.append(f"{op.index} {op.kind} {op.right_id}: anchor {root} not on chain")
                continue
            landed += 1
            if found:
                claimed.add(slot)
            if len(found) > 1:
                duplicated.append(f"{op.index} {op.kind} {op.right_id} v1 x{len(found)}")
            continue
        if record.outcome in (ACCEPTED, CONFIRMED):
            accepted += 1
            if not found:
                missing.append(f"{op.index} {op.kind} {op.right_id} v{op.version}")
                continue
            landed += 1
            claimed.add(slot)
            if len(found) > 1:
                duplicated.append(f"{op.index} {op.kind} {op.right_id} v{op.version} x{len(found)}")
            expected = (record.record_hash or "").lower().removeprefix("0x")
            if op.kind != "confidentialFiling" and expected and found[0].record_hash[2:] != expected:
                wrong.append(
                    f"{op.index} {op.kind} {op.right_id} v{op.version}: chain {found[0].record_hash}"
                )
        elif record.outcome == UNKNOWN:
            if found:
                claimed.add(slot)
            if len(found) > 1:
                duplicated.append(f"{op.index} {op.kind} {op.right_id} v{op.version} x{len(found)}")
        elif record.outcome == FAILED and found and slot not in claimed:
            refused_landed.append(f"{op.index} {op.kind} {op.right_id} v{op.version}")
    for root, found_anchors in anchors.items():
        if root not in anchored:
            duplicated.append(f"anchor {root}: on chain, no accepted registration under it")
        elif len(found_anchors) > 1:
            duplicated.append(f"anchor {root} x{len(found_anchors)}")
        elif found_anchors[0].version != anchored[root]:
            wrong.append(
                f"anchor {root}: count {found_anchors[0].version} on chain, {anchored[root]} accepted"
            )
    unexplained = [
        f"{e.name} {e.key} v{e.version} block {e.block_number}"
        for slot, found in on_chain.items()
        if slot not in claimed
        for e in found
    ]
    problems = len(missing) + len(duplicated) + len(wrong) + len(unexplained) + len(refused_landed)
    return {
        "verdict": PASS if problems == 0 else FAIL,
        "accepted": accepted,
        "landed": landed,
        "missing": len(missing),
        "duplicated": len(duplicated),
        "wrong_record_hash": len(wrong),
        "unexplained_on_chain": len(unexplained),
        "refused_but_on_chain": len(refused_landed),
        "examples": (missing + duplicated + wrong + unexplained + refused_landed)[:SHOWN],
    }


def _event_name(kind: str, version: int) -> str:
    return "RightRegistered" if kind == "decision" and version == 1 else EVENT_OF_KIND[kind]


def state_digest(record_hash: str, owner_commitment: str, status_code: str) -> str:
    """The contract's stateDigest of (recordHash, ownerCommitment, status), 0x hex of 24 bytes."""
    state = RightState(_bytes32(record_hash), _bytes32(owner_commitment), text_bytes(status_code, 5))
    return "0x" + state.digest().hex()


def _bytes32(value: str) -> bytes:
    return bytes.fromhex(value.lower().removeprefix("0x"))


def check_index(
    chain_rights: dict[str, dict[str, Any]], index_count: int, index_items: list[dict[str, Any]]
) -> dict[str, Any]:
    listed: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    for item in index_items:
        key = str(item.get("chainRightId", "")).lower()
        if key in listed:
            problems.append(f"{key}: listed twice")
        listed[key] = item
    for key, right in chain_rights.items():
        if key not in listed:
            problems.append(f"{key}: on chain, not in the index")
            continue
        item = listed[key]
        differences = []
        if int(item.get("version", -1)) != right["version"]:
            differences.append(f"version {item.get('version')} != {right['version']}")
        if item.get("officeCode") != right["office"]:
            differences.append(f"office {item.get('officeCode')} != {right['office']}")
        if bool(item.get("confidential")) != right["confidential"]:
            differences.append(f"confidential {item.get('confidential')} != {right['confidential']}")
        try:
            digest = state_digest(item["recordHash"], item["ownerCommitment"], item["statusCode"])
        except (KeyError, ValueError, TypeError, UnicodeEncodeError):
            digest = "unreadable"
        if digest != right["stateDigest"]:
            differences.append("state digest differs")
        if differences:
            problems.append(f"{key}: " + ", ".join(differences))
    problems += [f"{key}: in the index, not on chain" for key in listed if key not in chain_rights]
    if index_count != len(index_items):
        problems.append(f"count {index_count} but {len(index_items)} items over all pages")
    return {
        "verdict": PASS if not problems else FAIL,
        "rights_on_chain": len(chain_rights),
        "rights_in_index": len(index_items),
        "mismatches": len(problems),
        "examples": problems[:SHOWN],
    }
