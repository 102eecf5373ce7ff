"""Verdicts on rights and uploaded documents, checked against chain state read at a stated block.

For a right, the verifier reads the right's entry and history at block B, fetches the signed document of
the current version from the competent office's deep link (the endpoint read from OfficeRegistry at B),
recomputes the SHA-256 of the canonical bytes, checks it against the chain (the rebuilt state must satisfy
`matchesState` at B) and checks the signature with the key the office had registered and not revoked at
that version's block. An upload (a record JSON, a node's signed document JSON, an ST.96 XML or any file)
is matched against the chain the same way. The index is never trusted: a `locate(hash)` hook may only
point at candidate rights, which are then read from the chain.

A verdict is an answer, not an error: each lists every check done, and only a chain that cannot be read
raises (ChainError).
"""

from __future__ import annotations

import base64
import binascii
import email.parser
import email.policy
import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from gateway.deep_links import OfficeDocuments, OfficeUnreachable
from gateway.verify.chain_reads import (
    BlockOutOfRange,
    BlockRef,
    ChainReader,
    RightVersion,
    status_code,
)
from gateway.verify.models import VERDICT_SCHEMA
from registry_node.protocol.records import RIGHT_ID, canonical_bytes, chain_right_id
from registry_node.protocol.signing import DetachedSignature, SignatureFormatError, verify_signature
from registry_node.protocol.st96 import St96Error, canonical_xml, parse_st96

AUTHENTIC_CURRENT = "authentic-current"
AUTHENTIC_SUPERSEDED = "authentic-superseded"
TAMPERED = "tampered"
BAD_SIGNATURE = "bad-signature"
KEY_REVOKED = "key-revoked"
CONFIDENTIAL = "confidential"
UNKNOWN = "unknown"
OFFICE_UNREACHABLE = "office-unreachable"
VERDICTS = (
    AUTHENTIC_CURRENT,
    AUTHENTIC_SUPERSEDED,
    TAMPERED,
    BAD_SIGNATURE,
    KEY_REVOKED,
    CONFIDENTIAL,
    UNKNOWN,
    OFFICE_UNREACHABLE,
)
MAX_SOURCE_FETCHES = 20
LIGHT_UPLOAD_BYTES = 64 * 1024  # see is_light

Result = Literal["pass", "fail", "skipped"]


@dataclass(frozen=True)
class Check:
    name: str
    result: Result
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "result": self.result, "detail": self.detail}


@dataclass(frozen=True)
class Candidate:
    """A right the index thinks a hash belongs to; only a pointer, read from the chain afterwards."""

    chain_right_id: bytes | None = None
    right_id: str | None = None
    root: bytes | None = None


Locate = Callable[[bytes], Iterable[Any]]


@dataclass
class Verdict:
    verdict: str
    block: BlockRef
    checks: list[Check] = field(default_factory=list)
    subject: dict[str, Any] = field(default_factory=dict)
    right_id: str | None = None
    chain_right_id: bytes | None = None
    version: int | None = None
    current_version: int | None = None
    still_checked: list[str] | None = None

    def to_json(self) -> dict[str, Any]:
        """The verdict as the API serves it: a field that is not known (a right id for a stray file, say)
        is absent rather than null, so a gateway signature over this body covers exactly what is sent."""
        optional = {
            "rightId": self.right_id,
            "chainRightId": "0x" + self.chain_right_id.hex() if self.chain_right_id else None,
            "version": self.version,
            "currentVersion": self.current_version,
        }
        body: dict[str, Any] = {
            "schema": VERDICT_SCHEMA,
            "verdict": self.verdict,
            **{name: value for name, value in optional.items() if value is not None},
            "block": {"number": self.block.number, "hash": "0x" + self.block.hash.hex()},
            "subject": self.subject,
            "checks": [c.to_json() for c in self.checks],
        }
        if self.still_checked is not None:
            body["stillChecked"] = self.still_checked
        return body


