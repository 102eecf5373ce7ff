"""The API's dependencies: what `create_app` was given.

They are `async def` because they only read attributes: FastAPI runs a plain `def` dependency in its thread
pool, and those hand-offs cost more than the work itself on a busy server.
"""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request

from gateway.read_model.queries import Index
from gateway.services import Services
from gateway.settings import GatewaySettings


async def services(request: Request) -> Services:
    return cast(Services, request.app.state.services)


ServicesDep = Annotated[Services, Depends(services)]


async def get_index(services: ServicesDep) -> Index:
    return services.index


async def get_settings(services: ServicesDep) -> GatewaySettings:
    return services.settings


IndexDep = Annotated[Index, Depends(get_index)]
SettingsDep = Annotated[GatewaySettings, Depends(get_settings)]
