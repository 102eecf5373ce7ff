"""One indexer writes a read model: a second one, started by mistake, is refused.

On PostgreSQL the lock is a session advisory lock held on a connection of its own for as long as the
indexer runs; on SQLite it is an exclusive `flock` on a file beside the database. Either way the operating
system or the database server releases it when the process ends, however it ends, so a crashed indexer
never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

from gateway.read_model.db import INDEXER_LOCK
from registry_node.protocol.errors import RegistryError


class IndexerRunning(RegistryError):
    """Another indexer holds the read model."""


@contextlib.contextmanager
def sole_indexer(engine: Engine) -> Iterator[None]:
    """Holds the read model's indexer lock while the block runs; IndexerRunning when another process has
    it."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": INDEXER_LOCK}).scalar()
            if not got:
                raise IndexerRunning(
                    "another indexer already writes this read model (PostgreSQL advisory lock "
                    f"{INDEXER_LOCK:#x} is held): run one `ipreg gateway index` per database"
                )
            try:
                yield
            finally:
                with contextlib.suppress(Exception):  # a lost connection has released it already
                    conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": INDEXER_LOCK})
        return
    database = engine.url.database
    lock_path = Path(f"{database}.indexer-lock") if database and database != ":memory:" else None
    if lock_path is None:
        yield  # an in-memory database: no other process can reach it
        return
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexerRunning(
                f"another indexer already writes this read model ({lock_path} is locked): "
                "run one `ipreg gateway index` (or `ipreg gateway run`) per database"
            ) from None
        yield
    finally:
        os.close(fd)
