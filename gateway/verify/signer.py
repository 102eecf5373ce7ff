"""The gateway's own Ed25519 key: it signs every verdict and receipt, so a saved answer is evidence of what
the gateway said.

The key is kept encrypted at rest (PKCS#8 with scrypt, as `registry_node.protocol.keys` keeps an office's
key) and generated on first use. A signature covers the RFC 8785 canonical JSON of the body without its
`gatewaySignature` field, so anyone holding the public key (published at GET /v1/keys) can check a saved
answer.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from registry_node.protocol.keys import (
    OfficeSigningKey,
    SigningAlgorithm,
    generate_signing_key,
    load_signing_key,
    signing_key_metadata_path,
)
from registry_node.protocol.records import canonical_bytes

SIGNATURE_FIELD = "gatewaySignature"


@dataclass(frozen=True)
class GatewayKey:
    """A published gateway key."""

    key_id: bytes
    algorithm: str
    public_key: bytes

    def to_json(self) -> dict[str, str]:
        return {"keyId": self.key_id.hex(), "algorithm": self.algorithm, "publicKey": self.public_key.hex()}


class GatewaySigner:
    """Signs JSON bodies with the gateway key."""

    def __init__(self, key: OfficeSigningKey) -> None:
        if key.algorithm is not SigningAlgorithm.ED25519:
            raise ValueError("the gateway key is Ed25519")
        self._key = key

    @classmethod
    def open(cls, path: Path, password: str) -> GatewaySigner:
        """The key at `path`, created there (encrypted with `password`) when neither it nor its metadata
        exists yet."""
        if not path.exists() and not signing_key_metadata_path(path).exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            generate_signing_key(path, password, SigningAlgorithm.ED25519)
        return cls(load_signing_key(path, password))

    @classmethod
    def ephemeral(cls) -> GatewaySigner:
        """A key held in memory only (tests, benchmarks)."""
        return cls(OfficeSigningKey.generate(SigningAlgorithm.ED25519))

    @property
    def key(self) -> GatewayKey:
        return GatewayKey(self._key.key_id, SigningAlgorithm.ED25519.value, self._key.public_key_bytes)

    def keys(self) -> list[GatewayKey]:
        return [self.key]

    def sign(self, body: dict[str, Any]) -> dict[str, Any]:
        """`body` with its `gatewaySignature` (over the canonical JSON of the rest)."""
        unsigned = {k: v for k, v in body.items() if k != SIGNATURE_FIELD}
        signature = self._key.sign(signed_bytes(unsigned))
        return {
            **unsigned,
            SIGNATURE_FIELD: {
                "keyId": self._key.key_id.hex(),
                "algorithm": SigningAlgorithm.ED25519.value,
                "signature": base64.b64encode(signature).decode("ascii"),
            },
        }


def signed_bytes(body: dict[str, Any]) -> bytes:
    """The bytes a gateway signature covers: RFC 8785 JSON of the body without `gatewaySignature`. Written
    by `canonical_bytes`, which gives the rfc8785 package's bytes several times faster for plain JSON (every
    verdict is): signing a verdict is on every verification's path."""
    return canonical_bytes({k: v for k, v in body.items() if k != SIGNATURE_FIELD})


def check_gateway_signature(body: Any, public_key: bytes) -> tuple[bool, str]:
    """(valid, why) for the body's gatewaySignature under the Ed25519 `public_key`; never raises."""
    if not isinstance(body, dict):
        return False, "the body is not a JSON object"
    signature = body.get(SIGNATURE_FIELD)
    if not isinstance(signature, dict) or signature.get("algorithm") != SigningAlgorithm.ED25519.value:
        return False, "no Ed25519 gatewaySignature"
    if signature.get("keyId") != hashlib.sha256(public_key).hexdigest():
        return False, "the gatewaySignature names another key"
    try:
        text = str(signature.get("signature"))
        raw = base64.b64decode(text, validate=True)
        if base64.b64encode(raw).decode("ascii") != text:
            return False, "the gatewaySignature is not in canonical base64"
        Ed25519PublicKey.from_public_bytes(public_key).verify(raw, signed_bytes(body))
    except (InvalidSignature, ValueError, TypeError, rfc8785.CanonicalizationError):
        return False, "the gateway signature does not verify over the body"
    return True, f"signed by gateway key {signature.get('keyId')}"