class _Run:
    """The checks of one verification, collected as they happen."""

    def __init__(self, block: BlockRef, subject: dict[str, Any]) -> None:
        self.block = block
        self.subject = subject
        self.checks: list[Check] = []
        self.right_id: str | None = None
        self.chain_right_id: bytes | None = None
        self.version: int | None = None
        self.current_version: int | None = None

    def check(self, name: str, ok: bool | None, detail: str) -> bool:
        self.checks.append(Check(name, "skipped" if ok is None else "pass" if ok else "fail", detail))
        return bool(ok)

    def failed(self, name: str) -> bool:
        return any(c.name == name and c.result == "fail" for c in self.checks)

    def done(self, verdict: str) -> Verdict:
        still = None
        if verdict == OFFICE_UNREACHABLE:
            still = [f"{c.name}: {c.result}" for c in self.checks if c.result != "skipped"]
        return Verdict(
            verdict,
            self.block,
            self.checks,
            self.subject,
            self.right_id,
            self.chain_right_id,
            self.version,
            self.current_version,
            still,
        )


@dataclass(frozen=True)
class _Upload:
    """What an upload turned out to be."""

    form: str  # signed-record, record, st96-xml, file
    canonical: bytes | None = None
    signature: DetachedSignature | None = None
    anchor: dict[str, Any] | None = None
    error: str | None = None


