"""International registrations (Madrid trademarks, Hague designs) at an office's node: the International
Bureau's side and the designated office's side.

WIPO's International Bureau is the office `WO`. Its node registers an international registration, records
each designation of an office on it (the chain then reserves the designation's entry for that office), and
records a change of holder as an ownership change of the registration, which every designation shares.
A designated office's node records its decisions on its own designation: the first registers the
designation's entry, the later ones are status events on it. The contract enforces who may record what;
this module checks it first, so an operator gets the refusal at once, naming the field, instead of a
failed transaction later.

A decision is accepted only once the chain shows the designation reserved for this office: before that,
its registration would make an ordinary right of the designation's id, and the Bureau's designation would
then be refused.

`apply_transaction` takes a whole ST.96 Madrid or Hague transaction, item by item in document order; each
item is accepted whole or refused whole, and a refused item does not stop the others. Importing the same
transaction again records nothing twice: an item the node already holds (the same registration, the same
designation, a change of holder or a decision from the same transaction) is reported as already recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

from registry_node.node.office import Accepted, NotCompetent, Office, OfficeError, UnknownRight
from registry_node.node.onchain import ChainView
from registry_node.protocol.chain import ChainError
from registry_node.protocol.records import (
    INTERNATIONAL_BUREAU,
    Assignor,
    ConveyanceCategory,
    Designation,
    DesignationDecision,
    DesignationRecord,
    OwnershipChange,
    RightRecord,
    split_designation_id,
)
from registry_node.protocol.st96.document import (
    DesignationAdded,
    HolderChange,
    InternationalRegistration,
    OfficeDecision,
    St96Transaction,
)


class ChainUnavailable(OfficeError):
    """What a change needs to know from the chain could not be read: nothing was stored; try again."""

    status = 503


def designate(
    office: Office, chain: ChainView, right_id: str, expected_version: int, designation: Designation
) -> Accepted:
    """Records the Bureau's designation of an office that is a member of the consortium (the contract
    refuses any other, so accepting it would only queue a refusal)."""
    code = designation.designatedOfficeCode
    try:
        status = chain.office_status(code)
    except ChainError as err:
        raise ChainUnavailable(
            "designatedOfficeCode", f"whether {code} is a member could not be read: {err}"
        ) from None
    if status == "none":
        raise OfficeError(
            "designatedOfficeCode",
            f"{code} is not a member office of the consortium: its designation stays in the International "
            "Bureau's own register",
        )
    return office.designate(right_id, expected_version, designation)


def record_decision(
    office: Office, chain: ChainView, entry_id: str, expected_version: int, decision: DesignationDecision
) -> Accepted:
    """Records `office`'s decision on its designation `entry_id`, once the chain holds the designation."""
    registration = office.own_designation(entry_id)
    designated = office.code
    try:
        slot = chain.entry(entry_id)
    except ChainError as err:
        raise ChainUnavailable(
            "designationId", f"whether {registration} designates {designated} could not be read: {err}"
        ) from None
    if slot.office != office.code or slot.kind is None:
        raise UnknownRight(
            "designationId",
            f"the chain holds no designation of {designated} by {registration} yet; the International "
            f"Bureau records it first",
        )
    return office.record_decision(entry_id, expected_version, decision, slot.kind)


@dataclass(frozen=True)
class ItemOutcome:
    """One item of a transaction: what it was, and the changes it made or the refusal."""

    index: int
    item: str
    right_id: str
    accepted: list[Accepted]
    error: OfficeError | None = None
    already_recorded: bool = False


