"""Detached signatures over a record's canonical bytes, and their verification.

Verification takes plain data (the bytes, the signature, the public key and algorithm the caller looked up
for the signature's office and key id at the right block) and answers True or False. It reads no file and
no chain, so the gateway and the offline `ipreg verify` share it, and a bad signature is an answer, never
an exception.

JSON form, field names in lowerCamelCase like the records, bytes as lower-case hex:

    {"office": "EP", "keyId": "<64 hex>", "algorithm": "ed25519", "signature": "<hex>"}
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from registry_node.protocol.errors import RegistryError
from registry_node.protocol.keys import KEY_ID_LENGTH, DocumentSigner, SigningAlgorithm

OFFICE_CODE = re.compile(r"^[A-Z]{2}$")
HEX = re.compile(r"^(?:0x)?((?:[0-9a-fA-F]{2})*)$")
ED25519_SIGNATURE_LENGTH = 64
ECDSA_P256_MAX_DER_LENGTH = 72  # SEQUENCE of two INTEGERs of at most 33 bytes each
JSON_FIELDS = ("office", "keyId", "algorithm", "signature")


class SignatureFormatError(RegistryError):
    """A detached signature is malformed; `field` is its JSON field name and `reason` says what is wrong."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class DetachedSignature:
    """An office's signature over canonical bytes kept apart from them, naming the key that made it.

    Well-formed by construction: a bad field raises SignatureFormatError naming its JSON field.
    """

    office: str
    key_id: bytes
    algorithm: SigningAlgorithm
    signature: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.office, str) or not OFFICE_CODE.match(self.office):
            raise SignatureFormatError("office", "must be a WIPO ST.3 code: two capital letters")
        if not isinstance(self.key_id, bytes) or len(self.key_id) != KEY_ID_LENGTH:
            raise SignatureFormatError("keyId", f"must be {KEY_ID_LENGTH} bytes")
        if not isinstance(self.algorithm, SigningAlgorithm):
            raise SignatureFormatError("algorithm", f"must be one of {_algorithm_names()}")
        if not isinstance(self.signature, bytes):
            raise SignatureFormatError("signature", "must be bytes")
        length = len(self.signature)
        if self.algorithm is SigningAlgorithm.ED25519 and length != ED25519_SIGNATURE_LENGTH:
            raise SignatureFormatError("signature", f"an Ed25519 signature is 64 bytes, got {length}")
        if self.algorithm is SigningAlgorithm.ECDSA_P256 and not 8 <= length <= ECDSA_P256_MAX_DER_LENGTH:
            raise SignatureFormatError(
                "signature", f"an ECDSA P-256 DER signature is 8 to 72 bytes, got {length}"
            )

    def to_json(self) -> dict[str, Any]:
        return {
            "office": self.office,
            "keyId": self.key_id.hex(),
            "algorithm": self.algorithm.value,
            "signature": self.signature.hex(),
        }

    @classmethod
    def from_json(cls, data: Any) -> DetachedSignature:
        """Parses the JSON form; hex may carry a 0x prefix. Unknown fields are refused, not ignored."""
        if not isinstance(data, dict):
            raise SignatureFormatError("signature", "must be a JSON object")
        for name in data:
            if name not in JSON_FIELDS:
                raise SignatureFormatError(str(name), f"unknown field; expected {', '.join(JSON_FIELDS)}")
        office = _text(data, "office")
        key_id = _hex(data, "keyId", f"must be {KEY_ID_LENGTH} bytes of hex")
        if len(key_id) != KEY_ID_LENGTH:
            raise SignatureFormatError("keyId", f"must be {KEY_ID_LENGTH} bytes of hex, got {len(key_id)}")
        algorithm_name = _text(data, "algorithm")
        try:
            algorithm = SigningAlgorithm(algorithm_name)
        except ValueError:
            raise SignatureFormatError("algorithm", f"must be one of {_algorithm_names()}") from None
        signature = _hex(data, "signature", "must be hex")
        return cls(office, key_id, algorithm, signature)


def _algorithm_names() -> str:
    return ", ".join(a.value for a in SigningAlgorithm)


def _text(data: dict[str, Any], name: str) -> str:
    if name not in data:
        raise SignatureFormatError(name, "is missing")
    value = data[name]
    if not isinstance(value, str):
        raise SignatureFormatError(name, f"must be a string, got {type(value).__name__}")
    return value


def _hex(data: dict[str, Any], name: str, reason: str) -> bytes:
    match = HEX.match(_text(data, name))
    if match is None:
        raise SignatureFormatError(name, reason)
    return bytes.fromhex(match[1])


def sign_document(canonical: bytes, key: DocumentSigner, office: str) -> DetachedSignature:
    """Signs the canonical bytes themselves, not a digest the caller made, so verifiers need no hash rule."""
    return DetachedSignature(office, key.key_id, key.algorithm, key.sign(canonical))


def verify_signature(
    canonical: bytes, signature: DetachedSignature, public_key: bytes, algorithm: SigningAlgorithm
) -> bool:
    """Whether `signature` is valid over `canonical` under `public_key`, given in the contract's form.

    `algorithm` is the one registered for the key; a signature claiming another one is False. So is a
    malformed public key: whatever the inputs, the answer is True or False, never an exception.
    """
    if signature.algorithm is not algorithm:
        return False
    try:
        if algorithm is SigningAlgorithm.ED25519:
            Ed25519PublicKey.from_public_bytes(public_key).verify(signature.signature, canonical)
        else:
            point = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public_key)
            point.verify(signature.signature, canonical, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True
