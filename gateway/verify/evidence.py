"""Gathering the evidence a verdict rests on: every chain read, at one stated block, and every fetch from an
office's deep link that a verification needs. All of verification's I/O is here; `gateway.verify.judge`
decides on what this gathers.

For a right, the gatherer reads the right's entry and history at block B, proves the rebuilt state with
`matchesState` at B, reads the standing of the competent office, fetches the signed document of the
current version from that office's deep link (the endpoint read from OfficeRegistry at B), and reads the
key the document's signature names, with its validity for the block the record was first committed in. An
upload (a record JSON, a node's signed document JSON, an ST.96 XML or any file) is matched against the
chain the same way. The index is never trusted: a `locate(hash)` hook may only point at candidate rights,
which are then read from the chain.

The reads stop where the judge will stop (a right not on chain, a state the chain does not hold, a
confidential version), so a verification asks no more than its verdict needs.

A designation of an international registration (`WO:TM:1234567@GB`) is an entry of the designated office:
once that office has decided, it is gathered as any right (its history, its office's signed
`DesignationRecord`). Before that, the chain only reserves the entry (version 0, the designated office), and
the evidence is the international registration's version that designated the office: its `Designated`
event and the International Bureau's signed record of that version, which lists the designation.

Only a chain that cannot be read raises (ChainError; BlockOutOfRange for a block the registry cannot be read
at).

`cached()` gives the same gatherer answering from the chain reader's per-block cache alone: a read it does
not hold, a deep-link fetch or an index look-up raises NotCached. The API gathers a light upload that way on
the event loop, and in a worker thread only when that raises.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from dataclasses import replace
from typing import Any

from gateway.deep_links import FetchedDocument, OfficeDocuments, OfficeUnreachable
from gateway.verify.chain_reads import BlockOutOfRange, ChainReader, NotCached
from gateway.verify.facts import (
    AnchoredRecord,
    AnchorEvidence,
    BlockRef,
    CandidateEvidence,
    ChainState,
    DesignationEvidence,
    Fetched,
    FileEvidence,
    KeyEvidence,
    KeyProof,
    OfficeStanding,
    RecordEvidence,
    RightEntry,
    RightEvidence,
    SealEvidence,
    SignedDocument,
    SourceFetch,
    StorageProof,
    Unreachable,
    UploadEvidence,
    XmlEvidence,
    designating_version,
    evidence_version,
    matching_version,
    parse_right_id,
    signing_block,
)
from gateway.verify.state_proofs import anchor_slot, key_slots, right_slot
from gateway.verify.uploads import as_candidate, claims, classify, hex32
from registry_node.protocol.chain import ConfirmationDepth, blocks_behind_head
from registry_node.protocol.consensus import clique
from registry_node.protocol.consensus.anchor import ConsortiumAnchor
from registry_node.protocol.consensus.finality import majority_depth
from registry_node.protocol.consensus.headers import header_fields
from registry_node.protocol.consensus.signers import ValidatorHistory
from registry_node.protocol.contract import office_bytes
from registry_node.protocol.records import chain_right_id, split_designation_id
from registry_node.protocol.signing import DetachedSignature
from registry_node.protocol.st96 import St96Error, canonical_xml, parse_st96

MAX_SOURCE_FETCHES = 20
ANCHOR_CACHE_S = 2.0


Locate = Callable[[bytes], Iterable[Any]]


class AnchorSource:
    """The consortium's trust anchor as this gateway reads it from the chain (`ValidatorHistory`), read again
    at most every ANCHOR_CACHE_S; shared by a gatherer and its cache-only view.

    The chain is read outside the lock, by one thread at a time: while it reads, the others get the anchor
    read before (no older than ANCHOR_CACHE_S plus one read), and only the very first read is waited for.
    Reading under the lock made every verification, and the event loop's cache-only path with them, wait
    for that thread's round trips to the chain every ANCHOR_CACHE_S.
    """

    def __init__(self, reader: ChainReader) -> None:
        self.history = ValidatorHistory(reader.w3, reader.address)
        self._lock = threading.Lock()
        self._read: tuple[float, ConsortiumAnchor] | None = None
        self._reading: Future[ConsortiumAnchor] | None = None

    def anchor(self, cache_only: bool = False) -> ConsortiumAnchor:
        waiting: Future[ConsortiumAnchor] | None = None
        with self._lock:
            read = self._read
            if read is not None and (cache_only or time.monotonic() - read[0] < ANCHOR_CACHE_S):
                return read[1]
            if cache_only:
                raise NotCached("the trust anchor")
            if self._reading is not None:  # another thread is reading the chain
                if read is not None:
                    return read[1]  # the last anchor meanwhile
                waiting = self._reading  # the very first read: wait for it
            else:
                mine: Future[ConsortiumAnchor] = Future()
                self._reading = mine
        if waiting is not None:
            return waiting.result()
        try:
            anchor = self.history.anchor()
        except BaseException as err:
            with self._lock:
                self._reading = None
            mine.set_exception(err)
            raise
        with self._lock:
            self._read, self._reading = (time.monotonic(), anchor), None
        mine.set_result(anchor)
        return anchor


class Gatherer:
    """Gathers evidence from a chain reader and the offices' deep links; shared by request threads and the
    event loop. `known_head` gives, from memory, the head the gateway's indexer last saw (it polls the chain
    anyway): a verification then needs no round trip to learn it, and everything else it reads is at that
    block, cached by block."""

    def __init__(
        self,
        reader: ChainReader,
        documents: OfficeDocuments | None,
        confirmations: int | ConfirmationDepth = 1,
        locate: Locate | None = None,
        known_head: Callable[[], int | None] | None = None,
    ) -> None:
        self.reader = reader
        self.documents = documents  # None: no fetch may be made (from the cache alone)
        self.confirmations = confirmations
        self.locate = locate
        self.known_head = known_head
        self.cache_only = False
        self._cached: Gatherer | None = None
        self.anchors: AnchorSource | None = AnchorSource(reader)  # None: verdicts say nothing of seals

    def cached(self) -> Gatherer:
        """This gatherer reading from the chain reader's cache alone; what would need I/O raises NotCached."""
        if self._cached is None:
            view = Gatherer(self.reader.cached(), None, self.confirmations, self.locate, self.known_head)
            view.cache_only = True
            view.anchors = self.anchors
            view._cached = view
            self._cached = view
        return self._cached

    def block_at(self, at_block: int | None = None, fresh: bool = False) -> BlockRef:
        """The stated block: `at_block`, or the head less the confirmation depth (`fresh`: the chain's own
        head, not the indexer's last). BlockOutOfRange for a block before the registry's first block
        (`start_block`) or after the head."""
        head = (None if fresh or not self.known_head else self.known_head()) or self.reader.head()
        if at_block is None:
            return self.reader.block(max(head - blocks_behind_head(self.confirmations, self.reader.w3), 0))
        if at_block > head:
            head = self.reader.head()  # a block newer than the indexer has seen: ask the chain itself
        if at_block < self.reader.start_block:
            raise BlockOutOfRange(
                at_block, f"block {at_block} is before the registry's first block {self.reader.start_block}"
            )
        if at_block > head:
            raise BlockOutOfRange(at_block, f"block {at_block} is not mined yet (the head is {head})")
        return self.reader.block(at_block)

    @property
    def chain_id(self) -> int:
        return self.reader.chain_id

    @property
    def contract_address(self) -> str:
        return self.reader.address

    def anchor(self) -> ConsortiumAnchor | None:
        return self.anchors.anchor(self.cache_only) if self.anchors is not None else None

    def seals(self, block: BlockRef) -> SealEvidence | None:
        """The stated block's header and the headers after it, up to the first at which a majority of the
        validators has sealed (or the head): what shows how final the block is. None on a chain that no
        validator seals."""
        anchor = self.anchor()
        if anchor is None or anchor.engine == "none":
            return None
        number = block.number
        if anchor.engine != "clique":
            return SealEvidence(anchor.engine, (self._header(number),), anchor)
        needed = majority_depth(len(anchor.validators_at(number)))
        head = max((self.known_head() if self.known_head else None) or self.reader.head(), number)
        headers: list[Mapping[str, str]] = []
        sealers: set[str] = set()
        for at in range(number, min(head, number + 2 * needed) + 1):
            header = self._header(at)
            headers.append(header)
            with contextlib.suppress(clique.CliqueError):
                sealer = clique.sealer(header)
                if sealer in anchor.validators_at(at):
                    sealers.add(sealer)
            if len(sealers) >= needed:
                break
        return SealEvidence("clique", tuple(headers), anchor)

    def _header(self, number: int) -> dict[str, str]:
        return {k: str(v) for k, v in header_fields(self.reader.raw_header(number)).items()}

    # ------------------------------------------------------------ a right

    def right(
        self,
        requested: str,
        at_block: int | None = None,
        given: SignedDocument | None = None,
        proofs: bool = False,
    ) -> RightEvidence:
        """The evidence on the right's current version at the stated block. `given`: its signed record from
        elsewhere (a receipt), so no deep link is asked; `proofs`: with the storage proofs a receipt
        carries. BadRightId for an id that is neither `EP:PAT:…` nor a 0x chain id."""
        evidence = self._right(requested, at_block, given, proofs)
        if at_block is None and evidence.chain is None:
            # the indexer's head may be a poll behind a right just registered: the chain's own head decides
            newer = self._newer_head(evidence.block)
            if newer is not None:
                evidence = self._right(requested, newer.number, given, proofs)
        return replace(evidence, seals=self.seals(evidence.block))

    def _newer_head(self, block: BlockRef) -> BlockRef | None:
        """The block the chain's own head states, when the stated block came from the indexer's head and the
        chain's is later (a verification asked right after a change must not be judged at the block before
        it); else None. From the cache alone this cannot be known: NotCached."""
        if self.known_head is None:
            return None
        if self.cache_only:
            raise NotCached("the chain's own head")
        fresh = self.block_at(fresh=True)
        return fresh if fresh.number > block.number else None

    def _right(
        self, requested: str, at_block: int | None, given: SignedDocument | None, proofs: bool
    ) -> RightEvidence:
        block = self.block_at(at_block)
        number = block.number
        text, chain_rid = parse_right_id(requested)
        entry = self.reader.right_of(chain_rid, number)
        if entry.version == 0 and entry.office:  # reserved: a designation with no decision yet
            designation = self._designation(text, chain_rid, entry, number)
            return RightEvidence(block, requested, text, chain_rid, None, designation=designation)
        if entry.version == 0:
            anchored = None
            if text is not None:
                anchored = self._anchored_by_office(text, number, given=given, proofs=proofs)
            return RightEvidence(block, requested, text, chain_rid, None, anchored=anchored)
        chain = self._chain_state(chain_rid, entry.version, number, proofs)
        if not chain.rebuilt or chain.matches is False:
            return RightEvidence(block, requested, text, chain_rid, chain)
        current = chain.history[-1]
        office = self._standing(current.office, number)
        document: Fetched = given
        if current.sealed:
            document = None
        elif document is None:
            endpoint = _endpoint(office)
            if text is not None:
                document = self._by_version(endpoint, text, current.version)
            else:
                document = self._by_hash(endpoint, current.record_hash)
        key = None
        if isinstance(document, SignedDocument):
            signing = signing_block(current, chain.history)
            key = self._key(current.office, document.signature, signing, number, proofs)
        return RightEvidence(block, requested, text, chain_rid, chain, office, document, key)

    def _designation(
        self, text: str | None, chain_rid: bytes, entry: RightEntry, block: int
    ) -> DesignationEvidence:
        """A designation reserved on chain with no decision yet: the international registration's version
        that designated the office, and its signed record from the International Bureau's deep link."""
        split = split_designation_id(text) if text is not None else None
        if split is None:  # named by its chain id: the registration it belongs to is not known
            return DesignationEvidence(entry, None)
        international_registration = split[0]
        ir_rid = chain_right_id(international_registration)
        ir_version = self.reader.right_of(ir_rid, block).version
        chain = self._chain_state(ir_rid, ir_version, block)
        evidence = DesignationEvidence(entry, international_registration, chain)
        designated = designating_version(chain.history, chain_rid)
        if not chain.rebuilt or chain.matches is False or designated is None:
            return replace(evidence, designated=designated)
        office = self._standing(designated.office, block)
        document = self._by_version(_endpoint(office), international_registration, designated.version)
        key = None
        if isinstance(document, SignedDocument):
            key = self._key(
                designated.office, document.signature, signing_block(designated, chain.history), block
            )
        return replace(evidence, designated=designated, office=office, document=document, key=key)

    # ------------------------------------------------------------ an upload

    def upload(
        self,
        data: bytes,
        content_type: str | None = None,
        filename: str | None = None,
        at_block: int | None = None,
        locate: Locate | None = None,
    ) -> UploadEvidence:
        """The evidence on an uploaded document, whatever it turns out to be."""
        block = self.block_at(at_block)
        digest = hashlib.sha256(data).digest()
        upload = classify(data, content_type, filename)
        record = xml = file = None
        if upload.form == "st96-xml":
            xml = self._xml(data, block.number)
        elif upload.canonical is not None:
            record = self._record(upload.canonical, upload.signature, upload.anchor, block.number)
            if at_block is None and _newer_than_chain(record, hashlib.sha256(upload.canonical).digest()):
                newer = self._newer_head(block)  # a record of a change the indexer has not polled yet
                if newer is not None:
                    block = newer
                    record = self._record(upload.canonical, upload.signature, upload.anchor, block.number)
        else:
            file = self._file(digest, locate or self.locate, block.number)
        return UploadEvidence(
            block,
            digest,
            len(data),
            filename,
            upload.form,
            upload.error,
            record,
            xml,
            file,
            self.seals(block),
        )

    def _record(
        self,
        canonical: bytes,
        signature: DetachedSignature | None,
        anchor: Mapping[str, Any] | None,
        block: int,
    ) -> RecordEvidence:
        claimed = claims(canonical)
        claimed_id = claimed[0]
        if claimed_id is None:
            return RecordEvidence(canonical, signature, anchor, claimed)
        digest = hashlib.sha256(canonical).digest()
        chain_rid = chain_right_id(claimed_id)
        version = self.reader.right_of(chain_rid, block).version
        if anchor is not None:
            anchored = self._anchor(canonical, signature, anchor, claimed_id, block, version)
            return RecordEvidence(canonical, signature, anchor, claimed, version, anchored=anchored)
        if version == 0:
            served = self._anchored_by_office(claimed_id, block, digest=digest)
            anchored_record = served if isinstance(served, AnchoredRecord) else None
            return RecordEvidence(canonical, signature, anchor, claimed, version, anchored=anchored_record)
        chain = self._chain_state(chain_rid, version, block)
        if not chain.rebuilt or chain.matches is False:
            return RecordEvidence(canonical, signature, anchor, claimed, version, chain)
        history = chain.history
        office = self._standing(history[-1].office, block)
        target = matching_version(history, digest)
        fetched: Fetched = None
        if target is None:  # tampered or confidential: the signature is checked as the latest version's
            key = self._key(history[-1].office, signature, history[-1].block_number, block)
        elif signature is not None:
            key = self._key(target.office, signature, signing_block(target, history), block)
        else:  # its signature from the office that published it
            fetched = self._by_hash(self._endpoint(target.office, block), digest)
            key = None
            if isinstance(fetched, SignedDocument) and fetched.canonical == canonical:
                key = self._key(target.office, fetched.signature, signing_block(target, history), block)
        return RecordEvidence(
            canonical, signature, anchor, claimed, version, chain, office, None, fetched, key
        )

    def _xml(self, data: bytes, block: int) -> XmlEvidence | str:
        try:
            document = parse_st96(data)
        except St96Error as err:
            return str(err)
        right_id = document.right.rightId
        chain_rid = chain_right_id(right_id)
        entry = self.reader.right_of(chain_rid, block)
        evidence = XmlEvidence(right_id, document.c14n_sha256, entry.version)
        if entry.version == 0:
            return evidence
        chain = self._chain_state(chain_rid, entry.version, block)
        evidence = replace(evidence, chain=chain)
        if not chain.rebuilt or chain.matches is False:
            return evidence
        history = chain.history
        office = self._standing(history[-1].office, block)
        endpoint = _endpoint(office)
        published = [v for v in history if not v.sealed]
        sources: list[SourceFetch] = []
        for version in (published[:1] + list(reversed(published[1:])))[:MAX_SOURCE_FETCHES]:
            fetched = self._by_version(endpoint, right_id, version.version)
            if not isinstance(fetched, SignedDocument) or fetched.source_xml is None:
                sources.append(SourceFetch(version, fetched))
                if isinstance(fetched, Unreachable):
                    break
                continue
            try:
                source_hash: bytes | None = hashlib.sha256(canonical_xml(fetched.source_xml)).digest()
            except St96Error:
                source_hash = None
            sources.append(SourceFetch(version, fetched, source_hash))
            if source_hash == document.c14n_sha256:
                key = self._key(version.office, fetched.signature, signing_block(version, history), block)
                return replace(evidence, office=office, sources=tuple(sources), key=key)
        return replace(evidence, office=office, sources=tuple(sources))

    def _file(self, digest: bytes, locate: Locate | None, block: int) -> FileEvidence:
        if locate is None:
            return FileEvidence(None)
        if self.cache_only:
            raise NotCached("an index look-up")
        candidates = [c for c in (as_candidate(item) for item in locate(digest)) if c is not None]
        visited: list[CandidateEvidence] = []
        for candidate in candidates:
            if candidate.chain_right_id is None:
                continue
            chain_rid = candidate.chain_right_id
            history = tuple(self.reader.history(chain_rid, block))
            if not history:
                continue
            seen = CandidateEvidence(chain_rid, candidate.right_id, history)
            if evidence_version(history, digest) is not None:
                entry = self.reader.right_of(chain_rid, block)
                visited.append(replace(seen, chain=self._chain_state(chain_rid, entry.version, block)))
                break
            match = next((v for v in history if not v.sealed and v.record_hash == digest), None)
            if match is None:
                visited.append(seen)
                continue
            fetched = self._by_hash(self._endpoint(match.office, block), digest)
            if isinstance(fetched, SignedDocument):
                record = self._record(fetched.canonical, fetched.signature, None, block)
                visited.append(replace(seen, fetched=fetched, record=record))
                break
            visited.append(replace(seen, fetched=fetched))
            if isinstance(fetched, Unreachable):
                break
        return FileEvidence(len(candidates), tuple(visited))

    # ------------------------------------------------------------ anchors

    def _anchored_by_office(
        self,
        right_id: str,
        block: int,
        digest: bytes | None = None,
        given: SignedDocument | None = None,
        proofs: bool = False,
    ) -> AnchoredRecord | Unreachable | None:
        """A right with no per-right state may be in an anchored batch: its office's document (by version 1,
        or by record hash) then carries its anchor and proof."""
        office = self.reader.office(right_id.split(":", 1)[0], block)
        if office is None:
            return None
        document = given
        if document is None:
            if digest is None:
                fetched = self._by_version(office.endpoint, right_id, 1)
            else:
                fetched = self._by_hash(office.endpoint, digest)
            if not isinstance(fetched, SignedDocument):
                return fetched
            document = fetched
        if document.anchor is None:
            return None
        anchor = self._anchor(
            document.canonical, document.signature, document.anchor, right_id, block, 0, proofs
        )
        return AnchoredRecord(document, anchor)

    def _anchor(
        self,
        canonical: bytes,
        signature: DetachedSignature | None,
        anchor: Mapping[str, Any],
        right_id: str,
        block: int,
        per_right_version: int,
        proofs: bool = False,
    ) -> AnchorEvidence:
        try:
            root = hex32(anchor.get("root"))
            proof = tuple(hex32(p) for p in anchor.get("proof", []))
        except (TypeError, ValueError):
            return AnchorEvidence(None)
        anchored = self.reader.anchor_of(root, block)
        evidence = AnchorEvidence(root, proof, anchored)
        if proofs:
            slot = self._storage_proof(anchor_slot(root), block)
            evidence = replace(evidence, slot=slot, event=self.reader.anchor_event(root, block))
        if anchored is None or anchored.office != right_id.split(":", 1)[0]:
            return evidence
        digest = hashlib.sha256(canonical).digest()
        return replace(
            evidence,
            included=self.reader.verify_record(root, digest, list(proof), block),
            office=self._standing(anchored.office, block),
            key=self._key(anchored.office, signature, anchored.block_number, block, proofs),
            history=tuple(self.reader.history(chain_right_id(right_id), block)) if per_right_version else (),
        )

    # ------------------------------------------------------------ shared reads

    def _chain_state(self, chain_rid: bytes, version: int, block: int, proofs: bool = False) -> ChainState:
        history = tuple(self.reader.history(chain_rid, block))
        matches = None
        if history and history[-1].version == version:
            matches = self.reader.matches_state(chain_rid, history[-1].state, block)
        proof = self._storage_proof(right_slot(chain_rid), block) if proofs else None
        return ChainState(version, history, matches, proof)

    def _standing(self, code: str, block: int) -> OfficeStanding:
        info = self.reader.office(code, block)
        suspended = info is not None and info.status == "suspended"
        return OfficeStanding(code, info, self.reader.suspended_at(code, block) if suspended else None)

    def _endpoint(self, code: str, block: int) -> str:
        info = self.reader.office(code, block)
        return info.endpoint if info is not None else ""

    def _key(
        self, office: str, signature: DetachedSignature | None, signing: int, block: int, proofs: bool = False
    ) -> KeyEvidence | None:
        """The key `signature` names, as `office` registered it at `block`, and whether it was valid for the
        block `signing`; `proofs`: with the storage proof of its entry."""
        if signature is None:
            return None
        key = self.reader.signing_key(office, signature.key_id, block)
        valid = None
        if key is not None and key.algorithm is not None:
            valid = self.reader.is_key_valid_at(office, key.key_id, signing, block)
        proof = None
        if proofs:
            length = len(key.public_key) if key is not None else 0
            proof = self._key_proof(key_slots(office_bytes(office), signature.key_id, length), block)
        return KeyEvidence(office, signing, key, valid, proof)

    def _key_proof(self, slots: list[bytes], block: int) -> KeyProof | None:
        proof = self.reader.storage_proofs(tuple(slots), block)
        if proof is None:
            return None
        return KeyProof(
            tuple(
                (
                    "0x" + slot.hex(),
                    str(entry["value"]),
                    tuple(str(node) for node in entry["proof"]),
                )
                for slot, entry in zip(slots, proof["storageProof"], strict=True)
            )
        )

    def _storage_proof(self, slot: bytes, block: int) -> StorageProof | None:
        """EIP-1186 proof of `slot` at `block` with the block's header; None if the chain has no
        eth_getProof."""
        proof = self.reader.storage_proof(slot, block)
        if proof is None:
            return None
        storage = proof["storageProof"][0]
        return StorageProof(
            contract=self.reader.address,
            slot="0x" + slot.hex(),
            value=str(storage["value"]),
            account_proof=tuple(str(node) for node in proof["accountProof"]),
            storage_proof=tuple(str(node) for node in storage["proof"]),
            account={name: str(proof[name]) for name in ("nonce", "balance", "storageHash", "codeHash")},
            header=header_fields(self.reader.raw_header(block)),
        )

    def _by_version(self, endpoint: str, right_id: str, version: int) -> Fetched:
        return self._fetch(lambda documents: documents.by_version(endpoint, right_id, version))

    def _by_hash(self, endpoint: str, record_hash: bytes) -> Fetched:
        return self._fetch(lambda documents: documents.by_hash(endpoint, record_hash))

    def _fetch(self, fetch: Callable[[OfficeDocuments], FetchedDocument | None]) -> Fetched:
        if self.documents is None:
            raise NotCached("a deep-link fetch")
        try:
            document = fetch(self.documents)
        except OfficeUnreachable as err:
            return Unreachable(err.endpoint, err.reason)
        if document is None:
            return None
        return SignedDocument(
            canonical=document.canonical,
            signature=document.signature,
            anchor=document.anchor,
            url=document.url,
            right_id=document.right_id,
            source_xml=document.source_xml,
        )


def _newer_than_chain(record: RecordEvidence, digest: bytes) -> bool:
    """Whether a record names a right, or a version, that the chain did not hold at the stated block: what a
    later head may hold."""
    if record.claimed[0] is None or record.anchor is not None:
        return False
    if record.entry_version == 0 or record.chain is None:
        return True
    return matching_version(record.chain.history, digest) is None


def _endpoint(office: OfficeStanding) -> str:
    return office.info.endpoint if office.info is not None else ""
