"""The API's dependencies: what `create_app` was given, and the operator's bearer token check.

They are `async def` because none of them blocks (attribute reads, one SHA-256): FastAPI runs a plain `def`
dependency in its thread pool, and on a busy node those hand-offs cost more than the work itself.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated, cast

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from registry_node.node.api.errors import NotAuthenticated
from registry_node.node.office import Office
from registry_node.node.onchain import ChainView
from registry_node.node.settings import NodeSettings, token_digest
from registry_node.node.store import Store


@dataclass(frozen=True)
class NodeContext:
    """What the routes work with; one per app, kept in `app.state.node`."""

    settings: NodeSettings
    office: Office
    store: Store
    chain_view: ChainView


async def get_context(request: Request) -> NodeContext:
    return cast(NodeContext, request.app.state.node)


ContextDep = Annotated[NodeContext, Depends(get_context)]


async def get_settings(context: ContextDep) -> NodeSettings:
    return context.settings


async def get_office(context: ContextDep) -> Office:
    return context.office


async def get_store(context: ContextDep) -> Store:
    return context.store


async def get_chain_view(context: ContextDep) -> ChainView:
    return context.chain_view


SettingsDep = Annotated[NodeSettings, Depends(get_settings)]
OfficeDep = Annotated[Office, Depends(get_office)]
StoreDep = Annotated[Store, Depends(get_store)]
ChainViewDep = Annotated[ChainView, Depends(get_chain_view)]

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="operatorToken",
    description="The operator token `ipreg node init` printed once (the node keeps only its SHA-256).",
)


async def require_operator(
    settings: SettingsDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> None:
    """Lets the request through only with the operator token; compares digests in constant time."""
    if credentials is None or not credentials.credentials:
        raise NotAuthenticated("a bearer token is required: `Authorization: Bearer <operator token>`")
    if not hmac.compare_digest(token_digest(credentials.credentials), settings.operator_token_sha256):
        raise NotAuthenticated("the bearer token is not this node's operator token")
