"""An office's keys at rest: encrypted, private to their owner, never overwritten, opened by the password."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import stat
from pathlib import Path

import Crypto.Random
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from registry_node.protocol.errors import ConfigError
from registry_node.protocol.keys import (
    KeyFileExists,
    KeyStoreError,
    OfficeSigningKey,
    SigningAlgorithm,
    create_account_keystore,
    generate_signing_key,
    load_account,
    load_signing_key,
    self_signed_certificate,
    signing_key_metadata_path,
)
from registry_node.protocol.signing import sign_document, verify_signature

PASSWORD = "correct horse battery staple"
WRONG_PASSWORD = "incorrect horse battery staple"
FAST_SCRYPT_N = 2**4  # the default (2**18) takes a second per open; one test of each file keeps it
CONTRACT_INTERFACE = Path(__file__).resolve().parents[2] / "contracts" / "interfaces" / "IOfficeRegistry.sol"
ALGORITHMS = list(SigningAlgorithm)


def file_mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def raw_private_bytes(key: OfficeSigningKey) -> bytes:
    private_key = key.private_key
    if isinstance(private_key, Ed25519PrivateKey):
        return private_key.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
    return private_key.private_numbers().private_value.to_bytes(32, "big")


def pem_body(pem: bytes) -> bytes:
    """The DER inside a PEM file, so a test can look for key bytes in what the base64 hides."""
    lines = pem.decode("ascii").strip().splitlines()
    return base64.b64decode("".join(lines[1:-1]))


def assert_secret_absent(secret: bytes, *contents: bytes) -> None:
    for content in contents:
        assert secret not in content
        assert secret.hex().encode() not in content.lower()


# --- the transaction account -------------------------------------------------------------------------------


def test_account_keystore_round_trips_to_the_same_address(tmp_path: Path) -> None:
    path = tmp_path / "account.json"
    address = create_account_keystore(path, PASSWORD, scrypt_n=FAST_SCRYPT_N)
    account = load_account(path, PASSWORD)
    assert account.address == address
    assert re.fullmatch(r"0x[0-9a-fA-F]{40}", address)


def test_a_keystore_whose_random_iv_starts_with_a_zero_byte_keeps_all_16_bytes_and_opens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """eth-keyfile alone writes such an IV (1 in 256) as 15 bytes, which geth refuses: see
    tests/devnet/test_geth_keystore.py."""
    monkeypatch.setattr(Crypto.Random, "get_random_bytes", lambda n: b"\x00" + b"\x07" * (n - 1))
    path = tmp_path / "account.json"
    address = create_account_keystore(path, PASSWORD, FAST_SCRYPT_N)
    assert json.loads(path.read_text())["crypto"]["cipherparams"]["iv"] == "00" + "07" * 15
    assert load_account(path, PASSWORD).address == address


def test_account_keystore_uses_scrypt_at_full_cost_by_default(tmp_path: Path) -> None:
    path = tmp_path / "account.json"
    address = create_account_keystore(path, PASSWORD)
    crypto = json.loads(path.read_text())["crypto"]
    assert crypto["kdf"] == "scrypt"
    assert crypto["kdfparams"]["n"] == 2**18
    assert load_account(path, PASSWORD).address == address


def test_account_keystore_is_encrypted_and_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "account.json"
    create_account_keystore(path, PASSWORD, scrypt_n=FAST_SCRYPT_N)
    content = path.read_bytes()
    assert "crypto" in json.loads(content)
    assert_secret_absent(bytes(load_account(path, PASSWORD).key), content)
    assert PASSWORD.encode() not in content
    assert file_mode(path) == 0o600
    assert not list(tmp_path.glob(".*.tmp")), "the temporary file is cleaned up"


def test_wrong_password_for_the_account_is_a_key_store_error_that_hides_the_password(tmp_path: Path) -> None:
    path = tmp_path / "account.json"
    create_account_keystore(path, PASSWORD, scrypt_n=FAST_SCRYPT_N)
    with pytest.raises(KeyStoreError) as caught:
        load_account(path, WRONG_PASSWORD)
    assert caught.value.path == path
    assert "wrong password" in caught.value.reason
    assert WRONG_PASSWORD not in str(caught.value)
    assert PASSWORD not in str(caught.value)


def test_account_keystore_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "account.json"
    address = create_account_keystore(path, PASSWORD, scrypt_n=FAST_SCRYPT_N)
    before = path.read_bytes()
    with pytest.raises(KeyFileExists) as caught:
        create_account_keystore(path, PASSWORD, scrypt_n=FAST_SCRYPT_N)
    assert isinstance(caught.value, KeyStoreError)
    assert caught.value.path == path
    assert path.read_bytes() == before
    assert load_account(path, PASSWORD).address == address


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "no such file"),
        (b"not json", "not a JSON file"),
        (b"[1, 2]", "JSON object"),
        (b'{"version": 3}', "not a valid Ethereum keystore"),
    ],
)
def test_a_missing_or_foreign_keystore_file_is_a_key_store_error(
    tmp_path: Path, content: bytes | None, reason: str
) -> None:
    path = tmp_path / "account.json"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(KeyStoreError, match=reason):
        load_account(path, PASSWORD)


def test_an_empty_password_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyStoreError, match="password must not be empty"):
        create_account_keystore(tmp_path / "account.json", "")
    with pytest.raises(KeyStoreError, match="password must not be empty"):
        generate_signing_key(tmp_path / "signing.pem", "")
    assert not list(tmp_path.iterdir())


# --- the document-signing key ------------------------------------------------------------------------------


def test_algorithms_carry_the_contracts_key_algorithm_numbers() -> None:
    enum = re.search(r"enum KeyAlgorithm \{([^}]*)\}", CONTRACT_INTERFACE.read_text())
    assert enum is not None
    members = [name.strip() for name in enum[1].split(",")]
    assert members == ["None", "Ed25519", "EcdsaP256"]
    assert SigningAlgorithm.ED25519.chain_value == members.index("Ed25519")
    assert SigningAlgorithm.ECDSA_P256.chain_value == members.index("EcdsaP256")
    for algorithm in SigningAlgorithm:
        assert SigningAlgorithm.from_chain_value(algorithm.chain_value) is algorithm
    with pytest.raises(ValueError, match="KeyAlgorithm number 0"):
        SigningAlgorithm.from_chain_value(0)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_signing_key_round_trips_and_still_signs(tmp_path: Path, algorithm: SigningAlgorithm) -> None:
    path = tmp_path / "signing.pem"
    info = generate_signing_key(path, PASSWORD, algorithm, scrypt_n=FAST_SCRYPT_N)
    key = load_signing_key(path, PASSWORD)
    assert (info.path, info.metadata_path) == (path, signing_key_metadata_path(path))
    assert key.algorithm is info.algorithm is algorithm
    assert key.key_id == info.key_id
    assert key.public_key_bytes == info.public_key
    signature = sign_document(b"canonical record", key, "EP")
    assert verify_signature(b"canonical record", signature, info.public_key, algorithm)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_signing_key_files_are_encrypted_and_readable_by_their_owner_only(
    tmp_path: Path, algorithm: SigningAlgorithm
) -> None:
    path = tmp_path / "signing.pem"
    info = generate_signing_key(path, PASSWORD, algorithm, scrypt_n=FAST_SCRYPT_N)
    pem = path.read_bytes()
    metadata = info.metadata_path.read_bytes()
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert_secret_absent(raw_private_bytes(load_signing_key(path, PASSWORD)), pem, pem_body(pem), metadata)
    assert PASSWORD.encode() not in pem + metadata
    assert file_mode(path) == 0o600
    assert file_mode(info.metadata_path) == 0o600
    assert json.loads(metadata) == {
        "schema": "ipreg/signing-key/1",
        "algorithm": algorithm.value,
        "keyId": info.key_id.hex(),
        "publicKey": info.public_key.hex(),
    }


def test_public_keys_have_the_form_the_contract_takes(tmp_path: Path) -> None:
    ed25519 = generate_signing_key(
        tmp_path / "ed.pem", PASSWORD, SigningAlgorithm.ED25519, scrypt_n=FAST_SCRYPT_N
    )
    p256 = generate_signing_key(
        tmp_path / "p256.pem", PASSWORD, SigningAlgorithm.ECDSA_P256, scrypt_n=FAST_SCRYPT_N
    )
    assert len(ed25519.public_key) == 32
    assert len(p256.public_key) == 65
    assert p256.public_key[0] == 0x04


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_default_key_id_is_the_sha256_of_the_public_key_and_survives_reloads(
    tmp_path: Path, algorithm: SigningAlgorithm
) -> None:
    path = tmp_path / "signing.pem"
    info = generate_signing_key(path, PASSWORD, algorithm, scrypt_n=FAST_SCRYPT_N)
    assert info.key_id == hashlib.sha256(info.public_key).digest()
    assert load_signing_key(path, PASSWORD).key_id == info.key_id
    assert load_signing_key(path, PASSWORD).key_id == info.key_id


def test_an_explicit_key_id_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "signing.pem"
    key_id = bytes.fromhex("ab" * 32)
    info = generate_signing_key(
        path, PASSWORD, SigningAlgorithm.ECDSA_P256, key_id=key_id, scrypt_n=FAST_SCRYPT_N
    )
    assert info.key_id == key_id
    assert load_signing_key(path, PASSWORD).key_id == key_id


def test_a_key_id_must_be_32_bytes(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="key_id: must be 32 bytes, got 31"):
        generate_signing_key(tmp_path / "signing.pem", PASSWORD, key_id=b"\x01" * 31)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_wrong_password_for_the_signing_key_is_a_key_store_error_that_hides_the_password(
    tmp_path: Path, algorithm: SigningAlgorithm
) -> None:
    path = tmp_path / "signing.pem"
    generate_signing_key(path, PASSWORD, algorithm, scrypt_n=FAST_SCRYPT_N)
    with pytest.raises(KeyStoreError) as caught:
        load_signing_key(path, WRONG_PASSWORD)
    assert caught.value.path == path
    assert "wrong password" in caught.value.reason
    assert WRONG_PASSWORD not in str(caught.value)
    assert PASSWORD not in str(caught.value)


def test_signing_key_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "signing.pem"
    info = generate_signing_key(path, PASSWORD, scrypt_n=FAST_SCRYPT_N)
    before = (path.read_bytes(), info.metadata_path.read_bytes())
    with pytest.raises(KeyFileExists) as caught:
        generate_signing_key(path, PASSWORD, SigningAlgorithm.ECDSA_P256, scrypt_n=FAST_SCRYPT_N)
    assert caught.value.path == path
    assert (path.read_bytes(), info.metadata_path.read_bytes()) == before
    assert load_signing_key(path, PASSWORD).key_id == info.key_id


def test_a_stray_metadata_file_blocks_a_new_key(tmp_path: Path) -> None:
    path = tmp_path / "signing.pem"
    metadata_path = signing_key_metadata_path(path)
    metadata_path.write_text("{}")
    with pytest.raises(KeyFileExists) as caught:
        generate_signing_key(path, PASSWORD, scrypt_n=FAST_SCRYPT_N)
    assert caught.value.path == metadata_path
    assert not path.exists()
    assert metadata_path.read_text() == "{}"


def test_metadata_of_another_key_is_refused(tmp_path: Path) -> None:
    first = generate_signing_key(tmp_path / "first.pem", PASSWORD, scrypt_n=FAST_SCRYPT_N)
    second = generate_signing_key(tmp_path / "second.pem", PASSWORD, scrypt_n=FAST_SCRYPT_N)
    second.metadata_path.write_bytes(first.metadata_path.read_bytes())
    with pytest.raises(KeyStoreError, match="publicKey: does not match the key") as caught:
        load_signing_key(second.path, PASSWORD)
    assert caught.value.path == second.metadata_path


def test_a_key_without_its_metadata_is_refused(tmp_path: Path) -> None:
    info = generate_signing_key(tmp_path / "signing.pem", PASSWORD, scrypt_n=FAST_SCRYPT_N)
    info.metadata_path.unlink()
    with pytest.raises(KeyStoreError, match="no such file") as caught:
        load_signing_key(info.path, PASSWORD)
    assert caught.value.path == info.metadata_path


def test_an_unencrypted_key_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "signing.pem"
    path.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    with pytest.raises(KeyStoreError, match="not an encrypted PKCS#8 PEM key"):
        load_signing_key(path, PASSWORD)


def test_a_signing_keys_repr_shows_no_private_key() -> None:
    key = OfficeSigningKey.generate()
    assert "private_key" not in repr(key)
    assert raw_private_bytes(key).hex() not in repr(key)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_self_signed_certificate_names_the_office_and_the_key_id(algorithm: SigningAlgorithm) -> None:
    key = OfficeSigningKey.generate(algorithm)
    certificate = x509.load_pem_x509_certificate(
        self_signed_certificate(key, "EP", "European Patent Office", days=30)
    )
    certificate.verify_directly_issued_by(certificate)
    subject = certificate.subject.rfc4514_string()
    assert "CN=EP document signing" in subject
    assert "O=European Patent Office" in subject
    identifier = certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert identifier.digest == key.key_id
    assert certificate.public_key() == key.private_key.public_key()
    lifetime = certificate.not_valid_after_utc - certificate.not_valid_before_utc
    assert lifetime.days == 30


def test_self_signed_certificate_needs_an_st3_office_code() -> None:
    with pytest.raises(ConfigError, match="office_code"):
        self_signed_certificate(OfficeSigningKey.generate(), "ep", "European Patent Office")
