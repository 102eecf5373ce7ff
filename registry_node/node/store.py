"""The office's own authoritative copy: rights, their signed versions, and the durable outbox to the chain.

SQLite in WAL mode with `synchronous=FULL`: once `accept` returns, the change is on disk, and it is one
transaction, so a change is stored whole (right, version, signed document, outbox entry) or not at all.
The outbox entry's idempotency key is (right id, version): the same change can never be queued twice,
which is what lets the chain worker replay after a crash without writing twice.

An anchored import stores its records the same way but queues no call per right: each batch of records
becomes one anchor (its Merkle root, its manifest, and one outbox entry keyed `anchor:{root}`), stored in
the same transaction as the records. Such a right gets its own registration queued, ahead of its first
change and in the same transaction, only when the office changes it.

One concern in one module: every statement that reads or writes node.sqlite is here, so its transactions
and their invariants can be read in one place.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from registry_node.protocol.errors import RegistryError

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rights (
    right_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    version INTEGER NOT NULL,
    confidential INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS versions (
    right_id TEXT NOT NULL REFERENCES rights(right_id),
    version INTEGER NOT NULL,
    change_kind TEXT NOT NULL,
    record_hash BLOB NOT NULL,
    canonical BLOB NOT NULL,
    signature TEXT NOT NULL,
    source_xml BLOB,
    published INTEGER NOT NULL,
    state TEXT NOT NULL,
    accepted_at REAL NOT NULL,
    PRIMARY KEY (right_id, version)
);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    right_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    action TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    tx_hash TEXT,
    nonce INTEGER,
    raw_tx BLOB,
    block_number INTEGER,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    updated_at REAL NOT NULL,
    UNIQUE (right_id, version)
);
CREATE TABLE IF NOT EXISTS anchors (
    root BLOB PRIMARY KEY,
    manifest BLOB NOT NULL,
    manifest_hash BLOB NOT NULL,
    count INTEGER NOT NULL,
    outbox_id INTEGER NOT NULL REFERENCES outbox(id),
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS anchored_versions (
    right_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    root BLOB NOT NULL REFERENCES anchors(root),
    PRIMARY KEY (right_id, version)
);
CREATE INDEX IF NOT EXISTS outbox_by_state ON outbox (state, id);
CREATE INDEX IF NOT EXISTS versions_by_hash ON versions (record_hash);
"""


class StoreError(RegistryError):
    """The store refused a write; nothing of it was kept."""


class DuplicateChange(StoreError):
    def __init__(self, right_id: str, version: int) -> None:
        super().__init__(f"{right_id} version {version} was already accepted")
        self.right_id = right_id
        self.version = version


class StaleVersion(StoreError):
    def __init__(self, right_id: str, expected: int, actual: int) -> None:
        super().__init__(f"{right_id} is at version {actual}, not {expected}")
        self.right_id = right_id
        self.expected = expected
        self.actual = actual


class OutboxState(StrEnum):
    PENDING = "pending"  # accepted, not yet sent
    SENT = "sent"  # a signed transaction with this nonce was sent; awaiting its receipt
    CONFIRMED = "confirmed"  # mined, and as deep as the configured confirmations
    FAILED = "failed"  # refused by the contract; `error` says why; never retried blindly


@dataclass(frozen=True)
class AcceptedChange:
    """A change as the operator gives it, signed and ready to be stored."""

    right_id: str
    kind: str
    version: int
    change_kind: str
    record_hash: bytes
    canonical: bytes
    signature: dict[str, Any]
    action: str
    payload: dict[str, Any]
    confidential: bool = False
    source_xml: bytes | None = None
    state: dict[str, Any] = field(default_factory=dict)  # what the next change needs: chain state, salts
    publishes: bool = False  # a publication: every earlier version becomes public
    anchored: bool = False  # no call of its own: its record hash goes into an anchor (accept_anchored)
    queue_first: tuple[QueuedCall, ...] = ()  # calls queued ahead of this change (a deferred registration)


@dataclass(frozen=True)
class QueuedCall:
    """A contract call queued in the outbox under its own (right id, version) key."""

    right_id: str
    version: int
    action: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class AnchorBatch:
    """One anchor of an import: its Merkle root, its manifest (RFC 8785 bytes), the call that anchors it."""

    root: bytes
    manifest: bytes
    manifest_hash: bytes
    versions: list[tuple[str, int]]  # (right id, version) of every record it anchors
    call: QueuedCall


