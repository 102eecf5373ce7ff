"""The read model's migrations on SQLite and PostgreSQL: applied once, in order, idempotent on restart."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, insert, inspect, select, text

from gateway.read_model import db
from tests.gateway.conftest import DATABASES


@pytest.mark.parametrize("database_url", DATABASES, indirect=True)
def test_migrations_create_every_table_once_and_are_idempotent(database_url: str) -> None:
    engine = db.engine_for(database_url)
    assert db.current_version(engine) == 0
    assert db.migrate(engine) == db.MIGRATIONS[-1][0]
    assert db.migrate(engine) == db.MIGRATIONS[-1][0]  # a restart applies nothing again
    with engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        versions = conn.execute(select(db.schema_version.c.version)).scalars().all()
    assert {t.name for t in db.metadata.sorted_tables} <= tables
    assert versions == [version for version, _ in db.MIGRATIONS]


@pytest.mark.parametrize("database_url", DATABASES, indirect=True)
def test_a_read_model_at_version_2_gains_the_offices_validator_column(database_url: str) -> None:
    engine = db.engine_for(database_url)
    db.migrate(engine)
    with engine.begin() as conn:  # the read model as schema version 2 left it
        conn.execute(text("ALTER TABLE offices DROP COLUMN validator"))
        conn.execute(delete(db.schema_version).where(db.schema_version.c.version >= 3))

    assert db.migrate(engine) == db.MIGRATIONS[-1][0]
    with engine.connect() as conn:
        columns = {column["name"] for column in inspect(conn).get_columns("offices")}
    assert "validator" in columns


@pytest.mark.parametrize("database_url", DATABASES, indirect=True)
def test_a_read_model_at_version_3_gains_the_records_change_and_fetches_its_records_again(
    database_url: str,
) -> None:
    engine = db.engine_for(database_url)
    db.migrate(engine)
    fetched = {"target": "record", "key": "ab" * 32, "office": "EP", "chain_right_id": "0x" + "cd" * 32,
               "version": 2, "block_number": 7, "state": "done", "attempts": 1,
               "next_attempt_at": 0.0}  # fmt: skip
    with engine.begin() as conn:  # the read model as schema version 3 left it, one record fetched
        conn.execute(text("ALTER TABLE records DROP COLUMN change"))
        conn.execute(delete(db.schema_version).where(db.schema_version.c.version >= 4))
        conn.execute(insert(db.fetch_queue).values(**fetched))

    assert db.migrate(engine) == db.MIGRATIONS[-1][0]
    with engine.connect() as conn:
        columns = {column["name"] for column in inspect(conn).get_columns("records")}
        again = conn.execute(select(db.fetch_queue.c.state, db.fetch_queue.c.attempts)).one()
    assert "change" in columns
    assert tuple(again) == ("pending", 0)  # the enricher fetches it again, and fills the change in


@pytest.mark.parametrize("database_url", DATABASES, indirect=True)
def test_a_read_model_at_version_4_gains_designations_and_family_links_and_fetches_refused_records_again(
    database_url: str,
) -> None:
    engine = db.engine_for(database_url)
    db.migrate(engine)
    queued = {"office": "GB", "chain_right_id": "0x" + "cd" * 32, "version": 1, "block_number": 7,
              "attempts": 1, "next_attempt_at": 0.0, "target": "record"}  # fmt: skip
    with engine.begin() as conn:  # the read model as schema version 4 left it
        conn.execute(text("DROP TABLE designations"))
        conn.execute(text("DROP TABLE family_links"))
        conn.execute(text("ALTER TABLE records DROP COLUMN geographical_indication"))
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE rights ALTER COLUMN kind TYPE VARCHAR(16)"))
        conn.execute(delete(db.schema_version).where(db.schema_version.c.version == 5))
        # a decision record an older gateway could not read, and a record it kept
        conn.execute(insert(db.fetch_queue).values(**queued, key="ab" * 32, state="rejected",
                                                   last_error="not a valid record"))  # fmt: skip
        conn.execute(insert(db.fetch_queue).values(**queued, key="ef" * 32, state="done"))

    assert db.migrate(engine) == 5
    with engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        columns = {column["name"] for column in inspect(conn).get_columns("records")}
        states = dict(conn.execute(select(db.fetch_queue.c.key, db.fetch_queue.c.state)).all())
    assert {"designations", "family_links"} <= tables and "geographical_indication" in columns
    assert states == {"ab" * 32: "pending", "ef" * 32: "done"}  # the refused one is fetched again
    right = {"chain_right_id": "0x" + "12" * 32, "office": "KR", "kind": "geographicalIndication",
             "confidential": False, "version": 1, "record_hash": "34" * 32, "owner_commitment": "56" * 32,
             "status": "A4F10", "registered_block": 7, "updated_block": 7, "updated_at": 0}  # fmt: skip
    with engine.begin() as conn:  # the fifth kind's name fits
        conn.execute(insert(db.rights).values(**right))


@pytest.mark.parametrize("database_url", DATABASES, indirect=True)
def test_a_read_model_from_a_newer_gateway_is_refused(database_url: str) -> None:
    engine = db.engine_for(database_url)
    db.migrate(engine)
    with engine.begin() as conn:
        conn.execute(insert(db.schema_version).values(version=999, applied_at=0.0))
    with pytest.raises(db.DatabaseError, match="schema version 999"):
        db.migrate(engine)


def test_a_plain_postgresql_url_gets_the_psycopg_driver() -> None:
    engine = db.engine_for("postgresql://u:p@127.0.0.1:1/x")
    assert engine.dialect.driver == "psycopg"


@pytest.mark.parametrize("database_url", DATABASES, indirect=True)
def test_an_api_worker_refuses_a_read_model_nobody_migrated_and_names_the_indexer(database_url: str) -> None:
    with pytest.raises(db.DatabaseError, match="ipreg gateway index"):
        db.open_database(database_url, migrating=False)
    db.open_database(database_url).dispose()  # the indexer's way: migrates
    db.open_database(database_url, migrating=False).dispose()
