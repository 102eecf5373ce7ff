"""GET /v1/rights/{rightId}/family: the rights and applications linked to a right, whichever office's
records state the links (priority claims, PCT national phases, divisionals, continuations, validations) and
an international registration's designations, followed both ways up to a bound, each member with its owner,
status and the verdict on its current version.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from gateway.api.deps import IndexDep, ServicesDep
from gateway.api.errors import problem_responses
from gateway.api.models import FamilyList, FamilyMember
from gateway.api.routes.params import NotFound, RightRefDep
from gateway.api.routes.verification import verdict_on
from gateway.read_model.queries import FAMILY_DEPTH, FAMILY_MEMBERS, Index
from registry_node.protocol.http.path_convertors import RIGHT_ID_SEGMENT

router = APIRouter(prefix="/v1/rights", tags=["family"])


@router.get(
    f"/{RIGHT_ID_SEGMENT}/family",
    operation_id="listFamily",
    response_model=FamilyList,
    responses=problem_responses(400, 404),
    summary=f"The rights linked to a right, both ways, up to {FAMILY_DEPTH} links, {FAMILY_MEMBERS} members",
)
async def list_family(
    request: Request, ref: RightRefDep, index: IndexDep, services: ServicesDep
) -> FamilyList:
    found = await run_in_threadpool(_family, index, ref.chain_id)
    if found is None:
        raise NotFound("rightId", "no such right on chain (as far as the index has followed it)")
    right_id, members = found
    verdicts = await asyncio.gather(
        *(
            verdict_on(request, services, m["rightId"] or m["chainRightId"])
            for m in members
            if m["inRegistry"]
        )
    )
    verified = iter(verdicts)
    for member in members:
        member["verification"] = next(verified) if member["inRegistry"] else None
    return FamilyList(
        rightId=right_id or ref.right_id,
        chainRightId=ref.chain_id,
        maxDepth=FAMILY_DEPTH,
        maxMembers=FAMILY_MEMBERS,
        items=[FamilyMember.model_validate(m) for m in members],
    )


def _family(index: Index, chain_id: str) -> tuple[str | None, list[dict[str, Any]]] | None:
    """The right's string id and family, in one trip to the thread pool; None: no such entry."""
    if not index.known_entry(chain_id):
        return None
    return index.right_id_of(chain_id), index.family(chain_id)