def apply_transaction(office: Office, chain: ChainView, transaction: St96Transaction) -> list[ItemOutcome]:
    """Applies a Madrid or Hague transaction at `office`'s node, item by item. An international
    registration is one outcome for its registration and one for each office it designates, so a
    designation the chain would refuse (an office outside the consortium) is reported alone."""
    outcomes: list[ItemOutcome] = []
    evidence = transaction.c14n_sha256.hex()
    for index, item in enumerate(transaction.items):
        try:
            if isinstance(item, InternationalRegistration):
                _bureau_only(office)
                rid = item.right.rightId
                right = item.right.model_copy(update={"designationBag": None})
                if _recorded(office, rid, "right", right, first_only=True):
                    outcomes.append(
                        ItemOutcome(index, "internationalRegistration", rid, [], already_recorded=True)
                    )
                else:
                    outcomes.append(
                        ItemOutcome(index, "internationalRegistration", rid, [office.register(right)])
                    )
                for designation in item.right.designationBag or []:
                    outcomes.append(_designation(office, chain, index, rid, designation))
            elif isinstance(item, DesignationAdded):
                _bureau_only(office)
                rid = item.internationalRegistrationId
                outcomes.append(_designation(office, chain, index, rid, item.designation))
            elif isinstance(item, HolderChange):
                _bureau_only(office)
                rid = item.internationalRegistrationId
                change = _ownership_change(item, evidence)
                if _recorded(office, rid, "ownershipChange", change):
                    outcomes.append(ItemOutcome(index, "holderChange", rid, [], already_recorded=True))
                else:
                    accepted = office.record_ownership_change(rid, _version(office, rid), change)
                    outcomes.append(ItemOutcome(index, "holderChange", rid, [accepted]))
            elif isinstance(item, OfficeDecision):
                entry, decision = item.designationId, item.decision
                if _recorded(office, entry, "decision", decision):
                    outcomes.append(ItemOutcome(index, "decision", entry, [], already_recorded=True))
                else:
                    latest = office.store.right_version(entry)
                    accepted = record_decision(office, chain, entry, latest, decision)
                    outcomes.append(ItemOutcome(index, "decision", entry, [accepted]))
            else:  # pragma: no cover - the parser yields only the items above
                raise OfficeError("items", f"item {index} is of no kind this node records")
        except OfficeError as err:
            outcomes.append(ItemOutcome(index, _ITEM_NAMES.get(type(item), "item"), _subject(item), [], err))
    return outcomes


_ITEM_NAMES: dict[type, str] = {
    InternationalRegistration: "internationalRegistration",
    DesignationAdded: "designation",
    HolderChange: "holderChange",
    OfficeDecision: "decision",
}


def _designation(
    office: Office, chain: ChainView, index: int, right_id: str, designation: Designation
) -> ItemOutcome:
    subject = f"{right_id}@{designation.designatedOfficeCode}"
    if _recorded(office, right_id, "designation", designation):
        return ItemOutcome(index, "designation", subject, [], already_recorded=True)
    try:
        accepted = designate(office, chain, right_id, _version(office, right_id), designation)
    except OfficeError as err:
        return ItemOutcome(index, "designation", subject, [], err)
    return ItemOutcome(index, "designation", subject, [accepted])


def _recorded(office: Office, entry_id: str, field: str, value: object, first_only: bool = False) -> bool:
    """Whether a version of the entry at this node (its first only, with `first_only`) holds `value` as
    its record's `field`: the same registration, designation, change of holder or decision."""
    kind = DesignationRecord if split_designation_id(entry_id) else RightRecord
    for version in range(office.store.right_version(entry_id), 0, -1):
        stored = office.store.version(entry_id, version)
        if stored is None or (first_only and version != 1):
            continue
        if getattr(kind.model_validate_json(stored.canonical), field, None) == value:
            return True
    return False


def _bureau_only(office: Office) -> None:
    if office.code != INTERNATIONAL_BUREAU:
        raise NotCompetent(
            "rightId",
            f"the International Bureau ({INTERNATIONAL_BUREAU}) records international registrations, their "
            f"designations and changes of holder; this node acts for {office.code}",
        )


def _version(office: Office, right_id: str) -> int:
    version = office.store.right_version(right_id)
    if not version:
        raise UnknownRight("rightId", f"{right_id} is not registered by this office")
    return version


def _ownership_change(item: HolderChange, evidence: str) -> OwnershipChange:
    if not item.previousHolders or not item.newHolders:
        raise OfficeError("HolderChangeBag", "a change of holder names the previous and the new holders")
    return OwnershipChange(
        conveyanceCategory=ConveyanceCategory.ASSIGNMENT,
        transferCategory="partial" if item.partial else "full",
        assignorBag=[Assignor(name=p.name) for p in item.previousHolders],
        assigneeBag=[p.model_copy(update={"roleBag": None}) for p in item.newHolders],
        effectiveDate=item.effectiveDate,
        recordalDate=item.recordalDate,
        rightIdBag=[item.internationalRegistrationId],
        evidenceDocumentHash=evidence,
    )


def _subject(item: object) -> str:
    for name in ("designationId", "internationalRegistrationId"):
        value = getattr(item, name, None)
        if isinstance(value, str):
            return value
    right = getattr(item, "right", None)
    return str(getattr(right, "rightId", ""))
