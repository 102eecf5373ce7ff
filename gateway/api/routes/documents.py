"""GET /v1/documents/{sha256}: what a document's SHA-256 is known as."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from starlette.concurrency import run_in_threadpool

from gateway.api.deps import IndexDep
from gateway.api.errors import problem_responses
from gateway.api.models import DocumentPublic
from gateway.api.routes.params import NotFound

router = APIRouter(prefix="/v1/documents", tags=["documents"])


@router.get(
    "/{sha256}",
    operation_id="lookUpDocument",
    response_model=DocumentPublic,
    responses=problem_responses(400, 404),
    summary="A record, an evidence document, a source XML (C14N) or an anchored record, by SHA-256",
)
async def look_up_document(
    sha256: Annotated[str, Path(pattern=r"^[0-9a-fA-F]{64}$", description="SHA-256, hex")],
    index: IndexDep,
) -> DocumentPublic:
    digest = sha256.lower()
    known = await run_in_threadpool(index.document, digest)
    if not known:
        raise NotFound("sha256", "no record, evidence, source XML or anchored record has this hash")
    return DocumentPublic.model_validate({"sha256": digest, "knownAs": known})
