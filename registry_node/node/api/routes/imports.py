"""Operator route for bulk imports of WIPO ST.96 XML files.

Each file is parsed (hardened parser), mapped and, when the node has an ST.96 schema folder, validated, in
the node's parse workers (one per core) when the request holds enough files to repay the round trip; the
good ones are registered in one store transaction. In `register` mode they go to the chain in
registerBatch transactions; in `anchor` mode their record hashes are anchored under Merkle roots, one
`anchor` transaction per `anchor_batch_size` records. Every file is accepted whole or refused whole with
the element or field and the reason; a refused file does not stop the others.
"""

from __future__ import annotations

import base64
import binascii
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Depends

from registry_node.node.api.deps import ChainViewDep, OfficeDep, SettingsDep, StoreDep, require_operator
from registry_node.node.api.errors import problem_responses
from registry_node.node.api.models import (
    AnchorQueuedPublic,
    ImportAccepted,
    ImportCreate,
    ImportOutcomePublic,
    TransactionAccepted,
    TransactionImportCreate,
    TransactionItemPublic,
)
from registry_node.node.api.routes.rights import change_accepted
from registry_node.node.international import apply_transaction
from registry_node.node.office import Accepted, OfficeError
from registry_node.protocol.http.problems import FieldError
from registry_node.protocol.records import Right
from registry_node.protocol.st96 import ParsePool, SchemaSet, St96Document, St96Error, parse_transaction

router = APIRouter(prefix="/v1/imports", tags=["imports"], dependencies=[Depends(require_operator)])


@lru_cache(maxsize=4)
def parse_pool(folder: Path | None) -> ParsePool:
    """One ParsePool per schema folder for the process's life: its workers start at the first import big
    enough to need them and stay, and each XSD is loaded once per process that validates."""
    return ParsePool(SchemaSet(folder) if folder is not None else None)


@lru_cache(maxsize=4)
def _schemas(folder: Path | None) -> SchemaSet | None:
    return SchemaSet(folder) if folder is not None else None


@router.post(
    "",
    status_code=202,
    operation_id="importSt96",
    response_model=ImportAccepted,
    responses=problem_responses(400, 401, 413, 422),
    summary="Import WIPO ST.96 XML files: register their rights (or anchor them), file by file",
)
def import_st96(body: ImportCreate, office: OfficeDep, settings: SettingsDep) -> ImportAccepted:
    items: list[ImportOutcomePublic | None] = []
    sources: list[bytes] = []
    for i, file in enumerate(body.files):
        try:
            sources.append(base64.b64decode(file.content, validate=True))
            items.append(None)
        except (binascii.Error, ValueError):
            items.append(refused(file.name, f"files[{i}].content", "not base64"))
    parsed_sources = iter(parse_pool(settings.st96_schema_dir).parse_many(sources))
    documents: list[St96Document] = []
    for i, item in enumerate(items):
        if item is not None:
            continue
        result = next(parsed_sources)
        if isinstance(result, St96Error):
            items[i] = refused(body.files[i].name, result.element, result.reason)
        else:
            documents.append(result)
    rights: list[tuple[Right, bytes | None]] = [(d.right, d.source) for d in documents]
    anchors: list[AnchorQueuedPublic] = []
    if body.mode == "anchor":
        anchored = office.anchor_many(rights, settings.anchor_batch_size, confidential=body.confidential)
        registered = iter(anchored.results)
        anchors = [
            AnchorQueuedPublic(root="0x" + a.root.hex(), count=a.count,
                               manifestHash="0x" + a.manifest_hash.hex(), outboxId=a.outbox_id)
            for a in anchored.anchors
        ]  # fmt: skip
    else:
        registered = iter(office.register_many(rights, confidential=body.confidential))
    parsed = iter(documents)
    for i, item in enumerate(items):
        if item is not None:
            continue
        document, outcome = next(parsed), next(registered)
        name = body.files[i].name
        if isinstance(outcome, Accepted):
            items[i] = ImportOutcomePublic(
                name=name, accepted=True, rightId=outcome.right_id, version=outcome.version,
                outboxId=outcome.outbox_id, validated=document.validated,
                validationNote=document.validation_note or None,
            )  # fmt: skip
        else:
            items[i] = refused(name, outcome.field, outcome.reason)
    outcomes = [item for item in items if item is not None]
    accepted = sum(1 for item in outcomes if item.accepted)
    return ImportAccepted(
        accepted=accepted, refused=len(outcomes) - accepted, items=outcomes, anchors=anchors
    )


@router.post(
    "/transactions",
    status_code=202,
    operation_id="importSt96Transaction",
    response_model=TransactionAccepted,
    responses=problem_responses(400, 401, 413, 422),
    summary="Import a WIPO ST.96 Madrid or Hague transaction: registrations, designations, holder changes "
    "(at WO's node) or decisions (at the designated office's node), item by item",
)
def import_transaction(
    body: TransactionImportCreate,
    office: OfficeDep,
    store: StoreDep,
    settings: SettingsDep,
    chain_view: ChainViewDep,
) -> TransactionAccepted:
    try:
        data = base64.b64decode(body.file.content, validate=True)
    except (binascii.Error, ValueError):
        raise OfficeError("file.content", "not base64") from None
    try:
        transaction = parse_transaction(data, _schemas(settings.st96_schema_dir))
    except St96Error as err:  # the whole transaction is refused: nothing of it is kept
        raise OfficeError(err.element, err.reason) from None
    items = [
        TransactionItemPublic(
            index=o.index, item=o.item, rightId=o.right_id, accepted=o.error is None,
            alreadyRecorded=o.already_recorded,
            changes=[change_accepted(a, store) for a in o.accepted],
            error=FieldError(field=o.error.field, reason=o.error.reason) if o.error else None,
        )
        for o in apply_transaction(office, chain_view, transaction)
    ]  # fmt: skip
    accepted = sum(1 for item in items if item.accepted)
    return TransactionAccepted(
        name=body.file.name, root=transaction.root, standard=transaction.standard,
        validated=transaction.validated, accepted=accepted, refused=len(items) - accepted, items=items,
    )  # fmt: skip


def refused(name: str, field: str, reason: str) -> ImportOutcomePublic:
    return ImportOutcomePublic(name=name, accepted=False, error=FieldError(field=field, reason=reason))
