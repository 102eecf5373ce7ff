"""Key files for tests: the cost that keeps them quick, and files as older versions of the node wrote them."""

from __future__ import annotations

import json
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from registry_node.protocol.keys import (
    SIGNING_KEY_SCHEMA,
    OfficeSigningKey,
    SigningAlgorithm,
    signing_key_metadata_path,
)

# Test-only: scrypt's N for key files that tests open over and over (a millisecond rather than a second each
# open). An office keeps the default, 2**18; the tests that check it say so.
FAST_SCRYPT_N = 2**4


def write_legacy_signing_key(
    path: Path, password: str, algorithm: SigningAlgorithm = SigningAlgorithm.ED25519
) -> OfficeSigningKey:
    """A signing key saved as `generate_signing_key` saved it before scrypt: cryptography's
    BestAvailableEncryption (PBES2, PBKDF2-HMAC-SHA256 at 2,048 rounds, AES-256-CBC) and its metadata."""
    key = OfficeSigningKey.generate(algorithm)
    path.write_bytes(
        key.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(password.encode("utf-8")),
        )
    )
    path.chmod(0o600)
    write_signing_key_metadata(path, key)
    return key


def write_signing_key_metadata(path: Path, key: OfficeSigningKey) -> None:
    """The metadata file beside the key file at `path`, as `generate_signing_key` writes it."""
    metadata = {
        "schema": SIGNING_KEY_SCHEMA,
        "algorithm": key.algorithm.value,
        "keyId": key.key_id.hex(),
        "publicKey": key.public_key_bytes.hex(),
    }
    signing_key_metadata_path(path).write_text(json.dumps(metadata, indent=2), "utf-8")
