"""Signing-key files that resist guessing: PKCS#8 encrypted with PBES2/scrypt at the account keystore's cost,
read by OpenSSL within its memory limit, older PBKDF2 files still opened and re-encrypted in place, and
hostile files refused by name before any key derivation runs."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
from pathlib import Path
from typing import NoReturn

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_node.protocol.errors import ConfigError
from registry_node.protocol.keys import (
    KeyProtection,
    KeyStoreError,
    OfficeSigningKey,
    ScryptCost,
    SigningAlgorithm,
    SigningPrivateKey,
    WrongKeyPassword,
    create_account_keystore,
    describe_account_protection,
    describe_key_protection,
    generate_signing_key,
    load_account,
    load_signing_key,
    rewrite_account_keystore,
    rewrite_signing_key,
)
from registry_node.protocol.keys.pkcs8_scrypt import (
    MAX_FILE_BYTES,
    WrongPassword,
    decrypt_pkcs8,
    encrypt_pkcs8,
)
from registry_node.protocol.signing import sign_document, verify_signature
from tests.support.keys import FAST_SCRYPT_N, write_legacy_signing_key, write_signing_key_metadata

PASSWORD = "correct horse battery staple"  # the hostile assets' too (tests/assets/keys/write_hostile_keys.py)
NEW_PASSWORD = "a new horse, a new battery"
WRONG_PASSWORD = "incorrect horse battery staple"
OPENSSL_SCRYPT_N = 2**14  # the most `openssl pkcs8` reads at r=8 (its 32 MiB limit), and what it writes
HOSTILE = Path(__file__).resolve().parents[1] / "assets" / "keys" / "hostile"
ALGORITHMS = list(SigningAlgorithm)
OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="the openssl command is not installed")

# Each hostile file and the reason it is refused with: all before scrypt or PBKDF2 runs.
HOSTILE_FILES = {
    "scrypt_n_2_to_the_30.pem": "scrypt N: must be a power of two from 2 to 2^20, got 1073741824",
    "scrypt_n_not_a_power_of_two.pem": "scrypt N: must be a power of two from 2 to 2^20, got 100000",
    "scrypt_n_zero.pem": "scrypt N: must be a power of two from 2 to 2^20, got 0",
    "scrypt_r_64.pem": "scrypt r: must be 1 to 32, got 64",
    "scrypt_p_1024.pem": "scrypt p: must be 1 to 16, got 1024",
    "scrypt_memory_2_gib.pem": "scrypt N: with r=16 needs 2048 MiB (128·r·N), over the cap of 1024 MiB",
    "scrypt_work_16_times_the_default.pem": (
        "scrypt p: makes N·r·p 33554432, over the cap of 8388608 (4 times the default)"
    ),
    "scrypt_salt_of_4_bytes.pem": "scrypt salt: must be 8 to 64 bytes, got 4",
    "scrypt_salt_of_65_bytes.pem": "scrypt salt: must be 8 to 64 bytes, got 65",
    "scrypt_key_length_16.pem": "scrypt keyLength: must be 32 (AES-256), got 16",
    "scrypt_params_not_a_sequence.pem": "scrypt parameters: not DER (RFC 7914 §7 scrypt-params)",
    "kdf_unknown_oid.pem": "key derivation: unknown (OID 1.3.6.1.4.1.11591.4.99); scrypt or PBKDF2 expected",
    "cipher_aes_256_gcm.pem": "cipher: only AES-256-CBC is read with scrypt, not aes256_gcm",
    "cipher_unknown_oid.pem": "cipher: only AES-256-CBC is read with scrypt, not 1.2.3.4.5",
    "encryption_scheme_unknown_oid.pem": (
        "encryption scheme: unknown (OID 1.2.840.113549.1.5.99); PBES2 expected"
    ),
    "iv_of_8_bytes.pem": "AES-256-CBC IV: must be 16 bytes, got 8",
    "ciphertext_of_33_bytes.pem": "encrypted data: 33 bytes is not a whole number of AES blocks",
    "der_truncated.pem": "not a DER EncryptedPrivateKeyInfo (truncated, or not PKCS#8)",
    "der_with_trailing_bytes.pem": "not a DER EncryptedPrivateKeyInfo (truncated, or not PKCS#8)",
    "der_garbage.pem": "not a DER EncryptedPrivateKeyInfo (truncated, or not PKCS#8)",
    "pem_body_not_base64.pem": "the PEM body is not base64",
    "two_keys_in_one_file.pem": "holds 2 encrypted keys; a key file holds one",
    "pbkdf2_2_to_the_31_rounds.pem": "pbkdf2 rounds: must be 1 to 10,000,000, got 2147483647",
}


def pkcs8_der(key: OfficeSigningKey) -> bytes:
    return key.private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def file_mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def no_key_derivation(*args: object, **kwargs: object) -> NoReturn:
    raise AssertionError("a hostile file reached the key derivation")


def openssl(*args: str | Path) -> subprocess.CompletedProcess[bytes]:
    """The OpenSSL command line, with the password in its environment (never on its command line)."""
    assert OPENSSL is not None
    return subprocess.run(
        [OPENSSL, *map(str, args)],
        capture_output=True,
        env={**os.environ, "KEY_PASSWORD": PASSWORD},
        timeout=60,
        check=False,
    )


# --- the format --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_signing_key_round_trips_through_a_scrypt_file_and_still_signs(
    tmp_path: Path, algorithm: SigningAlgorithm
) -> None:
    path = tmp_path / "signing-key.pem"
    info = generate_signing_key(path, PASSWORD, algorithm, scrypt_n=FAST_SCRYPT_N)
    assert path.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n")
    assert describe_key_protection(path) == KeyProtection("scrypt", "aes256_cbc", ScryptCost(2**4, 8, 1))
    key = load_signing_key(path, PASSWORD)
    assert (key.algorithm, key.key_id, key.public_key_bytes) == (algorithm, info.key_id, info.public_key)
    signature = sign_document(b"canonical record", key, "EP")
    assert verify_signature(b"canonical record", signature, info.public_key, algorithm)


def test_a_new_signing_key_uses_scrypt_at_the_account_keystores_cost_by_default(tmp_path: Path) -> None:
    path = tmp_path / "signing-key.pem"
    info = generate_signing_key(path, PASSWORD)  # N=2**18: a second to write, a second to open
    protection = describe_key_protection(path)
    assert protection.scrypt == ScryptCost(n=2**18, r=8, p=1)
    assert str(protection) == "scrypt (N=2^18, r=8, p=1)"
    assert load_signing_key(path, PASSWORD).key_id == info.key_id


def test_the_pure_functions_round_trip_and_never_encrypt_twice_alike() -> None:
    der = pkcs8_der(OfficeSigningKey.generate(SigningAlgorithm.ECDSA_P256))
    first = encrypt_pkcs8(der, PASSWORD, n=FAST_SCRYPT_N)
    second = encrypt_pkcs8(der, PASSWORD, n=FAST_SCRYPT_N)
    assert first != second  # a fresh salt and IV each time
    assert decrypt_pkcs8(first, PASSWORD) == decrypt_pkcs8(second, PASSWORD) == der
    assert der not in first and PASSWORD.encode() not in first
    with pytest.raises(WrongPassword, match="wrong password, or the key file was altered"):
        decrypt_pkcs8(first, WRONG_PASSWORD)


def test_a_cost_the_reader_would_refuse_is_never_written() -> None:
    der = pkcs8_der(OfficeSigningKey.generate())
    with pytest.raises(ConfigError, match=r"^N: must be a power of two from 2 to 2\^20, got 3000$"):
        encrypt_pkcs8(der, PASSWORD, n=3000)
    with pytest.raises(ConfigError, match=r"^p: makes N·r·p"):
        encrypt_pkcs8(der, PASSWORD, n=2**18, p=16)
    with pytest.raises(ConfigError, match=r"^password: must not be empty$"):
        encrypt_pkcs8(der, "", n=FAST_SCRYPT_N)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_wrong_password_is_refused_with_a_message_that_carries_no_secret(
    tmp_path: Path, algorithm: SigningAlgorithm
) -> None:
    path = tmp_path / "signing-key.pem"
    generate_signing_key(path, PASSWORD, algorithm, scrypt_n=FAST_SCRYPT_N)
    with pytest.raises(WrongKeyPassword) as caught:
        load_signing_key(path, WRONG_PASSWORD)
    assert isinstance(caught.value, KeyStoreError)
    assert str(caught.value) == f"{path}: wrong password, or the key file was altered"
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


# --- older files -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_pbkdf2_file_written_by_cryptography_still_opens(
    tmp_path: Path, algorithm: SigningAlgorithm
) -> None:
    path = tmp_path / "signing-key.pem"
    legacy = write_legacy_signing_key(path, PASSWORD, algorithm)
    assert str(describe_key_protection(path)) == "PBKDF2-HMAC-SHA256, 2048 rounds"
    key = load_signing_key(path, PASSWORD)
    assert (key.key_id, key.public_key_bytes) == (legacy.key_id, legacy.public_key_bytes)
    with pytest.raises(WrongKeyPassword, match="wrong password"):
        load_signing_key(path, WRONG_PASSWORD)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_legacy_file_rewritten_with_scrypt_keeps_its_key_and_its_signatures_verify(
    tmp_path: Path, algorithm: SigningAlgorithm
) -> None:
    path = tmp_path / "signing-key.pem"
    legacy = write_legacy_signing_key(path, PASSWORD, algorithm)
    metadata = (tmp_path / "signing-key.pem.json").read_bytes()

    after = rewrite_signing_key(path, load_signing_key(path, PASSWORD), PASSWORD, scrypt_n=FAST_SCRYPT_N)

    assert str(after) == "scrypt (N=2^4, r=8, p=1)" and describe_key_protection(path) == after
    rekeyed = load_signing_key(path, PASSWORD)
    assert (rekeyed.key_id, rekeyed.public_key_bytes) == (legacy.key_id, legacy.public_key_bytes)
    signature = sign_document(b"canonical record", rekeyed, "EP")
    assert verify_signature(b"canonical record", signature, legacy.public_key_bytes, algorithm)
    assert (tmp_path / "signing-key.pem.json").read_bytes() == metadata
    assert file_mode(path) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["signing-key.pem", "signing-key.pem.json"]


def test_a_rewrite_under_a_new_password_opens_with_it_alone(tmp_path: Path) -> None:
    path = tmp_path / "signing-key.pem"
    info = generate_signing_key(path, PASSWORD, scrypt_n=FAST_SCRYPT_N)
    rewrite_signing_key(path, load_signing_key(path, PASSWORD), NEW_PASSWORD, scrypt_n=FAST_SCRYPT_N)
    assert load_signing_key(path, NEW_PASSWORD).key_id == info.key_id
    with pytest.raises(WrongKeyPassword):
        load_signing_key(path, PASSWORD)


def test_a_rewrite_with_another_key_is_refused_and_leaves_the_file(tmp_path: Path) -> None:
    path = tmp_path / "signing-key.pem"
    generate_signing_key(path, PASSWORD, scrypt_n=FAST_SCRYPT_N)
    before = path.read_bytes()
    with pytest.raises(KeyStoreError, match="publicKey: does not match the key"):
        rewrite_signing_key(path, OfficeSigningKey.generate(), PASSWORD, scrypt_n=FAST_SCRYPT_N)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["signing-key.pem", "signing-key.pem.json"]


def test_an_account_keystore_rewritten_under_a_new_password_keeps_its_address(tmp_path: Path) -> None:
    path = tmp_path / "account.json"
    address = create_account_keystore(path, PASSWORD, scrypt_n=FAST_SCRYPT_N)
    assert str(describe_account_protection(path)) == "scrypt (N=2^4, r=8, p=1)"
    after = rewrite_account_keystore(path, load_account(path, PASSWORD), NEW_PASSWORD, scrypt_n=2**5)
    assert str(after) == "scrypt (N=2^5, r=8, p=1)"
    assert load_account(path, NEW_PASSWORD).address == address
    with pytest.raises(WrongKeyPassword):
        load_account(path, PASSWORD)
    assert file_mode(path) == 0o600


# --- hostile files -----------------------------------------------------------------------------------------


def test_every_hostile_asset_has_its_expected_reason() -> None:
    assert sorted(p.name for p in HOSTILE.glob("*.pem")) == sorted([*HOSTILE_FILES, "ciphertext_altered.pem"])


@pytest.mark.parametrize(("name", "reason"), HOSTILE_FILES.items())
def test_a_hostile_key_file_is_refused_with_its_reason_before_any_key_derivation(
    name: str, reason: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hashlib, "scrypt", no_key_derivation)
    monkeypatch.setattr(serialization, "load_pem_private_key", no_key_derivation)
    path = HOSTILE / name
    with pytest.raises(KeyStoreError) as caught:
        load_signing_key(path, PASSWORD)
    assert (caught.value.path, caught.value.reason) == (path, reason)
    assert PASSWORD not in str(caught.value)
    with pytest.raises(KeyStoreError) as described:
        describe_key_protection(path)
    assert described.value.reason == reason


def test_an_altered_ciphertext_is_refused_as_a_wrong_password() -> None:
    path = HOSTILE / "ciphertext_altered.pem"
    assert str(describe_key_protection(path)) == "scrypt (N=2^4, r=8, p=1)"
    with pytest.raises(WrongKeyPassword, match="wrong password, or the key file was altered"):
        load_signing_key(path, PASSWORD)


def test_a_file_larger_than_any_key_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "signing-key.pem"
    generate_signing_key(path, PASSWORD, scrypt_n=FAST_SCRYPT_N)
    with path.open("ab") as file:
        file.write(b"\n" * MAX_FILE_BYTES)
    with pytest.raises(KeyStoreError, match=r"larger than any key file \(65537 bytes, at most 65536\)"):
        load_signing_key(path, PASSWORD)


CHANGED_BYTE_KEY = OfficeSigningKey.generate()
CHANGED_BYTE_KEY_PEM = encrypt_pkcs8(pkcs8_der(CHANGED_BYTE_KEY), PASSWORD, n=FAST_SCRYPT_N)


@pytest.fixture(scope="module")
def changed_key_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("changed-key")
    write_signing_key_metadata(folder / "signing-key.pem", CHANGED_BYTE_KEY)
    return folder


@settings(max_examples=150, deadline=None)
@given(position=st.integers(min_value=0), value=st.integers(min_value=0, max_value=255))
def test_a_key_file_with_any_byte_changed_opens_to_its_own_key_or_is_refused(
    changed_key_folder: Path, position: int, value: int
) -> None:
    pem = CHANGED_BYTE_KEY_PEM
    body_start = len(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n")
    at = body_start + position % (len(pem) - body_start)
    path = changed_key_folder / "signing-key.pem"
    path.write_bytes(pem[:at] + bytes([value]) + pem[at + 1 :])
    try:
        opened = load_signing_key(path, PASSWORD)
    except KeyStoreError:
        return  # refused: by its format, as a wrong password, or by the metadata of the key it belongs to
    assert opened.public_key_bytes == CHANGED_BYTE_KEY.public_key_bytes


# --- OpenSSL -----------------------------------------------------------------------------------------------


@needs_openssl
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_openssl_reads_a_scrypt_file_written_here(tmp_path: Path, algorithm: SigningAlgorithm) -> None:
    path = tmp_path / "signing-key.pem"
    info = generate_signing_key(path, PASSWORD, algorithm, scrypt_n=OPENSSL_SCRYPT_N)
    read = openssl("pkcs8", "-in", path, "-passin", "env:KEY_PASSWORD", "-outform", "DER")
    assert read.returncode == 0, read.stderr.decode()
    private_key = serialization.load_der_private_key(read.stdout, None)
    assert isinstance(private_key, SigningPrivateKey)
    assert OfficeSigningKey.from_private_key(private_key).public_key_bytes == info.public_key


@needs_openssl
@pytest.mark.parametrize("n", [2**15, 2**18])
def test_openssl_refuses_scrypt_beyond_its_32_mib_limit(tmp_path: Path, n: int) -> None:
    path = tmp_path / "signing-key.pem"
    generate_signing_key(path, PASSWORD, scrypt_n=n)
    read = openssl("pkcs8", "-in", path, "-passin", "env:KEY_PASSWORD", "-outform", "DER")
    assert read.returncode != 0
    assert b"memory limit exceeded" in read.stderr


@needs_openssl
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_key_encrypted_by_openssl_with_scrypt_opens_here(
    tmp_path: Path, algorithm: SigningAlgorithm
) -> None:
    key = OfficeSigningKey.generate(algorithm)
    plain = tmp_path / "plain.pem"
    plain.write_bytes(
        key.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    path = tmp_path / "signing-key.pem"
    written = openssl(
        "pkcs8", "-topk8", "-scrypt", "-in", plain, "-out", path, "-passout", "env:KEY_PASSWORD"
    )  # fmt: skip
    assert written.returncode == 0, written.stderr.decode()
    write_signing_key_metadata(path, key)
    assert str(describe_key_protection(path)) == "scrypt (N=2^14, r=8, p=1)"
    opened = load_signing_key(path, PASSWORD)
    assert (opened.key_id, opened.public_key_bytes) == (key.key_id, key.public_key_bytes)
