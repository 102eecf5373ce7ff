"""GET /v1/offices: the consortium's offices, with their signing keys and the keys' validity."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from starlette.concurrency import run_in_threadpool

from gateway.api.deps import IndexDep
from gateway.api.errors import problem_responses
from gateway.api.models import OfficeList, OfficePublic
from gateway.api.routes.params import NotFound

router = APIRouter(prefix="/v1/offices", tags=["offices"])


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
async def read_office(
    office_code: Annotated[
        str, Path(alias="officeCode", pattern=r"^[A-Z]{2}$", description="WIPO ST.3 code")
    ],
    index: IndexDep,
) -> OfficePublic:
    office = await run_in_threadpool(index.office, office_code)
    if office is None:
        raise NotFound("officeCode", f"no office {office_code} in the consortium")
    return OfficePublic.model_validate(office)
