"""An office's two keys in files, encrypted at rest: its transaction account and its document-signing key.

The transaction account is an Ethereum keystore (scrypt + AES-128-CTR, the format every Ethereum tool
reads). The document-signing key (Ed25519 or ECDSA P-256) is an encrypted PKCS#8 PEM that OpenSSL reads
too; PKCS#8 has no room for the key id the office publishes on chain, so it is kept in a metadata file
beside the key, `<key path>.json`:

    {"schema": "ipreg/signing-key/1", "algorithm": "ed25519", "keyId": "<64 hex>", "publicKey": "<hex>"}

The metadata holds nothing secret; loading checks it against the decrypted key, so a metadata file that
belongs to another key is refused rather than trusted. Key files are created with mode 0600 and never
overwrite an existing file. No error message carries a password or key material.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from eth_account import Account
from eth_account.signers.local import LocalAccount

from registry_node.protocol.errors import RegistryError
from registry_node.protocol.keys.signing_key import (
    OfficeSigningKey,
    SigningAlgorithm,
    SigningPrivateKey,
)

SIGNING_KEY_SCHEMA = "ipreg/signing-key/1"
_ENCRYPTED_PEM_HEADER = b"-----BEGIN ENCRYPTED PRIVATE KEY-----"


class KeyStoreError(RegistryError):
    """A key file could not be written, read or decrypted; `reason` says why without revealing any secret."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class KeyFileExists(KeyStoreError):
    """A key file is already there: keys are never overwritten, since that would lose the old key."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, "already exists; refusing to overwrite a key file")


@dataclass(frozen=True)
class SigningKeyInfo:
    """Where a new signing key was saved, and what the office publishes on chain for it."""

    path: Path
    metadata_path: Path
    algorithm: SigningAlgorithm
    key_id: bytes
    public_key: bytes


def signing_key_metadata_path(path: Path) -> Path:
    """The metadata file kept beside the signing key at `path`: the same name with `.json` appended."""
    return path.with_name(path.name + ".json")


def create_account_keystore(path: Path, password: str, scrypt_n: int | None = None) -> str:
    """Creates a new transaction account in an Ethereum keystore at `path`; returns its checksum address.

    `scrypt_n` is scrypt's cost (a power of two); None keeps eth-account's default, 2**18, which takes about
    a second to open. Tests pass a small value; an office keeps the default.
    """
    _check_new_key_file(path, password)
    account: LocalAccount = Account.create()
    keystore = Account.encrypt(account.key, password, kdf="scrypt", iterations=scrypt_n)
    _write_new_file(path, json.dumps(keystore, indent=2).encode("utf-8"))
    return str(account.address)


def load_account(path: Path, password: str) -> LocalAccount:
    """Decrypts the keystore at `path`; a wrong password or an altered file raises KeyStoreError."""
    keystore = _read_json_object(path)
    try:
        private_key = Account.decrypt(keystore, password)
    except ValueError as err:
        if "MAC mismatch" in str(err):
            raise KeyStoreError(path, "wrong password, or the keystore was altered") from None
        raise KeyStoreError(path, "not a valid Ethereum keystore") from None
    except (KeyError, TypeError, NotImplementedError):
        raise KeyStoreError(path, "not a valid Ethereum keystore") from None
    account: LocalAccount = Account.from_key(private_key)
    stored_address = keystore.get("address")
    if isinstance(stored_address, str) and stored_address.lower().removeprefix("0x") != (
        account.address.lower().removeprefix("0x")
    ):
        raise KeyStoreError(
            path, f"the key does not belong to the address the keystore names ({stored_address})"
        )
    return account


def generate_signing_key(
    path: Path,
    password: str,
    algorithm: SigningAlgorithm = SigningAlgorithm.ED25519,
    key_id: bytes | None = None,
) -> SigningKeyInfo:
    """Creates a document-signing key, saved encrypted at `path` with its metadata beside it.

    Without `key_id` the key's id is the SHA-256 of its public key bytes. Neither file may exist yet.
    """
    metadata_path = signing_key_metadata_path(path)
    _check_new_key_file(path, password)
    if metadata_path.exists():
        raise KeyFileExists(metadata_path)
    key = OfficeSigningKey.generate(algorithm, key_id)
    pem = key.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(password.encode("utf-8")),
    )
    metadata = {
        "schema": SIGNING_KEY_SCHEMA,
        "algorithm": key.algorithm.value,
        "keyId": key.key_id.hex(),
        "publicKey": key.public_key_bytes.hex(),
    }
    _write_new_file(path, pem)
    try:
        _write_new_file(metadata_path, json.dumps(metadata, indent=2).encode("utf-8"))
    except KeyStoreError:
        path.unlink()  # no key without its id: the office would not know what it published
        raise
    return SigningKeyInfo(path, metadata_path, key.algorithm, key.key_id, key.public_key_bytes)


def load_signing_key(path: Path, password: str) -> OfficeSigningKey:
    """Decrypts the signing key at `path` and checks its metadata file against it."""
    pem = _read_bytes(path)
    if _ENCRYPTED_PEM_HEADER not in pem:
        raise KeyStoreError(path, "not an encrypted PKCS#8 PEM key (keys at rest must be encrypted)")
    try:
        private_key = serialization.load_pem_private_key(pem, password.encode("utf-8"))
    except ValueError:
        raise KeyStoreError(path, "wrong password, or the key file was altered") from None
    if isinstance(private_key, ec.EllipticCurvePrivateKey) and not isinstance(
        private_key.curve, ec.SECP256R1
    ):
        raise KeyStoreError(path, f"unsupported key: ECDSA on {private_key.curve.name}, not P-256")
    if not isinstance(private_key, SigningPrivateKey):
        raise KeyStoreError(path, f"unsupported key type {type(private_key).__name__}")
    key_id = _read_metadata(signing_key_metadata_path(path), private_key)
    return OfficeSigningKey(private_key, key_id)


def _read_metadata(path: Path, private_key: SigningPrivateKey) -> bytes:
    """The key id from the metadata at `path`, once its algorithm and public key match `private_key`."""
    metadata = _read_json_object(path)
    unchecked = OfficeSigningKey.from_private_key(private_key)
    if metadata.get("schema") != SIGNING_KEY_SCHEMA:
        raise KeyStoreError(path, f"schema: must be {SIGNING_KEY_SCHEMA!r}")
    if metadata.get("algorithm") != unchecked.algorithm.value:
        raise KeyStoreError(path, f"algorithm: does not match the key, which is {unchecked.algorithm.value}")
    if metadata.get("publicKey") != unchecked.public_key_bytes.hex():
        raise KeyStoreError(path, "publicKey: does not match the key; this metadata belongs to another key")
    key_id = metadata.get("keyId")
    if not isinstance(key_id, str) or not re.fullmatch(r"[0-9a-f]{64}", key_id):
        raise KeyStoreError(path, "keyId: must be 32 bytes as 64 lower-case hex digits")
    return bytes.fromhex(key_id)


def _check_new_key_file(path: Path, password: str) -> None:
    """Fails before any slow key derivation if the key cannot be saved at `path`."""
    if not password:
        raise KeyStoreError(path, "the password must not be empty")
    if path.exists():
        raise KeyFileExists(path)
    if not path.parent.is_dir():
        raise KeyStoreError(path, "the directory does not exist")


def _write_new_file(path: Path, content: bytes) -> None:
    """Writes a new file, readable by its owner only, that never replaces an existing one.

    The bytes go to a temporary file in the same directory and are hard-linked into place, so `path` is
    either absent or complete, and a file that appeared meanwhile makes the link fail instead of being lost.
    """
    try:
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise KeyStoreError(path, f"cannot write: {err.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as file:
            os.fchmod(file.fileno(), 0o600)
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.link(temporary, path)
    except FileExistsError:
        raise KeyFileExists(path) from None
    except OSError as err:
        raise KeyStoreError(path, f"cannot write: {err.strerror}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    """Makes a new directory entry durable, so a key reported as saved survives a power cut."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise KeyStoreError(path, "no such file") from None
    except OSError as err:
        raise KeyStoreError(path, f"cannot read: {err.strerror}") from None


def _read_json_object(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(_read_bytes(path))
    except ValueError:
        raise KeyStoreError(path, "not a JSON file") from None
    if not isinstance(value, dict):
        raise KeyStoreError(path, "must hold a JSON object")
    return value
