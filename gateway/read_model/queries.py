"""Queries over the gateway's read model (see gateway/read_model/db.py): what the query API answers.

Answers are plain JSON-ready dicts named as the API names them (camelCase), so the routes only wrap them
in their response models. The index is a cache of the chain: a verdict never rests on it.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, true
from sqlalchemy.engine import Engine, RowMapping

from gateway.read_model import db, story
from gateway.read_model.indexer import IndexerStatus, read_status
from registry_node.protocol.legal_status import status_words


class BadCursor(ValueError):
    """A pagination cursor this index did not hand out."""


@dataclass(frozen=True)
class Page:
    count: int  # every match, not only this page
    items: list[dict[str, Any]]
    next: str | None  # opaque: pass it back as `cursor` for the next page


@dataclass(frozen=True)
class RightFilter:
    office: str | None = None
    kind: str | None = None
    status: str | None = None  # a prefix of the ST.27 code: "A", "A4", "A4F10"
    owner_commitment: str | None = None
    number: str | None = None  # an application, publication or registration number, any spacing


def iso(timestamp: int | float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat().replace("+00:00", "Z")


def _encode_cursor(*values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, arity: int) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raise BadCursor("not a cursor this gateway handed out") from None
    if not isinstance(values, list) or len(values) != arity:
        raise BadCursor("not a cursor this gateway handed out")
    return values


class Index:
    """Read-only queries over the read model; safe to share between request threads."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def status(self, confirmations: int) -> IndexerStatus:
        return read_status(self.engine, confirmations)

    # ------------------------------------------------------------ offices

    def offices(self) -> list[dict[str, Any]]:
        return self._offices(None)

    def office(self, code: str) -> dict[str, Any] | None:
        found = self._offices(code)
        return found[0] if found else None

    def _offices(self, code: str | None) -> list[dict[str, Any]]:
        o, k = db.offices, db.keys
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(o).where(o.c.code == code if code else true()).order_by(o.c.code)
            ).mappings()
            found = [dict(r) for r in rows]
            added, revoked = db.blocks.alias("added"), db.blocks.alias("revoked")
            key_rows = conn.execute(
                select(k, added.c.timestamp.label("added_at"), revoked.c.timestamp.label("revoked_at"))
                .outerjoin(added, added.c.number == k.c.added_block)
                .outerjoin(revoked, revoked.c.number == k.c.revoked_block)
                .where(k.c.office == code if code else true())
                .order_by(k.c.office, k.c.added_block)
            ).mappings()
            keys: dict[str, list[dict[str, Any]]] = {}
            for key in key_rows:
                keys.setdefault(key["office"], []).append(
                    {
                        "keyId": key["key_id"],
                        "algorithm": key["algorithm"],
                        "publicKey": key["public_key"],
                        "addedAtBlock": key["added_block"],
                        "revokedAtBlock": key["revoked_block"],
                        "addedAt": iso(key["added_at"]) if key["added_at"] is not None else None,
                        "revokedAt": iso(key["revoked_at"]) if key["revoked_at"] is not None else None,
                        "valid": key["revoked_block"] is None,
                    }
                )
        return [
            {
                "officeCode": r["code"],
                "name": r["name"],
                "account": r["account"],
                "endpoint": r["endpoint"],
                "status": r["status"],
                "validator": r["validator"],
                "admittedAtBlock": r["admitted_block"],
                "keys": keys.get(r["code"], []),
            }
            for r in found
        ]

    # ------------------------------------------------------------ rights

    def _right_query(self) -> Select[Any]:
        r = db.rights
        return (
            select(r, db.right_ids.c.right_id, db.records.c.owners, db.records.c.title)
            .outerjoin(db.right_ids, db.right_ids.c.chain_right_id == r.c.chain_right_id)
            .outerjoin(db.records, db.records.c.record_hash == r.c.record_hash)
        )

    def rights(self, where: RightFilter, limit: int, cursor: str | None = None) -> Page:
        r = db.rights
        conditions = []
        if where.office:
            conditions.append(r.c.office == where.office)
        if where.kind:
            conditions.append(r.c.kind == where.kind)
        if where.status:
            conditions.append(r.c.status.startswith(where.status, autoescape=True))
        if where.owner_commitment:
            conditions.append(r.c.owner_commitment == where.owner_commitment)
        if where.number:
            numbered = select(db.right_numbers.c.chain_right_id).where(
                db.right_numbers.c.number == db.normal_number(where.number)
            )
            conditions.append(r.c.chain_right_id.in_(numbered))
        matching = and_(True, *conditions)
        page = matching
        if cursor is not None:
            (after,) = _decode_cursor(cursor, 1)
            page = and_(matching, r.c.chain_right_id > str(after))
        with self.engine.connect() as conn:
            count = int(conn.execute(select(func.count()).select_from(r).where(matching)).scalar_one())
            rows = conn.execute(
                self._right_query().where(page).order_by(r.c.chain_right_id).limit(limit + 1)
            ).mappings()
            items = [_right(row) for row in rows]
        more = len(items) > limit
        items = items[:limit]
        return Page(count, items, _encode_cursor(items[-1]["chainRightId"]) if more else None)

    def right(self, chain_id: str, right_id: str | None = None) -> dict[str, Any] | None:
        """The right with chain id `chain_id`; `right_id`, when the caller named it by the string whose
        keccak256 is `chain_id`, stands in for a string id enrichment has not learned yet."""
        with self.engine.connect() as conn:
            row = (
                conn.execute(self._right_query().where(db.rights.c.chain_right_id == chain_id))
                .mappings()
                .first()
            )
        if row is None:
            return None
        item = _right(row)
        item["rightId"] = item["rightId"] or right_id
        return item

    def recently_changed(self, limit: int) -> list[str]:
        """The ids of the `limit` published rights changed last, newest first (those an auditor is likeliest
        to ask about)."""
        r, ids = db.rights, db.right_ids
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(ids.c.right_id)
                .join(r, r.c.chain_right_id == ids.c.chain_right_id)
                .where(r.c.confidential.is_(False))
                .order_by(r.c.updated_block.desc(), r.c.chain_right_id)
                .limit(limit)
            ).scalars()
            return [str(right_id) for right_id in rows]

    def right_id_of(self, chain_id: str) -> str | None:
        with self.engine.connect() as conn:
            value = conn.execute(
                select(db.right_ids.c.right_id).where(db.right_ids.c.chain_right_id == chain_id)
            ).scalar()
        return None if value is None else str(value)

    def history(self, chain_id: str) -> list[dict[str, Any]]:
        """Every change of the right in chain order, each told in words, with the owners after it from
        that version's published record (checked against its record hash when it was fetched)."""
        e, rec = db.events, db.records
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(e, rec.c.owners, rec.c.change)
                .outerjoin(rec, rec.c.record_hash == e.c.record_hash)
                .where(e.c.chain_right_id == chain_id)
                .order_by(e.c.block_number, e.c.log_index)
            ).mappings()
            items = []
            kind = None
            for row in rows:
                kind = kind or row["kind"]
                items.append(_history_item(row, kind))
            return items

    def changes(self, limit: int) -> list[dict[str, Any]]:
        """The latest changes across every office, newest first, each told in words."""
        e, rec, ids, r = db.events, db.records, db.right_ids, db.rights
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(e, rec.c.owners, rec.c.change, ids.c.right_id, r.c.kind.label("right_kind"))
                .outerjoin(rec, rec.c.record_hash == e.c.record_hash)
                .outerjoin(ids, ids.c.chain_right_id == e.c.chain_right_id)
                .outerjoin(r, r.c.chain_right_id == e.c.chain_right_id)
                .order_by(e.c.block_number.desc(), e.c.log_index.desc())
                .limit(limit)
            ).mappings()
            return [
                {"rightId": row["right_id"], "chainRightId": row["chain_right_id"]}
                | _history_item(row, row["right_kind"])
                for row in rows
            ]

    def summary(self) -> dict[str, Any]:
        """How many rights each office holds, of each kind."""
        r = db.rights
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(r.c.office, r.c.kind, func.count()).group_by(r.c.office, r.c.kind)
            ).all()
        offices: dict[str, dict[str, Any]] = {}
        kinds: dict[str, int] = {}
        for office, kind, count in sorted(rows):
            entry = offices.setdefault(str(office), {"officeCode": str(office), "total": 0, "kinds": {}})
            entry["kinds"][str(kind)] = int(count)
            entry["total"] += int(count)
            kinds[str(kind)] = kinds.get(str(kind), 0) + int(count)
        return {"total": sum(kinds.values()), "offices": list(offices.values()), "kinds": kinds}

    def state_at(
        self, chain_id: str, when: dt.date | dt.datetime, right_id: str | None = None
    ) -> dict[str, Any] | None:
        """The right as it stood at the end of the day `when` (UTC), or at the instant `when`, by block
        timestamp; None before it existed."""
        if isinstance(when, dt.datetime):
            end = int(when.timestamp()) + 1  # the blocks of that second count
        elif when == dt.date.max:
            end = int(dt.datetime.combine(when, dt.time.max, dt.UTC).timestamp()) + 1
        else:
            end = int(dt.datetime.combine(when + dt.timedelta(days=1), dt.time(), dt.UTC).timestamp())
        e = db.events
        with self.engine.connect() as conn:
            rows = (
                conn.execute(
                    select(e, db.records.c.owners, db.records.c.title)
                    .outerjoin(db.records, db.records.c.record_hash == e.c.record_hash)
                    .where(and_(e.c.chain_right_id == chain_id, e.c.timestamp < end))
                    .order_by(e.c.block_number, e.c.log_index)
                )
                .mappings()
                .all()
            )
            known = conn.execute(
                select(db.right_ids.c.right_id).where(db.right_ids.c.chain_right_id == chain_id)
            ).scalar()
        if not rows:
            return None
        first, last = rows[0], rows[-1]
        return {
            "rightId": known or right_id,
            "chainRightId": chain_id,
            "officeCode": last["office"],
            "kind": first["kind"] or "unknown",
            "version": last["version"],
            "confidential": bool(last["confidential"]),
            "statusCode": last["status"],
            "status": _status(last["status"], first["kind"]),
            "recordHash": last["record_hash"],
            "ownerCommitment": last["owner_commitment"],
            "owners": json.loads(last["owners"]) if last["owners"] else None,
            "title": last["title"],
            "registeredBlock": first["block_number"],
            "updatedBlock": last["block_number"],
            "updatedAt": iso(last["timestamp"]),
            "asOf": iso(end - 1),
        }

    # ------------------------------------------------------------ anchors

    def anchors(self, limit: int, cursor: str | None = None, office: str | None = None) -> Page:
        a = db.anchors
        matching = and_(True, a.c.office == office) if office else and_(True)
        page = matching
        if cursor is not None:
            block, index = _decode_cursor(cursor, 2)
            if not isinstance(block, int) or not isinstance(index, int):
                raise BadCursor("not a cursor this gateway handed out")
            page = and_(
                matching,
                or_(a.c.block_number < block, and_(a.c.block_number == block, a.c.log_index < index)),
            )
        with self.engine.connect() as conn:
            count = int(conn.execute(select(func.count()).select_from(a).where(matching)).scalar_one())
            rows = conn.execute(
                select(a).where(page).order_by(a.c.block_number.desc(), a.c.log_index.desc()).limit(limit + 1)
            ).mappings()
            items = [_anchor(row) for row in rows]
        more = len(items) > limit
        items = items[:limit]
        last = items[-1] if items else None
        return Page(
            count, items, _encode_cursor(last["blockNumber"], last["logIndex"]) if more and last else None
        )

    def anchor(self, root: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(db.anchors).where(db.anchors.c.root == root)).mappings().first()
            if row is None:
                return None
            records = conn.execute(
                select(db.anchored_records)
                .where(db.anchored_records.c.root == root)
                .order_by(db.anchored_records.c.right_id, db.anchored_records.c.version)
            ).mappings()
            item = _anchor(row)
            item["items"] = [
                {"rightId": r["right_id"], "version": r["version"], "recordHash": r["record_hash"]}
                for r in records
            ]
        return item

    # ------------------------------------------------------------ documents

    def document(self, sha256: str) -> list[dict[str, Any]]:
        """Everything the SHA-256 `sha256` is known as; empty when nothing."""
        d, rec, ids = db.documents, db.records, db.right_ids
        known: list[dict[str, Any]] = []
        with self.engine.connect() as conn:
            for row in conn.execute(
                select(d, ids.c.right_id)
                .outerjoin(ids, ids.c.chain_right_id == d.c.chain_right_id)
                .where(d.c.hash == sha256)
                .order_by(d.c.block_number)
            ).mappings():
                known.append(
                    {
                        "role": "record" if row["role"] == "record" else "evidence",
                        "rightId": row["right_id"],
                        "chainRightId": row["chain_right_id"],
                        "version": row["version"],
                        "blockNumber": row["block_number"],
                    }
                )
            for row in conn.execute(select(rec).where(rec.c.source_xml_hash == sha256)).mappings():
                known.append(
                    {
                        "role": "sourceXml",
                        "rightId": row["right_id"],
                        "chainRightId": row["chain_right_id"],
                        "version": row["version"],
                        "c14nAlgorithm": "http://www.w3.org/2001/10/xml-exc-c14n#",
                    }
                )
            for row in conn.execute(
                select(db.anchored_records).where(db.anchored_records.c.record_hash == sha256)
            ).mappings():
                known.append(
                    {
                        "role": "anchored",
                        "rightId": row["right_id"],
                        "version": row["version"],
                        "root": row["root"],
                        "blockNumber": row["block_number"],
                    }
                )
        return known


