"""Who made a seal: the one secp256k1 recovery that Clique's seals and QBFT's committed seals both go through
(each 65 bytes [r ‖ s ‖ v], v in {0, 1}, over a keccak256 digest).

The gateway judges the same few headers again on every verdict at a block, so a recovery is cached by
(seal, digest): it is a pure function of the two.
"""

from __future__ import annotations

from functools import lru_cache

from eth_keys.datatypes import Signature
from eth_keys.exceptions import BadSignature
from eth_utils.exceptions import ValidationError

SEAL_LENGTH = 65
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
RECOVERIES_CACHED = 4096


@lru_cache(maxsize=RECOVERIES_CACHED)
def recover_signer(seal: bytes, digest: bytes) -> str | None:
    """The address (0x, lower case) whose key made `seal` over `digest`; None for a seal that is not a
    signature (not 65 bytes, v not 0 or 1, r or s out of range) or recovers no key."""
    if len(seal) != SEAL_LENGTH or seal[64] not in (0, 1):
        return None
    r, s = int.from_bytes(seal[:32], "big"), int.from_bytes(seal[32:64], "big")
    if not (0 < r < SECP256K1_N and 0 < s < SECP256K1_N):
        return None
    try:
        public_key = Signature(seal).recover_public_key_from_msg_hash(digest)
    except (BadSignature, ValidationError):
        return None
    return str(public_key.to_address()).lower()
