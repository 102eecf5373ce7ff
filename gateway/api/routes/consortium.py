"""GET /v1/consortium/anchor: the consortium's trust anchor as this gateway reads it from the chain.

An auditor checking receipts should take the anchor from the offices themselves (each can write it with
`ipreg network anchor` from its own validator), not from the gateway whose receipts it checks: this copy is
for comparing, and for tools.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from gateway.api.deps import ServicesDep
from gateway.api.errors import problem_responses
from gateway.api.models import ConsortiumAnchorPublic
from gateway.api.outbound import run_outbound
from registry_node.protocol.chain import ChainError

router = APIRouter(prefix="/v1/consortium", tags=["consortium"])


@router.get(
    "/anchor",
    operation_id="readConsortiumAnchor",
    response_model=ConsortiumAnchorPublic,
    responses=problem_responses(502),
    summary="The trust anchor (ipreg/consortium-anchor/1): chain id, genesis, contract, validators by block",
)
async def read_anchor(request: Request, services: ServicesDep) -> dict[str, Any]:
    anchor = await run_outbound(request, services.verifier.gatherer.anchor)
    if anchor is None:  # a verifier built without an anchor source (never the gateway's own)
        raise ChainError("this gateway reads no trust anchor")
    return anchor.to_json()
