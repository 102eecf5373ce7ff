"""What signs an office's documents: the algorithm, the key id the contract publishes, and the signer.

`DocumentSigner` is what the node signs with, wherever the private key lives: `OfficeSigningKey` holds
it in memory (opened from an encrypted file), `pkcs11.TokenSigningKey` leaves it in a PKCS#11 token.
Both give the same signatures for the same key, so verifiers never know or care which one signed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from registry_node.protocol.errors import ConfigError

KEY_ID_LENGTH = 32

SigningPrivateKey = Ed25519PrivateKey | ec.EllipticCurvePrivateKey


class SigningAlgorithm(StrEnum):
    """Document-signing algorithms; `chain_value` is the contract's KeyAlgorithm number (0 is None)."""

    ED25519 = "ed25519"
    ECDSA_P256 = "ecdsa-p256"

    @property
    def chain_value(self) -> int:
        return _CHAIN_VALUES[self]

    @classmethod
    def from_chain_value(cls, value: int) -> SigningAlgorithm:
        """The algorithm the contract's KeyAlgorithm `value` names; ValueError for None (0) or unknown."""
        for algorithm, number in _CHAIN_VALUES.items():
            if number == value:
                return algorithm
        raise ValueError(f"no signing algorithm has the contract's KeyAlgorithm number {value}")


_CHAIN_VALUES = {SigningAlgorithm.ED25519: 1, SigningAlgorithm.ECDSA_P256: 2}


@dataclass(frozen=True)
class OfficeSigningKey:
    """An office's private document-signing key with the id under which the contract publishes it.

    `key_id` defaults to the SHA-256 of `public_key_bytes` (see `from_private_key`); any 32 bytes the
    office chooses will do, as long as it never reuses one (the contract refuses a known id).
    """

    private_key: SigningPrivateKey = field(repr=False)
    key_id: bytes

    def __post_init__(self) -> None:
        if isinstance(self.private_key, ec.EllipticCurvePrivateKey) and not isinstance(
            self.private_key.curve, ec.SECP256R1
        ):
            raise ConfigError(
                "private_key", f"ECDSA keys must be on P-256, not {self.private_key.curve.name}"
            )
        if not isinstance(self.private_key, SigningPrivateKey):
            raise ConfigError("private_key", "must be an Ed25519 or ECDSA P-256 private key")
        if len(self.key_id) != KEY_ID_LENGTH:
            raise ConfigError("key_id", f"must be {KEY_ID_LENGTH} bytes, got {len(self.key_id)}")

    @classmethod
    def from_private_key(
        cls, private_key: SigningPrivateKey, key_id: bytes | None = None
    ) -> OfficeSigningKey:
        """Wraps `private_key`; without `key_id` the id is the SHA-256 of its public key bytes."""
        key_id = key_id if key_id is not None else hashlib.sha256(_public_key_bytes(private_key)).digest()
        return cls(private_key, key_id)

    @classmethod
    def generate(
        cls, algorithm: SigningAlgorithm = SigningAlgorithm.ED25519, key_id: bytes | None = None
    ) -> OfficeSigningKey:
        """A fresh key held in memory only; `generate_signing_key` is the one that saves it."""
        private_key: SigningPrivateKey
        if algorithm is SigningAlgorithm.ED25519:
            private_key = Ed25519PrivateKey.generate()
        else:
            private_key = ec.generate_private_key(ec.SECP256R1())
        return cls.from_private_key(private_key, key_id)

    @property
    def algorithm(self) -> SigningAlgorithm:
        if isinstance(self.private_key, Ed25519PrivateKey):
            return SigningAlgorithm.ED25519
        return SigningAlgorithm.ECDSA_P256

    @property
    def public_key_bytes(self) -> bytes:
        """The public key as the contract's addSigningKey takes it: Ed25519 the 32 raw bytes, P-256 the
        65-byte uncompressed SEC1 point (0x04 || x || y)."""
        return _public_key_bytes(self.private_key)

    def sign(self, data: bytes) -> bytes:
        """Ed25519 signs `data` as is; ECDSA P-256 signs its SHA-256 and returns a DER signature."""
        if isinstance(self.private_key, Ed25519PrivateKey):
            return self.private_key.sign(data)
        return self.private_key.sign(data, ec.ECDSA(hashes.SHA256()))


class DocumentSigner(Protocol):
    """A document-signing key as the node uses it; the private key may never leave its token."""

    @property
    def key_id(self) -> bytes: ...

    @property
    def algorithm(self) -> SigningAlgorithm: ...

    @property
    def public_key_bytes(self) -> bytes: ...

    def sign(self, data: bytes) -> bytes:
        """Ed25519 signs `data` as is; ECDSA P-256 signs its SHA-256 and returns a DER signature."""
        ...


def _public_key_bytes(private_key: SigningPrivateKey) -> bytes:
    if isinstance(private_key, Ed25519PrivateKey):
        return private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
    return private_key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
