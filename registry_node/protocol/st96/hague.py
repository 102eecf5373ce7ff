"""Hague (industrial designs) transactions between WIPO's International Bureau and an office, item by item
(paths below the root; statuses ST.87). The Hague system has no subsequent designation.

IB to office (dgn:HagueIBToOfficeTransaction): either the office copies sent to one office
(dgn:HagueIBToOfficeBag: dgn:HagueIBTransactionHeader/com:ReceivingOfficeCode, then dgn:HagueOfficeCopyBag)
or the International Designs Bulletin (dgn:HagueBulletin/dgn:HagueBulletinTransactionBag). Of their bags:

- dgn:HagueRegistrationBag/dgn:HagueRegistration: an `InternationalRegistration`
  `WO:DES:{com:InternationalRegistrationNumber}`, registered on its com:InternationalRegistrationDate and
  filed on its com:InternationalFilingDate, with its designations (dgn:DesignatedCountryBag; an office copy
  must designate its receiving office), holders (dgn:HolderBag/dgn:Holder), representatives
  (com:RepresentativeBag/com:Representative), the first design's English com:ProductDescriptionText (else
  its first) as designTitle, every dgn:HagueDesign's Locarno classes and priorities (dgn:PriorityBag).
- dgn:HagueOwnershipChangeBag/dgn:HagueOwnershipChange: a `HolderChange` of each registration of its
  com:InternationalRegistrationNumberBag, from dgn:HolderChangeBag/dgn:PreviousHolderBag/dgn:PreviousHolder
  to dgn:HolderChangeBag/dgn:HolderBag/dgn:Holder, effective and recorded on its
  com:InternationalRecordingDate; partial when it names the designations (dgn:DesignatedCountryBag) or the
  designs (dgn:AffectedDesign/dgn:DesignIdentifierBag) it concerns.

Office to IB (dgn:HagueOfficeToIBTransaction; the office is dgn:HagueOfficeTransactionHeader/
com:IPOfficeCode, optional in the schema but needed here: without it no decision can be tied to a
designation), each an `OfficeDecision` on `WO:DES:{number}@{office}`, dated com:DecisionDate:

- dgn:HagueRefusalRequest: a provisional refusal; dgn:HagueGrantProtectionRequest: a statement of grant of
  protection; dgn:HagueRefusalWithdrawalRequest: a final decision withdrawing the refusal;
  dgn:HagueInvalidationRequest: an invalidation. Each is total (dgn:AffectedDesign/dgn:AllDesignsIndicator)
  or partial (dgn:AffectedDesign/dgn:DesignIdentifierBag): a partial one names its designs in
  goodsServicesText ("designs 2, 3") and their Locarno classes when its dgn:HagueDesignBag gives them.

Any other bag or request is refused, naming it and "not imported".
"""

from __future__ import annotations

from typing import Any, Final, Literal

from registry_node.protocol.records import DecisionCategory, RightKind
from registry_node.protocol.st96.document import HolderChange, St96Error, TransactionItem
from registry_node.protocol.st96.international import (
    check_sender,
    decision,
    designations,
    indicator,
    ir_id,
    not_imported,
    parties_of,
    receiving_office,
    registration,
    registration_id,
    require_designated,
    sender_office,
)
from registry_node.protocol.st96.reader import Reader, distinct_links, locarno, priority_links, unique
from registry_node.protocol.st96.xml import element_path, qualified

STANDARD: Final = "ST.87"
_OFFICE_HEADER: Final = "dgn:HagueOfficeTransactionHeader/com:IPOfficeCode"


# --- IB to office ------------------------------------------------------------------------------------


def map_ib_to_office(reader: Reader, evidence: str) -> list[TransactionItem]:
    root = reader.root
    office_copies = reader.find(root, "dgn:HagueIBToOfficeBag")
    receiving: str | None = None
    if office_copies is not None:
        receiving = receiving_office(reader, reader.require(office_copies, "dgn:HagueIBTransactionHeader"))
        bags = []
        for child in reader.find_all(office_copies, "*"):
            name = qualified(child.tag)
            if name == "dgn:HagueOfficeCopyBag":
                bags += reader.find_all(child, "*")
            elif name != "dgn:HagueIBTransactionHeader":
                bags.append(child)
    else:
        bags = reader.find_all(reader.require(root, "dgn:HagueBulletin/dgn:HagueBulletinTransactionBag"), "*")
    items: list[TransactionItem] = []
    for bag in bags:
        name = qualified(bag.tag)
        if name == "dgn:HagueRegistrationBag":
            items += [
                _registration(reader, r, receiving) for r in reader.find_all(bag, "dgn:HagueRegistration")
            ]
        elif name == "dgn:HagueOwnershipChangeBag":
            for change in reader.find_all(bag, "dgn:HagueOwnershipChange"):
                items += _holder_changes(reader, change)
        else:
            raise not_imported(bag, f"{name} holds no international registration or change in ownership")
    return items


