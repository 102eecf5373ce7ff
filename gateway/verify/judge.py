"""The judge: a verdict with its named checks, from evidence alone (`gateway.verify.facts`).

It asks no chain node and fetches nothing; what it needs was gathered at one stated block by
`gateway.verify.evidence` (the gateway's routes) or read out of a receipt by
`gateway.verify.receipt_evidence` (`ipreg verify`), and both get their verdict here. What it does itself is
what anyone can redo with the evidence in hand: hashes, signatures, key windows, Merkle and storage proofs.
An import-linter contract keeps I/O out of this module.

A verdict is an answer, not an error: each lists every check done, in the order done; a check whose fact
was neither answered by a chain node nor proven is "skipped" and the judgement goes on from what was claimed.

One concern in one module, the rules of a verdict: every check the API and `ipreg verify` run is here, so
an auditor reads in one place what each verdict means and what it rests on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from gateway.verify.facts import (
    AnchoredRecord,
    AnchorEvidence,
    AnchorInfo,
    BlockRef,
    ChainState,
    DesignationEvidence,
    Evidence,
    FileEvidence,
    KeyEvidence,
    KeyInfo,
    KeyProof,
    OfficeStanding,
    RecordEvidence,
    RightEvidence,
    RightVersion,
    SealEvidence,
    SignedDocument,
    StorageProof,
    Unreachable,
    UploadEvidence,
    XmlEvidence,
    evidence_version,
    matching_version,
)
from gateway.verify.models import Check, CheckResult, StatedBlock, Verdict, VerdictFinality, VerdictKind
from gateway.verify.state_proofs import (
    ProofError,
    anchor_slot,
    header_hash,
    hex_bytes,
    prove_key,
    right_slot,
    unpack_anchor,
    unpack_right,
    verify_storage,
)
from gateway.verify.uploads import claims
from registry_node.protocol.consensus import qbft
from registry_node.protocol.consensus.finality import Finality, finality
from registry_node.protocol.contract import office_bytes, status_code
from registry_node.protocol.keys import SigningAlgorithm
from registry_node.protocol.merkle import verify as merkle_verify
from registry_node.protocol.records import chain_right_id, split_designation_id
from registry_node.protocol.signing import DetachedSignature, verify_signature

CURRENT = VerdictKind.AUTHENTIC_CURRENT
SUPERSEDED = VerdictKind.AUTHENTIC_SUPERSEDED
TAMPERED = VerdictKind.TAMPERED
BAD_SIGNATURE = VerdictKind.BAD_SIGNATURE
KEY_REVOKED = VerdictKind.KEY_REVOKED
CONFIDENTIAL = VerdictKind.CONFIDENTIAL
UNKNOWN = VerdictKind.UNKNOWN
UNREACHABLE = VerdictKind.OFFICE_UNREACHABLE


def judge(evidence: Evidence) -> Verdict:
    """The verdict on a right's current version, or on an upload, from the evidence gathered for it."""
    if isinstance(evidence, RightEvidence):
        return _right(evidence)
    return _upload(evidence)


class _Run:
    """The checks of one judgement, collected as they are made."""

    def __init__(self, block: BlockRef, subject: dict[str, Any]) -> None:
        self.block = block
        self.subject = subject
        self.checks: list[Check] = []
        self.right_id: str | None = None
        self.chain_right_id: bytes | None = None
        self.version: int | None = None
        self.current_version: int | None = None
        self.storage_root: bytes | None = None  # the registry's, once a storage proof proved it
        self.finality: Finality | None = None

    def check(self, name: str, ok: bool | None, detail: str) -> bool:
        result = CheckResult.SKIPPED if ok is None else CheckResult.PASS if ok else CheckResult.FAIL
        self.checks.append(Check(name, result, detail))
        return bool(ok)

    def failed(self, name: str) -> bool:
        return any(c.name == name and c.result is CheckResult.FAIL for c in self.checks)

    def done(self, verdict: VerdictKind) -> Verdict:
        still = None
        if verdict is UNREACHABLE:
            still = [
                f"{c.name}: {c.result.value}" for c in self.checks if c.result is not CheckResult.SKIPPED
            ]
        return Verdict(
            verdict=verdict,
            right_id=self.right_id,
            chain_right_id="0x" + self.chain_right_id.hex() if self.chain_right_id else None,
            version=self.version,
            current_version=self.current_version,
            block=StatedBlock(self.block.number, "0x" + self.block.hash.hex()),
            subject=self.subject,
            checks=self.checks,
            still_checked=still,
            finality=VerdictFinality.of(self.finality) if self.finality is not None else None,
        )


