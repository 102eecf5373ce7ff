"""GET /v1/keys: the gateway's own public key(s), which sign every verdict and receipt."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from gateway.api.deps import ServicesDep

router = APIRouter(prefix="/v1/keys", tags=["keys"])


class GatewayKeyPublic(BaseModel):
    keyId: str = Field(description="SHA-256 of the public key, hex.")
    algorithm: str = Field(description="Always `ed25519`.")
    publicKey: str = Field(description="The raw 32-byte Ed25519 public key, hex.")


class GatewayKeysPublic(BaseModel):
    items: list[GatewayKeyPublic]


@router.get(
    "",
    operation_id="listGatewayKeys",
    response_model=GatewayKeysPublic,
    summary="The keys the gateway signs its verdicts and receipts with",
)
def list_gateway_keys(services: ServicesDep) -> GatewayKeysPublic:
    keys = services.signer.keys() if services.signer is not None else []
    return GatewayKeysPublic(items=[GatewayKeyPublic(**k.to_json()) for k in keys])
