"""GET /v1/summary: what the registry holds, rights by office and kind (the auditor page's home)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from gateway.api.deps import IndexDep
from gateway.api.models import RegistrySummary

router = APIRouter(prefix="/v1/summary", tags=["summary"])


@router.get(
    "", operation_id="readSummary", response_model=RegistrySummary, summary="Rights by office and kind"
)
async def read_summary(index: IndexDep) -> RegistrySummary:
    return RegistrySummary.model_validate(await run_in_threadpool(index.summary))
