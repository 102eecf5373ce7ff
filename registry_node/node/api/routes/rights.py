"""Operator routes for rights: register, record a change, publish, and read a right against the chain.

Every write is checked and stored by `Office` before the answer, and answers 202 with the outbox entry
that takes it to the chain (`Location: /v1/outbox/{id}`).
"""

from __future__ import annotations

import json
from urllib.parse import quote

from fastapi import APIRouter, Depends, Response

from registry_node.node.api.deps import (
    ChainViewDep,
    OfficeDep,
    SettingsDep,
    StoreDep,
    require_operator,
)
from registry_node.node.api.errors import problem_responses
from registry_node.node.api.models import (
    ChangeAccepted,
    DecisionCreate,
    DesignationCreate,
    OnChainPublic,
    OwnershipChangeCreate,
    PublicationCreate,
    RightCreate,
    RightPublic,
    StatusEventCreate,
)
from registry_node.node.api.routes.params import RightIdPath
from registry_node.node.international import designate, record_decision
from registry_node.node.office import Accepted, UnknownRight, stored_chain_state
from registry_node.node.store import OutboxState, Store
from registry_node.protocol.chain import ChainError
from registry_node.protocol.http.path_convertors import RIGHT_ID_SEGMENT

router = APIRouter(prefix="/v1/rights", tags=["rights"], dependencies=[Depends(require_operator)])

WRITE_PROBLEMS = problem_responses(400, 401, 403, 404, 409, 413, 422)


def _accepted(accepted: Accepted, store: Store, response: Response) -> ChangeAccepted:
    response.headers["Location"] = f"/v1/outbox/{accepted.outbox_id}"
    return change_accepted(accepted, store)


def change_accepted(accepted: Accepted, store: Store) -> ChangeAccepted:
    entry = store.outbox_entry(accepted.outbox_id)
    return ChangeAccepted(
        rightId=accepted.right_id,
        version=accepted.version,
        recordHash=accepted.record_hash.hex(),
        outboxId=accepted.outbox_id,
        status=entry.state if entry else OutboxState.PENDING,
    )


@router.post(
    "",
    status_code=202,
    operation_id="createRight",
    response_model=ChangeAccepted,
    responses=WRITE_PROBLEMS,
    summary="Register a right of this office (version 1)",
)
def create_right(body: RightCreate, office: OfficeDep, store: StoreDep, response: Response) -> ChangeAccepted:
    return _accepted(office.register(body.right, confidential=body.confidential), store, response)


@router.post(
    f"/{RIGHT_ID_SEGMENT}/ownership-changes",
    status_code=202,
    operation_id="recordOwnershipChange",
    response_model=ChangeAccepted,
    responses=WRITE_PROBLEMS,
    summary="Record an ownership change (assignment, licence, security interest, ...)",
)
def record_ownership_change(
    right_id: RightIdPath, body: OwnershipChangeCreate, office: OfficeDep, store: StoreDep, response: Response
) -> ChangeAccepted:
    return _accepted(
        office.record_ownership_change(right_id, body.expectedVersion, body.change), store, response
    )


@router.post(
    f"/{RIGHT_ID_SEGMENT}/status-events",
    status_code=202,
    operation_id="recordStatusEvent",
    response_model=ChangeAccepted,
    responses=WRITE_PROBLEMS,
    summary="Record a legal-status event (WIPO ST.27, ST.61, ST.87)",
)
def record_status_event(
    right_id: RightIdPath, body: StatusEventCreate, office: OfficeDep, store: StoreDep, response: Response
) -> ChangeAccepted:
    return _accepted(office.record_status(right_id, body.expectedVersion, body.event), store, response)


@router.post(
    f"/{RIGHT_ID_SEGMENT}/publication",
    status_code=202,
    operation_id="publishRight",
    response_model=ChangeAccepted,
    responses=WRITE_PROBLEMS,
    summary="Publish a confidential right: its records become public and its seal is opened on chain",
)
def publish_right(
    right_id: RightIdPath, body: PublicationCreate, office: OfficeDep, store: StoreDep, response: Response
) -> ChangeAccepted:
    return _accepted(office.publish(right_id, body.expectedVersion), store, response)


@router.post(
    f"/{RIGHT_ID_SEGMENT}/designations",
    status_code=202,
    operation_id="designateOffice",
    response_model=ChangeAccepted,
    responses=problem_responses(400, 401, 403, 404, 409, 413, 422, 503),
    summary="Designate an office on an international registration (the International Bureau, WO, only)",
)
def designate_office(
    right_id: RightIdPath,
    body: DesignationCreate,
    office: OfficeDep,
    store: StoreDep,
    chain_view: ChainViewDep,
    response: Response,
) -> ChangeAccepted:
    accepted = designate(office, chain_view, right_id, body.expectedVersion, body.designation)
    return _accepted(accepted, store, response)


@router.post(
    f"/{RIGHT_ID_SEGMENT}/decisions",
    status_code=202,
    operation_id="recordDecision",
    response_model=ChangeAccepted,
    responses=problem_responses(400, 401, 403, 404, 409, 413, 422, 503),
    summary="Record this office's decision on its designation (`WO:TM:1234567@GB`): refusal, grant, ...",
)
def record_designation_decision(
    right_id: RightIdPath,
    body: DecisionCreate,
    office: OfficeDep,
    store: StoreDep,
    chain_view: ChainViewDep,
    response: Response,
) -> ChangeAccepted:
    accepted = record_decision(office, chain_view, right_id, body.expectedVersion, body.decision)
    return _accepted(accepted, store, response)


@router.get(
    f"/{RIGHT_ID_SEGMENT}",
    operation_id="readRight",
    response_model=RightPublic,
    responses=problem_responses(400, 401, 404),
    summary="Read a right: the node's latest version and whether the chain holds it",
)
def read_right(
    right_id: RightIdPath, store: StoreDep, chain_view: ChainViewDep, settings: SettingsDep
) -> RightPublic:
    latest = store.latest(right_id)
    if latest is None:
        raise UnknownRight("rightId", f"{right_id} is not registered by this office")
    on_chain: OnChainPublic | None = None
    on_chain_error: str | None = None
    try:
        answer = chain_view.right(right_id, stored_chain_state(latest))
        on_chain = OnChainPublic(
            version=answer.version, matchesLocal=answer.version == latest.version and answer.state_matches
        )
    except ChainError as err:
        on_chain_error = str(err)
    return RightPublic(
        rightId=right_id,
        version=latest.version,
        changeKind=latest.change_kind,
        recordHash=latest.record_hash.hex(),
        confidential=bool(latest.state["confidential"]),
        record=json.loads(latest.canonical),
        documentUrl=(
            f"{settings.public_url}/v1/documents/{quote(right_id, safe=':')}/{latest.version}"
            if latest.published
            else None
        ),
        onChain=on_chain,
        onChainError=on_chain_error,
    )
