"""An office's two keys in files, encrypted at rest: its transaction account and its document-signing key.

The transaction account is an Ethereum keystore (scrypt + AES-128-CTR, the format every Ethereum tool
reads). The document-signing key (Ed25519 or ECDSA P-256) is an encrypted PKCS#8 PEM, written with PBES2 and
scrypt at the keystore's cost (`pkcs8_scrypt`), so a copied file resists guessing as well as the keystore;
files written before, with cryptography's PBKDF2 at 2,048 rounds, still open, and `rewrite_signing_key`
re-encrypts them. PKCS#8 has no room for the key id the office publishes on chain, so it is kept in a
metadata file beside the key, `<key path>.json`:

    {"schema": "ipreg/signing-key/1", "algorithm": "ed25519", "keyId": "<64 hex>", "publicKey": "<hex>"}

The metadata holds nothing secret; loading checks it against the decrypted key, so a metadata file that
belongs to another key is refused rather than trusted. Key files are created with mode 0600 and never
overwrite an existing file; the only replacement is a re-encryption of the same key (`rewrite_…`), which
writes a temporary file, checks that it opens to that key, and renames it over the old one, so a crash
leaves the old file or the new one, never neither. No error message carries a password or key material.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from eth_account import Account
from eth_account.signers.local import LocalAccount

from registry_node.protocol.errors import RegistryError
from registry_node.protocol.keys.pkcs8_scrypt import (
    MAX_FILE_BYTES,
    SCRYPT_N,
    KeyProtection,
    Pkcs8Error,
    ScryptCost,
    WrongPassword,
    decrypt_pkcs8,
    encrypt_pkcs8,
    read_key_protection,
)
from registry_node.protocol.keys.signing_key import (
    OfficeSigningKey,
    SigningAlgorithm,
    SigningPrivateKey,
)

SIGNING_KEY_SCHEMA = "ipreg/signing-key/1"


class KeyStoreError(RegistryError):
    """A key file could not be written, read or decrypted; `reason` says why without revealing any secret."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class WrongKeyPassword(KeyStoreError):
    """The password does not open the key file (or the file was altered: neither format can tell which)."""


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


IV_BYTES = 16  # AES-128-CTR's counter block


def encrypt_account_key(private_key: bytes, password: str, scrypt_n: int | None = None) -> dict[str, Any]:
    """An Ethereum keystore (scrypt, AES-128-CTR) of `private_key`, as every Ethereum tool reads it.

    eth-keyfile draws a 16-byte IV but writes it as an integer's bytes, so an IV whose first byte is zero
    (1 keystore in 256) is written as 15 bytes. Python reads that back as the same counter; geth refuses it
    and panics at `--unlock` ("bad IV length"). The IV is written back at its full 16 bytes: the same
    counter value, so the ciphertext and MAC stand as they are.
    """
    keystore: dict[str, Any] = Account.encrypt(private_key, password, kdf="scrypt", iterations=scrypt_n)
    return with_full_iv(keystore)


def with_full_iv(keystore: dict[str, Any]) -> dict[str, Any]:
    """The keystore with its AES-CTR IV at 16 bytes (see `encrypt_account_key`); it opens as before."""
    params = keystore["crypto"]["cipherparams"]
    params["iv"] = params["iv"].rjust(2 * IV_BYTES, "0")
    return keystore


def repair_short_iv(path: Path) -> bool:
    """Rewrites a keystore file written with a short IV (by this project before it padded them, or by
    eth-account) so that geth can open it; whether it had to. Nothing secret changes."""
    keystore = _read_json_object(path)
    try:
        iv = keystore["crypto"]["cipherparams"]["iv"]
    except (KeyError, TypeError):
        raise KeyStoreError(path, "not a valid Ethereum keystore") from None
    if not isinstance(iv, str) or len(iv) >= 2 * IV_BYTES:
        return False
    _replace_file(path, json.dumps(with_full_iv(keystore), indent=2).encode("utf-8"), lambda written: None)
    return True