def _right(row: RowMapping) -> dict[str, Any]:
    return {
        "rightId": row["right_id"],
        "chainRightId": row["chain_right_id"],
        "officeCode": row["office"],
        "kind": row["kind"],
        "version": row["version"],
        "confidential": bool(row["confidential"]),
        "statusCode": row["status"],
        "status": _status(row["status"], row["kind"]),
        "recordHash": row["record_hash"],
        "ownerCommitment": row["owner_commitment"],
        "owners": json.loads(row["owners"]) if row["owners"] else None,
        "title": row["title"],
        "registeredBlock": row["registered_block"],
        "updatedBlock": row["updated_block"],
        "updatedAt": iso(row["updated_at"]),
    }


def _status(code: str | None, kind: str | None) -> dict[str, Any] | None:
    words = status_words(code or "", kind)
    return None if words is None else words.to_json()


# What the chain's event leaves out and the version's record tells: the conveyance's parties and recordal
# date, the status event's dates and text.
FROM_THE_RECORD = {
    "conveyance": ("assignorBag", "assigneeBag", "recordalDate", "officeRecordIdentifier"),
    "statusEvent": ("eventDate", "publicationDate", "freeText", "standard"),
}


def _history_item(row: RowMapping, kind: str | None) -> dict[str, Any]:
    """One change of a right: the chain's facts, completed from the version's published record (its owners,
    the conveyance's parties and recordal date, the status event's dates and text) when enrichment has
    fetched it; a record is only kept when it hashes to the record hash on chain."""
    details = json.loads(row["details"] or "{}")
    from_record = json.loads(row["change"]) if row["change"] else {}
    item: dict[str, Any] = {
        "version": row["version"],
        "action": row["action"],
        "officeCode": row["office"],
        "confidential": bool(row["confidential"]),
        "recordHash": row["record_hash"],
        "ownerCommitment": row["owner_commitment"],
        "statusCode": row["status"],
        "status": _status(row["status"], kind),
        "owners": json.loads(row["owners"]) if row["owners"] else None,
        "ownersChecked": bool(row["owners"]),
        "blockNumber": row["block_number"],
        "blockHash": row["block_hash"],
        "timestamp": iso(row["timestamp"]),
        "transactionHash": row["tx_hash"],
        "logIndex": row["log_index"],
    }
    for change, fields in FROM_THE_RECORD.items():
        if change in details:
            item[change] = details[change] | {k: from_record[k] for k in fields if k in from_record}
    item["summary"] = story.summary(item, kind)
    return item


def _anchor(row: RowMapping) -> dict[str, Any]:
    return {
        "root": row["root"],
        "officeCode": row["office"],
        "count": row["count"],
        "manifestHash": row["manifest_hash"],
        "manifestStatus": row["manifest_status"],
        "manifestHashChecked": bool(row["manifest_hash_checked"]),
        "blockNumber": row["block_number"],
        "blockHash": row["block_hash"],
        "logIndex": row["log_index"],
        "timestamp": iso(row["timestamp"]),
        "transactionHash": row["tx_hash"],
    }
