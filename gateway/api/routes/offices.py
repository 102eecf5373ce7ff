"""GET /v1/offices: the consortium's offices, with their signing keys and the keys' validity, and whether
each office's deep links answer."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.concurrency import run_in_threadpool

from gateway.api.deps import IndexDep, ServicesDep
from gateway.api.errors import problem_responses
from gateway.api.models import OfficeHealth, OfficeList, OfficePublic
from gateway.api.outbound import run_outbound
from gateway.api.routes.params import NotFound
from gateway.deep_links import OfficeUnreachable
from gateway.read_model.queries import iso

router = APIRouter(prefix="/v1/offices", tags=["offices"])

OfficeCodePath = Annotated[str, Path(alias="officeCode", pattern=r"^[A-Z]{2}$", description="WIPO ST.3 code")]


@router.get("", operation_id="listOffices", response_model=OfficeList, summary="Every office, with keys")
async def list_offices(index: IndexDep) -> OfficeList:
    return OfficeList.model_validate({"items": await run_in_threadpool(index.offices)})


@router.get(
    "/{officeCode}",
    operation_id="readOffice",
    response_model=OfficePublic,
    responses=problem_responses(400, 404),
    summary="One office, with its keys",
)
async def read_office(office_code: OfficeCodePath, index: IndexDep) -> OfficePublic:
    office = await run_in_threadpool(index.office, office_code)
    if office is None:
        raise NotFound("officeCode", f"no office {office_code} in the consortium")
    return OfficePublic.model_validate(office)


@router.get(
    "/{officeCode}/health",
    operation_id="checkOfficeHealth",
    response_model=OfficeHealth,
    responses=problem_responses(400, 404),
    summary="Whether the office's deep links answer now (the gateway asks them)",
)
async def check_office_health(
    request: Request, office_code: OfficeCodePath, services: ServicesDep
) -> OfficeHealth:
    office = await run_in_threadpool(services.index.office, office_code)
    if office is None:
        raise NotFound("officeCode", f"no office {office_code} in the consortium")
    documents = services.verifier.gatherer.documents
    started = time.perf_counter()
    reachable, detail = False, "this gateway fetches no deep links"
    if documents is not None:
        try:
            detail = await run_outbound(request, documents.probe, office["endpoint"])
            reachable = True
        except OfficeUnreachable as err:
            detail = err.reason
    return OfficeHealth(
        officeCode=office_code,
        endpoint=office["endpoint"],
        reachable=reachable,
        latencyMs=round((time.perf_counter() - started) * 1000, 1) if reachable else None,
        checkedAt=iso(time.time()),
        detail=detail,
    )