# ------------------------------------------------------------ a right


def _sealed(run: _Run, seals: SealEvidence | None) -> _Run:
    if seals is not None:
        run.finality = finality(seals.engine, run.block.hash, seals.headers, seals.anchor)
    return run


def _right(ev: RightEvidence) -> Verdict:
    run = _sealed(_Run(ev.block, {"type": "right", "rightId": ev.requested}), ev.seals)
    run.right_id, run.chain_right_id = ev.right_id, ev.chain_right_id
    if ev.chain is None and ev.designation is not None:
        return _undecided(run, ev.designation)
    if ev.chain is None:
        if isinstance(ev.anchored, AnchoredRecord):
            return _served_anchored(run, ev.anchored)
        run.check("right-on-chain", False, f"no entry for this right at block {run.block.number}")
        return run.done(UNKNOWN)
    if not _chain_state(run, ev.chain):
        return run.done(UNKNOWN)
    history = ev.chain.history
    current = history[-1]
    run.version = run.current_version = current.version
    _office_standing(run, current.office, ev.office)
    if current.sealed:
        run.check(
            "confidential",
            True,
            f"version {current.version} is confidential: only its seal "
            f"0x{current.record_hash.hex()} is on chain",
        )
        return run.done(CONFIDENTIAL)
    fetched = ev.document
    if isinstance(fetched, Unreachable):
        return _unreachable(run, fetched)
    if fetched is None:
        run.check(
            "document-fetch",
            False,
            f"the office serves no published document for version {current.version}",
        )
        return run.done(UNKNOWN)
    run.check("document-fetch", True, _origin(fetched))
    run.right_id = run.right_id or fetched.right_id
    return _document(
        run, fetched.canonical, fetched.signature, current, history, ev.key, claims(fetched.canonical)[0]
    )


# ------------------------------------------------------------ a designation with no decision yet