class Verifier:
    """Verdicts from chain state at a stated block and the offices' deep links; shared by request threads
    and the event loop. Its hooks (`locate`, `known_head`) call `gateway.nonblocking.may_block()` before
    any I/O, as the chain reader and the deep-link client do."""

    def __init__(
        self,
        reader: ChainReader,
        documents: OfficeDocuments,
        confirmations: int = 1,
        locate: Locate | None = None,
        known_head: Callable[[], int | None] | None = None,
    ) -> None:
        self.reader = reader
        self.documents = documents
        self.confirmations = confirmations
        self.locate = locate
        # The head the gateway's indexer last saw (it polls the chain anyway): a verification then needs
        # no round trip to learn it, and everything else it reads is at that block, cached by block.
        self.known_head = known_head

    def block_at(self, at_block: int | None = None) -> BlockRef:
        """The stated block: `at_block`, or the head less the confirmation depth. BlockOutOfRange for a
        block before the registry's first block (`start_block`) or after the head."""
        head = (self.known_head() if self.known_head else None) or self.reader.head()
        if at_block is None:
            return self.reader.block(max(head - self.confirmations, 0))
        if at_block > head:
            head = self.reader.head()  # a block newer than the indexer has seen: ask the chain itself
        if at_block < self.reader.start_block:
            raise BlockOutOfRange(
                at_block, f"block {at_block} is before the registry's first block {self.reader.start_block}"
            )
        if at_block > head:
            raise BlockOutOfRange(at_block, f"block {at_block} is not mined yet (the head is {head})")
        return self.reader.block(at_block)

    # ------------------------------------------------------------ a right

    def verify_right(self, right_id: str, at_block: int | None = None) -> Verdict:
        block = self.block_at(at_block)
        run = _Run(block, {"type": "right", "rightId": right_id})
        text, chain_rid = parse_right_id(right_id)
        run.right_id, run.chain_right_id = text, chain_rid
        entry = self.reader.right_of(chain_rid, block.number)
        if entry.version == 0:
            if text is not None:
                anchored = self._anchored_by_office(run, text)
                if anchored is not None:
                    return anchored
            run.check("right-on-chain", False, f"no entry for this right at block {block.number}")
            return run.done(UNKNOWN)
        history = self.reader.history(chain_rid, block.number)
        if not self._chain_state(run, chain_rid, entry.version, history):
            return run.done(UNKNOWN)
        current = history[-1]
        run.version = run.current_version = current.version
        self._office_standing(run, current.office)
        if current.sealed:
            run.check(
                "confidential",
                True,
                f"version {current.version} is confidential: only its seal "
                f"0x{current.record_hash.hex()} is on chain",
            )
            return run.done(CONFIDENTIAL)
        endpoint = self._endpoint(run, current.office)
        try:
            if text is not None:
                document = self.documents.by_version(endpoint, text, current.version)
            else:
                document = self.documents.by_hash(endpoint, current.record_hash)
        except OfficeUnreachable as err:
            return self._unreachable(run, err)
        if document is None:
            run.check(
                "document-fetch",
                False,
                f"the office serves no published document for version {current.version}",
            )
            return run.done(UNKNOWN)
        run.check("document-fetch", True, f"fetched {document.url}")
        run.right_id = run.right_id or document.right_id
        return self._judge_document(run, document.canonical, document.signature, current, history)

    # ------------------------------------------------------------ an upload

    def verify_document(
        self,
        data: bytes,
        content_type: str | None = None,
        filename: str | None = None,
        at_block: int | None = None,
        locate: Locate | None = None,
    ) -> Verdict:
        block = self.block_at(at_block)
        digest = hashlib.sha256(data).digest()
        subject: dict[str, Any] = {"type": "upload", "sha256": digest.hex(), "size": len(data)}
        if filename:
            subject["filename"] = filename
        upload = _classify(data, content_type, filename)
        subject["form"] = upload.form
        run = _Run(block, subject)
        if upload.error:
            run.check("document-format", False, upload.error)
        if upload.form == "st96-xml":
            return self._verify_xml(run, data)
        if upload.canonical is not None:
            return self._verify_record_bytes(run, upload.canonical, upload.signature, upload.anchor)
        return self._verify_file(run, digest, locate or self.locate)

    def _verify_record_bytes(
        self, run: _Run, canonical: bytes, signature: DetachedSignature | None, anchor: dict[str, Any] | None
    ) -> Verdict:
        digest = hashlib.sha256(canonical).digest()
        run.subject["recordHash"] = digest.hex()
        claimed_id, claimed_version = _claims(canonical)
        if claimed_id is None:
            run.check("record-format", False, "the record names no valid rightId")
            return run.done(UNKNOWN)
        run.right_id, run.chain_right_id = claimed_id, chain_right_id(claimed_id)
        block = run.block.number
        entry = self.reader.right_of(run.chain_right_id, block)
        if anchor is not None or entry.version == 0:
            if anchor is None:
                anchored = self._anchored_by_office(run, claimed_id, digest)
                if anchored is not None:
                    return anchored
                run.check("right-on-chain", False, f"{claimed_id} has no entry at block {block}")
                return run.done(UNKNOWN)
            return self._verify_anchored(run, canonical, signature, anchor, entry.version)
        history = self.reader.history(run.chain_right_id, block)
        if not self._chain_state(run, run.chain_right_id, entry.version, history):
            return run.done(UNKNOWN)
        run.current_version = history[-1].version
        self._office_standing(run, history[-1].office)
        target = next((v for v in reversed(history) if not v.sealed and v.record_hash == digest), None)
        if target is None:
            sealed = [v for v in history if v.sealed]
            if sealed and (claimed_version is None or any(v.version >= claimed_version for v in sealed)):
                run.check(
                    "confidential",
                    True,
                    "the right is confidential at this version: only a seal "
                    "is on chain, so nothing more is said",
                )
                return run.done(CONFIDENTIAL)
            on_chain = next((v for v in history if v.version == claimed_version), None)
            detail = (
                f"the record claims version {claimed_version}; the chain holds record hash "
                f"{on_chain.record_hash.hex()} for it"
                if on_chain
                else "the record hash matches no version of the right on chain"
            )
            run.check("record-hash", False, detail)
            run.version = claimed_version
            if signature is not None:
                self._signature(run, canonical, signature, history[-1].office, history[-1].block_number)
            return run.done(TAMPERED)
        run.version = target.version
        run.check(
            "record-hash",
            True,
            f"SHA-256 {digest.hex()} is the record hash of version "
            f"{target.version} (block {target.block_number})",
        )
        if signature is None:
            endpoint = self._endpoint(run, target.office)
            try:
                document = self.documents.by_hash(endpoint, digest)
            except OfficeUnreachable as err:
                return self._unreachable(run, err)
            if document is None or document.canonical != canonical:
                run.check("document-fetch", False, "the office serves no signed document with this hash")
                return run.done(UNKNOWN)
            run.check("document-fetch", True, f"signature fetched from {document.url}")
            signature = document.signature
        return self._judge_document(run, canonical, signature, target, history, hash_checked=True)

    def _verify_xml(self, run: _Run, data: bytes) -> Verdict:
        try:
            document = parse_st96(data)
        except St96Error as err:
            run.check("st96-parse", False, str(err))
            return run.done(UNKNOWN)
        c14n = document.c14n_sha256
        rid = document.right.rightId
        run.subject["c14nSha256"] = c14n.hex()
        run.right_id, run.chain_right_id = rid, chain_right_id(rid)
        run.check("st96-parse", True, f"ST.96 document of {rid}; Exclusive C14N SHA-256 {c14n.hex()}")
        entry = self.reader.right_of(run.chain_right_id, run.block.number)
        if entry.version == 0:
            run.check("right-on-chain", False, f"{rid} has no entry at block {run.block.number}")
            return run.done(UNKNOWN)
        history = self.reader.history(run.chain_right_id, run.block.number)
        if not self._chain_state(run, run.chain_right_id, entry.version, history):
            return run.done(UNKNOWN)
        run.current_version = history[-1].version
        self._office_standing(run, history[-1].office)
        endpoint = self._endpoint(run, history[-1].office)
        published = [v for v in history if not v.sealed]
        order = published[:1] + list(reversed(published[1:]))
        saw_source = False
        for version in order[:MAX_SOURCE_FETCHES]:
            try:
                fetched = self.documents.by_version(endpoint, rid, version.version)
            except OfficeUnreachable as err:
                return self._unreachable(run, err)
            if fetched is None or fetched.source_xml is None:
                continue
            saw_source = True
            try:
                source_hash = hashlib.sha256(canonical_xml(fetched.source_xml)).digest()
            except St96Error:
                continue
            if source_hash == c14n:
                run.version = version.version
                run.check(
                    "source-xml",
                    True,
                    f"the C14N hash equals the source XML of version "
                    f"{version.version}'s signed record ({fetched.url})",
                )
                return self._judge_document(run, fetched.canonical, fetched.signature, version, history)
        if not saw_source:
            run.check("source-xml", False, f"no published record of {rid} carries a source XML")
            return run.done(UNKNOWN)
        run.check("source-xml", False, "the C14N hash matches no source XML of the right's signed records")
        return run.done(TAMPERED)

    def _verify_file(self, run: _Run, digest: bytes, locate: Locate | None) -> Verdict:
        if locate is None:
            run.check("locate", None, "no hash look-up is available")
            return run.done(UNKNOWN)
        candidates = [c for c in (_as_candidate(x) for x in locate(digest)) if c is not None]
        run.check("locate", bool(candidates), f"{len(candidates)} candidate right(s) for this hash")
        for candidate in candidates:
            if candidate.chain_right_id is None:
                continue
            history = self.reader.history(candidate.chain_right_id, run.block.number)
            if not history:
                continue
            run.chain_right_id, run.right_id = candidate.chain_right_id, candidate.right_id
            run.current_version = history[-1].version
            for version in history:
                evidence = (version.fields.get("conveyance") or {}).get("evidenceHash")
                if evidence == digest.hex():
                    run.version = version.version
                    entry = self.reader.right_of(candidate.chain_right_id, run.block.number)
                    if not self._chain_state(run, candidate.chain_right_id, entry.version, history):
                        return run.done(UNKNOWN)
                    run.check(
                        "evidence-hash",
                        True,
                        f"the SHA-256 is the evidence document of ownership "
                        f"change version {version.version}, recorded by {version.office} in "
                        f"transaction 0x{version.transaction_hash.hex()} (block "
                        f"{version.block_number})",
                    )
                    return run.done(AUTHENTIC_CURRENT)
            match = next((v for v in history if not v.sealed and v.record_hash == digest), None)
            if match is not None:
                try:
                    document = self.documents.by_hash(self._endpoint(run, match.office), digest)
                except OfficeUnreachable as err:
                    run.check(
                        "record-hash", True, f"the SHA-256 is the record hash of version {match.version}"
                    )
                    return self._unreachable(run, err)
                if document is not None:
                    return self._verify_record_bytes(run, document.canonical, document.signature, None)
        return run.done(UNKNOWN)

    # ------------------------------------------------------------ anchors

    def _anchored_by_office(self, run: _Run, right_id: str, digest: bytes | None = None) -> Verdict | None:
        """A right with no per-right state may be in an anchored batch: ask its office for the document
        (which then carries its anchor and proof)."""
        office = right_id.split(":", 1)[0]
        info = self.reader.office(office, run.block.number)
        if info is None:
            return None
        try:
            if digest is None:
                document = self.documents.by_version(info.endpoint, right_id, 1)
            else:
                document = self.documents.by_hash(info.endpoint, digest)
        except OfficeUnreachable:
            return None
        if document is None or document.anchor is None:
            return None
        run.check("document-fetch", True, f"fetched {document.url}")
        return self._verify_anchored(run, document.canonical, document.signature, document.anchor, 0)

    def _verify_anchored(
        self,
        run: _Run,
        canonical: bytes,
        signature: DetachedSignature | None,
        anchor: dict[str, Any],
        per_right_version: int,
    ) -> Verdict:
        digest = hashlib.sha256(canonical).digest()
        try:
            root = _hex32(anchor.get("root"))
            proof = [_hex32(p) for p in anchor.get("proof", [])]
        except (TypeError, ValueError):
            run.check("anchor", False, "the anchor is not {root, proof[]} of 32-byte hex values")
            return run.done(TAMPERED)
        info = self.reader.anchor_of(root, run.block.number)
        if info is None:
            run.check("anchor", False, f"root 0x{root.hex()} is not anchored at block {run.block.number}")
            return run.done(UNKNOWN)
        run.check(
            "anchor", True, f"root 0x{root.hex()} anchored by {info.office} in block {info.block_number}"
        )
        office = (run.right_id or "").split(":", 1)[0]
        if office != info.office:
            run.check("anchor-office", False, f"the record's office {office} did not anchor this root")
            return run.done(TAMPERED)
        if not run.check(
            "merkle-proof",
            self.reader.verify_record(root, digest, proof, run.block.number),
            "verifyRecord(root, recordHash, proof) at the stated block",
        ):
            return run.done(TAMPERED)
        self._office_standing(run, info.office)
        if signature is None:
            run.check("signature", None, "the upload carries no signature")
            return run.done(UNKNOWN)
        failure = self._signature(run, canonical, signature, info.office, info.block_number)
        if failure:
            return run.done(failure)
        if per_right_version:
            history = self.reader.history(chain_right_id(run.right_id or ""), run.block.number)
            if history and history[-1].record_hash != digest:
                run.current_version = history[-1].version
                run.check(
                    "per-right-state",
                    True,
                    f"the right has per-right state since; version {history[-1].version} is current",
                )
                return run.done(AUTHENTIC_SUPERSEDED)
        return run.done(AUTHENTIC_CURRENT)

    # ------------------------------------------------------------ shared checks

    def _judge_document(
        self,
        run: _Run,
        canonical: bytes,
        signature: DetachedSignature,
        target: RightVersion,
        history: list[RightVersion],
        hash_checked: bool = False,
    ) -> Verdict:
        digest = hashlib.sha256(canonical).digest()
        if not hash_checked:
            run.check(
                "record-hash",
                digest == target.record_hash,
                f"SHA-256 of the canonical bytes {digest.hex()}; on chain for version "
                f"{target.version}: {target.record_hash.hex()}",
            )
        claimed_id, _ = _claims(canonical)
        chain_rid = run.chain_right_id
        run.check(
            "right-id",
            claimed_id is not None and chain_right_id(claimed_id) == chain_rid,
            f"the record names {claimed_id}",
        )
        run.version = target.version
        failure = self._signature(run, canonical, signature, target.office, signing_block(target, history))
        if run.failed("record-hash") or run.failed("right-id"):
            return run.done(TAMPERED)
        if failure:
            return run.done(failure)
        current = history[-1]
        run.current_version = current.version
        if current.version == target.version:
            return run.done(AUTHENTIC_CURRENT)
        run.check(
            "current-version",
            True,
            f"superseded: version {current.version} (record hash "
            f"{current.record_hash.hex()}, block {current.block_number}) is current",
        )
        return run.done(AUTHENTIC_SUPERSEDED)

    def _signature(
        self, run: _Run, canonical: bytes, signature: DetachedSignature, office: str, signing_block: int
    ) -> str | None:
        """Checks the signature with the office's key as registered at the stated block, valid at the
        version's block; the failing verdict, or None."""
        block = run.block.number
        if not run.check(
            "signature-office",
            signature.office == office,
            f"signed for {signature.office}; the competent office is {office}",
        ):
            return BAD_SIGNATURE
        key = self.reader.signing_key(office, signature.key_id, block)
        if key is None or key.algorithm is None:
            run.check(
                "signing-key", False, f"{office} has no key 0x{signature.key_id.hex()} at block {block}"
            )
            return BAD_SIGNATURE
        run.check(
            "signing-key",
            True,
            f"{office} key 0x{key.key_id.hex()} ({key.algorithm.value}) added at "
            f"block {key.valid_from_block}"
            + (f", revoked at block {key.revoked_at_block}" if key.revoked_at_block else ""),
        )
        good = run.check(
            "signature",
            verify_signature(canonical, signature, key.public_key, key.algorithm),
            "signature over the canonical bytes",
        )
        valid = self.reader.is_key_valid_at(office, key.key_id, signing_block, block)
        run.check("key-validity", valid, f"isKeyValidAt({office}, key, {signing_block}) at block {block}")
        if not good:
            return BAD_SIGNATURE
        if not valid:
            revoked = key.revoked_at_block is not None and signing_block >= key.revoked_at_block
            return KEY_REVOKED if revoked else BAD_SIGNATURE
        return None

    def _chain_state(self, run: _Run, chain_rid: bytes, version: int, history: list[RightVersion]) -> bool:
        if not history or history[-1].version != version:
            run.check(
                "chain-state",
                False,
                f"the events up to block {run.block.number} do not rebuild version {version}",
            )
            return False
        state = history[-1].state
        return run.check(
            "chain-state",
            self.reader.matches_state(chain_rid, state, run.block.number),
            f"matchesState at block {run.block.number}: version {version}, record hash "
            f"{state.record_hash.hex()}, status {status_code(state.status)}",
        )

    def _office_standing(self, run: _Run, office: str) -> None:
        info = self.reader.office(office, run.block.number)
        if info is None:
            run.check("office-standing", False, f"{office} is not a member at block {run.block.number}")
        elif info.status == "suspended":
            since = self.reader.suspended_at(office, run.block.number)
            run.check(
                "office-standing",
                True,
                f"{office} is suspended (since block {since}); records it "
                "signed before stay verifiable: revocation is never retroactive",
            )
        else:
            run.check("office-standing", True, f"{office} is {info.status}")

    def _endpoint(self, run: _Run, office: str) -> str:
        info = self.reader.office(office, run.block.number)
        return info.endpoint if info else ""

    @staticmethod
    def _unreachable(run: _Run, err: OfficeUnreachable) -> Verdict:
        run.check(
            "document-fetch", False, f"the office endpoint {err.endpoint} could not be asked: {err.reason}"
        )
        return run.done(OFFICE_UNREACHABLE)