@dataclass(frozen=True)
class StoredAnchor:
    root: bytes
    manifest: bytes
    manifest_hash: bytes
    count: int
    outbox_id: int


@dataclass(frozen=True)
class OutboxEntry:
    id: int
    right_id: str
    version: int
    action: str
    payload: dict[str, Any]
    state: OutboxState
    tx_hash: str | None
    nonce: int | None
    block_number: int | None
    error: str | None
    attempts: int
    raw_tx: bytes | None = None


@dataclass(frozen=True)
class SentTransaction:
    """A signed transaction about to be broadcast, and the entries it carries."""

    entry_ids: list[int]
    tx_hash: str
    nonce: int
    raw_tx: bytes | None = None


@dataclass(frozen=True)
class StoredVersion:
    right_id: str
    version: int
    change_kind: str
    record_hash: bytes
    canonical: bytes
    signature: dict[str, Any]
    source_xml: bytes | None
    published: bool
    state: dict[str, Any]


_WRITE_LOCKS: dict[Path, threading.Lock] = {}
_WRITE_LOCKS_GUARD = threading.Lock()


def _write_lock(path: Path) -> threading.Lock:
    """One lock per database file and process: writers of one process queue here and are woken at once,
    instead of polling in SQLite's busy handler, whose sleeps grow to 100 ms under contention."""
    with _WRITE_LOCKS_GUARD:
        return _WRITE_LOCKS.setdefault(path.resolve(), threading.Lock())


INSERT_RIGHT = "INSERT INTO rights VALUES (?, ?, ?, ?)"
INSERT_VERSION = "INSERT INTO versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"


def _right_row(change: AcceptedChange) -> tuple[Any, ...]:
    """A new right's row in `rights`, as its first stored change makes it."""
    return (change.right_id, change.kind, change.version, int(change.confidential))


def _version_row(change: AcceptedChange, now: float) -> tuple[Any, ...]:
    """A change's row in `versions`: published unless confidential."""
    return (change.right_id, change.version, change.change_kind, change.record_hash, change.canonical,
            json.dumps(change.signature), change.source_xml, int(not change.confidential),
            json.dumps(change.state), now)  # fmt: skip


