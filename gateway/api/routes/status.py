"""GET /v1/status: how far the index has followed the chain."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from gateway.api.deps import ServicesDep
from gateway.api.models import StatusPublic
from gateway.read_model.indexer import IndexerStatus
from gateway.read_model.queries import iso
from registry_node.protocol.chain import blocks_behind_head

router = APIRouter(prefix="/v1/status", tags=["status"])


@router.get("", operation_id="readStatus", response_model=StatusPublic, summary="Head, indexed block and lag")
async def read_status(services: ServicesDep) -> StatusPublic:
    def status_now() -> IndexerStatus:
        behind = blocks_behind_head(services.verifier.gatherer.confirmations, services.w3)
        return services.index.status(behind)

    status = await run_in_threadpool(status_now)
    return StatusPublic(
        chainId=status.chain_id,
        contractAddress=status.contract_address or services.settings.contract_address or "",
        headBlock=status.head_block,
        indexedBlock=status.indexed_block,
        lag=status.lag,
        confirmations=status.confirmations,
        headSeenAt=iso(status.head_seen_at) if status.head_seen_at else None,
        lastError=status.last_error,
    )
