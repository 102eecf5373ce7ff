"""Hyperledger Besu's QBFT: the extraData of a header, the hash the chain gives a block, and who sealed it.

A QBFT header's extraData is the RLP list `[vanity, validators, vote, round, seals]`
(`consensus/qbft/src/main/java/org/hyperledger/besu/consensus/qbft/QbftExtraDataCodec.java`):

- vanity: 32 bytes (`BftVanityDataValidationRule` refuses any other length);
- validators: the 20-byte addresses of the validator set after this block, in Besu's order;
- vote: `[]` for none, else `[recipient, 0xff]` to add a validator or `[recipient, ""]` to drop one;
- round: the consensus round the block was committed in, an RLP integer scalar (0 is the empty string,
  no leading zeros, at most 4 bytes: a Java int) — not IBFT 2.0's fixed 4 bytes;
- seals: the committed seals, each a 65-byte secp256k1 signature r ‖ s ‖ v with v 0 or 1
  (`crypto/algorithms/.../SECPSignature.java`).

Three hashes of one header, all keccak256 of the header's RLP with extraData re-encoded
(`consensus/common/src/main/java/org/hyperledger/besu/consensus/common/bft/BftBlockHashing.java`):

- the block's hash, the one JSON-RPC calls `hash` (`calculateHashOfBftBlockOnchain`): seals emptied *and*
  round set to 0, since both differ between the copies of one block that validators circulate at a height;
- what each committed seal signs (`calculateDataHashForCommittedSeal`): seals emptied, round kept, so a
  seal made in another round recovers to another address and a verifier comparing the signers with the
  validator list refuses it;
- the genesis block (number 0) is hashed with its extraData as it is (`BftBlockHashing.serializeHeader`).

Besu finalises a block once it carries committed seals from ⌈2n/3⌉ distinct validators of the n that
the parent left (`BftHelpers.calculateRequiredValidatorQuorum`, `BftCommitSealsValidationRule`, which also
refuses a block with a duplicated seal). Seals are not held to low s, so two different seal bytes can
name one validator: a verifier counts distinct recovered addresses, never seals.

The decoder is stricter than Besu's where Besu's leniency would let two byte strings stand for one
extraData (items after the seals, a drop vote written as `0x00`): every extraData accepted here
re-encodes to the very same bytes. A seal that is not a valid signature is kept, not refused, so that
`committed_sealers` can say which one it is (Besu refuses the whole block).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import rlp  # type: ignore[import-untyped]
from eth_keys.datatypes import PrivateKey
from eth_utils.crypto import keccak
from eth_utils.exceptions import ValidationError

from registry_node.protocol.consensus.headers import (
    HeaderError,
    header_fields,
    header_number,
    header_values,
    hex_field,
)
from registry_node.protocol.consensus.signatures import recover_signer

VANITY_LENGTH = 32
ADDRESS_LENGTH = 20
MAX_ROUND = 2**31 - 1  # Besu holds the round in a Java int
ADD_VOTE = b"\xff"  # Vote.ADD_BYTE_VALUE; a drop vote is the empty string (RLP null)
# The mixHash every BFT block carries ("istanbul byzantine fault tolerance"): BftHelpers.EXPECTED_MIX_HASH.
QBFT_MIX_HASH = "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365"
_ADDRESS = re.compile(r"^0x[0-9a-f]{40}\Z")


class QbftError(ValueError):
    """QBFT extraData or a header that cannot be read or sealed; the message names the part at fault."""


@dataclass(frozen=True)
class QbftVote:
    """A proposal, carried by the block, to add (`authorize`) or drop a validator."""

    recipient: str  # 0x lower-case address
    authorize: bool

    def __post_init__(self) -> None:
        _check_address(self.recipient, "vote.recipient")


@dataclass(frozen=True)
class QbftExtraData:
    """A QBFT header's extraData, decoded; seals as the header carries them (see `committed_sealers`)."""

    vanity: bytes
    validators: tuple[str, ...]  # 0x lower-case addresses
    vote: QbftVote | None
    round: int
    seals: tuple[bytes, ...]  # 65-byte signatures r ‖ s ‖ v

    def __post_init__(self) -> None:
        if len(self.vanity) != VANITY_LENGTH:
            raise QbftError(f"extraData vanity must be {VANITY_LENGTH} bytes, got {len(self.vanity)}")
        for i, validator in enumerate(self.validators):
            _check_address(validator, f"extraData validators[{i}]")
        if not 0 <= self.round <= MAX_ROUND:
            raise QbftError(f"extraData round must be from 0 to {MAX_ROUND}, got {self.round}")
        if not all(isinstance(seal, bytes) for seal in self.seals):
            raise QbftError("extraData seals must be byte strings")


