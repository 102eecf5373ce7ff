"""GET /v1/rights/{rightId}/receipt: a self-contained, gateway-signed bundle an auditor re-checks offline."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from gateway.api.deps import ServicesDep
from gateway.api.errors import problem_responses
from gateway.api.outbound import run_outbound
from gateway.api.routes.params import RightIdPath, StatedBlockQuery
from gateway.api.routes.verification import InvalidBlock, InvalidRightId
from gateway.verify.chain_reads import BlockOutOfRange
from gateway.verify.facts import BadRightId
from gateway.verify.models import Receipt
from gateway.verify.receipts import ReceiptUnavailable, build_receipt
from registry_node.protocol.http.path_convertors import RIGHT_ID_SEGMENT
from registry_node.protocol.http.problems import ApiError

router = APIRouter(prefix="/v1/rights", tags=["receipts"])


class ReceiptProblem(ApiError):
    slug = "no-receipt"
    title = "No receipt can be issued"

    def __init__(self, status: int, reason: str) -> None:
        super().__init__("rightId", reason)
        self.status = status


@router.get(
    f"/{RIGHT_ID_SEGMENT}/receipt",
    operation_id="readReceipt",
    response_model=Receipt,
    response_model_exclude_unset=True,
    responses=problem_responses(400, 404, 409, 502),
    summary="Receipt of the right's current version (schema ipreg/receipt/2), signed by the gateway",
)
async def read_receipt(
    request: Request,
    right_id: RightIdPath,
    services: ServicesDep,
    block: StatedBlockQuery = None,
) -> dict[str, Any]:
    gatherer = services.verifier.gatherer
    try:
        return await run_outbound(request, build_receipt, gatherer, right_id, block, services.signer)
    except BadRightId as err:
        raise InvalidRightId("rightId", str(err)) from None
    except BlockOutOfRange as err:
        raise InvalidBlock("block", err.reason) from None
    except ReceiptUnavailable as err:
        raise ReceiptProblem(err.status, err.reason) from None