# ------------------------------------------------------------ plain helpers


def parse_right_id(value: str) -> tuple[str | None, bytes]:
    """(string id or None, chain id) from `EP:PAT:…` or a 0x-prefixed 64-hex chain id; ValueError else."""
    if value.startswith("0x") and len(value) == 66:
        return None, bytes.fromhex(value[2:])
    if not RIGHT_ID.match(value):
        raise ValueError(f"{value!r} is neither a right id (OFFICE:TYPE:NUMBER) nor a 0x chain id")
    return value, chain_right_id(value)


def signing_block(target: RightVersion, history: Sequence[RightVersion]) -> int:
    """The block the version's record was first committed in: a publication reveals a record sealed
    (and signed) at the version before it."""
    if target.action == "publication":
        earlier = [v for v in history if v.version < target.version]
        if earlier:
            return earlier[-1].block_number
    return target.block_number


def _claims(canonical: bytes) -> tuple[str | None, int | None]:
    try:
        data = json.loads(canonical)
        right_id = data["right"]["rightId"]
        version = data.get("version")
    except (ValueError, KeyError, TypeError):
        return None, None
    if not isinstance(right_id, str) or not RIGHT_ID.match(right_id):
        return None, None
    return right_id, version if isinstance(version, int) else None


def is_light(data: bytes, content_type: str | None = None, filename: str | None = None) -> bool:
    """A JSON upload of at most LIGHT_UPLOAD_BYTES: once the chain reads it needs are cached, verifying it
    takes about a millisecond of CPU (an ST.96 XML is parsed and canonicalised first, which takes longer)."""
    return (
        len(data) <= LIGHT_UPLOAD_BYTES
        and data.lstrip()[:1] == b"{"
        and not _named_xml(content_type, filename)
    )


