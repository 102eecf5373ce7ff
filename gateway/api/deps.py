"""The API's dependencies: what `create_app` was given."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request

from gateway.index import Index
from gateway.services import Services
from gateway.settings import GatewaySettings


def services(request: Request) -> Services:
    return cast(Services, request.app.state.services)


ServicesDep = Annotated[Services, Depends(services)]


def get_index(services: ServicesDep) -> Index:
    return services.index


def get_settings(services: ServicesDep) -> GatewaySettings:
    return services.settings


IndexDep = Annotated[Index, Depends(get_index)]
SettingsDep = Annotated[GatewaySettings, Depends(get_settings)]
