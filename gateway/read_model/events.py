"""The registry's events as the read model stores them: a decoded log, folded into the right's current row,
its event row, the documents it names and what enrichment must fetch; office events applied to the offices
table. Pure functions over rows, apart from the two that read or write through the connection they are given.

An international registration's `Designated` is a version of the registration (a new record; its owners and
status carry over) and a row of its own in `designations`; the designated office's decisions are the
`RightRegistered` and `LegalStatusChanged` of the designation's entry, folded as any right's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.engine import Connection

from gateway.read_model import db
from registry_node.protocol.contract import bytes_text, office_code, status_code
from registry_node.protocol.keys import SigningAlgorithm
from registry_node.protocol.records import ConveyanceCategory, RightKind

ACTIONS = {
    "RightRegistered": "registration",
    "OwnershipChanged": "ownershipChange",
    "LegalStatusChanged": "legalStatusEvent",
    "RightPublished": "publication",
    "Designated": "designation",
}
ZERO32 = "0" * 64


def hex0x(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def chain_date(value: int) -> str | None:
    """yyyymmdd (00 for an unknown month or day) as an ISO 8601 (partial) date."""
    if value <= 0:
        return None
    year, month, day = value // 10_000, value // 100 % 100, value % 100
    if not month:
        return f"{year:04d}"
    return f"{year:04d}-{month:02d}" if not day else f"{year:04d}-{month:02d}-{day:02d}"


@dataclass(frozen=True)
class Log:
    name: str
    args: dict[str, Any]
    block_number: int
    log_index: int
    block_hash: str
    tx_hash: str


def event_signature(abi: dict[str, Any]) -> str:
    def kind(param: dict[str, Any]) -> str:
        if param["type"].startswith("tuple"):
            inner = ",".join(kind(c) for c in param["components"])
            return f"({inner}){param['type'][5:]}"
        return str(param["type"])

    return f"{abi['name']}({','.join(kind(p) for p in abi['inputs'])})"


def jsonable(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def event_row(entry: Log, current: dict[str, Any] | None, timestamp: int) -> dict[str, Any]:
    """The events row of a right event: what it changed, and the right's whole state after it."""
    args = entry.args
    base = {
        "block_number": entry.block_number,
        "log_index": entry.log_index,
        "chain_right_id": hex0x(args["rightId"]),
        "office": office_code(args["office"]),
        "action": ACTIONS[entry.name],
        "block_hash": entry.block_hash,
        "timestamp": timestamp,
        "tx_hash": entry.tx_hash,
        "kind": None,
    }
    previous = current or {}
    if entry.name == "RightRegistered":
        state = args["state"]
        return {
            **base,
            "version": 1,
            "kind": RightKind.chain_name(args["kind"]),
            "confidential": bool(args["confidential"]),
            "record_hash": bytes(state["recordHash"]).hex(),
            "owner_commitment": bytes(state["ownerCommitment"]).hex(),
            "status": status_code(state["status"]),
            "details": "{}",
        }
    common = {
        **base,
        "version": int(args["version"]),
        "confidential": bool(previous.get("confidential", False)),
        "record_hash": bytes(args["recordHash"]).hex(),
        "owner_commitment": previous.get("owner_commitment", ZERO32),
        "status": previous.get("status", ""),
    }
    if entry.name == "OwnershipChanged":
        c = args["conveyance"]
        conveyance = {
            "conveyanceCategory": ConveyanceCategory.chain_name(c["kind"]),
            "transferCategory": "partial" if c["partialTransfer"] else "full",
            "effectiveDate": chain_date(int(c["effectiveDate"])),
            "evidenceHash": bytes(c["evidenceHash"]).hex(),
        }
        return {
            **common,
            "owner_commitment": bytes(args["ownerCommitment"]).hex(),
            "details": json.dumps({"conveyance": conveyance}, sort_keys=True),
        }
    if entry.name == "LegalStatusChanged":
        s = args["statusEvent"]
        status_event = {
            "statusCode": status_code(s["status"]),
            "previousStageCode": int(s["previousStage"]),
            "detailedEventCode": bytes_text(s["detailedEvent"]) or None,
            "effectiveDate": chain_date(int(s["effectiveDate"])),
            "correctsVersion": int(s["correctsVersion"]) or None,
        }
        return {
            **common,
            "status": status_event["statusCode"],
            "details": json.dumps({"statusEvent": status_event}, sort_keys=True),
        }
    if entry.name == "Designated":
        designation = {
            "designatedOfficeCode": office_code(args["designatedOffice"]),
            "designationChainId": hex0x(args["designationId"]),
            "designationDate": chain_date(int(args["designationDate"])),
        }
        return {**common, "details": json.dumps({"designation": designation}, sort_keys=True)}
    # RightPublished: the seal is opened; the record hash is the published record's.
    return {
        **common,
        "confidential": False,
        "details": json.dumps({"salt": bytes(args["salt"]).hex()}, sort_keys=True),
    }


