"""Operator routes for the outbox: where each accepted change stands on its way to the chain."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query

from registry_node.node.api.deps import StoreDep, require_operator
from registry_node.node.api.errors import problem_responses
from registry_node.node.api.models import OutboxEntryPublic, OutboxPage
from registry_node.node.store import OutboxEntry, OutboxState

router = APIRouter(prefix="/v1/outbox", tags=["outbox"], dependencies=[Depends(require_operator)])

MAX_PAGE = 500
MAX_ID = 2**62


def entry_public(entry: OutboxEntry) -> OutboxEntryPublic:
    return OutboxEntryPublic(
        id=entry.id,
        rightId=entry.right_id,
        version=entry.version,
        action=entry.action,
        state=entry.state,
        txHash=entry.tx_hash,
        nonce=entry.nonce,
        blockNumber=entry.block_number,
        error=entry.error,
        attempts=entry.attempts,
    )


@router.get(
    "",
    operation_id="listOutbox",
    response_model=OutboxPage,
    responses=problem_responses(400, 401),
    summary="List outbox entries, oldest first",
)
def list_outbox(
    store: StoreDep,
    state: Annotated[OutboxState | None, Query(description="Only entries in this state.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> OutboxPage:
    states = (state,) if state else tuple(OutboxState)
    entries = store.outbox(states, limit + 1, offset)
    return OutboxPage(
        items=[entry_public(e) for e in entries[:limit]],
        limit=limit,
        offset=offset,
        nextOffset=offset + limit if len(entries) > limit else None,
    )


@router.get(
    "/{entryId}",
    operation_id="readOutboxEntry",
    response_model=OutboxEntryPublic,
    responses=problem_responses(400, 401, 404),
    summary="Read one outbox entry (the status URL a write answers with)",
)
def read_outbox_entry(
    entry_id: Annotated[int, Path(alias="entryId", ge=1, le=MAX_ID)], store: StoreDep
) -> OutboxEntryPublic:
    entry = store.outbox_entry(entry_id)
    if entry is None:
        raise HTTPException(404, f"no outbox entry {entry_id}")
    return entry_public(entry)
