"""The office's store: durable, all-or-nothing changes and an idempotent outbox."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from registry_node.node.store import (
    AcceptedChange,
    DuplicateChange,
    OutboxState,
    StaleVersion,
    Store,
    StoreError,
)


def change(right_id: str = "EP:PAT:EP1", version: int = 1, confidential: bool = False) -> AcceptedChange:
    canonical = f'{{"rightId":"{right_id}","version":{version}}}'.encode()
    return AcceptedChange(
        right_id=right_id,
        kind="patent",
        version=version,
        change_kind="registration" if version == 1 else "ownershipChange",
        record_hash=hashlib.sha256(canonical).digest(),
        canonical=canonical,
        signature={"office": "EP", "keyId": "00" * 32, "signature": "ab"},
        action="register" if version == 1 else "recordOwnershipChange",
        payload={"rightId": right_id, "version": version},
        confidential=confidential,
        source_xml=b"<xml/>" if version == 1 else None,
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "node.sqlite")


def test_store_runs_in_wal_mode(store: Store) -> None:
    assert store.journal_mode() == "wal"


def test_accepted_change_is_stored_whole_and_queued(store: Store) -> None:
    entry = store.accept(change())

    assert (entry.state, entry.right_id, entry.version, entry.action) == (
        OutboxState.PENDING, "EP:PAT:EP1", 1, "register",
    )  # fmt: skip
    assert store.right_version("EP:PAT:EP1") == 1
    stored = store.version("EP:PAT:EP1", 1)
    assert stored is not None
    assert stored.canonical == change().canonical
    assert stored.record_hash == change().record_hash
    assert stored.source_xml == b"<xml/>"
    assert stored.published is True


def test_accepted_change_survives_reopening(tmp_path: Path) -> None:
    Store(tmp_path / "node.sqlite").accept(change())
    reopened = Store(tmp_path / "node.sqlite")
    assert reopened.right_version("EP:PAT:EP1") == 1
    assert [e.version for e in reopened.outbox()] == [1]


def test_the_same_change_is_never_queued_twice(store: Store) -> None:
    store.accept(change())
    with pytest.raises(DuplicateChange) as caught:
        store.accept(change())
    assert (caught.value.right_id, caught.value.version) == ("EP:PAT:EP1", 1)
    assert len(store.outbox()) == 1


def test_a_change_that_skips_a_version_is_refused_and_nothing_is_kept(store: Store) -> None:
    store.accept(change())
    with pytest.raises(StaleVersion) as caught:
        store.accept(change(version=3))
    assert (caught.value.expected, caught.value.actual) == (2, 1)
    assert store.right_version("EP:PAT:EP1") == 1
    assert store.version("EP:PAT:EP1", 3) is None
    assert len(store.outbox()) == 1


def test_versions_follow_one_another(store: Store) -> None:
    for version in (1, 2, 3):
        store.accept(change(version=version))
    assert store.right_version("EP:PAT:EP1") == 3
    assert [e.version for e in store.outbox()] == [1, 2, 3]


def test_confidential_versions_are_not_published(store: Store) -> None:
    store.accept(change(confidential=True))
    stored = store.version("EP:PAT:EP1", 1)
    assert stored is not None and stored.published is False


def test_outbox_lifecycle_records_transaction_and_outcome(store: Store) -> None:
    first = store.accept(change())
    second = store.accept(change("EP:PAT:EP2"))

    store.mark_sent(first.id, "0xabc", nonce=7)
    store.mark_failed(second.id, "RightsRegistryNotCompetent(...)")
    assert [e.version for e in store.outbox((OutboxState.PENDING,))] == []
    sent = store.outbox((OutboxState.SENT,))[0]
    assert (sent.tx_hash, sent.nonce, sent.attempts) == ("0xabc", 7, 1)

    store.mark_pending(first.id, error="dropped by the chain")
    assert store.outbox((OutboxState.PENDING,))[0].tx_hash is None
    store.mark_sent(first.id, "0xdef", nonce=8)
    store.mark_confirmed(first.id, block_number=42)

    confirmed = store.outbox((OutboxState.CONFIRMED,))[0]
    assert (confirmed.tx_hash, confirmed.block_number, confirmed.attempts) == ("0xdef", 42, 2)
    assert store.outbox((OutboxState.FAILED,))[0].error == "RightsRegistryNotCompetent(...)"


def test_marking_an_unknown_entry_fails(store: Store) -> None:
    with pytest.raises(StoreError, match="no outbox entry 99"):
        store.mark_confirmed(99, 1)


def test_concurrent_writers_never_accept_the_same_version_twice(store: Store) -> None:
    outcomes: list[str] = []

    def writer() -> None:
        try:
            store.accept(change(version=1))
            outcomes.append("accepted")
        except DuplicateChange:
            outcomes.append("duplicate")

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["accepted"] + ["duplicate"] * 7
    assert len(store.outbox()) == 1


class PausingConnection:
    """A connection that calls `on_outbox_insert` just before the outbox row of a change is written."""

    def __init__(self, db: sqlite3.Connection, on_outbox_insert: Callable[[], None]) -> None:
        self._db = db
        self._hook = on_outbox_insert

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if sql.startswith("INSERT INTO outbox"):
            self._hook()
        return self._db.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


def interrupt_before_outbox(store: Store, on_outbox_insert: Callable[[], None]) -> None:
    connect = store._connect
    store._connect = lambda: PausingConnection(connect(), on_outbox_insert)  # type: ignore[method-assign,assignment,return-value]


def test_a_change_failing_half_way_leaves_nothing_stored(store: Store) -> None:
    def fail() -> None:
        raise OSError("disk full")

    interrupt_before_outbox(store, fail)
    with pytest.raises(OSError, match="disk full"):
        store.accept(change())

    assert store.right_version("EP:PAT:EP1") == 0
    assert store.version("EP:PAT:EP1", 1) is None
    assert store.outbox() == []


def test_a_process_killed_half_way_through_a_change_leaves_nothing_stored(tmp_path: Path) -> None:
    """kill -9 after the version row is written and before the outbox row: after restart, neither is there."""
    db = tmp_path / "node.sqlite"
    script = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from registry_node.node.store import Store
        from test_store import change, interrupt_before_outbox
        store = Store(Path({str(db)!r}))
        interrupt_before_outbox(store, lambda: (print("half-way", flush=True), time.sleep(60)))
        store.accept(change())
        """
    )
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, env=os.environ.copy())
    assert process.stdout is not None
    assert process.stdout.readline().strip() == b"half-way"
    process.send_signal(signal.SIGKILL)
    process.wait()

    reopened = Store(db)
    assert reopened.right_version("EP:PAT:EP1") == 0
    assert reopened.version("EP:PAT:EP1", 1) is None
    assert reopened.outbox() == []
    reopened.accept(change())
    assert reopened.right_version("EP:PAT:EP1") == 1


def test_an_anchored_batch_refuses_each_duplicate_alone_and_stores_the_rest_whole(store: Store) -> None:
    store.accept(change("EP:PAT:EP9"))  # already stored, per right
    ids = ["EP:PAT:EP1", "EP:PAT:EP2", "EP:PAT:EP1", "EP:PAT:EP9", "EP:PAT:EP3"]
    batch = [dataclasses.replace(change(right_id), anchored=True, payload={}) for right_id in ids]

    refusals, anchors = store.accept_anchored(batch, lambda kept: [])

    assert [type(r).__name__ if r else None for r in refusals] == [
        None, None, "DuplicateChange", "DuplicateChange", None
    ]  # fmt: skip
    assert anchors == []
    for right_id in ("EP:PAT:EP1", "EP:PAT:EP2", "EP:PAT:EP3"):
        stored = store.latest(right_id)
        assert stored is not None and stored.version == 1 and stored.source_xml == b"<xml/>"
        assert stored.published and stored.signature == batch[0].signature
    assert store.right_version("EP:PAT:EP9") == 1
    assert [e.right_id for e in store.outbox()] == ["EP:PAT:EP9"]  # anchored records queue no call