def _undecided(run: _Run, ev: DesignationEvidence) -> Verdict:
    """A designation the chain reserves for the designated office, which has decided nothing yet. What there
    is to verify is the designation itself: the international registration's version whose `Designated`
    event reserved it, and the International Bureau's signed record of that version, which lists it. Its
    verdict is the designation's: authentic and current while that record is authentic, whatever the
    registration did since (its later versions keep its designations)."""
    designated_office = ev.entry.office
    run.current_version = 0
    run.subject["designation"] = {"designatedOfficeCode": designated_office, "decided": False}
    ir = ev.international_registration
    if ir is None:
        run.check(
            "designation",
            False,
            f"the entry is reserved for {designated_office}'s decision on a designation ({ev.entry.kind}), "
            "with no decision recorded yet; name it by its id (WO:TM:NUMBER@OFFICE) to verify it",
        )
        return run.done(UNKNOWN)
    run.subject["designation"]["internationalRegistrationId"] = ir
    if ev.chain is None or not _chain_state(run, ev.chain, chain_right_id(ir)):
        if ev.chain is not None and not ev.chain.history:
            run.check("designation", False, f"{ir} has no history at block {run.block.number}")
        return run.done(UNKNOWN)
    target = ev.designated
    if target is None:
        run.check(
            "designation",
            False,
            f"the chain reserves the entry for {designated_office}, but no Designated event of {ir} names it",
        )
        return run.done(UNKNOWN)
    named = target.fields.get("designatedOffice")
    date = _chain_date(target.fields.get("designationDate"))
    if not run.check(
        "designation",
        named == designated_office,
        f"{target.office} designated {named} on {ir} in its version {target.version} (block "
        f"{target.block_number}{', designation date ' + date if date else ''}); "
        + (
            f"{designated_office} has recorded no decision on it yet"
            if named == designated_office
            else f"but the entry is reserved for {designated_office}"
        ),
    ):
        return run.done(TAMPERED)
    run.subject["designation"]["designationVersion"] = target.version
    _office_standing(run, target.office, ev.office)
    fetched = ev.document
    if isinstance(fetched, Unreachable):
        return _unreachable(run, fetched)
    if fetched is None:
        run.check(
            "document-fetch",
            False,
            f"{target.office} serves no published record of {ir} version {target.version}",
        )
        return run.done(UNKNOWN)
    run.check("document-fetch", True, _origin(fetched))
    canonical = fetched.canonical
    digest = hashlib.sha256(canonical).digest()
    run.check(
        "record-hash",
        digest == target.record_hash,
        f"SHA-256 of the canonical bytes {digest.hex()}; on chain for version {target.version} of {ir}: "
        f"{target.record_hash.hex()}",
    )
    claimed_id = claims(canonical)[0]
    run.check("right-id", claimed_id == ir, f"the record names {claimed_id}, the international registration")
    recorded = _recorded_designation(canonical)
    run.check(
        "designation-record",
        recorded is not None and recorded.get("designatedOfficeCode") == designated_office,
        f"the record of version {target.version} designates {recorded.get('designatedOfficeCode')} "
        f"({recorded.get('designationCategory', 'original')}, {recorded.get('designationDate')})"
        if recorded is not None
        else f"the record of version {target.version} records no designation",
    )
    failure = _signature(run, canonical, fetched.signature, ev.key)
    if run.failed("record-hash") or run.failed("right-id") or run.failed("designation-record"):
        return run.done(TAMPERED)
    if failure:
        return run.done(failure)
    return run.done(CURRENT)


def _recorded_designation(canonical: bytes) -> dict[str, Any] | None:
    """The designation a right record's version records (`changeKind` designation), or None."""
    try:
        data = json.loads(canonical)
        designation = data["designation"] if data.get("changeKind") == "designation" else None
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return designation if isinstance(designation, dict) else None


def _chain_date(value: Any) -> str | None:
    """yyyymmdd (00 for an unknown month or day) as an ISO 8601 date, as far as it is known."""
    if not isinstance(value, int) or value <= 0:
        return None
    year, month, day = value // 10_000, value // 100 % 100, value % 100
    return f"{year:04d}" + (f"-{month:02d}" if month else "") + (f"-{day:02d}" if month and day else "")


# ------------------------------------------------------------ an upload


def _upload(ev: UploadEvidence) -> Verdict:
    subject: dict[str, Any] = {"type": "upload", "sha256": ev.sha256.hex(), "size": ev.size}
    if ev.filename:
        subject["filename"] = ev.filename
    subject["form"] = ev.form
    run = _sealed(_Run(ev.block, subject), ev.seals)
    if ev.format_error:
        run.check("document-format", False, ev.format_error)
    if ev.form == "st96-xml":
        return _xml(run, ev.xml)
    if ev.record is not None:
        return _record(run, ev.record)
    return _file(run, ev.sha256, ev.file)


