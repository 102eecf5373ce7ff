"""Follows the registry's events into the read model (gateway/read_model/db.py), up to head - confirmations.

A pass first checks that the last block it indexed is still canonical; if not, it walks back through the
blocks it stored to the newest one the chain still has, deletes everything above it in one transaction,
and indexes again from there. Each block range is indexed in one transaction that also moves the cursor,
so a restart resumes exactly where the last committed range ended.

Indexing queues, for each published record hash and each anchored root, what enrichment
(gateway/read_model/enrichment.py) then learns from the competent office's deep link, in a thread of its
own: event indexing never waits for an office.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.engine import Connection, Engine
from web3 import Web3
from web3._utils.events import get_event_data
from web3.contract import Contract
from web3.exceptions import BlockNotFound

from gateway.deep_links import OfficeDocuments
from gateway.read_model import db
from gateway.read_model.enrichment import Enricher
from gateway.read_model.events import (
    ZERO32,
    Log,
    apply_office_event,
    designation_row,
    document_row,
    event_row,
    event_signature,
    fetch_row,
    fold_event,
    hex0x,
    jsonable,
    latest_events,
    right_row,
    unique_rows,
)
from registry_node.protocol.chain import ConfirmationDepth, blocks_behind_head
from registry_node.protocol.contract import office_code
from registry_node.protocol.errors import ConfigError

log = logging.getLogger(__name__)

DEFAULT_RANGE = 2000  # blocks per eth_getLogs
RIGHT_EVENTS = frozenset(
    {"RightRegistered", "OwnershipChanged", "LegalStatusChanged", "RightPublished", "Designated"}
)
OFFICE_EVENTS = frozenset(
    {"OfficeAdmitted", "OfficeSuspended", "OfficeReinstated", "SigningKeyAdded", "SigningKeyRevoked",
     "EndpointChanged", "OfficeRenamed", "AccountRotated", "ValidatorChanged"}
)  # fmt: skip
CHUNK = 500


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class IndexerStatus:
    chain_id: int | None
    contract_address: str
    head_block: int | None
    indexed_block: int
    confirmations: int
    last_error: str | None
    head_seen_at: float | None

    @property
    def lag(self) -> int | None:
        """Blocks the index is behind the last head it saw."""
        return None if self.head_block is None else max(0, self.head_block - self.indexed_block)


class Indexer:
    """Indexes one registry contract into one read model; one instance per process, one thread indexing
    (`run`), with enrichment in a thread of its own."""

    def __init__(
        self,
        engine: Engine,
        w3: Web3,
        contract: Contract,
        documents: OfficeDocuments,
        confirmations: int | ConfirmationDepth = 1,
        start_block: int = 0,
        poll_interval_s: float = 1.0,
        backoff_max_s: float = 30.0,
        max_range: int = DEFAULT_RANGE,
    ) -> None:
        self.engine = engine
        self.w3 = w3
        self.contract = contract
        self.documents = documents
        self.enricher = Enricher(engine, documents)
        self.confirmations = confirmations
        self.start_block = start_block
        self.poll_interval_s = poll_interval_s
        self.backoff_max_s = backoff_max_s
        self.max_range = max(1, max_range)
        self.address = Web3.to_checksum_address(contract.address)
        wanted = RIGHT_EVENTS | OFFICE_EVENTS | {"RootAnchored"}
        abi: list[dict[str, Any]] = [dict(item) for item in contract.abi]
        self._events = {
            bytes(Web3.keccak(text=event_signature(item))): item
            for item in abi
            if item.get("type") == "event" and item["name"] in wanted
        }
        self._chain_id: int | None = None
        self._head_seen: int | None = None
        self._ensure_state()

    @property
    def head_seen(self) -> int | None:
        """The chain head this indexer last read and recorded in the read model; None before its first
        pass in this process. The same value as the read model's, without a query."""
        return self._head_seen

    # ------------------------------------------------------------ the loops

    def run(self, stop_event: threading.Event) -> None:
        """Indexes until `stop_event` is set; a chain outage only delays it (backoff up to backoff_max_s),
        and the read model keeps answering with what it has."""
        enricher = threading.Thread(
            target=self._enrich_loop, args=(stop_event,), name="enricher", daemon=True
        )
        enricher.start()
        delay = self.poll_interval_s
        try:
            while not stop_event.is_set():
                try:
                    self.run_once()
                    delay = self.poll_interval_s
                except Exception as err:
                    log.warning("indexing paused, retrying in %.1f s: %s", delay, err)
                    self._record_error(f"{type(err).__name__}: {err}")
                    stop_event.wait(delay)
                    delay = min(delay * 2, self.backoff_max_s)
                    continue
                stop_event.wait(self.poll_interval_s)
        finally:
            enricher.join(timeout=2 * self.documents.timeout_s + 5)

    def _enrich_loop(self, stop_event: threading.Event) -> None:
        while not stop_event.is_set():
            try:
                busy = self.enrich_once()
            except Exception:
                log.exception("enrichment pass failed")
                busy = 0
            if not busy:
                stop_event.wait(self.poll_interval_s)

    # ------------------------------------------------------------ indexing

    def run_once(self) -> int:
        """One pass: roll back what the chain no longer has, then index up to head - confirmations.
        Returns the number of blocks indexed. Chain errors propagate (the caller retries)."""
        head = int(self.w3.eth.block_number)
        if self._chain_id is None:
            self._chain_id = int(self.w3.eth.chain_id)
        with self.engine.begin() as conn:
            conn.execute(
                update(db.indexer_state)
                .where(db.indexer_state.c.id == 1)
                .values(head_block=head, head_seen_at=time.time(), last_error=None, chain_id=self._chain_id)
            )
        self._head_seen = head
        self._roll_back_if_reorganised()
        target = head - blocks_behind_head(self.confirmations, self.w3)
        indexed = 0
        cursor = self._cursor()
        while cursor < target:
            end = min(target, cursor + self.max_range)
            self._index_range(cursor + 1, end)
            indexed += end - cursor
            cursor = end
        return indexed

    def _ensure_state(self) -> None:
        """Creates the cursor on first use, and refuses a read model that belongs to another contract."""
        with self.engine.begin() as conn:
            row = conn.execute(select(db.indexer_state).where(db.indexer_state.c.id == 1)).mappings().first()
            if row is None:
                conn.execute(
                    insert(db.indexer_state).values(
                        id=1, contract_address=self.address, indexed_block=self.start_block - 1
                    )
                )
            elif row["contract_address"] != self.address:
                raise ConfigError(
                    "database_url",
                    f"this read model indexes {row['contract_address']}, not {self.address}: "
                    "use a new database for another registry",
                )

    def _cursor(self) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    select(db.indexer_state.c.indexed_block).where(db.indexer_state.c.id == 1)
                ).scalar_one()
            )

    def _record_error(self, message: str) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    update(db.indexer_state)
                    .where(db.indexer_state.c.id == 1)
                    .values(last_error=message[:500])
                )
        except Exception:
            log.exception("cannot record the indexer's error")

    def _canonical_hash(self, number: int) -> str | None:
        try:
            return hex0x(self.w3.eth.get_block(number)["hash"])
        except BlockNotFound:
            return None

    def _roll_back_if_reorganised(self) -> None:
        with self.engine.connect() as conn:
            state = conn.execute(select(db.indexer_state).where(db.indexer_state.c.id == 1)).mappings().one()
        indexed, indexed_hash = int(state["indexed_block"]), state["indexed_hash"]
        if indexed < self.start_block or indexed_hash is None:
            return
        if self._canonical_hash(indexed) == indexed_hash:
            return
        ancestor, ancestor_hash = self.start_block - 1, None
        with self.engine.connect() as conn:
            stored = conn.execute(
                select(db.blocks.c.number, db.blocks.c.hash)
                .where(db.blocks.c.number < indexed)
                .order_by(db.blocks.c.number.desc())
            ).all()
        for number, block_hash in stored:
            if self._canonical_hash(int(number)) == block_hash:
                ancestor, ancestor_hash = int(number), str(block_hash)
                break
        log.warning("chain reorganisation: rolling back from block %d to %d", indexed, ancestor)
        with self.engine.begin() as conn:
            self._delete_above(conn, ancestor)
            conn.execute(
                update(db.indexer_state)
                .where(db.indexer_state.c.id == 1)
                .values(indexed_block=ancestor, indexed_hash=ancestor_hash)
            )

    def _delete_above(self, conn: Connection, ancestor: int) -> None:
        """Deletes every chain fact above block `ancestor` and refolds what was derived from them."""
        touched = [
            r[0]
            for r in conn.execute(
                select(db.events.c.chain_right_id).where(db.events.c.block_number > ancestor).distinct()
            )
        ]
        roots = [
            r[0] for r in conn.execute(select(db.anchors.c.root).where(db.anchors.c.block_number > ancestor))
        ]
        for table in (
            db.events,
            db.designations,
            db.documents,
            db.office_events,
            db.anchored_records,
            db.anchors,
            db.fetch_queue,
        ):
            conn.execute(delete(table).where(table.c.block_number > ancestor))
        for chunk in _chunks(roots):
            conn.execute(delete(db.anchored_records).where(db.anchored_records.c.root.in_(chunk)))
        conn.execute(delete(db.blocks).where(db.blocks.c.number > ancestor))
        for chunk in _chunks(touched):
            conn.execute(delete(db.rights).where(db.rights.c.chain_right_id.in_(chunk)))
            latest = latest_events(conn, list(chunk))
            if latest:
                conn.execute(insert(db.rights), [right_row(ev, first) for ev, first in latest])
        conn.execute(delete(db.offices))
        conn.execute(delete(db.keys))
        for row in conn.execute(
            select(db.office_events).order_by(db.office_events.c.block_number, db.office_events.c.log_index)
        ).mappings():
            apply_office_event(
                conn, row["name"], row["office"], json.loads(row["data"]), int(row["block_number"])
            )

    def _index_range(self, start: int, end: int) -> None:
        """Indexes blocks start..end in one transaction that also moves the cursor to `end`."""
        end_block = self.w3.eth.get_block(end)
        raw_logs = self.w3.eth.get_logs({"address": self.address, "fromBlock": start, "toBlock": end})
        if self.w3.eth.get_block(end)["hash"] != end_block["hash"]:
            raise _Reorganised(f"block {end} changed while its range was read")
        decoded = [entry for entry in (self._decode(raw) for raw in raw_logs) if entry is not None]
        logs = sorted(decoded, key=lambda e: (e.block_number, e.log_index))
        headers: dict[int, Any] = {end: end_block}
        for number in sorted({entry.block_number for entry in logs}):
            if number not in headers:
                headers[number] = self.w3.eth.get_block(number)
        for entry in logs:
            if hex0x(headers[entry.block_number]["hash"]) != entry.block_hash:
                raise _Reorganised(f"block {entry.block_number} changed while its range was read")
        with self.engine.begin() as conn:
            numbers = list(headers)
            for chunk in _chunks(numbers):
                conn.execute(delete(db.blocks).where(db.blocks.c.number.in_(chunk)))
            conn.execute(
                insert(db.blocks),
                [
                    {
                        "number": n,
                        "hash": hex0x(h["hash"]),
                        "parent_hash": hex0x(h["parentHash"]),
                        "timestamp": int(h["timestamp"]),
                    }
                    for n, h in headers.items()
                ],
            )
            timestamps = {n: int(h["timestamp"]) for n, h in headers.items()}
            self._apply(conn, logs, timestamps)
            conn.execute(
                update(db.indexer_state)
                .where(db.indexer_state.c.id == 1)
                .values(indexed_block=end, indexed_hash=hex0x(end_block["hash"]))
            )

    def _decode(self, raw: Any) -> Log | None:
        """The log decoded with the registry's ABI; None for an event the read model does not need."""
        abi = self._events.get(bytes(raw["topics"][0])) if raw["topics"] else None
        if abi is None:
            return None
        decoded = get_event_data(self.w3.codec, abi, raw)
        return Log(
            name=abi["name"],
            args=dict(decoded["args"]),
            block_number=int(raw["blockNumber"]),
            log_index=int(raw["logIndex"]),
            block_hash=hex0x(raw["blockHash"]),
            tx_hash=hex0x(raw["transactionHash"]),
        )

    def _apply(self, conn: Connection, logs: list[Log], timestamps: dict[int, int]) -> None:
        """Writes the range's events; rights are folded in memory from their current rows."""
        right_logs = [e for e in logs if e.name in RIGHT_EVENTS]
        touched = sorted({hex0x(e.args["rightId"]) for e in right_logs})
        current: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(touched):
            for stored in conn.execute(
                select(db.rights).where(db.rights.c.chain_right_id.in_(chunk))
            ).mappings():
                current[stored["chain_right_id"]] = dict(stored)
        event_rows: list[dict[str, Any]] = []
        designation_rows: list[dict[str, Any]] = []
        document_rows: list[dict[str, Any]] = []
        fetches: list[dict[str, Any]] = []
        for entry in logs:
            timestamp = timestamps[entry.block_number]
            if entry.name in RIGHT_EVENTS:
                row = event_row(entry, current.get(hex0x(entry.args["rightId"])), timestamp)
                event_rows.append(row)
                current[row["chain_right_id"]] = fold_event(current.get(row["chain_right_id"]), row)
                if entry.name == "Designated":
                    designation_rows.append(designation_row(entry, row))
                if not row["confidential"]:
                    document_rows.append(document_row(row["record_hash"], "record", row))
                    fetches.append(fetch_row("record", row["record_hash"], row))
                evidence = json.loads(row["details"]).get("conveyance", {}).get("evidenceHash")
                if evidence and evidence != ZERO32:
                    document_rows.append(document_row(evidence, "evidence", row))
            elif entry.name in OFFICE_EVENTS:
                office = office_code(entry.args["office"])
                data = jsonable(entry.args)
                conn.execute(
                    insert(db.office_events).values(
                        block_number=entry.block_number,
                        log_index=entry.log_index,
                        office=office,
                        name=entry.name,
                        data=json.dumps(data, sort_keys=True),
                    )
                )
                apply_office_event(conn, entry.name, office, data, entry.block_number)
            else:  # RootAnchored
                root = hex0x(entry.args["root"])
                conn.execute(
                    insert(db.anchors).values(
                        root=root,
                        office=office_code(entry.args["office"]),
                        count=int(entry.args["count"]),
                        manifest_hash=bytes(entry.args["manifestHash"]).hex(),
                        block_number=entry.block_number,
                        log_index=entry.log_index,
                        block_hash=entry.block_hash,
                        timestamp=timestamp,
                        tx_hash=entry.tx_hash,
                        manifest_status="pending",
                        manifest_hash_checked=False,
                    )
                )
                fetches.append(
                    {
                        "target": "anchor",
                        "key": root,
                        "office": office_code(entry.args["office"]),
                        "chain_right_id": None,
                        "version": None,
                        "block_number": entry.block_number,
                    }
                )
        if event_rows:
            conn.execute(insert(db.events), event_rows)
        if designation_rows:
            conn.execute(insert(db.designations), designation_rows)
        for chunk in _chunks(list(current)):
            conn.execute(delete(db.rights).where(db.rights.c.chain_right_id.in_(chunk)))
        if current:
            conn.execute(insert(db.rights), list(current.values()))
        if document_rows:
            conn.execute(
                insert(db.documents),
                unique_rows(document_rows, ("hash", "role", "chain_right_id", "version")),
            )
        self._queue(conn, fetches)

    def _queue(self, conn: Connection, fetches: list[dict[str, Any]]) -> None:
        """Queues what enrichment must fetch, skipping what is already queued or known."""
        if not fetches:
            return
        known: set[tuple[str, str]] = set()
        records = [f["key"] for f in fetches if f["target"] == "record"]
        for chunk in _chunks(records):
            known |= {
                ("record", k)
                for (k,) in conn.execute(
                    select(db.records.c.record_hash).where(db.records.c.record_hash.in_(chunk))
                )
            }
        for target in ("record", "anchor"):
            keys = [f["key"] for f in fetches if f["target"] == target]
            for chunk in _chunks(keys):
                known |= {
                    (target, k)
                    for (k,) in conn.execute(
                        select(db.fetch_queue.c.key).where(
                            and_(db.fetch_queue.c.target == target, db.fetch_queue.c.key.in_(chunk))
                        )
                    )
                }
        now = time.time()
        rows = []
        for f in fetches:
            if (f["target"], f["key"]) in known:
                continue
            known.add((f["target"], f["key"]))
            rows.append({**f, "state": "pending", "attempts": 0, "next_attempt_at": now, "last_error": None})
        if rows:
            conn.execute(insert(db.fetch_queue), rows)

    # ------------------------------------------------------------ enrichment

    def enrich_once(self, now: float | None = None, limit: int = 200) -> int:
        """One enrichment pass (gateway/read_model/enrichment.py); the number of items settled or retried."""
        return self.enricher.enrich_once(now, limit)

    # ------------------------------------------------------------ status

    def status(self) -> IndexerStatus:
        return read_status(self.engine, blocks_behind_head(self.confirmations, self.w3))


class _Reorganised(Exception):
    """The chain changed under a pass; the next pass rolls back and starts again."""


def read_status(engine: Engine, confirmations: int) -> IndexerStatus:
    """Where the indexer stands, as the read model records it (so any process can tell)."""
    with engine.connect() as conn:
        row = conn.execute(select(db.indexer_state).where(db.indexer_state.c.id == 1)).mappings().first()
    if row is None:
        return IndexerStatus(None, "", None, -1, confirmations, "the indexer has not started", None)
    return IndexerStatus(
        chain_id=row["chain_id"],
        contract_address=row["contract_address"] or "",
        head_block=row["head_block"],
        indexed_block=int(row["indexed_block"]),
        confirmations=confirmations,
        last_error=row["last_error"],
        head_seen_at=row["head_seen_at"],
    )