def decode_extra(data: bytes) -> QbftExtraData:
    """The extraData of a QBFT header; QbftError for anything that would not re-encode to `data`."""
    if not data:
        raise QbftError("extraData is empty: a QBFT header carries [vanity, validators, vote, round, seals]")
    try:
        items = rlp.decode(data)
    except rlp.exceptions.DecodingError as err:
        raise QbftError(f"extraData is not canonical RLP: {err}") from None
    if not isinstance(items, list):
        raise QbftError("extraData must be an RLP list [vanity, validators, vote, round, seals]")
    if len(items) != 5:
        raise QbftError(
            f"extraData must hold 5 items [vanity, validators, vote, round, seals], got {len(items)}"
        )
    vanity, raw_validators, raw_vote, raw_round, raw_seals = items
    if not isinstance(vanity, bytes):
        raise QbftError("extraData vanity must be a byte string, got a list")
    validators = tuple(
        _address(item, f"extraData validators[{i}]")
        for i, item in enumerate(_list(raw_validators, "validators"))
    )
    extra = QbftExtraData(
        vanity=vanity,
        validators=validators,
        vote=_vote(raw_vote),
        round=_round(raw_round),
        seals=tuple(_seal(item, i) for i, item in enumerate(_list(raw_seals, "seals"))),
    )
    if encode_extra(extra) != data:  # every part is checked above; this guards the whole
        raise QbftError("extraData is not in Besu's encoding: it does not re-encode to the same bytes")
    return extra


def encode_extra(extra: QbftExtraData) -> bytes:
    """Besu's RLP of the extraData (`QbftExtraDataCodec.encode`)."""
    if extra.vote is None:
        vote: list[bytes] = []
    else:
        vote = [_address_bytes(extra.vote.recipient), ADD_VOTE if extra.vote.authorize else b""]
    return bytes(
        rlp.encode(
            [
                extra.vanity,
                [_address_bytes(v) for v in extra.validators],
                vote,
                extra.round,
                list(extra.seals),
            ]
        )
    )


def genesis_extra(validators: Sequence[str]) -> bytes:
    """A QBFT genesis extraData: zero vanity, the founding validators in the given order, no vote, round 0,
    no seals (Besu's `QbftExtraDataCodec.encodeFromAddresses`)."""
    addresses = tuple(v.lower() for v in validators)
    for i, address in enumerate(addresses):
        if address in addresses[:i]:
            raise QbftError(f"validators[{i}]: {address} is listed twice")
    return encode_extra(QbftExtraData(bytes(VANITY_LENGTH), addresses, None, 0, ()))


def block_hash(header: Mapping[str, str]) -> bytes:
    """The hash Besu gives the block (JSON-RPC's `hash`): the header hashed with no seals and round 0, so
    it is the same whichever round committed it and whichever seals it carries."""
    fields, extra = _read(header)
    if extra is None:
        return _hash(fields, None)
    return _hash(fields, encode_extra(replace(extra, round=0, seals=())))


def committed_seal_hash(header: Mapping[str, str]) -> bytes:
    """What each committed seal signs: the header hashed with no seals but with its round."""
    fields, extra = _read(header)
    if extra is None:
        return _hash(fields, None)
    return _hash(fields, encode_extra(replace(extra, seals=())))


def committed_sealers(header: Mapping[str, str]) -> list[str | None]:
    """For each seal in the header's extraData, in order, the address that made it (0x lower-case); None for
    a seal that is not a signature (not 65 bytes, v not 0 or 1, r or s out of range) or recovers no key.
    A duplicated seal is listed twice: it is the caller who counts distinct validators."""
    fields, extra = _read(header)
    if extra is None:
        return []
    signed = _hash(fields, encode_extra(replace(extra, seals=())))
    return [recover_signer(seal, signed) for seal in extra.seals]


