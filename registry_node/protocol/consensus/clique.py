"""go-ethereum's Clique proof of authority, as far as an auditor needs it: who sealed a header.

A Clique header's extraData is 32 bytes of vanity, then (on checkpoint blocks only) the signers' addresses,
then the 65-byte seal: a secp256k1 signature [r ‖ s ‖ v], v in {0, 1}, over the sealing hash, which is the
header's hash with the seal cut off extraData (geth `consensus/clique.SealHash`). A signer may seal at most
one of any ⌊n/2⌋+1 consecutive blocks, so that many consecutive blocks carry that many distinct seals.
"""

from __future__ import annotations

from collections.abc import Mapping

import rlp  # type: ignore[import-untyped]
from eth_keys import keys  # type: ignore[attr-defined]
from eth_utils.crypto import keccak

from registry_node.protocol.consensus.headers import HeaderError, header_values, hex_field
from registry_node.protocol.consensus.signatures import recover_signer

EXTRA_VANITY = 32
EXTRA_SEAL = 65
ADDRESS = 20


class CliqueError(ValueError):
    """A header that is not a Clique header, or whose seal names nobody."""


def extra_data(header: Mapping[str, str]) -> bytes:
    try:
        extra = hex_field(header.get("extraData"), "header.extraData")
    except HeaderError as err:
        raise CliqueError(str(err)) from None
    if len(extra) < EXTRA_VANITY + EXTRA_SEAL:
        raise CliqueError(
            f"extraData is {len(extra)} bytes: a Clique header has at least 97 (vanity and seal)"
        )
    return extra


def seal_hash(header: Mapping[str, str]) -> bytes:
    """What the sealer signed: keccak256 of the header's RLP with the seal cut off extraData."""
    extra = extra_data(header)
    try:
        return bytes(keccak(rlp.encode(header_values(header, extra_data=extra[:-EXTRA_SEAL]))))
    except HeaderError as err:
        raise CliqueError(str(err)) from None


def sealer(header: Mapping[str, str]) -> str:
    """The address (0x, lower case) whose key made the header's seal."""
    address = recover_signer(extra_data(header)[-EXTRA_SEAL:], seal_hash(header))
    if address is None:
        raise CliqueError("the seal does not recover to a key (not a secp256k1 signature [r ‖ s ‖ v])")
    return address


def checkpoint_signers(header: Mapping[str, str]) -> list[str]:
    """The signers a checkpoint header lists between its vanity and its seal (none on other blocks)."""
    body = extra_data(header)[EXTRA_VANITY:-EXTRA_SEAL]
    if len(body) % ADDRESS:
        raise CliqueError("the signers in extraData are not whole addresses")
    return ["0x" + body[i : i + ADDRESS].hex() for i in range(0, len(body), ADDRESS)]


def seal(header: Mapping[str, str], private_key: bytes) -> dict[str, str]:
    """A copy of the header sealed by `private_key` (for tests and tools): its extraData's last 65 bytes
    replaced by the seal."""
    extra = extra_data(header)
    unsealed = {**header, "extraData": "0x" + (extra[:-EXTRA_SEAL] + b"\0" * EXTRA_SEAL).hex()}
    signature = keys.PrivateKey(private_key).sign_msg_hash(seal_hash(unsealed))
    return {**header, "extraData": "0x" + (extra[:-EXTRA_SEAL] + signature.to_bytes()).hex()}