def _record(run: _Run, ev: RecordEvidence) -> Verdict:
    canonical = ev.canonical
    digest = hashlib.sha256(canonical).digest()
    run.subject["recordHash"] = digest.hex()
    claimed_id, claimed_version = ev.claimed
    if claimed_id is None:
        run.check("record-format", False, "the record names no valid rightId")
        return run.done(UNKNOWN)
    run.right_id, run.chain_right_id = claimed_id, chain_right_id(claimed_id)
    block = run.block.number
    if ev.anchor is not None or ev.entry_version == 0:
        if isinstance(ev.anchored, AnchorEvidence):
            return _anchored(run, canonical, ev.signature, ev.anchored, ev.entry_version)
        if isinstance(ev.anchored, AnchoredRecord):
            return _served_anchored(run, ev.anchored)
        run.check("right-on-chain", False, f"{claimed_id} has no entry at block {block}")
        return run.done(UNKNOWN)
    if ev.chain is None or not _chain_state(run, ev.chain):
        return run.done(UNKNOWN)
    history = ev.chain.history
    run.current_version = history[-1].version
    _office_standing(run, history[-1].office, ev.office)
    target = matching_version(history, digest)
    if target is None:
        sealed = [v for v in history if v.sealed]
        if sealed and (claimed_version is None or any(v.version >= claimed_version for v in sealed)):
            run.check(
                "confidential",
                True,
                "the right is confidential at this version: only a seal is on chain, so nothing more is said",
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
        if ev.signature is not None:
            _signature(run, canonical, ev.signature, ev.key)
        return run.done(TAMPERED)
    run.version = target.version
    run.check(
        "record-hash",
        True,
        f"SHA-256 {digest.hex()} is the record hash of version "
        f"{target.version} (block {target.block_number})",
    )
    signature = ev.signature
    if signature is None:
        fetched = ev.fetched
        if isinstance(fetched, Unreachable):
            return _unreachable(run, fetched)
        if fetched is None or fetched.canonical != canonical:
            run.check("document-fetch", False, "the office serves no signed document with this hash")
            return run.done(UNKNOWN)
        run.check("document-fetch", True, f"signature fetched from {fetched.url}")
        signature = fetched.signature
    return _document(run, canonical, signature, target, history, ev.key, claimed_id, hash_checked=True)


def _xml(run: _Run, ev: XmlEvidence | str | None) -> Verdict:
    if not isinstance(ev, XmlEvidence):
        run.check("st96-parse", False, ev or "the upload is not an ST.96 document")
        return run.done(UNKNOWN)
    rid, c14n = ev.right_id, ev.c14n_sha256
    run.subject["c14nSha256"] = c14n.hex()
    run.right_id, run.chain_right_id = rid, chain_right_id(rid)
    run.check("st96-parse", True, f"ST.96 document of {rid}; Exclusive C14N SHA-256 {c14n.hex()}")
    if ev.entry_version == 0 or ev.chain is None:
        run.check("right-on-chain", False, f"{rid} has no entry at block {run.block.number}")
        return run.done(UNKNOWN)
    if not _chain_state(run, ev.chain):
        return run.done(UNKNOWN)
    history = ev.chain.history
    run.current_version = history[-1].version
    _office_standing(run, history[-1].office, ev.office)
    saw_source = False
    for source in ev.sources:
        fetched = source.document
        if isinstance(fetched, Unreachable):
            return _unreachable(run, fetched)
        if fetched is None or fetched.source_xml is None:
            continue
        saw_source = True
        if source.c14n_sha256 is None or source.c14n_sha256 != c14n:
            continue
        version = source.version
        run.version = version.version
        run.check(
            "source-xml",
            True,
            f"the C14N hash equals the source XML of version "
            f"{version.version}'s signed record ({fetched.url})",
        )
        claimed_id = claims(fetched.canonical)[0]
        return _document(run, fetched.canonical, fetched.signature, version, history, ev.key, claimed_id)
    if not saw_source:
        run.check("source-xml", False, f"no published record of {rid} carries a source XML")
        return run.done(UNKNOWN)
    run.check("source-xml", False, "the C14N hash matches no source XML of the right's signed records")
    return run.done(TAMPERED)


def _file(run: _Run, digest: bytes, ev: FileEvidence | None) -> Verdict:
    if ev is None or ev.located is None:
        run.check("locate", None, "no hash look-up is available")
        return run.done(UNKNOWN)
    run.check("locate", ev.located > 0, f"{ev.located} candidate right(s) for this hash")
    for candidate in ev.candidates:
        history = candidate.history
        run.chain_right_id, run.right_id = candidate.chain_right_id, candidate.right_id
        run.current_version = history[-1].version
        version = evidence_version(history, digest)
        if version is not None:
            run.version = version.version
            if candidate.chain is None or not _chain_state(run, candidate.chain):
                return run.done(UNKNOWN)
            run.check(
                "evidence-hash",
                True,
                f"the SHA-256 is the evidence document of ownership "
                f"change version {version.version}, recorded by {version.office} in "
                f"transaction 0x{version.transaction_hash.hex()} (block "
                f"{version.block_number})",
            )
            return run.done(CURRENT)
        match = next((v for v in history if not v.sealed and v.record_hash == digest), None)
        if match is None:
            continue
        if isinstance(candidate.fetched, Unreachable):
            run.check("record-hash", True, f"the SHA-256 is the record hash of version {match.version}")
            return _unreachable(run, candidate.fetched)
        if candidate.record is not None:
            return _record(run, candidate.record)
    return run.done(UNKNOWN)


# ------------------------------------------------------------ anchors


def _served_anchored(run: _Run, served: AnchoredRecord) -> Verdict:
    """A right with no per-right state whose office serves its record as a leaf of an anchored batch."""
    document = served.document
    run.check("document-fetch", True, _origin(document))
    return _anchored(run, document.canonical, document.signature, served.anchor, 0)


def _anchored(
    run: _Run,
    canonical: bytes,
    signature: DetachedSignature | None,
    ev: AnchorEvidence,
    per_right_version: int,
) -> Verdict:
    digest = hashlib.sha256(canonical).digest()
    root = ev.root
    if root is None:
        run.check("anchor", False, "the anchor is not {root, proof[]} of 32-byte hex values")
        return run.done(TAMPERED)
    info = _anchor(run, ev, root)
    if isinstance(info, VerdictKind):
        return run.done(info)
    office = (run.right_id or "").split(":", 1)[0]
    if office != info.office:
        run.check("anchor-office", False, f"the record's office {office} did not anchor this root")
        return run.done(TAMPERED)
    if ev.included is not None:
        included, how = ev.included, "verifyRecord(root, recordHash, proof) at the stated block"
    else:
        included = merkle_verify(root, digest, list(ev.proof))
        how = f"the record is a leaf of the Merkle tree 0x{root.hex()} (its proof checked here)"
    if not run.check("merkle-proof", included, how):
        return run.done(TAMPERED)
    _office_standing(run, info.office, ev.office)
    failure = _signature(run, canonical, signature, ev.key)
    if failure:
        return run.done(failure)
    if per_right_version and ev.history and ev.history[-1].record_hash != digest:
        run.current_version = ev.history[-1].version
        run.check(
            "per-right-state",
            True,
            f"the right has per-right state since; version {ev.history[-1].version} is current",
        )
        return run.done(SUPERSEDED)
    return run.done(CURRENT)


def _anchor(run: _Run, ev: AnchorEvidence, root: bytes) -> AnchorInfo | VerdictKind:
    """The anchor of `root` at the block: as a node answered (`anchored`), or as a receipt claims it
    (`claimed`), and in both cases as its storage slot proves it when a proof is at hand. The failing
    verdict when it is not anchored (unknown) or the proof says otherwise (tampered)."""
    block = run.block.number
    info = ev.anchored if ev.claimed is None else ev.claimed
    if info is None:
        run.check("anchor", False, f"root 0x{root.hex()} is not anchored at block {block}")
        return UNKNOWN
    said = f"root 0x{root.hex()} anchored by {info.office} in block {info.block_number}"
    if ev.slot is None:
        if ev.claimed is not None:
            run.check("anchor", None, f"{said}, as the receipt says: it carries no storage proof to show it")
        else:
            run.check("anchor", True, said)
        return info
    try:
        word = _proven_word(run, ev.slot, anchor_slot(root))
    except ProofError as err:
        run.check("anchor", False, f"the storage proof of the anchor does not hold: {err}")
        return TAMPERED
    stored = unpack_anchor(word)
    if (stored.office, stored.block_number) != (info.office, info.block_number):
        run.check(
            "anchor",
            False,
            f"the proven anchor is of {stored.office or 'no office'} in block {stored.block_number}",
        )
        return TAMPERED
    run.check("anchor", True, f"{said}; {_proven(ev.slot, run.block)}")
    return info


# ------------------------------------------------------------ shared checks


def _document(
    run: _Run,
    canonical: bytes,
    signature: DetachedSignature | None,
    target: RightVersion,
    history: tuple[RightVersion, ...],
    key: KeyEvidence | None,
    claimed_id: str | None,
    hash_checked: bool = False,
) -> Verdict:
    """The judgement of a signed record as the record of `target`; `claimed_id` is the right id it names."""
    if not hash_checked:
        digest = hashlib.sha256(canonical).digest()
        run.check(
            "record-hash",
            digest == target.record_hash,
            f"SHA-256 of the canonical bytes {digest.hex()}; on chain for version "
            f"{target.version}: {target.record_hash.hex()}",
        )
    run.check(
        "right-id",
        claimed_id is not None and chain_right_id(claimed_id) == run.chain_right_id,
        f"the record names {claimed_id}",
    )
    split = split_designation_id(claimed_id) if claimed_id is not None else None
    if split is not None:
        run.check(
            "designated-office",
            split[1] == target.office,
            f"{claimed_id} designates {split[1]}; version {target.version} was recorded by {target.office}",
        )
    run.version = target.version
    failure = _signature(run, canonical, signature, key)
    if run.failed("record-hash") or run.failed("right-id") or run.failed("designated-office"):
        return run.done(TAMPERED)
    if failure:
        return run.done(failure)
    current = history[-1]
    run.current_version = current.version
    if current.version == target.version:
        return run.done(CURRENT)
    run.check(
        "current-version",
        True,
        f"superseded: version {current.version} (record hash "
        f"{current.record_hash.hex()}, block {current.block_number}) is current",
    )
    return run.done(SUPERSEDED)


def _signature(
    run: _Run, canonical: bytes, signature: DetachedSignature | None, ev: KeyEvidence | None
) -> VerdictKind | None:
    """Checks the signature with the office's key as registered at the stated block, valid at the block the
    record was first committed in; the failing verdict, or None."""
    if signature is None:
        run.check("signature", None, "the upload carries no signature")
        return UNKNOWN
    block = run.block.number
    if ev is None:
        run.check("signing-key", False, "the signing key was not read")
        return BAD_SIGNATURE
    office = ev.office
    if not run.check(
        "signature-office",
        signature.office == office,
        f"signed for {signature.office}; the competent office is {office}",
    ):
        return BAD_SIGNATURE
    key = ev.key
    proven_how = ""
    if ev.proof is not None:
        proven = _proven_key(run, office, signature.key_id, ev.proof, key)
        if isinstance(proven, str):
            run.check("signing-key", False, proven)
            return BAD_SIGNATURE
        key, proven_how = proven, f"; its entry proven from the state root of block {block}"
    if key is None or key.algorithm is None or (key.office, key.key_id) != (office, signature.key_id):
        run.check("signing-key", False, f"{office} has no key 0x{signature.key_id.hex()} at block {block}")
        return BAD_SIGNATURE
    run.check(
        "signing-key",
        True,
        f"{office} key 0x{key.key_id.hex()} ({key.algorithm.value}) added at "
        f"block {key.valid_from_block}"
        + (f", revoked at block {key.revoked_at_block}" if key.revoked_at_block else "")
        + proven_how,
    )
    good = run.check(
        "signature",
        verify_signature(canonical, signature, key.public_key, key.algorithm),
        "signature over the canonical bytes",
    )
    signing = ev.signing_block
    if ev.valid is not None:
        valid = ev.valid
        how = f"isKeyValidAt({office}, key, {signing}) at block {block}"
    else:
        revoked = key.revoked_at_block
        valid = key.valid_from_block <= signing and (revoked is None or signing < revoked)
        how = (
            f"the record's block {signing} is in the key's window (added at block {key.valid_from_block}"
            + (f", revoked at block {revoked})" if revoked is not None else ", not revoked)")
        )
    run.check("key-validity", valid, how)
    if not good:
        return BAD_SIGNATURE
    if not valid:
        revoked_before = key.revoked_at_block is not None and signing >= key.revoked_at_block
        return KEY_REVOKED if revoked_before else BAD_SIGNATURE
    return None


def _proven_key(
    run: _Run, office: str, key_id: bytes, proof: KeyProof, claimed: KeyInfo | None
) -> KeyInfo | str:
    """The office's key entry as its storage proof shows it under the proven storage root, and the same as
    the one claimed; what is wrong otherwise."""
    if run.storage_root is None:
        return "the key's proof has no proven state root to stand on (the right's storage proof did not hold)"
    try:
        proofs = {
            hex_bytes(slot, "officeKeyProof.slot").rjust(32, b"\0"): (
                hex_bytes(value, "officeKeyProof.value"),
                [hex_bytes(n, "officeKeyProof.proof") for n in nodes],
            )
            for slot, value, nodes in proof.slots
        }
        entry = prove_key(run.storage_root, office_bytes(office), key_id, proofs)
    except ProofError as err:
        return f"the proof of {office}'s key 0x{key_id.hex()} does not hold: {err}"
    if entry.valid_from_block == 0:
        return f"{office} has no key 0x{key_id.hex()} under the state root of block {run.block.number}"
    try:
        algorithm: SigningAlgorithm | None = SigningAlgorithm.from_chain_value(entry.algorithm)
    except ValueError:
        algorithm = None
    key = KeyInfo(
        office, key_id, algorithm, entry.valid_from_block, entry.revoked_at_block or None, entry.public_key
    )
    if claimed is not None and claimed != key:
        return (
            f"the receipt's officeKey is not {office}'s entry proven at block {run.block.number} (added at "
            f"block {key.valid_from_block}, revoked at block {key.revoked_at_block})"
        )
    return key


def _chain_state(run: _Run, ev: ChainState, chain_rid: bytes | None = None) -> bool:
    """The right's state at the block: its events rebuild the version the chain holds, and a node's
    `matchesState` or a storage proof shows that state is the one on chain. False ends the judgement.
    `chain_rid`: the entry the state is of, when it is not the verdict's (a designation's registration)."""
    block = run.block.number
    if not ev.rebuilt:
        run.check(
            "chain-state",
            False,
            f"the events up to block {block} do not rebuild version {ev.version}",
        )
        return False
    current = ev.history[-1]
    state = current.state
    ok, said = True, []
    if ev.matches is not None:
        ok = ev.matches
        said.append(
            f"matchesState at block {block}: version {ev.version}, record hash "
            f"{state.record_hash.hex()}, status {status_code(state.status)}"
        )
    if ev.proof is not None:
        proven, detail = _right_slot(run, ev, current, chain_rid or run.chain_right_id)
        ok = ok and proven
        said.append(detail)
    if not said:
        run.check("chain-state", None, f"version {ev.version} as claimed: no node was asked, no proof given")
        return True
    return run.check("chain-state", ok, "; ".join(said))


def _right_slot(
    run: _Run, ev: ChainState, current: RightVersion, chain_rid: bytes | None
) -> tuple[bool, str]:
    assert ev.proof is not None
    assert chain_rid is not None
    try:
        word = _proven_word(run, ev.proof, right_slot(chain_rid))
    except ProofError as err:
        return False, f"the storage proof does not hold: {err}"
    packed = unpack_right(word)
    if packed.state_digest != current.state.digest():
        return False, "the proven slot holds another state digest"
    if packed.version != ev.version:
        return False, f"the proven slot is at version {packed.version}"
    if packed.office != current.office:
        return False, f"the proven slot belongs to office {packed.office}"
    return True, (
        f"version {packed.version} of {packed.office} with the state digest 0x{packed.state_digest.hex()}: "
        + _proven(ev.proof, run.block)
    )


def _proven_word(run: _Run, proof: StorageProof, slot: bytes) -> bytes:
    """The storage word of `slot` at the stated block, proven from the block's header (the registry's storage
    root proven on the way is kept for the key's proof); ProofError says where the proof breaks (a malformed
    proof is one that breaks)."""
    block = run.block
    try:
        if hex_bytes(proof.slot, "storageProof.slot") != slot:
            raise ProofError("the proof is of another storage slot")
        if proof.header is None:
            raise ProofError("the proof comes without its block header")
        header = dict(proof.header)
        if int(str(header["number"]), 16) != block.number:
            raise ProofError(f"the header is of another block than {block.number}")
        if _block_hash(header, proof.engine) != block.hash:
            raise ProofError(f"keccak256(rlp(header)) is not the hash of block {block.number}")
        word, storage_root, account = verify_storage(
            hex_bytes(header["stateRoot"], "blockHeader.stateRoot"),
            hex_bytes(proof.contract, "chain.contractAddress"),
            slot,
            [hex_bytes(n, "storageProof.accountProof") for n in proof.account_proof],
            [hex_bytes(n, "storageProof.storageProof") for n in proof.storage_proof],
        )
        stated = [
            int.from_bytes(hex_bytes(proof.account["nonce"], "storageProof.account.nonce"), "big"),
            int.from_bytes(hex_bytes(proof.account["balance"], "storageProof.account.balance"), "big"),
            hex_bytes(proof.account["storageHash"], "storageProof.account.storageHash"),
            hex_bytes(proof.account["codeHash"], "storageProof.account.codeHash"),
        ]
        proven = [
            int.from_bytes(account[0], "big"),
            int.from_bytes(account[1], "big"),
            storage_root,
            account[3],
        ]
        if stated != proven:
            raise ProofError("the account's nonce, balance, storage root or code hash is not the one stated")
        if int.from_bytes(word, "big") != int(str(proof.value), 16):
            raise ProofError("the slot value is not the proven one")
    except ProofError:
        raise
    except (KeyError, TypeError, ValueError) as err:
        raise ProofError(f"malformed proof: {type(err).__name__}: {err}") from None
    run.storage_root = storage_root
    return word


def _block_hash(header: Mapping[str, str], engine: str | None) -> bytes:
    """The block's hash from its header: QBFT's leaves the committed seals out."""
    if engine == "qbft":
        try:
            return qbft.block_hash(header)
        except qbft.QbftError as err:
            raise ProofError(f"the header is not a QBFT header: {err}") from None
    return header_hash(dict(header))


def _proven(proof: StorageProof, block: BlockRef) -> str:
    return f"slot {proof.slot} proven from the state root of block {block.number}'s header"


def _office_standing(run: _Run, office: str, ev: OfficeStanding | None) -> None:
    block = run.block.number
    if ev is None:
        run.check("office-standing", None, f"{office}'s standing at block {block} is not in the evidence")
    elif ev.info is None:
        run.check("office-standing", False, f"{office} is not a member at block {block}")
    elif ev.info.status == "suspended":
        run.check(
            "office-standing",
            True,
            f"{office} is suspended (since block {ev.suspended_since}); records it "
            "signed before stay verifiable: revocation is never retroactive",
        )
    else:
        run.check("office-standing", True, f"{office} is {ev.info.status}")


def _origin(document: SignedDocument) -> str:
    return f"fetched {document.url}" if document.url else "the signed record came with the evidence"


def _unreachable(run: _Run, ev: Unreachable) -> Verdict:
    run.check("document-fetch", False, f"the office endpoint {ev.endpoint} could not be asked: {ev.reason}")
    return run.done(UNREACHABLE)
