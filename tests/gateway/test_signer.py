"""The gateway's signatures over verdicts and receipts: what bytes they cover, and that they check out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import rfc8785

from gateway.verify.signer import (
    SIGNATURE_FIELD,
    GatewaySigner,
    check_gateway_signature,
    signed_bytes,
)
from registry_node.protocol.keys import ScryptCost, describe_key_protection

VERDICT: dict[str, Any] = {
    "schema": "ipreg/verdict/1",
    "verdict": "authentic-current",
    "rightId": "EP:PAT:EP20190012345",
    "version": 3,
    "block": {"number": 2**53 - 1, "hash": "0x" + "ab" * 32},
    "subject": {"type": "upload", "filename": "Übersicht \u2013 特許 \U0001f600.json", "size": 3172},
    "checks": [{"name": "signature", "result": "pass", "detail": 'a "quoted" \\ tab\t and \x1f'}],
    "stillChecked": [],
}


def test_the_signature_covers_the_rfc8785_bytes_of_the_body_without_it() -> None:
    signed = GatewaySigner.ephemeral().sign(VERDICT)
    assert signed_bytes(signed) == bytes(rfc8785.dumps(VERDICT))
    with_float = {**VERDICT, "ratio": 0.5}  # not plain JSON: written by the rfc8785 package itself
    assert signed_bytes(with_float) == bytes(rfc8785.dumps(with_float))
    with pytest.raises(rfc8785.CanonicalizationError):
        signed_bytes({**VERDICT, "big": 2**60})


def test_a_signed_verdict_checks_out_and_any_change_to_it_does_not() -> None:
    signer = GatewaySigner.ephemeral()
    signed = signer.sign(VERDICT)
    assert check_gateway_signature(signed, signer.key.public_key)[0]
    assert not check_gateway_signature({**signed, "verdict": "tampered"}, signer.key.public_key)[0]
    assert not check_gateway_signature({**signed, "extra": None}, signer.key.public_key)[0]
    assert not check_gateway_signature({**signed, SIGNATURE_FIELD: {}}, signer.key.public_key)[0]


def test_the_gateway_key_is_created_on_first_use_encrypted_with_scrypt_and_opens_again(
    tmp_path: Path,
) -> None:
    path = tmp_path / "gateway" / "signing-key.pem"
    created = GatewaySigner.open(path, "gateway password")  # N=2**18: a second to write, one to open
    assert describe_key_protection(path).scrypt == ScryptCost(n=2**18, r=8, p=1)
    assert GatewaySigner.open(path, "gateway password").key == created.key
