"""The gateway's read model: tables in SQLAlchemy Core, one code path for SQLite and PostgreSQL, and the
versioned migrations that create them.

Two kinds of fact live here. What the chain says (blocks, events, rights, offices, keys, anchors) carries
the block it came from, so a reorganisation deletes it by block number and re-indexing puts it back.
What content says (a record's owners and title, the string id whose keccak256 is a chain id) is keyed by
a hash and stays true whatever the chain does, so a rollback keeps it.

Hashes are stored as lower-case hex: SHA-256 values (record hashes, owner commitments, evidence) without a
prefix, keccak-256 values (chain right ids, block and transaction hashes, Merkle roots) with `0x`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    create_engine,
    event,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Connection, Engine

from registry_node.protocol.errors import RegistryError

metadata = MetaData()

HASH = String(66)

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("applied_at", Float, nullable=False),
)

# One row (id 1): how far the indexer got, on which chain, and what it last saw of the head.
indexer_state = Table(
    "indexer_state",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("chain_id", BigInteger),
    Column("contract_address", String(42)),
    Column("indexed_block", BigInteger, nullable=False),  # the cursor: last block indexed; start - 1 at first
    Column("indexed_hash", HASH),
    Column("head_block", BigInteger),
    Column("head_seen_at", Float),
    Column("last_error", Text),
)

# Blocks the index rests on: every block that holds an indexed event, and each pass's last block.
blocks = Table(
    "blocks",
    metadata,
    Column("number", BigInteger, primary_key=True),
    Column("hash", HASH, nullable=False),
    Column("parent_hash", HASH, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
)

offices = Table(
    "offices",
    metadata,
    Column("code", String(2), primary_key=True),
    Column("name", Text, nullable=False),
    Column("account", String(42), nullable=False),
    Column("endpoint", Text, nullable=False),
    Column("status", String(16), nullable=False),  # active | suspended
    Column("validator", String(42)),  # the chain validator's sealing address; null until the office names one
    Column("admitted_block", BigInteger, nullable=False),
    Column("updated_block", BigInteger, nullable=False),
)

# Every office event in chain order; `offices` and `keys` are folded from it, so a rollback refolds them.
office_events = Table(
    "office_events",
    metadata,
    Column("block_number", BigInteger, primary_key=True),
    Column("log_index", Integer, primary_key=True),
    Column("office", String(2), nullable=False),
    Column("name", String(40), nullable=False),
    Column("data", Text, nullable=False),  # JSON of the event's arguments
)

keys = Table(
    "keys",
    metadata,
    Column("office", String(2), primary_key=True),
    Column("key_id", HASH, primary_key=True),
    Column("algorithm", String(16), nullable=False),
    Column("public_key", Text, nullable=False),  # hex
    Column("added_block", BigInteger, nullable=False),
    Column("revoked_block", BigInteger),
)

# The current state of each right, folded from its events.
rights = Table(
    "rights",
    metadata,
    Column("chain_right_id", HASH, primary_key=True),
    Column("office", String(2), nullable=False),
    Column("kind", String(32), nullable=False),  # geographicalIndication: 22 characters
    Column("confidential", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    Column("record_hash", HASH, nullable=False),
    Column("owner_commitment", HASH, nullable=False),
    Column("status", String(5), nullable=False),
    Column("registered_block", BigInteger, nullable=False),
    Column("updated_block", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),  # block timestamp, Unix seconds
    Index("rights_office", "office", "chain_right_id"),
    Index("rights_owner", "owner_commitment"),
)

# One row per right event, in chain order: the history, and the source every right row is folded from.
events = Table(
    "events",
    metadata,
    Column("block_number", BigInteger, primary_key=True),
    Column("log_index", Integer, primary_key=True),
    Column("chain_right_id", HASH, nullable=False),
    Column("version", Integer, nullable=False),
    Column("action", String(20), nullable=False),  # registration|ownershipChange|legalStatusEvent|publication
    Column("office", String(2), nullable=False),
    Column("kind", String(32)),  # registration only
    Column("confidential", Boolean, nullable=False),  # the right after this event
    Column("record_hash", HASH, nullable=False),  # as on chain: a seal while confidential
    Column("owner_commitment", HASH),  # set by registration and ownership change
    Column("status", String(5)),  # set by registration and status event
    Column("details", Text),  # JSON: conveyance, statusEvent, or the publication's salt
    Column("block_hash", HASH, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("tx_hash", HASH, nullable=False),
    Index("events_right", "chain_right_id", "version"),
    Index("events_record", "record_hash"),
)

anchors = Table(
    "anchors",
    metadata,
    Column("root", HASH, primary_key=True),
    Column("office", String(2), nullable=False),
    Column("count", Integer, nullable=False),
    Column("manifest_hash", HASH, nullable=False),
    Column("block_number", BigInteger, nullable=False),
    Column("log_index", Integer, nullable=False),
    Column("block_hash", HASH, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("tx_hash", HASH, nullable=False),
    # pending | verified (root recomputed from the manifest) | mismatch | missing (the office has none)
    Column("manifest_status", String(16), nullable=False),
    Column("manifest_hash_checked", Boolean, nullable=False),  # manifestHash recomputed and equal
)

anchored_records = Table(
    "anchored_records",
    metadata,
    Column("root", HASH, primary_key=True),
    Column("record_hash", HASH, primary_key=True),
    Column("right_id", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("block_number", BigInteger, nullable=False),
    Index("anchored_record", "record_hash"),
)

# What a SHA-256 is known as, from the chain: a record (right, version), an ownership change's evidence.
documents = Table(
    "documents",
    metadata,
    Column("hash", HASH, primary_key=True),
    Column("role", String(16), primary_key=True),  # record | evidence
    Column("chain_right_id", HASH, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("block_number", BigInteger, nullable=False),
)

# The designations of international registrations, one row per `Designated` event: the registration
# (`ir_chain_right_id`), its version that designated the office, and the entry the chain reserves for the
# designated office's decisions (`designation_chain_id`). Chain facts only: the designation's string id and
# its category (original, subsequent) are content, read with it from `right_ids` and the registration's
# record of that version (`records.change`), so a rollback that deletes a row loses nothing learned.
designations = Table(
    "designations",
    metadata,
    Column("designation_chain_id", HASH, primary_key=True),
    Column("ir_chain_right_id", HASH, nullable=False),
    Column("office", String(2), nullable=False),  # the registration's (the International Bureau)
    Column("designated_office", String(2), nullable=False),
    Column("version", Integer, nullable=False),  # the registration's version that designated the office
    Column("record_hash", HASH, nullable=False),  # that version's record, which lists the designation
    Column("designation_date", String(10)),  # ISO 8601, as partial as the chain's yyyymmdd
    Column("block_number", BigInteger, nullable=False),
    Column("log_index", Integer, nullable=False),
    Column("block_hash", HASH, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("tx_hash", HASH, nullable=False),
    Index("designations_ir", "ir_chain_right_id", "designated_office"),
)

# Content learned from offices' published records, checked against the chain: kept across rollbacks.
records = Table(
    "records",
    metadata,
    Column("record_hash", HASH, primary_key=True),
    Column("chain_right_id", HASH, nullable=False),
    Column("right_id", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("owners", Text, nullable=False),  # JSON list of {name, addressText?, countryCode?}
    Column("title", Text),
    Column("source_xml_hash", HASH),  # SHA-256 of the source XML's Exclusive C14N form
    # JSON: the record's ownershipChange, legalStatusEvent or designation, or a designation record's decision;
    # null for the others
    Column("change", Text),
    Column("fetched_at", Float, nullable=False),
    # JSON {name, product, area} of a geographical indication (giNameText, productText,
    # geographicRegionDescriptionText); null for the other kinds
    Column("geographical_indication", Text),
    Index("records_source", "source_xml_hash"),
)

# The links a right's newest fetched record states to other applications (familyLinkBag): priority claims,
# PCT national phases, divisionals, continuations, validations. Each is stored once, as the stating right's
# record says it (`relation` is what the linked application is to the stating right); queries read it from
# both sides. The linked application is named by office and number (`number` normalised as `right_numbers`
# are), and by its right id when the record derives one.
family_links = Table(
    "family_links",
    metadata,
    Column("chain_right_id", HASH, primary_key=True),  # the right whose record states the link
    Column("relation", String(40), primary_key=True),  # records.FamilyRelation
    Column("linked_office", String(2), primary_key=True),
    Column("linked_number", String(64), primary_key=True),  # normal_number(applicationNumberText)
    Column("application_number", Text, nullable=False),  # as the record gives it
    Column("filing_date", String(10)),
    Column("linked_right_id", Text),
    Column("linked_chain_right_id", HASH),  # keccak256 of linked_right_id
    Column("version", Integer, nullable=False),  # of the record that states it
    Index("family_links_linked", "linked_chain_right_id"),
    Index("family_links_number", "linked_office", "linked_number"),
)

# The numbers a right is known by (application, publication, registration), from its published records,
# normalised by `normal_number`: what the auditor page's search looks up.
right_numbers = Table(
    "right_numbers",
    metadata,
    Column("number", String(64), primary_key=True),
    Column("chain_right_id", HASH, primary_key=True),
)


def normal_number(text: str) -> str:
    """A number as searched: capitals, without spaces, dots, slashes or dashes ("EP 3 712 345" ->
    "EP3712345", "19175123.4" -> "191751234")."""
    return "".join(c for c in text.upper() if c not in " ./-\t")[:64]


right_ids = Table(
    "right_ids",
    metadata,
    Column("chain_right_id", HASH, primary_key=True),
    Column("right_id", Text, nullable=False, unique=True),
)

# What the enricher still has to fetch: a record by hash, or an anchor's manifest by root.
fetch_queue = Table(
    "fetch_queue",
    metadata,
    Column("target", String(8), primary_key=True),  # record | anchor
    Column("key", HASH, primary_key=True),  # the record hash or the root
    Column("office", String(2), nullable=False),
    Column("chain_right_id", HASH),
    Column("version", Integer),
    Column("block_number", BigInteger, nullable=False),
    Column("state", String(16), nullable=False),  # pending | done | rejected
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", Float, nullable=False),
    Column("last_error", Text),
    Index("fetch_due", "state", "next_attempt_at"),
)

# Tables a rebuilt index must reproduce exactly (the rest is bookkeeping of how it got there).
INDEX_TABLES = (
    offices, office_events, keys, rights, events, anchors, anchored_records, documents, designations,
)  # fmt: skip


class DatabaseError(RegistryError):
    """The read model cannot be used as it is (e.g. it was written by a newer gateway)."""


def _migration_1(conn: Connection) -> None:
    """The first schema: every table above."""
    metadata.create_all(conn, tables=[t for t in metadata.sorted_tables if t is not schema_version])


def _migration_2(conn: Connection) -> None:
    """Numbers to search rights by (a fresh database has the table from migration 1 already)."""
    right_numbers.create(conn, checkfirst=True)


def _migration_3(conn: Connection) -> None:
    """Each office's chain validator (a fresh database has the column from migration 1 already). Offices
    indexed before it keep a null validator, which is right: only ValidatorChanged sets one."""
    if "validator" not in {column["name"] for column in inspect(conn).get_columns("offices")}:
        conn.execute(text("ALTER TABLE offices ADD COLUMN validator VARCHAR(42)"))


def _migration_4(conn: Connection) -> None:
    """The change each record carries (parties, recordal date, free text), for the history's story. Records
    fetched before it are fetched again to fill it in (a fresh database has the column already)."""
    if "change" not in {column["name"] for column in inspect(conn).get_columns("records")}:
        conn.execute(text("ALTER TABLE records ADD COLUMN change TEXT"))
        conn.execute(
            fetch_queue.update()
            .where(fetch_queue.c.target == "record")
            .values(state="pending", next_attempt_at=0.0, attempts=0)
        )


def _migration_5(conn: Connection) -> None:
    """Rights across offices (issue 15): the designations of international registrations, family links, a
    geographical indication's product and area (a fresh database has them from migration 1 already), and a
    right's kind long enough for `geographicalIndication`.

    Records an older gateway refused are fetched again: it could not read a designated office's decision
    record, nor a right record with a family link, a party bag or a geographical indication, so it settled
    them as rejected. (A read model follows one contract, so none holds a `Designated` event it skipped: an
    older gateway's ABI could only follow a registry that had none.)"""
    designations.create(conn, checkfirst=True)
    family_links.create(conn, checkfirst=True)
    if (
        conn.dialect.name == "postgresql"
    ):  # "geographicalIndication" is longer than VARCHAR(16); SQLite has no limit
        for table in ("rights", "events"):
            conn.execute(text(f"ALTER TABLE {table} ALTER COLUMN kind TYPE VARCHAR(32)"))
    if "geographical_indication" not in {column["name"] for column in inspect(conn).get_columns("records")}:
        conn.execute(text("ALTER TABLE records ADD COLUMN geographical_indication TEXT"))
    conn.execute(
        fetch_queue.update()
        .where(and_(fetch_queue.c.target == "record", fetch_queue.c.state == "rejected"))
        .values(state="pending", next_attempt_at=0.0, attempts=0, last_error=None)
    )


MIGRATIONS: tuple[tuple[int, Callable[[Connection], None]], ...] = (
    (1, _migration_1),
    (2, _migration_2),
    (3, _migration_3),
    (4, _migration_4),
    (5, _migration_5),
)


SQLITE_POOL_SIZE = 24  # SQLite connections are cheap; the API's thread pool runs up to 40 threads
POSTGRES_POOL_SIZE = 16  # per process: N workers on one database keep N * 16 connections; the indexer a few


def engine_for(database_url: str) -> Engine:
    """An engine for `database_url`; SQLite gets WAL (readers never wait for the indexer) and a busy
    timeout, PostgreSQL the psycopg 3 driver when the URL names none."""
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]
    if database_url.startswith("sqlite"):
        engine = create_engine(
            database_url,
            connect_args={"timeout": 30, "check_same_thread": False},
            pool_pre_ping=False,
            # as many kept connections as the API's threads use at once under load: above pool_size each
            # checkout opened a new connection (and ran the pragmas below) and closed it after one query
            pool_size=SQLITE_POOL_SIZE,
            max_overflow=SQLITE_POOL_SIZE,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    # No overflow: a request waits for one of the kept connections (queries take about a millisecond)
    # rather than open one more (a new server process and a SCRAM exchange, tens of milliseconds of the
    # two cores) that is closed again when it goes back. With overflow, each burst of the soak's load
    # opened and closed connections by the dozen.
    return create_engine(database_url, pool_pre_ping=True, pool_size=POSTGRES_POOL_SIZE, max_overflow=0)


# pg_advisory_lock keys of the read model (any 64-bit numbers, the same in every gateway of a consortium).
MIGRATION_LOCK = 0x69707265_67000001  # "ipreg" + 1: one migrating process at a time
INDEXER_LOCK = 0x69707265_67000002  # "ipreg" + 2: one indexer writes the read model


def migrate(engine: Engine) -> int:
    """Applies the migrations not applied yet, each in its own transaction; returns the schema version.
    Safe to run on every start, and from several processes at once: on PostgreSQL they take turns (an
    advisory lock); SQLite serialises writers itself."""
    if engine.dialect.name != "postgresql":
        return _migrate(engine)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
        try:
            return _migrate(engine)
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})


