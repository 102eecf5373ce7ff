"""Verification: GET /v1/rights/{rightId}/verification and POST /v1/verifications (upload a document).

A verdict is the evidence gathered at a stated block (`gateway.verify.evidence`: the chain, the office's
deep link) judged by `gateway.verify.judge`, and signed by the gateway key. Gathering waits on the chain and
the offices, so it runs in a worker thread; judging is CPU only and runs on the event loop. A small JSON
upload whose chain reads are all cached for the stated block is gathered on the event loop too (from the
cache alone), sparing it the thread hop. An upload is refused with 413 as soon as it passes the size limit,
before it is read whole. `verdict_on` gives the same verdict on a right, unsigned, to the routes that list
many (designations, family members).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from gateway.api.deps import ServicesDep
from gateway.api.errors import problem_responses
from gateway.api.outbound import run_outbound
from gateway.api.routes.params import RightIdPath, StatedBlockQuery
from gateway.services import Services
from gateway.verify.chain_reads import BlockOutOfRange, NotCached
from gateway.verify.evidence import Gatherer
from gateway.verify.facts import BadRightId, UploadEvidence
from gateway.verify.judge import judge
from gateway.verify.models import Verdict
from gateway.verify.uploads import is_light, parse_multipart
from registry_node.protocol.chain import ChainError
from registry_node.protocol.http.path_convertors import RIGHT_ID_SEGMENT
from registry_node.protocol.http.problems import ApiError, PayloadTooLarge

router = APIRouter(tags=["verification"])


class InvalidRightId(ApiError):
    slug = "invalid-right-id"
    title = "Invalid right id"


class InvalidBlock(ApiError):
    slug = "invalid-block"
    title = "No registry state at this block"


class EmptyUpload(ApiError):
    slug = "empty-upload"
    title = "Nothing to verify"


async def verdict_on(request: Request, services: Services, right_id: str) -> Verdict | None:
    """The verdict `GET /v1/rights/{right_id}/verification` gives (unsigned: a list embeds it), or None when
    the chain cannot be asked now; counted for /metrics as that route's are."""
    try:
        evidence = await run_outbound(request, services.verifier.gatherer.right, right_id, None)
    except ChainError:
        return None
    verdict = judge(evidence)
    metrics = getattr(request.app.state, "metrics", None)
    if metrics is not None:
        metrics.verdict("right", verdict.verdict.value)
    return verdict


def _answer(request: Request, services: Services, subject: str, verdict: Verdict) -> dict[str, Any]:
    """The verdict as served: counted for /metrics, and signed by the gateway key when it has one."""
    body = verdict.to_json()
    metrics = getattr(request.app.state, "metrics", None)  # None: an app of these routes alone (tests)
    if metrics is not None:
        metrics.verdict(subject, str(body["verdict"]))
    return services.signer.sign(body) if services.signer is not None else body


@router.get(
    f"/v1/rights/{RIGHT_ID_SEGMENT}/verification",
    operation_id="verifyRight",
    response_model=Verdict,
    response_model_exclude_none=True,
    responses=problem_responses(400),
    summary="Verify a right's current signed record against chain state at a stated block",
)
async def verify_right(
    request: Request,
    right_id: RightIdPath,
    services: ServicesDep,
    block: StatedBlockQuery = None,
) -> dict[str, Any]:
    gatherer = services.verifier.gatherer
    try:  # always in a worker thread: the office's deep link is fetched
        evidence = await run_outbound(request, gatherer.right, right_id, block)
    except BadRightId as err:
        raise InvalidRightId("rightId", str(err)) from None
    except BlockOutOfRange as err:
        raise InvalidBlock("block", err.reason) from None
    return _answer(request, services, "right", judge(evidence))


@router.post(
    "/v1/verifications",
    operation_id="verifyDocument",
    response_model=Verdict,
    response_model_exclude_none=True,
    responses=problem_responses(400, 413),
    summary="Verify an uploaded record JSON, signed document, ST.96 XML or any file",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                },
            },
        }
    },
)
async def verify_document(
    request: Request,
    services: ServicesDep,
    block: StatedBlockQuery = None,
) -> dict[str, Any]:
    limit = int(services.settings.max_upload_bytes)
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(limit)
        chunks.append(chunk)
    body = b"".join(chunks)
    content_type = request.headers.get("content-type", "")
    filename = request.headers.get("x-filename")
    if content_type.startswith("multipart/form-data"):
        part = parse_multipart(body, content_type)
        if part is None:
            raise EmptyUpload("file", "the multipart body has no file part")
        body, content_type, filename = part[0], part[1] or "", part[2]
    if not body:
        raise EmptyUpload("body", "the upload is empty")
    gatherer = services.verifier.gatherer
    try:
        evidence = _gathered_from_cache(gatherer, body, content_type, filename, block)
        if evidence is None:
            evidence = await run_outbound(request, gatherer.upload, body, content_type, filename, block)
    except BlockOutOfRange as err:
        raise InvalidBlock("block", err.reason) from None
    return _answer(request, services, "document", judge(evidence))


def _gathered_from_cache(
    gatherer: Gatherer, body: bytes, content_type: str, filename: str | None, block: int | None
) -> UploadEvidence | None:
    """The evidence on a light upload, gathered here on the event loop from what is cached for the stated
    block; None when it needs more (a chain read not cached yet, a deep-link fetch, an index look-up) or
    the upload is not light."""
    if not is_light(body, content_type, filename):
        return None
    try:
        return gatherer.cached().upload(body, content_type, filename, block)
    except NotCached:
        return None