def _registration(reader: Reader, item: Any, receiving: str | None) -> TransactionItem:
    date = reader.require_date(item, "com:InternationalRegistrationDate")
    bag = reader.require(item, "dgn:DesignatedCountryBag")
    found = designations(reader, reader.find_all(bag, "dgn:DesignatedCountry"), "original", date)
    require_designated(reader, found, bag, receiving)
    designs = reader.find_all(reader.require(item, "dgn:HagueDesignBag"), "dgn:HagueDesign")
    if not designs:
        raise St96Error(f"{element_path(item)}/dgn:HagueDesignBag/dgn:HagueDesign", "missing")
    title = reader.preferring_english(
        reader.find_all(designs[0], "com:ProductDescriptionTextBag/com:ProductDescriptionText")
    )
    return registration(
        reader,
        RightKind.DESIGN,
        item,
        parties_of(reader, item, "dgn:HolderBag/dgn:Holder"),
        reader.parties(item, "com:RepresentativeBag/com:Representative"),
        {
            "filingDate": reader.first_date(item, "com:InternationalFilingDate"),
            "registrationDate": date,
            "designTitle": reader.text(title),
            "classificationBag": unique(c for design in designs for c in locarno(reader, design)),
            "designationBag": found or None,
            "familyLinkBag": distinct_links(
                link
                for design in designs
                for link in priority_links(
                    reader, reader.find_all(design, "dgn:PriorityBag/dgn:Priority"), RightKind.DESIGN
                )
            ),
        },
        {"designTitle": title, "classificationBag": designs[0], "designationBag": bag},
    )


def _holder_changes(reader: Reader, change: Any) -> list[TransactionItem]:
    numbers = reader.find_all(
        reader.require(change, "com:InternationalRegistrationNumberBag"),
        "com:InternationalRegistrationNumber",
    )
    if not numbers:
        raise St96Error(
            f"{element_path(change)}/com:InternationalRegistrationNumberBag", "names no registration"
        )
    holders = reader.require(change, "dgn:HolderChangeBag")
    previous = parties_of(reader, holders, "dgn:PreviousHolderBag/dgn:PreviousHolder")
    new = parties_of(reader, holders, "dgn:HolderBag/dgn:Holder")
    date = reader.require_date(change, "com:InternationalRecordingDate")
    scope, _ = _affected(reader, change, required=False)
    partial = scope == "partial" or reader.find(change, "dgn:DesignatedCountryBag") is not None
    return [
        HolderChange(ir_id(reader, number, RightKind.DESIGN), previous, new, date, date, partial)
        for number in numbers
    ]


# --- office to IB ------------------------------------------------------------------------------------

_REQUESTS: Final = {
    "dgn:HagueRefusalRequest": DecisionCategory.PROVISIONAL_REFUSAL,
    "dgn:HagueGrantProtectionRequest": DecisionCategory.GRANT_OF_PROTECTION,
    "dgn:HagueRefusalWithdrawalRequest": DecisionCategory.FINAL_DECISION,
    "dgn:HagueInvalidationRequest": DecisionCategory.INVALIDATION,
}


def map_office_to_ib(reader: Reader, evidence: str) -> list[TransactionItem]:
    sender = sender_office(reader, reader.require(reader.root, "dgn:HagueOfficeTransactionHeader"))
    items: list[TransactionItem] = []
    for item in reader.find_all(reader.require(reader.root, "dgn:HagueOfficeToIBBag"), "*"):
        name = qualified(item.tag)
        category = _REQUESTS.get(name)
        if category is None:
            raise not_imported(item, f"{name} is not a refusal, grant, refusal withdrawal or invalidation")
        check_sender(reader, item, sender, _OFFICE_HEADER)
        scope, designs = _affected(reader, item, required=True)
        classes: list[str] = []
        if designs:
            for design in reader.find_all(item, "dgn:HagueDesignBag/dgn:HagueDesign"):
                if reader.optional_text(design, "dgn:DesignIdentifier") in designs:
                    classes += locarno(reader, design)
        items.append(
            decision(
                reader,
                item,
                registration_id=registration_id(reader, item, RightKind.DESIGN),
                sender=sender,
                standard=STANDARD,
                category=category,
                scope=scope,
                date=reader.require_date(item, "com:DecisionDate"),
                evidence=evidence,
                classes=unique(classes),
                goods=f"design{'s' if len(designs) > 1 else ''} {', '.join(designs)}" if designs else None,
            )
        )
    return items


def _affected(
    reader: Reader, item: Any, required: bool
) -> tuple[Literal["total", "partial"] | None, list[str]]:
    """Total or partial, and the designs a partial decision or change names (dgn:AffectedDesign)."""
    affected = (
        reader.require(item, "dgn:AffectedDesign") if required else reader.find(item, "dgn:AffectedDesign")
    )
    if affected is None:
        return None, []
    listed = reader.find(affected, "dgn:DesignIdentifierBag")
    if listed is not None:
        designs = unique(reader.texts(listed, "dgn:DesignIdentifier"))
        if not designs:
            raise St96Error(element_path(listed), "a partial decision names no design (dgn:DesignIdentifier)")
        return "partial", designs
    if indicator(reader, affected, "dgn:AllDesignsIndicator") is not True:
        raise St96Error(
            element_path(affected),
            "names neither all designs (dgn:AllDesignsIndicator true) nor the designs concerned "
            "(dgn:DesignIdentifierBag)",
        )
    return "total", []
