"""Enrichment of the read model from the offices' deep links, apart from event indexing.

For each published record hash the indexer queued, the competent office's deep link is asked for the record
(owners, title, string right id, source XML hash, family links); it is kept only if it hashes to the hash on
chain and names the right the event named. A designated office's decision on a designation of an
international registration is a `DesignationRecord`, kept on the same terms, and only when the designation
it names is one of that office's (`WO:TM:1234567@GB`, recorded by GB): it has no owners of its own (they are
the registration's) and its change is the decision. A right record's family links replace those of the
right's older records; an international registration's record also teaches the string ids of its
designations (`right_ids`), checked against their keccak256.

For each anchored root, the office's manifest is kept only if its Merkle root is the anchored root, and its
items then point at the anchored records. An office that does not answer is asked again later, backing off
(FETCH_BACKOFF_S); the indexer never waits for it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from typing import Any

import rfc8785
from pydantic import ValidationError
from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.engine import Connection, Engine

from gateway.deep_links import OfficeDocuments, OfficeUnreachable
from gateway.read_model import db
from gateway.read_model.events import hex0x
from registry_node.protocol.merkle import MerkleTree
from registry_node.protocol.records import (
    DesignationRecord,
    RightRecord,
    chain_right_id,
    designation_id,
)
from registry_node.protocol.st96 import St96Error, canonical_xml

log = logging.getLogger(__name__)

FETCH_BACKOFF_S = (5.0, 30.0, 120.0, 600.0, 3600.0)


class Enricher:
    """Settles the read model's fetch queue from the offices' deep links; one pass at a time."""

    def __init__(self, engine: Engine, documents: OfficeDocuments) -> None:
        self.engine = engine
        self.documents = documents

    def enrich_once(self, now: float | None = None, limit: int = 200) -> int:
        """Fetches what is due from offices' deep links; returns how many items were settled or retried.
        An office that does not answer is skipped for the rest of the pass."""
        now = time.time() if now is None else now
        with self.engine.connect() as conn:
            due = (
                conn.execute(
                    select(db.fetch_queue)
                    .where(and_(db.fetch_queue.c.state == "pending", db.fetch_queue.c.next_attempt_at <= now))
                    .order_by(db.fetch_queue.c.next_attempt_at, db.fetch_queue.c.block_number)
                    .limit(limit)
                )
                .mappings()
                .all()
            )
            endpoints = {
                str(c): str(e) for c, e in conn.execute(select(db.offices.c.code, db.offices.c.endpoint))
            }
        down: set[str] = set()
        handled = 0
        for item in due:
            office = item["office"]
            if office in down:
                continue
            endpoint = endpoints.get(office)
            handled += 1
            try:
                if endpoint is None:
                    raise OfficeUnreachable(office, "no endpoint registered on chain")
                if item["target"] == "record":
                    self._enrich_record(dict(item), endpoint)
                else:
                    self._enrich_anchor(dict(item), endpoint)
            except OfficeUnreachable as err:
                down.add(office)
                self._retry_later(dict(item), str(err))
        return handled

    def _enrich_record(self, item: dict[str, Any], endpoint: str) -> None:
        record_hash = bytes.fromhex(item["key"])
        document = self.documents.by_hash(endpoint, record_hash)
        if document is None:
            self._retry_later(item, "the office has no published document with this record hash")
            return
        if document.record_hash != record_hash:
            self._settle(item, "rejected", "the document does not hash to the record hash on chain")
            return
        try:
            data = document.record()
            record: RightRecord | DesignationRecord = (
                DesignationRecord.model_validate(data)
                if str(data.get("schema", "")).startswith("ipreg/designation-record/")
                else RightRecord.model_validate(data)
            )
        except (ValueError, ValidationError) as err:
            self._settle(item, "rejected", f"not a valid record: {str(err)[:200]}")
            return
        if hex0x(chain_right_id(record.rightId)) != item["chain_right_id"]:
            self._settle(item, "rejected", "the record names another right than the event on chain")
            return
        if record.version != item["version"]:
            self._settle(
                item, "rejected", f"the record is version {record.version}, the event {item['version']}"
            )
            return
        if isinstance(record, DesignationRecord):
            if record.designatedOfficeCode != item["office"]:
                self._settle(
                    item,
                    "rejected",
                    f"{record.designationId} designates {record.designatedOfficeCode}, but "
                    f"{item['office']} recorded it",
                )
                return
            self._keep_decision(item, record)
            return
        source_hash = None
        if document.source_xml is not None:
            try:
                source_hash = hashlib.sha256(canonical_xml(document.source_xml)).hexdigest()
            except St96Error:
                source_hash = None
        right = record.right
        made = record.ownershipChange or record.legalStatusEvent or record.designation
        change = json.dumps(made.to_json(), sort_keys=True) if made is not None else None
        indication = None
        if right.giNameText or right.productText or right.geographicRegionDescriptionText:
            indication = json.dumps(
                {
                    "name": right.giNameText,
                    "product": right.productText,
                    "area": right.geographicRegionDescriptionText,
                },
                sort_keys=True,
            )
        with self.engine.begin() as conn:
            self._keep_record(
                conn,
                item,
                right_id=right.rightId,
                version=record.version,
                owners=json.dumps([p.to_json() for p in right.ownerBag]),
                title=right.title,
                source_xml_hash=source_hash,
                change=change,
                geographical_indication=indication,
            )
            numbers = {right.applicationNumberText, right.registrationNumberText or ""}
            for publication in right.publicationBag:
                if publication.publicationNumber is not None:  # a gazette's identifier is not a number
                    numbers |= {
                        publication.publicationNumber,
                        right.ipOfficeCode + publication.publicationNumber,
                    }
            known = {
                row[0]
                for row in conn.execute(
                    select(db.right_numbers.c.number).where(
                        db.right_numbers.c.chain_right_id == item["chain_right_id"]
                    )
                )
            }
            for number in {db.normal_number(n) for n in numbers if n} - known:
                conn.execute(
                    insert(db.right_numbers).values(number=number, chain_right_id=item["chain_right_id"])
                )
            _learn_id(conn, item["chain_right_id"], right.rightId)
            for designation in right.designationBag or []:
                entry_id = designation_id(right.rightId, designation.designatedOfficeCode)
                _learn_id(conn, hex0x(chain_right_id(entry_id)), entry_id)
            self._keep_links(conn, item, record)
            self._settle(item, "done", None, conn)

    def _keep_decision(self, item: dict[str, Any], record: DesignationRecord) -> None:
        """A designated office's decision record: no owners, no title of its own (the registration's are
        read with it), its decision as its change."""
        change = json.dumps(record.decision.to_json(), sort_keys=True)
        with self.engine.begin() as conn:
            self._keep_record(
                conn,
                item,
                right_id=record.designationId,
                version=record.version,
                owners="[]",
                title=None,
                source_xml_hash=None,
                change=change,
                geographical_indication=None,
            )
            _learn_id(conn, item["chain_right_id"], record.designationId)
            self._settle(item, "done", None, conn)

    @staticmethod
    def _keep_record(conn: Connection, item: dict[str, Any], **values: Any) -> None:
        """Inserts the records row; one fetched before the change column existed gets its change filled in."""
        if conn.execute(
            select(db.records.c.record_hash).where(db.records.c.record_hash == item["key"])
        ).first():
            conn.execute(
                update(db.records)
                .where(db.records.c.record_hash == item["key"])
                .values(change=values["change"], geographical_indication=values["geographical_indication"])
            )
            return
        conn.execute(
            insert(db.records).values(
                record_hash=item["key"],
                chain_right_id=item["chain_right_id"],
                fetched_at=time.time(),
                **values,
            )
        )

    @staticmethod
    def _keep_links(conn: Connection, item: dict[str, Any], record: RightRecord) -> None:
        """The family links of the right's newest record fetched so far replace those of its older ones."""
        links = db.family_links
        chain_rid = item["chain_right_id"]
        stated = conn.execute(select(func.max(links.c.version)).where(links.c.chain_right_id == chain_rid))
        newest = stated.scalar()
        if newest is not None and int(newest) > record.version:
            return
        rows = {}
        for link in record.right.familyLinkBag or []:
            number = db.normal_number(link.applicationNumberText)
            rows[(link.relationCategory.value, link.ipOfficeCode, number)] = {
                "chain_right_id": chain_rid,
                "relation": link.relationCategory.value,
                "linked_office": link.ipOfficeCode,
                "linked_number": number,
                "application_number": link.applicationNumberText,
                "filing_date": link.filingDate,
                "linked_right_id": link.rightId,
                "linked_chain_right_id": hex0x(chain_right_id(link.rightId)) if link.rightId else None,
                "version": record.version,
            }
        conn.execute(delete(links).where(links.c.chain_right_id == chain_rid))
        if rows:
            conn.execute(insert(links), list(rows.values()))

    def _enrich_anchor(self, item: dict[str, Any], endpoint: str) -> None:
        root = bytes.fromhex(item["key"][2:])
        manifest = self.documents.anchor_manifest(endpoint, root)
        if manifest is None:
            self._retry_later(item, "the office has no manifest for this root")
            return
        try:
            entries = [
                (str(i["rightId"]), int(i["version"]), bytes.fromhex(str(i["recordHash"]).removeprefix("0x")))
                for i in manifest["items"]
            ]
            if not entries or any(len(h) != 32 for _, _, h in entries):
                raise ValueError("record hashes must be 32 bytes")
            tree = MerkleTree.from_record_hashes([h for _, _, h in entries])
        except (KeyError, TypeError, ValueError) as err:
            self._settle_anchor(item, "mismatch", False, [], f"malformed manifest: {err}")
            return
        if tree.root != root:
            self._settle_anchor(
                item, "mismatch", False, [], "the manifest's Merkle root is not the anchored root"
            )
            return
        checked = _manifest_hash_matches(manifest, self._anchor_manifest_hash(item["key"]))
        self._settle_anchor(item, "verified", checked, entries, None)

    def _anchor_manifest_hash(self, root: str) -> str | None:
        with self.engine.connect() as conn:
            value = conn.execute(select(db.anchors.c.manifest_hash).where(db.anchors.c.root == root)).scalar()
        return None if value is None else str(value)

    def _settle_anchor(
        self,
        item: dict[str, Any],
        status: str,
        hash_checked: bool,
        entries: list[tuple[str, int, bytes]],
        error: str | None,
    ) -> None:
        with self.engine.begin() as conn:
            moved = conn.execute(
                update(db.anchors)
                .where(
                    and_(db.anchors.c.root == item["key"], db.anchors.c.block_number == item["block_number"])
                )
                .values(manifest_status=status, manifest_hash_checked=hash_checked)
            ).rowcount
            if not moved:
                return  # rolled back by a reorganisation meanwhile
            if entries:
                conn.execute(
                    insert(db.anchored_records),
                    [
                        {
                            "root": item["key"],
                            "record_hash": h.hex(),
                            "right_id": rid,
                            "version": version,
                            "block_number": item["block_number"],
                        }
                        for rid, version, h in entries
                    ],
                )
            self._settle(item, "done" if status == "verified" else "rejected", error, conn)

    def _settle(
        self, item: dict[str, Any], state: str, error: str | None, conn: Connection | None = None
    ) -> None:
        if error:
            log.warning("%s %s from %s: %s", item["target"], item["key"], item["office"], error)
        values = {"state": state, "attempts": item["attempts"] + 1, "last_error": error}
        where = and_(db.fetch_queue.c.target == item["target"], db.fetch_queue.c.key == item["key"])
        if conn is not None:
            conn.execute(update(db.fetch_queue).where(where).values(**values))
            return
        with self.engine.begin() as own:
            own.execute(update(db.fetch_queue).where(where).values(**values))

    def _retry_later(self, item: dict[str, Any], error: str) -> None:
        attempts = item["attempts"] + 1
        delay = FETCH_BACKOFF_S[min(attempts, len(FETCH_BACKOFF_S)) - 1]
        where = and_(db.fetch_queue.c.target == item["target"], db.fetch_queue.c.key == item["key"])
        with self.engine.begin() as conn:
            conn.execute(
                update(db.fetch_queue)
                .where(where)
                .values(attempts=attempts, next_attempt_at=time.time() + delay, last_error=error[:500])
            )


def _learn_id(conn: Connection, chain_rid: str, right_id: str) -> None:
    """Records that `right_id` is the string whose keccak256 is `chain_rid` (the caller checked it)."""
    if not conn.execute(
        select(db.right_ids.c.right_id).where(db.right_ids.c.chain_right_id == chain_rid)
    ).first():
        conn.execute(insert(db.right_ids).values(chain_right_id=chain_rid, right_id=right_id))


def _manifest_hash_matches(manifest: dict[str, Any], manifest_hash: str | None) -> bool:
    """Whether the anchored manifestHash is the SHA-256 of the manifest's RFC 8785 form without its own
    `manifestHash` field, as the anchoring office made it."""
    if manifest_hash is None:
        return False
    body = {k: v for k, v in manifest.items() if k != "manifestHash"}
    try:
        return hashlib.sha256(bytes(rfc8785.dumps(body))).hexdigest() == manifest_hash
    except (TypeError, ValueError, rfc8785.CanonicalizationError):
        return False