def create_account_keystore(path: Path, password: str, scrypt_n: int | None = None) -> str:
    """Creates a new transaction account in an Ethereum keystore at `path`; returns its checksum address.

    `scrypt_n` is scrypt's cost (a power of two); None keeps eth-account's default, 2**18, which takes about
    a second to open. Tests pass a small value; an office keeps the default.
    """
    _check_new_key_file(path, password)
    account: LocalAccount = Account.create()
    keystore = encrypt_account_key(account.key, password, scrypt_n)
    _write_new_file(path, json.dumps(keystore, indent=2).encode("utf-8"))
    return str(account.address)


def load_account(path: Path, password: str) -> LocalAccount:
    """Decrypts the keystore at `path`; a wrong password or an altered file raises KeyStoreError."""
    keystore = _read_json_object(path)
    try:
        private_key = Account.decrypt(keystore, password)
    except ValueError as err:
        if "MAC mismatch" in str(err):
            raise WrongKeyPassword(path, "wrong password, or the keystore was altered") from None
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
    scrypt_n: int | None = None,
) -> SigningKeyInfo:
    """Creates a document-signing key, saved encrypted at `path` with its metadata beside it.

    Without `key_id` the key's id is the SHA-256 of its public key bytes. Neither file may exist yet.
    `scrypt_n` is scrypt's N, as for the account keystore: None keeps 2**18 (a second to open); tests pass a
    small value, an office keeps the default.
    """
    metadata_path = signing_key_metadata_path(path)
    _check_new_key_file(path, password)
    if metadata_path.exists():
        raise KeyFileExists(metadata_path)
    key = OfficeSigningKey.generate(algorithm, key_id)
    pem = encrypt_pkcs8(_pkcs8_der(key.private_key), password, n=scrypt_n or SCRYPT_N)
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
    """Decrypts the signing key at `path` (scrypt, or the PBKDF2 of older files) and checks its metadata
    file against it."""
    private_key = _open_pem(path, _read_key_file(path), password)
    key_id = _read_metadata(signing_key_metadata_path(path), private_key)
    return OfficeSigningKey(private_key, key_id)


def describe_key_protection(path: Path) -> KeyProtection:
    """How the signing-key file at `path` is protected (its key derivation and cost), read without the
    password; KeyStoreError when the file would be refused."""
    try:
        return read_key_protection(_read_key_file(path))
    except Pkcs8Error as err:
        raise KeyStoreError(path, err.reason) from None


def rewrite_signing_key(
    path: Path, key: OfficeSigningKey, password: str, scrypt_n: int | None = None
) -> KeyProtection:
    """Replaces the file at `path` with `key` encrypted anew with scrypt under `password`; returns how it is
    protected now. `key` must be the file's own key (its metadata, which stays as it is, is checked first),
    and the new file must open to it before it takes the old one's place."""
    metadata_path = signing_key_metadata_path(path)
    if _read_metadata(metadata_path, key.private_key) != key.key_id:
        raise KeyStoreError(metadata_path, "keyId: does not match the key being re-encrypted")
    if not password:
        raise KeyStoreError(path, "the password must not be empty")
    pem = encrypt_pkcs8(_pkcs8_der(key.private_key), password, n=scrypt_n or SCRYPT_N)

    def opens_to_the_same_key(written: Path) -> None:
        reopened = OfficeSigningKey.from_private_key(_open_pem(path, written.read_bytes(), password))
        if reopened.public_key_bytes != key.public_key_bytes:
            raise KeyStoreError(path, "the re-encrypted file does not open to the same key; left unchanged")

    _replace_file(path, pem, opens_to_the_same_key)
    return read_key_protection(pem)


def describe_account_protection(path: Path) -> KeyProtection:
    """How the account keystore at `path` is protected, read without the password."""
    crypto: Any = _read_json_object(path).get("crypto")
    try:
        kdf, params = crypto["kdf"], crypto["kdfparams"]
        if kdf == "scrypt":
            cost = ScryptCost(int(params["n"]), int(params["r"]), int(params["p"]))
            return KeyProtection("scrypt", str(crypto["cipher"]), scrypt=cost)
        prf = str(params["prf"]).removeprefix("hmac-").upper()
        return KeyProtection(f"PBKDF2-HMAC-{prf}", str(crypto["cipher"]), rounds=int(params["c"]))
    except (KeyError, TypeError, ValueError):
        raise KeyStoreError(path, "not a valid Ethereum keystore") from None


