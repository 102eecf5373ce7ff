"""Queries over the gateway's read model (see gateway/read_model/db.py): what the query API answers.

Answers are plain JSON-ready dicts named as the API names them (camelCase), so the routes only wrap them
in their response models. The index is a cache of the chain: a verdict never rests on it.

A designation of an international registration is an entry of the designated office, with no owners of its
own: wherever one is shown, its owners and title are the registration's.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, true
from sqlalchemy.engine import Connection, Engine, RowMapping

from gateway.read_model import db, story
from gateway.read_model.indexer import IndexerStatus, read_status
from registry_node.protocol.legal_status import status_words
from registry_node.protocol.records import INVERSE_RELATION, chain_right_id, designation_id

FAMILY_DEPTH = 3  # links followed from the asked right
FAMILY_MEMBERS = 100  # members listed at most
# What a member is to the right it is linked through, for the links the registry makes itself.
DESIGNATION, INTERNATIONAL_REGISTRATION = "designation", "internationalRegistration"
# A stated link read from the linked side; a relation a newer record model added reads as stated.
INVERSE = {str(relation): inverse for relation, inverse in INVERSE_RELATION.items()}


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
                _right_query().where(page).order_by(r.c.chain_right_id).limit(limit + 1)
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
                conn.execute(_right_query().where(db.rights.c.chain_right_id == chain_id)).mappings().first()
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
        that version's published record (checked against its record hash when it was fetched). A
        designation's changes are its office's decisions, with the registration's owners at the time."""
        with self.engine.connect() as conn:
            rows = self._events_of(conn, chain_id)
            ir = _registration_of(conn, chain_id)
            ir_rows = self._events_of(conn, ir) if ir is not None else []
        items = []
        kind = None
        for row in rows:
            kind = kind or row["kind"]
            item = _history_item(row, kind)
            if ir is not None:
                _as_decision(item, row, kind)
                then = [r for r in ir_rows if r["block_number"] <= row["block_number"]]
                owners = then[-1]["owners"] if then else None  # the registration's owners at that block
                item["owners"] = json.loads(owners) if owners else None
                item["ownersChecked"] = bool(owners)
            items.append(item)
        return items

    @staticmethod
    def _events_of(conn: Connection, chain_id: str) -> list[RowMapping]:
        e, rec = db.events, db.records
        return list(
            conn.execute(
                select(e, rec.c.owners, rec.c.change)
                .outerjoin(rec, rec.c.record_hash == e.c.record_hash)
                .where(e.c.chain_right_id == chain_id)
                .order_by(e.c.block_number, e.c.log_index)
            ).mappings()
        )

    def changes(self, limit: int) -> list[dict[str, Any]]:
        """The latest changes across every office, newest first, each told in words."""
        e, rec, ids, r, d = db.events, db.records, db.right_ids, db.rights, db.designations
        ir, ir_record = db.rights.alias("ir"), db.records.alias("ir_record")
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    e,
                    rec.c.owners,
                    rec.c.change,
                    ids.c.right_id,
                    r.c.kind.label("right_kind"),
                    d.c.ir_chain_right_id,
                    ir_record.c.owners.label("ir_owners"),
                )
                .outerjoin(rec, rec.c.record_hash == e.c.record_hash)
                .outerjoin(ids, ids.c.chain_right_id == e.c.chain_right_id)
                .outerjoin(r, r.c.chain_right_id == e.c.chain_right_id)
                .outerjoin(d, d.c.designation_chain_id == e.c.chain_right_id)
                .outerjoin(ir, ir.c.chain_right_id == d.c.ir_chain_right_id)
                .outerjoin(ir_record, ir_record.c.record_hash == ir.c.record_hash)
                .order_by(e.c.block_number.desc(), e.c.log_index.desc())
                .limit(limit)
            ).mappings()
            changes = []
            for row in rows:
                item = {"rightId": row["right_id"], "chainRightId": row["chain_right_id"]}
                item |= _history_item(row, row["right_kind"])
                if row["ir_chain_right_id"] is not None:  # a decision: the registration's owners now
                    _as_decision(item, row, row["right_kind"])
                    item["owners"] = json.loads(row["ir_owners"]) if row["ir_owners"] else None
                    item["ownersChecked"] = bool(row["ir_owners"])
                changes.append(item)
            return changes

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
            ir = _registration_of(conn, chain_id)
        if not rows:
            return None
        first, last = rows[0], rows[-1]
        owners, title, registration = last["owners"], last["title"], None
        if ir is not None:  # a designation: the registration's owners and title as they stood then
            ir_state = self.state_at(ir, when)
            owners = json.dumps(ir_state["owners"]) if ir_state and ir_state["owners"] is not None else None
            title = ir_state["title"] if ir_state else None
            registration = {"rightId": ir_state["rightId"] if ir_state else None, "chainRightId": ir}
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
            "owners": json.loads(owners) if owners else None,
            "title": title,
            "registeredBlock": first["block_number"],
            "updatedBlock": last["block_number"],
            "updatedAt": iso(last["timestamp"]),
            "asOf": iso(end - 1),
            "internationalRegistration": registration,
        }

    # ------------------------------------------------------------ across offices

    def designations(self, ir_chain_id: str) -> list[dict[str, Any]]:
        """The designations of the international registration `ir_chain_id`, by designated office: when and
        how each was designated, and the designated office's latest decision on it (None: none yet)."""
        d, ids, ir_ids, r = db.designations, db.right_ids, db.right_ids.alias("ir_ids"), db.rights
        designated, decided = db.records.alias("designated"), db.records.alias("decided")
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    d,
                    ids.c.right_id,
                    ir_ids.c.right_id.label("ir_right_id"),
                    designated.c.change.label("designation"),
                    r.c.kind,
                    r.c.version.label("decision_version"),
                    r.c.status,
                    r.c.record_hash.label("decision_hash"),
                    r.c.updated_block,
                    r.c.updated_at,
                    decided.c.change.label("decision"),
                    db.events.c.kind.label("ir_kind"),
                )
                .outerjoin(ids, ids.c.chain_right_id == d.c.designation_chain_id)
                .outerjoin(ir_ids, ir_ids.c.chain_right_id == d.c.ir_chain_right_id)
                .outerjoin(designated, designated.c.record_hash == d.c.record_hash)
                .outerjoin(r, r.c.chain_right_id == d.c.designation_chain_id)
                .outerjoin(decided, decided.c.record_hash == r.c.record_hash)
                .outerjoin(
                    db.events,
                    and_(db.events.c.chain_right_id == d.c.ir_chain_right_id, db.events.c.version == 1),
                )
                .where(d.c.ir_chain_right_id == ir_chain_id)
                .order_by(d.c.designated_office)
            ).mappings()
            return [_designation(row) for row in rows]

    def family(
        self, chain_id: str, depth: int = FAMILY_DEPTH, limit: int = FAMILY_MEMBERS
    ) -> list[dict[str, Any]]:
        """The rights and applications linked to the right `chain_id`, breadth first up to `depth` links away
        and `limit` members: the family links any office's records state, read from both sides, and an
        international registration's designations. Each member says what it is to the right it was reached
        through (`via`; the asked right itself for the nearest)."""
        start = _Node(chain_id, None, None)
        seen = {start.key}
        members: list[dict[str, Any]] = []
        frontier = [start]
        with self.engine.connect() as conn:
            for level in range(1, depth + 1):
                reached: list[_Node] = []
                for node in frontier:
                    for link in _links_of(conn, node):
                        if link.member.key in seen or len(members) >= limit:
                            continue
                        seen.add(link.member.key)
                        reached.append(link.member)
                        members.append(
                            {
                                "relation": link.relation,
                                "depth": level,
                                "via": None if node is start else node.label,
                                "node": link.member,
                                "filingDate": link.filing_date,
                            }
                        )
                frontier = reached
                if not frontier or len(members) >= limit:
                    break
            known = _members(conn, [m["node"].chain_id for m in members if m["node"].chain_id])
        for member in members:
            reached_node: _Node = member.pop("node")
            member.update(_member_facts(reached_node, known.get(reached_node.chain_id or "")))
        return members

    def undecided(self, chain_id: str) -> dict[str, Any] | None:
        """A designation reserved on chain on which its office has decided nothing yet: who designated it,
        in which version of which registration; None for anything else."""
        d, r, ids = db.designations, db.rights, db.right_ids
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    select(d, ids.c.right_id.label("ir_right_id"))
                    .outerjoin(ids, ids.c.chain_right_id == d.c.ir_chain_right_id)
                    .where(d.c.designation_chain_id == chain_id)
                )
                .mappings()
                .first()
            )
            if row is None:
                return None
            if conn.execute(select(r.c.version).where(r.c.chain_right_id == chain_id)).first() is not None:
                return None
        return {
            "designatedOfficeCode": row["designated_office"],
            "officeCode": row["office"],
            "internationalRegistration": row["ir_right_id"] or row["ir_chain_right_id"],
            "version": row["version"],
            "blockNumber": row["block_number"],
        }

    def known_entry(self, chain_id: str) -> bool:
        """Whether the chain id is a right, or a designation reserved on chain, as far as the index knows."""
        with self.engine.connect() as conn:
            right = conn.execute(select(db.rights.c.version).where(db.rights.c.chain_right_id == chain_id))
            if right.first() is not None:
                return True
            designation = conn.execute(
                select(db.designations.c.version).where(db.designations.c.designation_chain_id == chain_id)
            )
            return designation.first() is not None

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


