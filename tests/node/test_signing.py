"""Detached signatures: a signature verifies over exactly the bytes it was made for, under exactly its key."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_node.protocol.keys import OfficeSigningKey, SigningAlgorithm
from registry_node.protocol.signing import (
    DetachedSignature,
    SignatureFormatError,
    sign_document,
    verify_signature,
)

DOCUMENT = b'{"rightId":"EP:PAT:EP20190012345","version":3}'
ALGORITHMS = list(SigningAlgorithm)
OTHER = {
    SigningAlgorithm.ED25519: SigningAlgorithm.ECDSA_P256,
    SigningAlgorithm.ECDSA_P256: SigningAlgorithm.ED25519,
}


@pytest.fixture(scope="module")
def keys() -> dict[SigningAlgorithm, OfficeSigningKey]:
    """One key per algorithm, made once: key generation is not what these tests are about."""
    return {algorithm: OfficeSigningKey.generate(algorithm) for algorithm in SigningAlgorithm}


def flip_byte(value: bytes, index: int, mask: int = 0x01) -> bytes:
    return value[:index] + bytes([value[index] ^ mask]) + value[index + 1 :]


def with_signature(signature: DetachedSignature, raw: bytes) -> DetachedSignature:
    return DetachedSignature(signature.office, signature.key_id, signature.algorithm, raw)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_signature_verifies_under_its_key(
    keys: dict[SigningAlgorithm, OfficeSigningKey], algorithm: SigningAlgorithm
) -> None:
    key = keys[algorithm]
    signature = sign_document(DOCUMENT, key, "EP")
    assert (signature.office, signature.key_id, signature.algorithm) == ("EP", key.key_id, algorithm)
    assert verify_signature(DOCUMENT, signature, key.public_key_bytes, algorithm)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_an_empty_document_can_be_signed(
    keys: dict[SigningAlgorithm, OfficeSigningKey], algorithm: SigningAlgorithm
) -> None:
    key = keys[algorithm]
    assert verify_signature(b"", sign_document(b"", key, "GB"), key.public_key_bytes, algorithm)


def test_ed25519_signatures_are_64_bytes_and_p256_signatures_are_der(
    keys: dict[SigningAlgorithm, OfficeSigningKey],
) -> None:
    assert len(sign_document(DOCUMENT, keys[SigningAlgorithm.ED25519], "EP").signature) == 64
    der = sign_document(DOCUMENT, keys[SigningAlgorithm.ECDSA_P256], "EP").signature
    assert der[0] == 0x30
    assert der[1] == len(der) - 2


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_flipped_byte_anywhere_in_the_document_fails(
    keys: dict[SigningAlgorithm, OfficeSigningKey], algorithm: SigningAlgorithm
) -> None:
    key = keys[algorithm]
    signature = sign_document(DOCUMENT, key, "EP")
    for index in range(len(DOCUMENT)):
        assert not verify_signature(flip_byte(DOCUMENT, index), signature, key.public_key_bytes, algorithm)
    assert not verify_signature(DOCUMENT + b" ", signature, key.public_key_bytes, algorithm)
    assert not verify_signature(DOCUMENT[:-1], signature, key.public_key_bytes, algorithm)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_flipped_byte_anywhere_in_the_signature_fails(
    keys: dict[SigningAlgorithm, OfficeSigningKey], algorithm: SigningAlgorithm
) -> None:
    key = keys[algorithm]
    signature = sign_document(DOCUMENT, key, "EP")
    for index in range(len(signature.signature)):
        for mask in (0x01, 0x80):
            tampered = with_signature(signature, flip_byte(signature.signature, index, mask))
            assert not verify_signature(DOCUMENT, tampered, key.public_key_bytes, algorithm), (
                f"byte {index} ^ {mask:#x}"
            )


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_another_key_of_the_same_algorithm_fails(
    keys: dict[SigningAlgorithm, OfficeSigningKey], algorithm: SigningAlgorithm
) -> None:
    signature = sign_document(DOCUMENT, keys[algorithm], "EP")
    other_key = OfficeSigningKey.generate(algorithm)
    assert not verify_signature(DOCUMENT, signature, other_key.public_key_bytes, algorithm)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_mismatched_algorithm_fails(
    keys: dict[SigningAlgorithm, OfficeSigningKey], algorithm: SigningAlgorithm
) -> None:
    key = keys[algorithm]
    signature = sign_document(DOCUMENT, key, "EP")
    assert not verify_signature(DOCUMENT, signature, key.public_key_bytes, OTHER[algorithm])
    assert not verify_signature(
        DOCUMENT, signature, keys[OTHER[algorithm]].public_key_bytes, OTHER[algorithm]
    )


def test_an_ed25519_signature_relabelled_as_p256_fails(
    keys: dict[SigningAlgorithm, OfficeSigningKey],
) -> None:
    signature = sign_document(DOCUMENT, keys[SigningAlgorithm.ED25519], "EP")
    relabelled = DetachedSignature("EP", signature.key_id, SigningAlgorithm.ECDSA_P256, signature.signature)
    p256 = keys[SigningAlgorithm.ECDSA_P256].public_key_bytes
    assert not verify_signature(DOCUMENT, relabelled, p256, SigningAlgorithm.ECDSA_P256)


@pytest.mark.parametrize(
    ("algorithm", "public_key"),
    [
        (SigningAlgorithm.ED25519, b""),
        (SigningAlgorithm.ED25519, b"\x01" * 31),
        (SigningAlgorithm.ED25519, b"\x01" * 33),
        (SigningAlgorithm.ECDSA_P256, b""),
        (SigningAlgorithm.ECDSA_P256, b"\x00"),
        (SigningAlgorithm.ECDSA_P256, b"\x04" + b"\x01" * 64),  # not on the curve
        (SigningAlgorithm.ECDSA_P256, b"\x05" + b"\x01" * 64),  # no such SEC1 prefix
        (SigningAlgorithm.ECDSA_P256, b"\x04" + b"\x01" * 32),  # truncated
    ],
)
def test_malformed_public_key_bytes_fail_without_raising(
    keys: dict[SigningAlgorithm, OfficeSigningKey], algorithm: SigningAlgorithm, public_key: bytes
) -> None:
    signature = sign_document(DOCUMENT, keys[algorithm], "EP")
    assert not verify_signature(DOCUMENT, signature, public_key, algorithm)


def test_a_compressed_p256_point_verifies_too(keys: dict[SigningAlgorithm, OfficeSigningKey]) -> None:
    """The contract also accepts the 33-byte compressed point, so the verifier must too."""
    key = keys[SigningAlgorithm.ECDSA_P256]
    assert isinstance(key.private_key, ec.EllipticCurvePrivateKey)
    compressed = key.private_key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
    )
    assert len(compressed) == 33
    signature = sign_document(DOCUMENT, key, "EP")
    assert verify_signature(DOCUMENT, signature, compressed, SigningAlgorithm.ECDSA_P256)


# --- JSON form ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_json_round_trips(
    keys: dict[SigningAlgorithm, OfficeSigningKey], algorithm: SigningAlgorithm
) -> None:
    signature = sign_document(DOCUMENT, keys[algorithm], "KR")
    as_json = signature.to_json()
    assert as_json == {
        "office": "KR",
        "keyId": signature.key_id.hex(),
        "algorithm": algorithm.value,
        "signature": signature.signature.hex(),
    }
    assert DetachedSignature.from_json(as_json) == signature
    prefixed = {**as_json, "keyId": "0x" + as_json["keyId"].upper(), "signature": "0x" + as_json["signature"]}
    assert DetachedSignature.from_json(prefixed) == signature


def valid_json() -> dict[str, Any]:
    return {"office": "EP", "keyId": "11" * 32, "algorithm": "ed25519", "signature": "22" * 64}


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"office": None}, "office", "is missing"),
        ({"office": "ep"}, "office", "WIPO ST.3 code"),
        ({"office": "EPO"}, "office", "WIPO ST.3 code"),
        ({"office": 12}, "office", "must be a string"),
        ({"keyId": None}, "keyId", "is missing"),
        ({"keyId": "11" * 31}, "keyId", "must be 32 bytes of hex"),
        ({"keyId": "11" * 33}, "keyId", "must be 32 bytes of hex"),
        ({"keyId": "zz" * 32}, "keyId", "must be 32 bytes of hex"),
        ({"keyId": "1" * 63}, "keyId", "must be 32 bytes of hex"),
        ({"keyId": " 11" * 32}, "keyId", "must be 32 bytes of hex"),
        ({"keyId": 7}, "keyId", "must be a string"),
        ({"algorithm": "rsa"}, "algorithm", "must be one of ed25519, ecdsa-p256"),
        ({"algorithm": None}, "algorithm", "is missing"),
        ({"signature": "not hex"}, "signature", "must be hex"),
        ({"signature": "abc"}, "signature", "must be hex"),
        ({"signature": ""}, "signature", "an Ed25519 signature is 64 bytes, got 0"),
        ({"signature": "22" * 65}, "signature", "an Ed25519 signature is 64 bytes, got 65"),
        ({"algorithm": "ecdsa-p256", "signature": "30" * 73}, "signature", "8 to 72 bytes, got 73"),
        ({"keyID": "11" * 32}, "keyID", "unknown field"),
    ],
)
def test_from_json_names_the_field_that_is_wrong(change: dict[str, Any], field: str, reason: str) -> None:
    data = valid_json()
    for name, value in change.items():
        if value is None:
            del data[name]
        else:
            data[name] = value
    with pytest.raises(SignatureFormatError) as caught:
        DetachedSignature.from_json(data)
    assert caught.value.field == field
    assert reason in caught.value.reason
    assert str(caught.value).startswith(f"{field}: ")


def test_from_json_needs_an_object() -> None:
    with pytest.raises(SignatureFormatError, match="must be a JSON object"):
        DetachedSignature.from_json(["EP", "11" * 32])


def test_signing_for_a_malformed_office_code_is_refused(
    keys: dict[SigningAlgorithm, OfficeSigningKey],
) -> None:
    with pytest.raises(SignatureFormatError) as caught:
        sign_document(DOCUMENT, keys[SigningAlgorithm.ED25519], "European Patent Office")
    assert caught.value.field == "office"


# --- properties --------------------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(algorithm=st.sampled_from(ALGORITHMS), document=st.binary(max_size=512))
def test_any_document_round_trips(
    keys: dict[SigningAlgorithm, OfficeSigningKey], algorithm: SigningAlgorithm, document: bytes
) -> None:
    key = keys[algorithm]
    signature = DetachedSignature.from_json(sign_document(document, key, "EP").to_json())
    assert verify_signature(document, signature, key.public_key_bytes, algorithm)


@settings(max_examples=30, deadline=None)
@given(algorithm=st.sampled_from(ALGORITHMS), document=st.binary(min_size=1, max_size=512), data=st.data())
def test_any_single_byte_change_to_a_document_fails(
    keys: dict[SigningAlgorithm, OfficeSigningKey],
    algorithm: SigningAlgorithm,
    document: bytes,
    data: st.DataObject,
) -> None:
    key = keys[algorithm]
    signature = sign_document(document, key, "EP")
    index = data.draw(st.integers(min_value=0, max_value=len(document) - 1), label="index")
    mask = data.draw(st.integers(min_value=1, max_value=255), label="mask")
    assert not verify_signature(flip_byte(document, index, mask), signature, key.public_key_bytes, algorithm)
