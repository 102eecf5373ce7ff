"""Whether a block is final in the eyes of a consortium's trust anchor, from sealed headers alone.

Clique: the block's header and the headers after it, each sealed by a validator of the anchor at that block,
linked by parentHash, until ⌊n/2⌋+1 distinct validators have sealed: a majority has built on the block, and
no minority can replace it. QBFT: the block's one header carries committed seals of at least ⌈2n/3⌉ distinct
validators. n is the number of the anchor's validators at the block.

Pure: plain headers and an anchor in, named checks out; the gateway (online, for a verdict) and
`ipreg verify` (offline, for a receipt) both judge finality here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from registry_node.protocol.consensus import clique, qbft
from registry_node.protocol.consensus.anchor import ConsortiumAnchor
from registry_node.protocol.consensus.headers import HeaderError, header_hash, header_number

Header = Mapping[str, str]


@dataclass(frozen=True)
class SealSeen:
    block: int
    address: str | None  # None: the seal recovers to no key
    office: str | None
    validator: bool  # a validator of the anchor at this block


@dataclass(frozen=True)
class FinalityCheck:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Finality:
    engine: str
    seals: tuple[SealSeen, ...]
    distinct: int  # distinct validators of the anchor among the seals
    validators: int  # the anchor's validators at the block
    needed: int
    checks: tuple[FinalityCheck, ...]

    @property
    def final(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)


def majority_depth(validators: int) -> int:
    """Blocks, the block itself included, after which a majority of the validators (n//2 + 1) have sealed
    it or on top of it. Clique lets a validator seal at most one block in any n//2 + 1 consecutive ones, so
    that many consecutive blocks always have that many distinct sealers: a block is final on Clique when that
    many distinct validators have sealed it and the blocks on top of it."""
    return validators // 2 + 1


def finality(engine: str, block_hash: bytes, headers: Sequence[Header], anchor: ConsortiumAnchor) -> Finality:
    """The block (`block_hash`) judged final or not from its sealed `headers` (the block's first)."""
    if anchor.engine != engine or engine not in ("clique", "qbft"):
        said = "names no validators (a development chain)" if anchor.engine == "none" else anchor.engine
        check = FinalityCheck(
            "seals", False, f"the receipt is sealed by {engine}; the anchor's engine is {said}"
        )
        return Finality(engine, (), 0, 0, 0, (check,))
    if not headers:
        return Finality(engine, (), 0, 0, 0, (FinalityCheck("seals", False, "no sealed header is given"),))
    try:
        number = header_number(headers[0])
    except HeaderError as err:
        return Finality(engine, (), 0, 0, 0, (FinalityCheck("header-links", False, str(err)),))
    validators = len(anchor.validators_at(number))
    if engine == "clique":
        return _clique(block_hash, headers, anchor, number, validators)
    return _qbft(block_hash, headers[0], anchor, number, validators)


def _clique(
    block_hash: bytes, headers: Sequence[Header], anchor: ConsortiumAnchor, number: int, validators: int
) -> Finality:
    needed = majority_depth(validators)
    links = _links(block_hash, headers, number)
    seals: list[SealSeen] = []
    refused: list[str] = []
    for offset, header in enumerate(headers):
        block = number + offset
        try:
            address: str | None = clique.sealer(header)
        except clique.CliqueError as err:
            address = None
            refused.append(f"block {block}: {err}")
        seen = _seen(anchor, block, address)
        seals.append(seen)
        if address is not None and not seen.validator:
            refused.append(_outsider(anchor, block, address))
    distinct = len({s.address for s in seals if s.validator})
    return Finality(
        "clique",
        tuple(seals),
        distinct,
        validators,
        needed,
        (links, _seals_check(seals, refused), _enough(distinct, needed, validators, "built on it")),
    )


def _qbft(
    block_hash: bytes, header: Header, anchor: ConsortiumAnchor, number: int, validators: int
) -> Finality:
    needed = qbft.seal_quorum(validators) if validators else 0  # no validators: nothing can be final
    try:
        own = qbft.block_hash(header)
        link = FinalityCheck(
            "header-links",
            own == block_hash,
            f"the header hashes (without its seals) to block {number}'s hash 0x{block_hash.hex()}"
            if own == block_hash
            else f"the header hashes to 0x{own.hex()}, not block {number}'s hash 0x{block_hash.hex()}",
        )
        signers = qbft.committed_sealers(header)
    except (qbft.QbftError, HeaderError) as err:
        check = FinalityCheck("header-links", False, f"the header is not a QBFT header: {err}")
        return Finality("qbft", (), 0, validators, needed, (check,))
    seals = [_seen(anchor, number, address) for address in signers]
    refused = [
        f"block {number}: a committed seal recovers to no key"
        if s.address is None
        else _outsider(anchor, number, s.address)
        for s in seals
        if not s.validator
    ]
    addresses = [s.address for s in seals if s.validator]
    twice = sorted({a for a in addresses if addresses.count(a) > 1 and a is not None})
    refused += [f"{a} committed-sealed block {number} more than once" for a in twice]
    distinct = len(set(addresses))
    return Finality(
        "qbft",
        tuple(seals),
        distinct,
        validators,
        needed,
        (link, _seals_check(seals, refused), _enough(distinct, needed, validators, "committed it")),
    )


def _links(block_hash: bytes, headers: Sequence[Header], number: int) -> FinalityCheck:
    previous = block_hash
    for offset, header in enumerate(headers):
        block = number + offset
        try:
            own, at = header_hash(header), header_number(header)
            parent = bytes.fromhex(str(header["parentHash"])[2:])
        except (HeaderError, KeyError, ValueError) as err:
            return FinalityCheck("header-links", False, f"the header of block {block} cannot be read: {err}")
        if at != block:
            return FinalityCheck("header-links", False, f"header {offset} is of block {at}, not {block}")
        if offset == 0 and own != block_hash:
            return FinalityCheck(
                "header-links",
                False,
                f"the first header hashes to 0x{own.hex()}, not the block's 0x{block_hash.hex()}",
            )
        if offset > 0 and parent != previous:
            return FinalityCheck(
                "header-links", False, f"block {block}'s parentHash is not the hash of block {block - 1}"
            )
        previous = own
    last = number + len(headers) - 1
    return FinalityCheck(
        "header-links", True, f"blocks {number} to {last} link by parentHash from block {number}'s hash"
    )


def _seen(anchor: ConsortiumAnchor, block: int, address: str | None) -> SealSeen:
    at_block = anchor.validators_at(block)
    if address is None:
        return SealSeen(block, None, None, False)
    known = [t.office for t in anchor.term_of(address)]
    office = at_block.get(address, known[0] if known else None)
    return SealSeen(block, address, office, address in at_block)


def _outsider(anchor: ConsortiumAnchor, block: int, address: str) -> str:
    terms = anchor.term_of(address)
    if not terms:
        return f"block {block} is sealed by {address}, which is no validator of the anchor"
    spans = ", ".join(
        f"{t.from_block} to {t.until_block - 1 if t.until_block is not None else 'now'}" for t in terms
    )
    office = terms[0].office or "no office"
    return f"block {block} is sealed by {address} ({office}), a validator for blocks {spans} only"


def _seals_check(seals: Sequence[SealSeen], refused: Sequence[str]) -> FinalityCheck:
    if refused:
        return FinalityCheck("seals", False, "; ".join(refused))
    said = ", ".join(f"block {s.block} by {s.office or '?'}'s validator {s.address}" for s in seals)
    return FinalityCheck("seals", True, f"every seal is a validator's of the anchor: {said}")


def _enough(distinct: int, needed: int, validators: int, what: str) -> FinalityCheck:
    return FinalityCheck(
        "distinct-sealers",
        validators > 0 and distinct >= needed,
        f"{distinct} distinct of the anchor's {validators} validators have {what}; {needed} are needed",
    )
