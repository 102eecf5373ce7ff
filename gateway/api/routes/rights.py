"""GET /v1/rights…: rights with filters and cursor pagination, one right, its history, its state at a date.

A right is named by its string id (`EP:PAT:EP20190012345`, a `/` sent as %2F) or its 0x chain id.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from gateway.api.deps import IndexDep, SettingsDep
from gateway.api.errors import problem_responses
from gateway.api.models import HistoryPublic, RightPage, RightPublic, RightStatePublic
from gateway.api.routes.params import InvalidParameter, NotFound, RightRefDep, check_limit
from gateway.read_model.queries import BadCursor, Index, RightFilter
from registry_node.protocol.http.path_convertors import RIGHT_ID_SEGMENT

router = APIRouter(prefix="/v1/rights", tags=["rights"])

KINDS = r"^(patent|utilityModel|trademark|design|geographicalIndication)$"


@router.get(
    "",
    operation_id="listRights",
    response_model=RightPage,
    responses=problem_responses(400),
    summary="Rights, filtered and paginated",
)
async def list_rights(
    index: IndexDep,
    settings: SettingsDep,
    office: Annotated[str | None, Query(pattern=r"^[A-Z]{2}$", description="ST.3 office code")] = None,
    kind: Annotated[str | None, Query(pattern=KINDS)] = None,
    status: Annotated[
        str | None,
        Query(
            pattern=r"^[ANTU]([0-6]([A-Z][0-9]{2})?)?$", description="ST.27 code or a prefix: A, A4, A4F10"
        ),
    ] = None,
    owner_commitment: Annotated[str | None, Query(alias="ownerCommitment", pattern=r"^[0-9a-f]{64}$")] = None,
    number: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=64,
            pattern=r"^[A-Za-z0-9 ./-]+$",
            description="An application, publication or registration number, spaced or not "
            "(`3 712 345`, `EP3712345`), as the office's published records give it",
        ),
    ] = None,
    limit: Annotated[int | None, Query(description="Page size, at most the gateway's max_page_size.")] = None,
    cursor: Annotated[str | None, Query(max_length=200, description="`next` of the previous page")] = None,
) -> RightPage:
    size = check_limit(limit, settings.max_page_size)
    try:
        where = RightFilter(office, kind, status, owner_commitment, number)
        page = await run_in_threadpool(index.rights, where, size, cursor)
    except BadCursor as err:
        raise InvalidParameter("cursor", str(err)) from None
    return RightPage.model_validate({"count": page.count, "items": page.items, "next": page.next})


@router.get(
    f"/{RIGHT_ID_SEGMENT}/history",
    operation_id="readRightHistory",
    response_model=HistoryPublic,
    responses=problem_responses(400, 404),
    summary="Every change of a right, in chain order",
)
async def read_history(ref: RightRefDep, index: IndexDep) -> HistoryPublic:
    items, known_id = await run_in_threadpool(_history, index, ref.chain_id)
    if not items:
        raise await _not_found(index, ref.chain_id)
    right_id = known_id or ref.right_id
    return HistoryPublic.model_validate({"rightId": right_id, "chainRightId": ref.chain_id, "items": items})


@router.get(
    f"/{RIGHT_ID_SEGMENT}/state",
    operation_id="readRightState",
    response_model=RightStatePublic,
    responses=problem_responses(400, 404),
    summary="A right as it stood at the end of a day, or at an instant (UTC, by block time)",
)
async def read_state(
    ref: RightRefDep,
    index: IndexDep,
    date: Annotated[
        dt.date | None, Query(description="YYYY-MM-DD: the state at the end of that UTC day")
    ] = None,
    at: Annotated[
        dt.datetime | None,
        Query(description="An instant with its offset (2026-12-04T16:30:05Z): the state at that moment"),
    ] = None,
) -> RightStatePublic:
    if (date is None) == (at is None):
        raise InvalidParameter("date", "give a date (YYYY-MM-DD) or an instant (at=...), one of the two")
    if at is not None and at.tzinfo is None:
        raise InvalidParameter("at", "must carry its offset from UTC, e.g. 2026-12-04T16:30:05Z")
    when: dt.date | dt.datetime = at if at is not None else date  # type: ignore[assignment]
    state = await run_in_threadpool(index.state_at, ref.chain_id, when, ref.right_id)
    if state is None:
        field = "at" if at is not None else "date"
        raise NotFound(field, f"the right did not exist on chain by {state_moment(when)}")
    return RightStatePublic.model_validate(state)


def state_moment(when: dt.date | dt.datetime) -> str:
    if isinstance(when, dt.datetime):
        return when.isoformat().replace("+00:00", "Z")
    return f"the end of {when.isoformat()}"


@router.get(
    f"/{RIGHT_ID_SEGMENT}",
    operation_id="readRight",
    response_model=RightPublic,
    responses=problem_responses(400, 404),
    summary="One right's current state",
)
async def read_right(ref: RightRefDep, index: IndexDep) -> RightPublic:
    right = await run_in_threadpool(index.right, ref.chain_id, ref.right_id)
    if right is None:
        raise await _not_found(index, ref.chain_id)
    return RightPublic.model_validate(right)


async def _not_found(index: Index, chain_id: str) -> NotFound:
    """Why the index has no right under `chain_id`: a designation with no decision yet is said to be one."""
    undecided = await run_in_threadpool(index.undecided, chain_id)
    if undecided is None:
        return NotFound("rightId", "no such right on chain (as far as the index has followed it)")
    office, registration = undecided["designatedOfficeCode"], undecided["internationalRegistration"]
    return NotFound(
        "rightId",
        f"designated to {office} by {undecided['officeCode']} (version {undecided['version']} of "
        f"{registration}, block {undecided['blockNumber']}), which has recorded no decision on it yet: see "
        f"GET /v1/rights/{registration}/designations",
    )


def _history(index: Index, chain_id: str) -> tuple[list[dict[str, Any]], str | None]:
    """A right's history and its string id as the index learned it, in one trip to the thread pool."""
    items = index.history(chain_id)
    return items, index.right_id_of(chain_id) if items else None