def _named_xml(content_type: str | None, filename: str | None) -> bool:
    return (content_type or "").endswith("xml") or (filename or "").lower().endswith(".xml")


def _classify(data: bytes, content_type: str | None, filename: str | None) -> _Upload:
    head = data.lstrip()[:1]
    if head == b"<" or _named_xml(content_type, filename):
        try:
            canonical_xml(data)
            return _Upload("st96-xml")
        except St96Error:
            return _Upload("file")
    if head != b"{":
        return _Upload("file")
    try:
        parsed = json.loads(data)
    except ValueError:
        return _Upload("file")
    if not isinstance(parsed, dict):
        return _Upload("file")
    if "canonical" in parsed and "signature" in parsed:
        try:
            canonical = base64.b64decode(str(parsed["canonical"]), validate=True)
            signature = DetachedSignature.from_json(parsed["signature"])
        except (binascii.Error, ValueError, SignatureFormatError) as err:
            return _Upload("signed-record", error=f"malformed signed document: {err}")
        anchor = parsed.get("anchor") if isinstance(parsed.get("anchor"), dict) else None
        return _Upload("signed-record", canonical, signature, anchor)
    if str(parsed.get("schema", "")).startswith("ipreg/right-record/"):
        try:
            return _Upload("record", canonical_bytes(parsed))
        except Exception as err:  # rfc8785 refuses some values (NaN, huge integers)
            return _Upload("record", error=f"cannot canonicalise the record: {err}")
    return _Upload("file")


def _as_candidate(item: Any) -> Candidate | None:
    if isinstance(item, Candidate):
        return item
    get = item.get if isinstance(item, dict) else lambda name, default=None: getattr(item, name, default)
    raw = get("chain_right_id") or get("chainRightId")
    right_id = get("right_id") or get("rightId")
    if raw is None and isinstance(right_id, str) and RIGHT_ID.match(right_id):
        raw = chain_right_id(right_id)
    try:
        chain_rid = _hex32(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None
    return Candidate(chain_rid, right_id if isinstance(right_id, str) else None)


def _hex32(value: Any) -> bytes:
    if isinstance(value, (bytes, bytearray)) and len(value) == 32:
        return bytes(value)
    if isinstance(value, str):
        raw = bytes.fromhex(value.removeprefix("0x"))
        if len(raw) == 32:
            return raw
    raise ValueError("not 32 bytes of hex")


def parse_multipart(body: bytes, content_type: str) -> tuple[bytes, str | None, str | None] | None:
    """The first file part of a multipart/form-data body: (bytes, its content type, its filename)."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        return None
    for part in message.iter_parts():
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            return payload, part.get_content_type(), part.get_filename()
    return None