def _migrate(engine: Engine) -> int:
    with engine.begin() as conn:
        schema_version.create(conn, checkfirst=True)
    applied = current_version(engine)
    known = MIGRATIONS[-1][0]
    if applied > known:
        raise DatabaseError(
            f"the read model is at schema version {applied}, newer than this gateway's {known}: "
            "upgrade the gateway or index into a new database"
        )
    for version, apply in MIGRATIONS:
        if version <= applied:
            continue
        with engine.begin() as conn:
            apply(conn)
            conn.execute(schema_version.insert().values(version=version, applied_at=time.time()))
    return current_version(engine)


def current_version(engine: Engine) -> int:
    with engine.connect() as conn:
        if not inspect(conn).has_table("schema_version"):
            return 0
        return int(conn.execute(select(schema_version.c.version).order_by(schema_version.c.version.desc()))
                   .scalar() or 0)  # fmt: skip


def open_database(database_url: str, migrating: bool = True) -> Engine:
    """The engine of a migrated read model. `migrating` False (an API worker, which another process
    migrated for): a read model at another schema version than this gateway's is refused instead."""
    engine = engine_for(database_url)
    if migrating:
        migrate(engine)
        return engine
    found, known = current_version(engine), MIGRATIONS[-1][0]
    if found != known:
        engine.dispose()
        raise DatabaseError(
            f"the read model is at schema version {found}, this gateway's is {known}: start the indexer "
            "(`ipreg gateway index`), which migrates it, or serve with the gateway that wrote it"
        )
    return engine
