"""What an office does with a change before the chain sees it: check, build the record, sign, store.

Every operation checks competence and the expected version first, builds the new signed `RightRecord`,
derives what goes on chain (record hash, or its seal while confidential; a fresh salted owner commitment;
the status code) and hands the whole to the store in one transaction, with the contract call the outbox
worker will send. Nothing is stored when a check fails. The API and the CLI both call this module.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from registry_node.node.anchors import anchor_batch
from registry_node.node.outbox import encode_args
from registry_node.node.store import (
    AcceptedChange,
    AnchorBatch,
    DuplicateChange,
    OutboxEntry,
    QueuedCall,
    StaleVersion,
    Store,
    StoredVersion,
    StoreError,
)
from registry_node.protocol.contract import RightState, text_bytes
from registry_node.protocol.errors import RegistryError
from registry_node.protocol.keys import DocumentSigner
from registry_node.protocol.records import (
    DESIGNATABLE_KINDS,
    INTERNATIONAL_BUREAU,
    ConveyanceCategory,
    Designation,
    DesignationDecision,
    DesignationRecord,
    LegalStatusEvent,
    OwnershipChange,
    Right,
    RightRecord,
    canonical_bytes,
    chain_right_id,
    date_to_chain,
    designation_id,
    owner_commitment,
    record_hash,
    seal,
    split_designation_id,
)
from registry_node.protocol.signing import sign_document

# Conveyances that pass title: the assignees become the owners (or join them, for a partial transfer).
# Licences, security interests and their release are recorded without changing the owners.
TITLE_CONVEYANCES = frozenset(
    {
        ConveyanceCategory.ASSIGNMENT,
        ConveyanceCategory.MERGER,
        ConveyanceCategory.NAME_CHANGE,
        ConveyanceCategory.COURT_ORDER,
        ConveyanceCategory.CORRECTION,
    }
)


class OfficeError(RegistryError):
    """A change the office refuses before storing anything; `field` names what is wrong."""

    status = 400

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class NotCompetent(OfficeError):
    status = 403


class UnknownRight(OfficeError):
    status = 404


class VersionConflict(OfficeError):
    status = 409

    def __init__(self, right_id: str, expected: int, actual: int) -> None:
        super().__init__("expectedVersion", f"{right_id} is at version {actual}, not {expected}")
        self.right_id = right_id
        self.expected = expected
        self.actual = actual


@dataclass(frozen=True)
class Accepted:
    """A change on disk and queued for the chain (for an anchored record: queued in its anchor)."""

    right_id: str
    version: int
    record_hash: bytes
    outbox_id: int


@dataclass(frozen=True)
class QueuedAnchor:
    """An anchor on disk, its `anchor` call queued as outbox entry `outbox_id`."""

    root: bytes
    count: int
    manifest_hash: bytes
    outbox_id: int


# A designation has no owners of its own (they are the international registration's): its entry on chain
# commits to none.
NO_OWNER_COMMITMENT = bytes(32)


@dataclass(frozen=True)
class SignedRecord:
    """A record, its canonical bytes (made once: they are hashed and signed), its hash and signature."""

    record: RightRecord
    canonical: bytes
    record_hash: bytes
    signature: dict[str, Any]


@dataclass(frozen=True)
class AnchoredImport:
    results: list[Accepted | OfficeError]
    anchors: list[QueuedAnchor]


class Office:
    """One office's write path: its code, its store and its document-signing key."""

    def __init__(self, code: str, store: Store, signing_key: DocumentSigner) -> None:
        self.code = code
        self.store = store
        self.signing_key = signing_key

    # ------------------------------------------------------------ operations

    def register(self, right: Right, confidential: bool = False, source_xml: bytes | None = None) -> Accepted:
        """Registers a right of this office at version 1."""
        self._check_competent(right.rightId, right.ipOfficeCode)
        if self.store.right_version(right.rightId):
            raise VersionConflict(right.rightId, 0, self.store.right_version(right.rightId))
        signed = self._sign(RightRecord(version=1, right=right, changeKind="registration"))
        chain_state, state = self._chain_state(signed, confidential)
        registration = _registration(right, confidential, chain_state)
        change = self._change(
            signed, "register", [registration], chain_state, state, confidential, source_xml
        )
        return self._store(change)

    def register_many(
        self, items: list[tuple[Right, bytes | None]], confidential: bool = False
    ) -> list[Accepted | OfficeError]:
        """Registers many rights (a bulk import: right and source XML each) in one store transaction;
        each is accepted whole or refused whole, and a refused one does not stop the others."""
        outcomes, changes = self._registrations(items, confidential, anchored=False)
        stored = iter(self.store.accept_many(changes))
        change_of = iter(changes)
        results: list[Accepted | OfficeError] = []
        for outcome in outcomes:
            if outcome is not None:
                results.append(outcome)
                continue
            change, entry = next(change_of), next(stored)
            if isinstance(entry, StoreError):
                results.append(VersionConflict(change.right_id, 0, self.store.right_version(change.right_id)))
            else:
                results.append(Accepted(change.right_id, change.version, change.record_hash, entry.id))
        return results

    def anchor_many(
        self, items: list[tuple[Right, bytes | None]], batch_size: int, confidential: bool = False
    ) -> AnchoredImport:
        """Registers many rights under Merkle anchors: each record is signed and stored as `register_many`
        stores it, but the chain gets one `anchor` call per `batch_size` records instead of per-right
        state, all in one store transaction. A right gets per-right state when the office first changes
        it. Confidential rights cannot be anchored: their record must stay sealed."""
        if confidential:
            raise OfficeError(
                "confidential",
                "a confidential right cannot be anchored (its record hash must stay sealed until "
                "publication); import it per right instead",
            )
        outcomes, changes = self._registrations(items, False, anchored=True)

        def anchors_of(kept: list[AcceptedChange]) -> list[AnchorBatch]:
            return [
                anchor_batch(
                    self.code, [(c.right_id, c.version, c.record_hash) for c in kept[i : i + batch_size]]
                )
                for i in range(0, len(kept), batch_size)
            ]

        refusals, anchors = self.store.accept_anchored(changes, anchors_of)
        entry_of = {right_id: entry.id for batch, entry in anchors for right_id, _ in batch.versions}
        change_of = iter(zip(changes, refusals, strict=True))
        results: list[Accepted | OfficeError] = []
        for outcome in outcomes:
            if outcome is not None:
                results.append(outcome)
                continue
            change, refusal = next(change_of)
            if refusal is not None:
                results.append(VersionConflict(change.right_id, 0, self.store.right_version(change.right_id)))
            else:
                results.append(
                    Accepted(change.right_id, change.version, change.record_hash, entry_of[change.right_id])
                )
        queued = [QueuedAnchor(b.root, len(b.versions), b.manifest_hash, e.id) for b, e in anchors]
        return AnchoredImport(results, queued)

    def _registrations(
        self, items: list[tuple[Right, bytes | None]], confidential: bool, anchored: bool
    ) -> tuple[list[OfficeError | None], list[AcceptedChange]]:
        """The signed version-1 changes of an import, and per item its refusal (None: a change follows)."""
        outcomes: list[OfficeError | None] = []
        changes: list[AcceptedChange] = []
        for right, source_xml in items:
            try:
                self._check_competent(right.rightId, right.ipOfficeCode)
            except OfficeError as err:
                outcomes.append(err)
                continue
            signed = self._sign(RightRecord(version=1, right=right, changeKind="registration"))
            chain_state, state = self._chain_state(signed, confidential)
            # an anchored right's registration is built from its stored state if it is ever needed
            registration = None if anchored else [_registration(right, confidential, chain_state)]
            changes.append(
                self._change(signed, "register", registration, chain_state, state, confidential, source_xml)
            )
            outcomes.append(None)
        return outcomes, changes

    def record_ownership_change(
        self, right_id: str, expected_version: int, change: OwnershipChange
    ) -> Accepted:
        """Records an ownership change on one of the rights it covers."""
        if right_id not in change.rightIdBag:
            raise OfficeError("rightIdBag", f"the conveyance does not cover {right_id}")
        previous, current = self._current(right_id, expected_version)
        right = previous.right
        if change.conveyanceCategory in TITLE_CONVEYANCES:
            owners = list(change.assigneeBag)
            if change.transferCategory == "partial":
                owners = list(right.ownerBag) + [p for p in owners if p not in right.ownerBag]
            right = right.model_copy(update={"ownerBag": owners})
        signed = self._sign(self._next(previous, current, right, "ownershipChange", ownershipChange=change))
        confidential = current.state["confidential"]
        chain_state, state = self._chain_state(signed, confidential)
        conveyance = (
            change.conveyanceCategory.chain_value,
            change.transferCategory == "partial",
            date_to_chain(change.effectiveDate),
            bytes.fromhex(change.evidenceDocumentHash),
        )
        rid = chain_right_id(right_id)
        args = [
            rid,
            expected_version,
            stored_chain_state(current).as_tuple(),
            chain_state.record_hash,
            chain_state.owner_commitment,
            conveyance,
        ]
        return self._store(
            self._change(signed, "recordOwnershipChange", args, chain_state, state, confidential)
        )

    def record_status(self, right_id: str, expected_version: int, event: LegalStatusEvent) -> Accepted:
        """Records a legal-status event; the right takes the event's status."""
        if event.correctsVersion is not None and event.correctsVersion > expected_version:
            raise OfficeError("correctsVersion", f"version {event.correctsVersion} does not exist yet")
        previous, current = self._current(right_id, expected_version)
        right = previous.right.model_copy(update={"legalStatus": event.status})
        signed = self._sign(self._next(previous, current, right, "legalStatusEvent", legalStatusEvent=event))
        confidential = current.state["confidential"]
        chain_state, state = self._chain_state(
            signed, confidential, owner_salt=bytes.fromhex(current.state["ownerSalt"])
        )
        chain_event = (
            event.status.to_chain(),
            event.previousStageCode,
            text_bytes(event.detailedEventCode or "", 16),
            date_to_chain(event.effectiveDate),
            event.correctsVersion or 0,
        )
        update = (
            chain_right_id(right_id),
            expected_version,
            stored_chain_state(current).as_tuple(),
            chain_state.record_hash,
            chain_event,
        )
        return self._store(
            self._change(signed, "recordStatusEvent", [update], chain_state, state, confidential)
        )

    def publish(self, right_id: str, expected_version: int) -> Accepted:
        """Publishes a confidential right: opens the seal of its current record, which becomes public."""
        previous, current = self._current(right_id, expected_version)
        if not current.state["confidential"]:
            raise OfficeError("rightId", f"{right_id} is not confidential")
        plain_hash, salt = (
            bytes.fromhex(current.state["recordHash"]),
            bytes.fromhex(current.state["sealSalt"]),
        )
        sealed = stored_chain_state(current)
        chain_state = RightState(plain_hash, sealed.owner_commitment, previous.right.legalStatus.to_chain())
        state = {
            **current.state,
            "confidential": False,
            "sealSalt": None,
            "chainState": chain_state.hex_fields(),
        }
        args = [chain_right_id(right_id), expected_version, sealed.as_tuple(), plain_hash, salt]
        change = AcceptedChange(
            right_id=right_id, kind=previous.right.rightKindCategory.value, version=expected_version + 1,
            change_kind="publication", record_hash=plain_hash, canonical=current.canonical,
            signature=current.signature, action="publish",
            payload=_payload(args, right_id, expected_version + 1, chain_state),
            confidential=False, state=state, publishes=True, source_xml=current.source_xml,
        )  # fmt: skip
        return self._store(change)

    def designate(self, right_id: str, expected_version: int, designation: Designation) -> Accepted:
        """Records the designation of an office on an international registration (the International Bureau
        only): a new version of the registration whose record lists the designation, and, on chain, the
        designation's entry reserved for the designated office's decisions."""
        if self.code != INTERNATIONAL_BUREAU:
            raise NotCompetent(
                "rightId", f"only the International Bureau ({INTERNATIONAL_BUREAU}) designates offices; "
                f"this node acts for {self.code}",
            )  # fmt: skip
        previous, current = self._current(right_id, expected_version)
        right = previous.right
        if right.rightKindCategory not in DESIGNATABLE_KINDS:
            raise OfficeError(
                "rightId",
                f"{right_id} is a {right.rightKindCategory.value}: only Madrid trademarks and Hague designs "
                "designate offices",
            )
        if current.state["confidential"]:
            raise OfficeError("rightId", f"{right_id} is confidential: publish it before designating offices")
        designated = [d.designatedOfficeCode for d in right.designationBag or []]
        if designation.designatedOfficeCode in designated:
            raise OfficeError(
                "designatedOfficeCode", f"{right_id} already designates {designation.designatedOfficeCode}"
            )
        right = right.model_copy(update={"designationBag": [*(right.designationBag or []), designation]})
        signed = self._sign(self._next(previous, current, right, "designation", designation=designation))
        chain_state, state = self._chain_state(
            signed, False, owner_salt=bytes.fromhex(current.state["ownerSalt"])
        )
        entry_id = designation_id(right_id, designation.designatedOfficeCode)
        args = [(
            chain_right_id(right_id),
            expected_version,
            stored_chain_state(current).as_tuple(),
            chain_state.record_hash,
            chain_right_id(entry_id),
            designation.designatedOfficeCode.encode("ascii"),
            date_to_chain(designation.designationDate),
        )]  # fmt: skip
        return self._store(self._change(signed, "designate", args, chain_state, state, False))

    def record_decision(
        self, entry_id: str, expected_version: int, decision: DesignationDecision, kind: Any
    ) -> Accepted:
        """Records this office's decision on its designation by an international registration of `kind`
        (its first decision registers the designation's entry; the chain must already hold the
        designation, which the caller checks). Only the designated office decides."""
        self.own_designation(entry_id)
        latest = self.store.latest(entry_id)
        actual = latest.version if latest else 0
        if actual != expected_version:
            raise VersionConflict(entry_id, expected_version, actual)
        record = DesignationRecord(
            version=expected_version + 1,
            designationId=entry_id,
            decision=decision,
            previousRecordHash=latest.record_hash.hex() if latest else None,
        )
        canonical = canonical_bytes(record)
        digest = hashlib.sha256(canonical).digest()
        signature = sign_document(canonical, self.signing_key, self.code).to_json()
        chain_state = RightState(digest, NO_OWNER_COMMITMENT, decision.status.to_chain())
        rid = chain_right_id(entry_id)
        args: list[Any]
        if latest is None:
            action, args = "register", [(rid, kind.chain_value, False, chain_state.as_tuple())]
        else:
            event = (
                decision.status.to_chain(),
                decision.previousStageCode,
                text_bytes(decision.detailedEventCode or "", 16),
                date_to_chain(decision.decisionDate),
                0,
            )
            action = "recordStatusEvent"
            args = [(rid, expected_version, stored_chain_state(latest).as_tuple(), digest, event)]
        state = {
            "chainState": chain_state.hex_fields(),
            "recordHash": digest.hex(),
            "ownerSalt": NO_OWNER_COMMITMENT.hex(),
            "sealSalt": None,
            "confidential": False,
        }
        change = AcceptedChange(
            right_id=entry_id, kind=kind.value, version=record.version, change_kind="decision",
            record_hash=digest, canonical=canonical, signature=signature, action=action,
            payload=_payload(args, entry_id, record.version, chain_state), state=state,
        )  # fmt: skip
        return self._store(change)

    def own_designation(self, entry_id: str) -> str:
        """The international registration of `entry_id`, a designation of this office; OfficeError if it is
        no designation, NotCompetent if it designates another office."""
        split = split_designation_id(entry_id)
        if split is None:
            raise OfficeError("designationId", f"{entry_id} is not a designation (e.g. WO:TM:1234567@GB)")
        registration, designated = split
        if designated != self.code:
            raise NotCompetent(
                "designationId", f"{entry_id} designates {designated}; this node acts for {self.code}"
            )
        return registration

    # ------------------------------------------------------------ internals

    def _check_competent(self, right_id: str, office: str) -> None:
        if office != self.code:
            raise NotCompetent(
                "rightId", f"{right_id} belongs to office {office}; this node acts for {self.code}"
            )

    def _current(self, right_id: str, expected_version: int) -> tuple[RightRecord, StoredVersion]:
        if split_designation_id(right_id) is not None:
            raise OfficeError(
                "rightId", f"{right_id} is a designation: its office records decisions on it, nothing else"
            )
        self._check_competent(right_id, right_id.split(":", 1)[0])
        current = self.store.latest(right_id)
        if current is None:
            raise UnknownRight("rightId", f"{right_id} is not registered by this office")
        if current.version != expected_version:
            raise VersionConflict(right_id, expected_version, current.version)
        return RightRecord.model_validate_json(current.canonical), current

    @staticmethod
    def _next(
        previous: RightRecord, current: StoredVersion, right: Right, kind: Any, **change: Any
    ) -> RightRecord:
        """The record after `previous`, at the version after the stored one: a publication is a version of
        its own that keeps its record (which still names the version it was signed at)."""
        return RightRecord(
            version=current.version + 1,
            right=right,
            changeKind=kind,
            previousRecordHash=record_hash(previous).hex(),
            **change,
        )

    def _sign(self, record: RightRecord) -> SignedRecord:
        canonical = canonical_bytes(record)
        signature = sign_document(canonical, self.signing_key, self.code)
        return SignedRecord(record, canonical, hashlib.sha256(canonical).digest(), signature.to_json())

    @staticmethod
    def _chain_state(
        signed: SignedRecord, confidential: bool, owner_salt: bytes | None = None
    ) -> tuple[RightState, dict[str, Any]]:
        """The RightState for the chain and the secrets the next change needs (kept in the store)."""
        record, plain_hash = signed.record, signed.record_hash
        owner_salt = owner_salt or secrets.token_bytes(32)
        seal_salt = secrets.token_bytes(32) if confidential else None
        chain_record = seal(plain_hash, seal_salt) if seal_salt else plain_hash
        chain_state = RightState(
            chain_record,
            owner_commitment(list(record.right.ownerBag), owner_salt),
            record.right.legalStatus.to_chain(),
        )
        state = {
            "chainState": chain_state.hex_fields(),
            "recordHash": plain_hash.hex(),
            "ownerSalt": owner_salt.hex(),
            "sealSalt": seal_salt.hex() if seal_salt else None,
            "confidential": confidential,
        }
        return chain_state, state

    @staticmethod
    def _change(
        signed: SignedRecord,
        action: str,
        args: list[Any] | None,
        chain_state: RightState,
        state: dict[str, Any],
        confidential: bool,
        source_xml: bytes | None = None,
    ) -> AcceptedChange:
        """The signed record and its contract call, ready for the store; `args` None: an anchored change,
        which has no call of its own (its anchor's carries its record hash)."""
        record = signed.record
        return AcceptedChange(
            right_id=record.right.rightId,
            kind=record.right.rightKindCategory.value,
            version=record.version,
            change_kind=record.changeKind,
            record_hash=signed.record_hash,
            canonical=signed.canonical,
            signature=signed.signature,
            action=action,
            payload={} if args is None else _payload(args, record.right.rightId, record.version, chain_state),
            confidential=confidential,
            source_xml=source_xml,
            state=state,
            anchored=args is None,
        )

    def _store(self, change: AcceptedChange) -> Accepted:
        if change.version > 1 and self.store.needs_registration(change.right_id):
            change = dataclasses.replace(change, queue_first=(self._deferred_registration(change.right_id),))
        try:
            entry: OutboxEntry = self.store.accept(change)
        except DuplicateChange as err:
            raise VersionConflict(
                err.right_id, err.version - 1, self.store.right_version(err.right_id)
            ) from None
        except StaleVersion as err:
            raise VersionConflict(err.right_id, err.expected, err.actual) from None
        return Accepted(change.right_id, change.version, change.record_hash, entry.id)

    def _deferred_registration(self, right_id: str) -> QueuedCall:
        """The registration an anchored right's version 1 would have had: queued ahead of its first change,
        so the chain holds the state the change names as current."""
        first = self.store.version(right_id, 1)
        if first is None:
            raise UnknownRight("rightId", f"{right_id} is not registered by this office")
        kind = RightRecord.model_validate_json(first.canonical).right.rightKindCategory
        chain_state = stored_chain_state(first)
        registration = (chain_right_id(right_id), kind.chain_value, False, chain_state.as_tuple())
        return QueuedCall(right_id, 1, "register", _payload([registration], right_id, 1, chain_state))


def stored_chain_state(version: StoredVersion) -> RightState:
    """The on-chain state of a stored version; the store keeps it as hex in `state["chainState"]`."""
    return RightState.from_hex_fields(version.state["chainState"])


def _registration(
    right: Right, confidential: bool, chain_state: RightState
) -> tuple[bytes, int, bool, tuple[bytes, bytes, bytes]]:
    """The `register` call's argument for a right: its chain id, kind, confidential flag and state."""
    return (
        chain_right_id(right.rightId),
        right.rightKindCategory.chain_value,
        confidential,
        chain_state.as_tuple(),
    )


def _payload(args: list[Any], right_id: str, version: int, chain_state: RightState) -> dict[str, Any]:
    return {
        "args": encode_args(args),
        "applied": {"rightId": encode_args(chain_right_id(right_id)), "version": version,
                    "state": encode_args(chain_state.as_tuple())},
    }  # fmt: skip