def _right_query() -> Select[Any]:
    """Rights with their string id and current record; a designation with its registration's owners."""
    r, d = db.rights, db.designations
    ir, ir_record, ir_ids = db.rights.alias("ir"), db.records.alias("ir_record"), db.right_ids.alias("ir_ids")
    return (
        select(
            r,
            db.right_ids.c.right_id,
            db.records.c.owners,
            db.records.c.title,
            db.records.c.geographical_indication,
            d.c.ir_chain_right_id,
            ir_ids.c.right_id.label("ir_right_id"),
            ir_record.c.owners.label("ir_owners"),
            ir_record.c.title.label("ir_title"),
        )
        .outerjoin(db.right_ids, db.right_ids.c.chain_right_id == r.c.chain_right_id)
        .outerjoin(db.records, db.records.c.record_hash == r.c.record_hash)
        .outerjoin(d, d.c.designation_chain_id == r.c.chain_right_id)
        .outerjoin(ir, ir.c.chain_right_id == d.c.ir_chain_right_id)
        .outerjoin(ir_record, ir_record.c.record_hash == ir.c.record_hash)
        .outerjoin(ir_ids, ir_ids.c.chain_right_id == d.c.ir_chain_right_id)
    )


def _right(row: RowMapping) -> dict[str, Any]:
    designation = row["ir_chain_right_id"] is not None
    owners = row["ir_owners"] if designation else row["owners"]
    indication = row["geographical_indication"]
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
        "owners": json.loads(owners) if owners else None,
        "title": row["ir_title"] if designation else row["title"],
        "registeredBlock": row["registered_block"],
        "updatedBlock": row["updated_block"],
        "updatedAt": iso(row["updated_at"]),
        "geographicalIndication": json.loads(indication) if indication else None,
        "internationalRegistration": (
            {"rightId": row["ir_right_id"], "chainRightId": row["ir_chain_right_id"]} if designation else None
        ),
    }


