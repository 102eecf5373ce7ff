"""GET /v1/anchors: Merkle roots offices anchored, and the records each one covers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from starlette.concurrency import run_in_threadpool

from gateway.api.deps import IndexDep, SettingsDep
from gateway.api.errors import problem_responses
from gateway.api.models import AnchorPage, AnchorPublic
from gateway.api.routes.params import InvalidParameter, NotFound, check_limit
from gateway.read_model.queries import BadCursor

router = APIRouter(prefix="/v1/anchors", tags=["anchors"])


@router.get(
    "",
    operation_id="listAnchors",
    response_model=AnchorPage,
    responses=problem_responses(400),
    summary="Anchored roots, newest first",
)
async def list_anchors(
    index: IndexDep,
    settings: SettingsDep,
    office: Annotated[str | None, Query(pattern=r"^[A-Z]{2}$")] = None,
    limit: Annotated[int | None, Query(description="Page size, at most the gateway's max_page_size.")] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> AnchorPage:
    size = check_limit(limit, settings.max_page_size)
    try:
        page = await run_in_threadpool(index.anchors, size, cursor, office)
    except BadCursor as err:
        raise InvalidParameter("cursor", str(err)) from None
    return AnchorPage.model_validate({"count": page.count, "items": page.items, "next": page.next})


@router.get(
    "/{root}",
    operation_id="readAnchor",
    response_model=AnchorPublic,
    responses=problem_responses(400, 404),
    summary="One anchored root and the records its verified manifest lists",
)
async def read_anchor(
    root: Annotated[str, Path(pattern=r"^(0x)?[0-9a-fA-F]{64}$", description="The Merkle root, hex")],
    index: IndexDep,
) -> AnchorPublic:
    anchor = await run_in_threadpool(index.anchor, "0x" + root.removeprefix("0x").lower())
    if anchor is None:
        raise NotFound("root", "no such root anchored on chain")
    return AnchorPublic.model_validate(anchor)