def rewrite_account_keystore(
    path: Path, account: LocalAccount, password: str, scrypt_n: int | None = None
) -> KeyProtection:
    """Replaces the keystore at `path` with `account` encrypted anew under `password` (scrypt; `scrypt_n`
    None keeps eth-account's 2**18). `account` must be the keystore's own; the new keystore must open to it
    before it takes the old one's place."""
    stored = _read_json_object(path).get("address")
    if not isinstance(stored, str) or stored.lower().removeprefix("0x") != account.address.lower()[2:]:
        raise KeyStoreError(path, f"address: the keystore is not {account.address}'s")
    if not password:
        raise KeyStoreError(path, "the password must not be empty")
    keystore = encrypt_account_key(account.key, password, scrypt_n)

    def opens_to_the_same_account(written: Path) -> None:
        if load_account(written, password).address != account.address:
            raise KeyStoreError(path, "the re-encrypted keystore does not open to the same account")

    _replace_file(path, json.dumps(keystore, indent=2).encode("utf-8"), opens_to_the_same_account)
    return describe_account_protection(path)


def _pkcs8_der(private_key: SigningPrivateKey) -> bytes:
    """The unencrypted PKCS#8 PrivateKeyInfo: what `encrypt_pkcs8` encrypts, in memory only."""
    return private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _open_pem(path: Path, pem: bytes, password: str) -> SigningPrivateKey:
    """The private key in `pem` (the content of `path`, named in errors): scrypt files are opened here, the
    PBKDF2 and legacy ones by cryptography, once `read_key_protection` has checked their cost."""
    try:
        protection = read_key_protection(pem)
    except Pkcs8Error as err:
        raise KeyStoreError(path, err.reason) from None
    try:
        if protection.scrypt is not None:
            private_key = serialization.load_der_private_key(decrypt_pkcs8(pem, password), None)
        else:
            private_key = serialization.load_pem_private_key(pem, password.encode("utf-8"))
    except WrongPassword as err:
        raise WrongKeyPassword(path, err.reason) from None
    except Pkcs8Error as err:
        raise KeyStoreError(path, err.reason) from None
    except ValueError:
        raise WrongKeyPassword(path, "wrong password, or the key file was altered") from None
    except UnsupportedAlgorithm:
        raise KeyStoreError(path, f"unsupported encryption: {protection}") from None
    if isinstance(private_key, ec.EllipticCurvePrivateKey) and not isinstance(
        private_key.curve, ec.SECP256R1
    ):
        raise KeyStoreError(path, f"unsupported key: ECDSA on {private_key.curve.name}, not P-256")
    if not isinstance(private_key, SigningPrivateKey):
        raise KeyStoreError(path, f"unsupported key type {type(private_key).__name__}")
    return private_key


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


def _replace_file(path: Path, content: bytes, check: Callable[[Path], None]) -> None:
    """Replaces the key file at `path` with `content` so that a crash leaves one of the two whole: a
    temporary file (0600) in the same directory is written and synced, `check`ed (it raises to stop), renamed
    over `path`, and the directory synced."""
    try:
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise KeyStoreError(path, f"cannot write: {err.strerror}") from None
    temporary = Path(name)
    try:
        with os.fdopen(fd, "wb") as file:
            os.fchmod(file.fileno(), 0o600)
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        check(temporary)
        os.replace(temporary, path)
    except OSError as err:
        raise KeyStoreError(path, f"cannot write: {err.strerror}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
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


def _read_key_file(path: Path) -> bytes:
    """A signing-key file, read no further than the size any key file has (a hostile one may be huge)."""
    try:
        with path.open("rb") as file:
            return file.read(MAX_FILE_BYTES + 1)
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