def _status(code: str | None, kind: str | None) -> dict[str, Any] | None:
    words = status_words(code or "", kind)
    return None if words is None else words.to_json()


# What the chain's event leaves out and the version's record tells: the conveyance's parties and recordal
# date, the status event's dates and text.
FROM_THE_RECORD = {
    "conveyance": ("assignorBag", "assigneeBag", "recordalDate", "officeRecordIdentifier"),
    "statusEvent": ("eventDate", "publicationDate", "freeText", "standard"),
    "designation": ("designationCategory",),
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


def _registration_of(conn: Connection, chain_id: str) -> str | None:
    """The international registration the entry `chain_id` is a designation of; None for a right."""
    d = db.designations
    value = conn.execute(select(d.c.ir_chain_right_id).where(d.c.designation_chain_id == chain_id)).scalar()
    return None if value is None else str(value)


def _as_decision(item: dict[str, Any], row: RowMapping, kind: str | None) -> None:
    """A designation's history item told as its office's decision, from the decision record once fetched."""
    decision = json.loads(row["change"]) if row["change"] else None
    item["decision"] = decision
    item["summary"] = story.decision(decision, row["office"], kind, row["status"])


def _designation(row: RowMapping) -> dict[str, Any]:
    """One designation of a registration, with its latest decision."""
    office = row["designated_office"]
    entry_id = row["right_id"]
    if entry_id is None and row["ir_right_id"] is not None:  # the registration's id, checked by keccak256
        derived = designation_id(row["ir_right_id"], office)
        if "0x" + chain_right_id(derived).hex() == row["designation_chain_id"]:
            entry_id = derived
    recorded = json.loads(row["designation"]) if row["designation"] else {}
    kind = row["kind"] or row["ir_kind"]
    decision = None
    if row["decision_version"] is not None:
        made = json.loads(row["decision"]) if row["decision"] else None
        decision = {
            "version": row["decision_version"],
            "decisionCategory": made.get("decisionCategory") if made else None,
            "scopeCategory": made.get("scopeCategory") if made else None,
            "classificationBag": made.get("classificationBag") if made else None,
            "goodsServicesText": made.get("goodsServicesText") if made else None,
            "decisionDate": made.get("decisionDate") if made else None,
            "statusCode": row["status"],
            "status": _status(row["status"], kind),
            "recordHash": row["decision_hash"],
            "recordChecked": made is not None,
            "blockNumber": row["updated_block"],
            "timestamp": iso(row["updated_at"]),
            "summary": story.decision(made, office, kind, row["status"]),
        }
    date = recorded.get("designationDate") or row["designation_date"]
    return {
        "designatedOfficeCode": office,
        "designationId": entry_id,
        "chainDesignationId": row["designation_chain_id"],
        "designationCategory": recorded.get("designationCategory"),
        "designationDate": date,
        "designatedInVersion": row["version"],
        "blockNumber": row["block_number"],
        "transactionHash": row["tx_hash"],
        "timestamp": iso(row["timestamp"]),
        "latestDecision": decision,
        "summary": decision["summary"]
        if decision
        else f"Designated to {office}" + (f" on {date}" if date else "") + "; no decision recorded yet",
    }


@dataclass(frozen=True)
class _Node:
    """A family member: a registry entry (its chain id), or an application outside the registry (its office
    and normalised number)."""

    chain_id: str | None
    office: str | None
    number: str | None  # normal_number of its application number
    application_number: str | None = None
    right_id: str | None = None

    @property
    def key(self) -> tuple[str | None, ...]:
        return (self.chain_id,) if self.chain_id else (None, self.office, self.number)

    @property
    def label(self) -> str:
        return self.right_id or self.chain_id or f"{self.office} {self.application_number or self.number}"


@dataclass(frozen=True)
class _Link:
    member: _Node
    relation: str  # what `member` is to the node it was reached from
    filing_date: str | None = None


def _links_of(conn: Connection, node: _Node) -> list[_Link]:
    """The links of one family member, from both sides: those its own record states, those other rights'
    records state about it (by its right id, or by its office and application number), and an international
    registration's designations (or a designation's registration)."""
    fl, ids = db.family_links, db.right_ids
    links: list[_Link] = []
    if node.chain_id is not None:
        office_numbers = _numbers_of(conn, node.chain_id)
        for row in conn.execute(select(fl).where(fl.c.chain_right_id == node.chain_id)).mappings():
            target = _resolve(conn, row)
            links.append(_Link(target, row["relation"], row["filing_date"]))
        about = fl.c.linked_chain_right_id == node.chain_id
        if office_numbers is not None:
            office, numbers = office_numbers
            if numbers:
                about = or_(about, and_(fl.c.linked_office == office, fl.c.linked_number.in_(numbers)))
    else:
        about = and_(fl.c.linked_office == node.office, fl.c.linked_number == node.number)
    stating = conn.execute(
        select(fl.c.chain_right_id, fl.c.relation, ids.c.right_id)
        .outerjoin(ids, ids.c.chain_right_id == fl.c.chain_right_id)
        .where(about)
        .order_by(fl.c.chain_right_id)
    ).mappings()
    for row in stating:
        relation = INVERSE.get(row["relation"], row["relation"])
        links.append(_Link(_Node(row["chain_right_id"], None, None, right_id=row["right_id"]), relation))
    if node.chain_id is not None:
        d = db.designations
        for row in conn.execute(
            select(d.c.designation_chain_id, d.c.designated_office, ids.c.right_id)
            .outerjoin(ids, ids.c.chain_right_id == d.c.designation_chain_id)
            .where(d.c.ir_chain_right_id == node.chain_id)
            .order_by(d.c.designated_office)
        ).mappings():
            member = _Node(
                row["designation_chain_id"], row["designated_office"], None, right_id=row["right_id"]
            )
            links.append(_Link(member, DESIGNATION))
        ir = _registration_of(conn, node.chain_id)
        if ir is not None:
            known = conn.execute(select(ids.c.right_id).where(ids.c.chain_right_id == ir)).scalar()
            links.append(_Link(_Node(ir, None, None, right_id=known), INTERNATIONAL_REGISTRATION))
    return links


def _numbers_of(conn: Connection, chain_id: str) -> tuple[str, list[str]] | None:
    """The office of a registry entry and the numbers it is known by (normalised); None when not indexed."""
    office = conn.execute(select(db.rights.c.office).where(db.rights.c.chain_right_id == chain_id)).scalar()
    if office is None:
        return None
    numbers = conn.execute(
        select(db.right_numbers.c.number).where(db.right_numbers.c.chain_right_id == chain_id)
    ).scalars()
    return str(office), [str(n) for n in numbers]


def _resolve(conn: Connection, link: RowMapping) -> _Node:
    """The member a stated link points at: the registry entry its right id names, else the one of that office
    known by that number, else the application itself, outside the registry."""
    chain_id = link["linked_chain_right_id"]
    if chain_id is None:
        r, numbers = db.rights, db.right_numbers
        chain_id = conn.execute(
            select(r.c.chain_right_id)
            .join(numbers, numbers.c.chain_right_id == r.c.chain_right_id)
            .where(and_(numbers.c.number == link["linked_number"], r.c.office == link["linked_office"]))
            .order_by(r.c.chain_right_id)
            .limit(1)
        ).scalar()
    if chain_id is None:
        return _Node(None, link["linked_office"], link["linked_number"], link["application_number"])
    known = conn.execute(select(db.right_ids.c.right_id).where(db.right_ids.c.chain_right_id == chain_id))
    return _Node(
        str(chain_id),
        link["linked_office"],
        link["linked_number"],
        link["application_number"],
        known.scalar() or link["linked_right_id"],
    )


def _members(conn: Connection, chain_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The current facts of the members that are registry entries (a designation with no decision yet: its
    reservation and its registration's owners)."""
    if not chain_ids:
        return {}
    found: dict[str, dict[str, Any]] = {}
    query = _right_query().where(db.rights.c.chain_right_id.in_(chain_ids))
    for row in conn.execute(query).mappings():
        found[row["chain_right_id"]] = _right(row)
    d, ir, ir_record = db.designations, db.rights.alias("ir"), db.records.alias("ir_record")
    undecided = [c for c in chain_ids if c not in found]
    if undecided:
        rows = conn.execute(
            select(d, ir.c.kind, ir_record.c.owners.label("ir_owners"), ir_record.c.title.label("ir_title"))
            .outerjoin(ir, ir.c.chain_right_id == d.c.ir_chain_right_id)
            .outerjoin(ir_record, ir_record.c.record_hash == ir.c.record_hash)
            .where(d.c.designation_chain_id.in_(undecided))
        ).mappings()
        for row in rows:
            found[row["designation_chain_id"]] = {
                "officeCode": row["designated_office"],
                "kind": row["kind"],
                "owners": json.loads(row["ir_owners"]) if row["ir_owners"] else None,
                "title": row["ir_title"],
                "statusCode": None,
                "status": None,
                "undecided": True,
            }
    return found


def _member_facts(node: _Node, facts: dict[str, Any] | None) -> dict[str, Any]:
    """A family member as the API gives it: where it is, whose it is, its status."""
    in_registry = facts is not None
    right_id = (facts or {}).get("rightId") or node.right_id
    number = node.application_number
    if number is None and right_id is not None and "@" not in right_id:
        number = right_id.split(":", 2)[2]  # a right id ends with its application number
    return {
        "officeCode": (facts or {}).get("officeCode")
        or node.office
        or (right_id or "").split(":", 1)[0]
        or None,
        "applicationNumber": number,
        "rightId": right_id if in_registry else None,
        "chainRightId": node.chain_id if in_registry else None,
        "inRegistry": in_registry,
        "kind": (facts or {}).get("kind"),
        "title": (facts or {}).get("title"),
        "owners": (facts or {}).get("owners"),
        "statusCode": (facts or {}).get("statusCode"),
        "status": (facts or {}).get("status"),
        "decided": not (facts or {}).get("undecided", False),
    }


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