def designation_row(entry: Log, event: dict[str, Any]) -> dict[str, Any]:
    """The designations row of a `Designated` log; `event` is its events row (the registration's version)."""
    args = entry.args
    return {
        "designation_chain_id": hex0x(args["designationId"]),
        "ir_chain_right_id": event["chain_right_id"],
        "office": event["office"],
        "designated_office": office_code(args["designatedOffice"]),
        "version": event["version"],
        "record_hash": event["record_hash"],
        "designation_date": chain_date(int(args["designationDate"])),
        "block_number": entry.block_number,
        "log_index": entry.log_index,
        "block_hash": entry.block_hash,
        "timestamp": event["timestamp"],
        "tx_hash": entry.tx_hash,
    }


def fold_event(current: dict[str, Any] | None, event: dict[str, Any]) -> dict[str, Any]:
    """The rights row after `event`."""
    if current is None:
        return right_row(event, event)
    return right_row(event, {"block_number": current["registered_block"], "kind": current["kind"]})


def right_row(event: dict[str, Any], registration: dict[str, Any]) -> dict[str, Any]:
    return {
        "chain_right_id": event["chain_right_id"],
        "office": event["office"],
        "kind": registration["kind"] or "unknown",  # "unknown": registered before start_block
        "confidential": event["confidential"],
        "version": event["version"],
        "record_hash": event["record_hash"],
        "owner_commitment": event["owner_commitment"],
        "status": event["status"],
        "registered_block": registration["block_number"],
        "updated_block": event["block_number"],
        "updated_at": event["timestamp"],
    }


def latest_events(conn: Connection, chain_ids: list[str]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(latest event, registration event) of each right that still has events."""
    ev = db.events
    newest = (
        select(ev.c.chain_right_id, func.max(ev.c.version).label("version"))
        .where(ev.c.chain_right_id.in_(chain_ids))
        .group_by(ev.c.chain_right_id)
        .subquery()
    )
    latest = {
        row["chain_right_id"]: dict(row)
        for row in conn.execute(
            select(ev).join(
                newest, and_(ev.c.chain_right_id == newest.c.chain_right_id, ev.c.version == newest.c.version)
            )
        ).mappings()
    }
    first = {
        row["chain_right_id"]: dict(row)
        for row in conn.execute(
            select(ev).where(and_(ev.c.chain_right_id.in_(chain_ids), ev.c.version == 1))
        ).mappings()
    }
    return [(event, first.get(cid, event)) for cid, event in latest.items()]


def document_row(hash_hex: str, role: str, event: dict[str, Any]) -> dict[str, Any]:
    return {
        "hash": hash_hex,
        "role": role,
        "chain_right_id": event["chain_right_id"],
        "version": event["version"],
        "block_number": event["block_number"],
    }


def fetch_row(target: str, key: str, event: dict[str, Any]) -> dict[str, Any]:
    return {
        "target": target,
        "key": key,
        "office": event["office"],
        "chain_right_id": event["chain_right_id"],
        "version": event["version"],
        "block_number": event["block_number"],
    }


def unique_rows(rows: list[dict[str, Any]], key: tuple[str, ...]) -> list[dict[str, Any]]:
    seen: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        seen.setdefault(tuple(row[k] for k in key), row)
    return list(seen.values())


def apply_office_event(conn: Connection, name: str, office: str, data: dict[str, Any], block: int) -> None:
    """Folds one office event into `offices` and `keys`."""
    o, k = db.offices, db.keys
    if name == "OfficeAdmitted":
        conn.execute(delete(o).where(o.c.code == office))
        conn.execute(
            insert(o).values(
                code=office,
                name=data["name"],
                account=data["account"],
                endpoint=data["endpoint"],
                status="active",
                admitted_block=block,
                updated_block=block,
            )
        )
        return
    if name == "SigningKeyAdded":
        conn.execute(
            insert(k).values(
                office=office,
                key_id=data["keyId"],
                algorithm=_algorithm(int(data["algorithm"])),
                public_key=str(data["publicKey"]).removeprefix("0x"),
                added_block=block,
                revoked_block=None,
            )
        )
        return
    if name == "SigningKeyRevoked":
        conn.execute(
            update(k)
            .where(and_(k.c.office == office, k.c.key_id == data["keyId"]))
            .values(revoked_block=block)
        )
        return
    changes: dict[str, dict[str, Any]] = {
        "OfficeSuspended": {"status": "suspended"},
        "OfficeReinstated": {"status": "active"},
        "EndpointChanged": {"endpoint": data.get("endpoint")},
        "OfficeRenamed": {"name": data.get("name")},
        "AccountRotated": {"account": data.get("account")},
        "ValidatorChanged": {"validator": data.get("validator")},
    }
    conn.execute(update(o).where(o.c.code == office).values(**changes.get(name, {}), updated_block=block))


def _algorithm(value: int) -> str:
    try:
        return SigningAlgorithm.from_chain_value(value).value
    except (ValueError, KeyError):
        return f"unknown-{value}"