class Store:
    """One office's SQLite database; safe to open from several threads (one connection each)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._write_lock = _write_lock(path)
        self._local = threading.local()
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(SCHEMA)
            db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))

    def _connect(self) -> sqlite3.Connection:
        """This thread's connection, opened once and kept: closing the last connection to a WAL database
        checkpoints and syncs it, which would cost every call a second disk sync."""
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA foreign_keys=ON")
            self._local.db = db
        return db

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._write_lock:
            db = self._connect()
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:  # SQLite rolls back by itself on a full disk or an I/O error
                    db.execute("ROLLBACK")
                raise

    def journal_mode(self) -> str:
        db = self._connect()
        return str(db.execute("PRAGMA journal_mode").fetchone()[0])

    def accept(self, change: AcceptedChange) -> OutboxEntry:
        """Stores the change and queues it for the chain, all or nothing; on disk when this returns."""
        if change.anchored:
            raise StoreError("an anchored change is stored by accept_anchored")
        with self._transaction() as db:
            entry = self._insert(db, change)
        assert entry is not None
        return entry

    def accept_many(self, changes: list[AcceptedChange]) -> list[OutboxEntry | StoreError]:
        """Stores many changes in one transaction (one disk sync for a bulk import). Each change is kept
        whole or refused whole; a refused one (a duplicate, a stale version) does not stop the others."""
        if any(change.anchored for change in changes):
            raise StoreError("an anchored change is stored by accept_anchored")
        with self._transaction() as db:
            outcomes = self._insert_each(db, changes)
        return [o for o in outcomes if o is not None]

    def accept_anchored(
        self,
        changes: list[AcceptedChange],
        anchors_of: Callable[[list[AcceptedChange]], list[AnchorBatch]],
    ) -> tuple[list[StoreError | None], list[tuple[AnchorBatch, OutboxEntry]]]:
        """Stores anchored changes and the anchors of those kept, in one transaction: `anchors_of` gets the
        changes that were kept (a duplicate is refused alone) and groups them into anchors. Returns each
        change's refusal (None when kept) and each anchor with its outbox entry."""
        if not all(change.anchored for change in changes):
            raise StoreError("accept_anchored stores anchored changes only")
        with self._transaction() as db:
            outcomes = self._insert_each(db, changes)
            refusals = [o if isinstance(o, StoreError) else None for o in outcomes]
            kept = [c for c, o in zip(changes, refusals, strict=True) if o is None]
            anchors = []
            now = time.time()
            for batch in anchors_of(kept) if kept else []:
                entry = self._queue(db, batch.call, now)
                db.execute(
                    "INSERT INTO anchors VALUES (?, ?, ?, ?, ?, ?)",
                    (batch.root, batch.manifest, batch.manifest_hash, len(batch.versions), entry.id, now),
                )
                db.executemany(
                    "INSERT INTO anchored_versions VALUES (?, ?, ?)",
                    [(right_id, version, batch.root) for right_id, version in batch.versions],
                )
                anchors.append((batch, entry))
        return refusals, anchors

    def _insert_each(
        self, db: sqlite3.Connection, changes: list[AcceptedChange]
    ) -> list[OutboxEntry | StoreError | None]:
        if all(c.version == 1 and c.anchored and not (c.queue_first or c.publishes) for c in changes):
            return self._insert_registrations(db, changes)
        outcomes: list[OutboxEntry | StoreError | None] = []
        for change in changes:
            db.execute("SAVEPOINT change")
            try:
                outcomes.append(self._insert(db, change))
                db.execute("RELEASE change")
            except StoreError as err:
                db.execute("ROLLBACK TO change")
                db.execute("RELEASE change")
                outcomes.append(err)
        return outcomes

    def _insert_registrations(
        self, db: sqlite3.Connection, changes: list[AcceptedChange]
    ) -> list[OutboxEntry | StoreError | None]:
        """`_insert_each` for anchored version-1 changes (a bulk import), in three statements instead of
        five per change: a right already stored, or met earlier in the batch, is refused alone as a
        duplicate, exactly as `_insert` refuses it; the others are inserted by executemany."""
        ids = json.dumps([change.right_id for change in changes])
        seen = {row[0] for row in db.execute("SELECT right_id FROM rights WHERE right_id IN "
                                             "(SELECT value FROM json_each(?))", (ids,))}  # fmt: skip
        outcomes: list[OutboxEntry | StoreError | None] = []
        kept: list[AcceptedChange] = []
        for change in changes:
            if change.right_id in seen:
                outcomes.append(DuplicateChange(change.right_id, change.version))
            else:
                seen.add(change.right_id)
                kept.append(change)
                outcomes.append(None)
        db.executemany(INSERT_RIGHT, [_right_row(c) for c in kept])
        now = time.time()
        db.executemany(INSERT_VERSION, [_version_row(c, now) for c in kept])
        return outcomes

    def _insert(self, db: sqlite3.Connection, change: AcceptedChange) -> OutboxEntry | None:
        row = db.execute("SELECT version FROM rights WHERE right_id = ?", (change.right_id,)).fetchone()
        current = row[0] if row else 0
        if change.version <= current:
            raise DuplicateChange(change.right_id, change.version)
        if change.version != current + 1:
            raise StaleVersion(change.right_id, change.version - 1, current)
        if row is None:
            db.execute(INSERT_RIGHT, _right_row(change))
        else:
            db.execute(
                "UPDATE rights SET version = ?, confidential = ? WHERE right_id = ?",
                (change.version, int(change.confidential), change.right_id),
            )
        now = time.time()
        if change.publishes:
            db.execute("UPDATE versions SET published = 1 WHERE right_id = ?", (change.right_id,))
        db.execute(INSERT_VERSION, _version_row(change, now))
        for call in change.queue_first:
            self._queue(db, call, now)
        if change.anchored:
            return None
        return self._queue(
            db, QueuedCall(change.right_id, change.version, change.action, change.payload), now
        )

    def _queue(self, db: sqlite3.Connection, call: QueuedCall, now: float) -> OutboxEntry:
        try:
            cursor = db.execute(
                "INSERT INTO outbox (right_id, version, action, payload, state, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (call.right_id, call.version, call.action, json.dumps(call.payload),
                 OutboxState.PENDING.value, now),
            )  # fmt: skip
        except sqlite3.IntegrityError:
            raise DuplicateChange(call.right_id, call.version) from None
        return self._entry(db, int(cursor.lastrowid or 0))

    def right_version(self, right_id: str) -> int:
        """The right's latest accepted version; 0 if the office never accepted it."""
        db = self._connect()
        row = db.execute("SELECT version FROM rights WHERE right_id = ?", (right_id,)).fetchone()
        return int(row[0]) if row else 0

    def version(self, right_id: str, version: int) -> StoredVersion | None:
        return self._version("right_id = ? AND version = ?", (right_id, version))

    def version_by_hash(self, record_hash: bytes) -> StoredVersion | None:
        """The latest version whose signed record hashes to `record_hash` (the deep link a gateway follows
        from a hash it read on chain), or None. A publication reveals the sealed version's record, so two
        versions may carry one hash."""
        return self._version("record_hash = ?", (record_hash,))

    def _version(self, where: str, args: tuple[Any, ...]) -> StoredVersion | None:
        db = self._connect()
        row = db.execute(
            "SELECT right_id, version, change_kind, record_hash, canonical, signature, source_xml, "
            f"published, state FROM versions WHERE {where} ORDER BY version DESC LIMIT 1",
            args,
        ).fetchone()
        if row is None:
            return None
        return StoredVersion(row[0], row[1], row[2], bytes(row[3]), bytes(row[4]), json.loads(row[5]),
                             bytes(row[6]) if row[6] is not None else None, bool(row[7]),
                             json.loads(row[8]))  # fmt: skip

    def latest(self, right_id: str) -> StoredVersion | None:
        """The right's latest accepted version, or None."""
        version = self.right_version(right_id)
        return self.version(right_id, version) if version else None

    def right_ids(self, limit: int = 1000, offset: int = 0) -> list[str]:
        db = self._connect()
        rows = db.execute("SELECT right_id FROM rights ORDER BY right_id LIMIT ? OFFSET ?", (limit, offset))
        return [row[0] for row in rows.fetchall()]

    def anchor(self, root: bytes) -> StoredAnchor | None:
        row = (
            self._connect()
            .execute(
                "SELECT root, manifest, manifest_hash, count, outbox_id FROM anchors WHERE root = ?", (root,)
            )
            .fetchone()
        )
        return StoredAnchor(bytes(row[0]), bytes(row[1]), bytes(row[2]), row[3], row[4]) if row else None

    def anchor_of(self, right_id: str, version: int) -> StoredAnchor | None:
        """The anchor that holds this version's record hash, if it was imported anchored."""
        row = (
            self._connect()
            .execute(
                "SELECT root FROM anchored_versions WHERE right_id = ? AND version = ?", (right_id, version)
            )
            .fetchone()
        )
        return self.anchor(bytes(row[0])) if row else None

    def needs_registration(self, right_id: str) -> bool:
        """Whether the right was imported anchored and has no registration of its own queued yet: it has
        no per-right state on chain, so its first change must register it first."""
        db = self._connect()
        anchored = db.execute(
            "SELECT 1 FROM anchored_versions WHERE right_id = ? AND version = 1", (right_id,)
        ).fetchone()
        if anchored is None:
            return False
        queued = db.execute("SELECT 1 FROM outbox WHERE right_id = ? AND version = 1", (right_id,)).fetchone()
        return queued is None

    def outbox(
        self, states: tuple[OutboxState, ...] = tuple(OutboxState), limit: int = 1000, offset: int = 0
    ) -> list[OutboxEntry]:
        """Entries in these states, oldest first (the order the chain must see them), from `offset`."""
        db = self._connect()
        marks = ",".join("?" for _ in states)
        rows = db.execute(
            f"SELECT {_ENTRY_COLUMNS} FROM outbox WHERE state IN ({marks}) ORDER BY id LIMIT ? OFFSET ?",
            (*[s.value for s in states], limit, offset),
        ).fetchall()
        return [_entry_of(row) for row in rows]

    def count(self, states: tuple[OutboxState, ...] = tuple(OutboxState)) -> int:
        """How many entries are in these states."""
        db = self._connect()
        marks = ",".join("?" for _ in states)
        query = f"SELECT count(*) FROM outbox WHERE state IN ({marks})"
        return int(db.execute(query, [s.value for s in states]).fetchone()[0])

    def outbox_entry(self, entry_id: int) -> OutboxEntry | None:
        db = self._connect()
        try:
            return self._entry(db, entry_id)
        except StoreError:
            return None

    def mark_sent(
        self, entry_ids: int | list[int], tx_hash: str, nonce: int, raw_tx: bytes | None = None
    ) -> None:
        """Records the signed transaction (of one entry, or of a batch) before it is broadcast, so a crash
        after sending finds it and can broadcast the same bytes again."""
        self.mark_sent_many([SentTransaction(_ids(entry_ids), tx_hash, nonce, raw_tx)])

    def mark_sent_many(self, sent: list[SentTransaction]) -> None:
        """Records many signed transactions in one store transaction (one disk sync), before any of them
        is broadcast."""
        with self._transaction() as db:
            for tx in sent:
                self._set(db, tx.entry_ids, OutboxState.SENT, 1,
                          {"tx_hash": tx.tx_hash, "nonce": tx.nonce, "raw_tx": tx.raw_tx})  # fmt: skip

    def mark_confirmed(self, entry_ids: int | list[int], block_number: int) -> None:
        self.mark_confirmed_many(dict.fromkeys(_ids(entry_ids), block_number))

    def mark_confirmed_many(self, blocks: dict[int, int]) -> None:
        """Confirms many entries (entry id -> block number of its transaction) in one store transaction."""
        with self._transaction() as db:
            for entry_id, block_number in blocks.items():
                self._set(db, [entry_id], OutboxState.CONFIRMED, 0, {"block_number": block_number})

    def mark_failed(self, entry_id: int, error: str) -> None:
        self._update(entry_id, OutboxState.FAILED, error=error)

    def mark_pending(self, entry_id: int, error: str | None = None) -> None:
        """Back to pending (its transaction was dropped): it will be signed and sent again."""
        self._update(entry_id, OutboxState.PENDING, tx_hash=None, nonce=None, raw_tx=None, error=error)

    def _update(
        self, entry_ids: int | list[int], state: OutboxState, attempts_delta: int = 0, **fields: Any
    ) -> None:
        """Moves entries to `state`, all in one transaction."""
        with self._transaction() as db:
            self._set(db, _ids(entry_ids), state, attempts_delta, fields)

    @staticmethod
    def _set(
        db: sqlite3.Connection,
        ids: list[int],
        state: OutboxState,
        attempts_delta: int,
        fields: dict[str, Any],
    ) -> None:
        columns = "".join(f", {name} = ?" for name in fields)
        now = time.time()
        for entry_id in ids:
            cursor = db.execute(
                f"UPDATE outbox SET state = ?, attempts = attempts + ?, updated_at = ?{columns} WHERE id = ?",
                (state.value, attempts_delta, now, *fields.values(), entry_id),
            )
            if cursor.rowcount != 1:
                raise StoreError(f"no outbox entry {entry_id}")

    @staticmethod
    def _entry(db: sqlite3.Connection, entry_id: int) -> OutboxEntry:
        row = db.execute(f"SELECT {_ENTRY_COLUMNS} FROM outbox WHERE id = ?", (entry_id,)).fetchone()
        if row is None:
            raise StoreError(f"no outbox entry {entry_id}")
        return _entry_of(row)


_ENTRY_COLUMNS = (
    "id, right_id, version, action, payload, state, tx_hash, nonce, block_number, error, attempts, raw_tx"
)


def _entry_of(row: tuple[Any, ...]) -> OutboxEntry:
    raw_tx = bytes(row[11]) if row[11] is not None else None
    return OutboxEntry(row[0], row[1], row[2], row[3], json.loads(row[4]), OutboxState(row[5]), row[6],
                       row[7], row[8], row[9], row[10], raw_tx)  # fmt: skip


def _ids(entry_ids: int | list[int]) -> list[int]:
    return [entry_ids] if isinstance(entry_ids, int) else entry_ids
