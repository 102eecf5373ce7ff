"""GET /v1/changes: the latest changes across every office, newest first, each told in words."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from gateway.api.deps import IndexDep, SettingsDep
from gateway.api.errors import problem_responses
from gateway.api.models import ChangeList
from gateway.api.routes.params import check_limit

router = APIRouter(prefix="/v1/changes", tags=["changes"])


@router.get(
    "",
    operation_id="listChanges",
    response_model=ChangeList,
    responses=problem_responses(400),
    summary="The latest changes across offices",
)
async def list_changes(
    index: IndexDep,
    settings: SettingsDep,
    limit: Annotated[int | None, Query(description="How many, at most the gateway's max_page_size.")] = None,
) -> ChangeList:
    size = check_limit(limit, settings.max_page_size)
    return ChangeList.model_validate({"items": await run_in_threadpool(index.changes, size)})
