"""GET /v1/network: the validators that seal the chain, the offices they belong to, and who sealed lately."""

from __future__ import annotations

from fastapi import APIRouter, Request

from gateway.api.deps import ServicesDep
from gateway.api.models import NetworkPublic, ValidatorNodePublic, ValidatorPublic
from gateway.api.outbound import run_outbound

router = APIRouter(prefix="/v1/network", tags=["network"])


@router.get(
    "",
    operation_id="readNetwork",
    response_model=NetworkPublic,
    summary="The validators: their offices, heads, peers and the latest blocks each sealed",
)
async def read_network(request: Request, services: ServicesDep) -> NetworkPublic:
    seen = await run_outbound(request, services.validators.read)
    return NetworkPublic(
        engine=seen.engine,
        headBlock=seen.head_number,
        signers=seen.signers,
        finalDepth=seen.final_depth,
        recentBlocks=seen.recent_blocks,
        validators=[
            ValidatorPublic(
                officeCode=v.office,
                officeStatus=v.office_status,
                address=v.address,
                signer=v.signer,
                sealedBlocks=v.sealed,
                node=ValidatorNodePublic(
                    headBlock=v.node.head_number, headHash=v.node.head_hash, peers=v.node.peers
                )
                if v.node
                else None,
            )
            for v in seen.validators
        ],
    )