def seal_header(header: Mapping[str, str], keys: Sequence[bytes], round: int = 0) -> dict[str, str]:
    """A copy of `header` whose extraData carries a committed seal, in `round`, by each secp256k1 private
    key in `keys` (in that order), replacing any seals it had. Its block hash is unchanged."""
    fields, extra = _read(header)
    if extra is None:
        raise QbftError("header.number: the genesis block carries no committed seals")
    unsealed = replace(extra, round=round, seals=())
    signed = _hash(fields, encode_extra(unsealed))
    seals = []
    for i, key in enumerate(keys):
        try:
            private = PrivateKey(key)
        except ValidationError:
            raise QbftError(f"keys[{i}] is not a 32-byte secp256k1 private key") from None
        seals.append(private.sign_msg_hash(signed).to_bytes())
    return {**header, "extraData": "0x" + encode_extra(replace(unsealed, seals=tuple(seals))).hex()}


def seal_quorum(validator_count: int) -> int:
    """Distinct committed seals a block needs among `validator_count` validators: ⌈2n/3⌉
    (`BftHelpers.calculateRequiredValidatorQuorum`)."""
    if validator_count < 1:
        raise QbftError(f"a QBFT network needs at least one validator, got {validator_count}")
    return -(-2 * validator_count // 3)


# ------------------------------------------------------------ helpers


def _read(header: Mapping[str, str]) -> tuple[dict[str, Any], QbftExtraData | None]:
    """The header's fields in RLP order, and its decoded extraData (None for the genesis block, which is
    hashed as it is)."""
    try:
        fields = header_fields(header)
        number = header_number(fields)
        raw_extra = hex_field(fields.get("extraData"), "header.extraData")
    except HeaderError as err:
        raise QbftError(str(err)) from None
    if number == 0:
        return fields, None
    return fields, decode_extra(raw_extra)


def _hash(fields: Mapping[str, Any], extra_data: bytes | None) -> bytes:
    try:
        return bytes(keccak(rlp.encode(header_values(fields, extra_data=extra_data))))
    except HeaderError as err:
        raise QbftError(str(err)) from None


def _list(item: Any, name: str) -> list[Any]:
    if not isinstance(item, list):
        raise QbftError(f"extraData {name} must be an RLP list, got a byte string")
    return item


def _address(item: Any, name: str) -> str:
    if not isinstance(item, bytes) or len(item) != ADDRESS_LENGTH:
        raise QbftError(f"{name} must be a {ADDRESS_LENGTH}-byte address")
    return "0x" + item.hex()


def _vote(item: Any) -> QbftVote | None:
    if not isinstance(item, list):
        raise QbftError(
            "extraData vote must be an RLP list ([] for no vote); IBFT 2.0 writes a byte string here"
        )
    if not item:
        return None
    if len(item) != 2:
        raise QbftError(f"extraData vote must be [recipient, kind], got {len(item)} items")
    recipient = _address(item[0], "extraData vote.recipient")
    if item[1] == ADD_VOTE:
        return QbftVote(recipient, authorize=True)
    if item[1] == b"":
        return QbftVote(recipient, authorize=False)
    raise QbftError("extraData vote kind must be 0xff (add) or empty (drop)")


def _round(item: Any) -> int:
    if not isinstance(item, bytes):
        raise QbftError("extraData round must be an RLP integer, got a list")
    if len(item) > 4:
        raise QbftError(f"extraData round must be at most 4 bytes (an int scalar), got {len(item)}")
    if item[:1] == b"\x00":
        raise QbftError("extraData round has a leading zero byte: Besu writes it as an RLP integer scalar")
    return int.from_bytes(item, "big")


def _seal(item: Any, index: int) -> bytes:
    if not isinstance(item, bytes):
        raise QbftError(f"extraData seals[{index}] must be a byte string, got a list")
    return item


def _check_address(value: object, name: str) -> None:
    if not isinstance(value, str) or not _ADDRESS.match(value):
        raise QbftError(f"{name} must be a 0x lower-case 20-byte address, got {value!r}")


def _address_bytes(address: str) -> bytes:
    return bytes.fromhex(address[2:])
