"""GET /v1/rights/{rightId}/designations: the offices an international registration (`WO:TM:…`, `WO:DES:…`)
designates, each with its designated office's latest decision and the verdict on it.

Each verdict is the one `GET /v1/rights/{designationId}/verification` gives, from the same gatherer and
judge: on the designated office's signed record of its latest decision, or, while it has decided nothing, on
the International Bureau's record of the registration's version that designated it. The list itself comes
from the index; only the verdicts rest on the chain.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from gateway.api.deps import IndexDep, ServicesDep
from gateway.api.errors import problem_responses
from gateway.api.models import DesignationList, DesignationPublic
from gateway.api.routes.params import NotFound, RightRefDep
from gateway.api.routes.verification import verdict_on
from gateway.read_model.queries import Index
from registry_node.protocol.http.path_convertors import RIGHT_ID_SEGMENT

router = APIRouter(prefix="/v1/rights", tags=["designations"])


@router.get(
    f"/{RIGHT_ID_SEGMENT}/designations",
    operation_id="listDesignations",
    response_model=DesignationList,
    responses=problem_responses(400, 404),
    summary="The offices an international registration designates, each with its latest decision, verified",
)
async def list_designations(
    request: Request, ref: RightRefDep, index: IndexDep, services: ServicesDep
) -> DesignationList:
    found = await run_in_threadpool(_designations, index, ref.chain_id)
    if found is None:
        raise NotFound("rightId", "no such right on chain (as far as the index has followed it)")
    right_id, items = found
    right_id = right_id or ref.right_id
    entries = [item["designationId"] or item["chainDesignationId"] for item in items]
    verdicts = await asyncio.gather(*(verdict_on(request, services, entry) for entry in entries))
    for item, verdict in zip(items, verdicts, strict=True):
        item["verification"] = verdict
        item["receipt"] = _receipt(item, right_id or ref.chain_id)
    return DesignationList(
        rightId=right_id,
        chainRightId=ref.chain_id,
        items=[DesignationPublic.model_validate(item) for item in items],
    )


def _designations(index: Index, chain_id: str) -> tuple[str | None, list[dict[str, Any]]] | None:
    """The registration's string id and designations, in one trip to the thread pool; None: no such entry."""
    if not index.known_entry(chain_id):
        return None
    return index.right_id_of(chain_id), index.designations(chain_id)


def _receipt(item: dict[str, Any], registration: str) -> str:
    """The receipt of the latest decision, or with none yet the registration's at the designating block."""
    if item["latestDecision"] is not None:
        return f"/v1/rights/{item['designationId'] or item['chainDesignationId']}/receipt"
    return f"/v1/rights/{registration}/receipt?block={item['blockNumber']}"
