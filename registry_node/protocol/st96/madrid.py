"""Madrid (trademarks) transactions between WIPO's International Bureau and an office, item by item (paths
below the root; statuses ST.61).

IB to office (tmk:MadridIBToOfficeTransaction; the office is tmk:MadridIBTransactionHeader/
com:ReceivingOfficeCode), each child of tmk:MadridIBToOfficeBag:

- tmk:MadridInternationalRegistrationCreation of category Registration: an `InternationalRegistration`
  `WO:TM:{com:InternationalRegistrationNumber}`, registered on its com:RecordEffectiveDate (the date the
  International Register records it), with its original designations (tmk:DesignatedCountryBag), holders
  (tmk:HolderBag/tmk:Holder), representative (com:Representative), mark (tmk:MarkVerbalElementText, else
  tmk:MarkSignificantVerbalElementText), Nice classes (tmk:GoodsServicesBag) and priorities
  (tmk:PriorityBag). A creation by partial change of ownership or by division is not imported: it makes a
  registration out of another one, which a registration record cannot say.
- tmk:MadridDesignation, the notification of a designation to the office it designates: of category
  Registration, the same `InternationalRegistration`, registered on its com:InternationalRegistrationDate;
  of category Subsequent designation, one `DesignationAdded` per office of its tmk:DesignatedCountryBag,
  designated on its com:RecordEffectiveDate. Either must designate the receiving office. Its other
  categories (partial change of ownership, division, merger, conversion) are not imported.
- tmk:MadridHolderRepresentativeChange of category Change of ownership: a `HolderChange` from
  tmk:HolderChangeBag/tmk:PreviousHolderBag/tmk:PreviousHolder to tmk:HolderChangeBag/tmk:HolderBag/
  tmk:Holder, effective and recorded on its com:RecordEffectiveDate (the notification gives no other date of
  the transfer). A Madrid change of ownership is of the whole registration: one of part of it comes as
  tmk:MadridPartialChangeOwnership, which creates a new registration and is not imported.

Office to IB (tmk:MadridOfficeToIBTransaction; the office is tmk:MadridOfficeTransactionHeader/
com:IPOfficeCode), each an `OfficeDecision` on `WO:TM:{number}@{office}`:

- tmk:MadridProvisionalRefusal: total with tmk:AllGoodsServicesIndicator, partial with
  tmk:GoodsServicesRefusalBag, whose tmk:GoodsServicesRefusal lists the classes and goods refused (or, of
  category Accepted, the only ones protected, which then go to goodsServicesText alone); a partial refusal
  naming no class is refused. Dated tmk:RefusalPronouncedDate.
- tmk:MadridGrantProtection: a statement of grant of protection.
- tmk:MadridFinalDecision and tmk:MadridFurtherDecision: a final decision, confirming the refusal
  (tmk:RefusalProtectionIndicator) or granting protection (tmk:GrantProtectionIndicator), for all goods
  (tmk:AllGoodsServicesIndicator) or those of tmk:PartialGoodsServicesBag, at least one class.
- tmk:MadridInvalidation: total with tmk:AllGoodsServicesIndicator, partial for the classes of its
  tmk:GoodsServicesBag; dated tmk:RefusalPronouncedDate.

A decision without its own date is dated com:RecordNotificationDate, else the header's com:RequestDate.
Any other notification is refused, naming it and "not imported".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, Literal, NamedTuple

from registry_node.protocol.records import DecisionCategory, RightKind
from registry_node.protocol.st96.document import DesignationAdded, HolderChange, St96Error, TransactionItem
from registry_node.protocol.st96.international import (
    check_sender,
    decision,
    designations,
    indicator,
    not_imported,
    parties_of,
    receiving_office,
    registration,
    registration_id,
    require_designated,
    sender_office,
)
from registry_node.protocol.st96.reader import (
    Reader,
    distinct_links,
    nice,
    nice_class,
    priority_links,
    unique,
)
from registry_node.protocol.st96.xml import element_path, qualified

STANDARD: Final = "ST.61"
_OFFICE_HEADER: Final = "tmk:MadridOfficeTransactionHeader/com:IPOfficeCode"


# --- IB to office ------------------------------------------------------------------------------------


def map_ib_to_office(reader: Reader, evidence: str) -> list[TransactionItem]:
    receiving = receiving_office(reader, reader.require(reader.root, "tmk:MadridIBTransactionHeader"))
    items: list[TransactionItem] = []
    for item in reader.find_all(reader.require(reader.root, "tmk:MadridIBToOfficeBag"), "*"):
        name = qualified(item.tag)
        if name == "tmk:MadridInternationalRegistrationCreation":
            category = reader.require_text(item, "tmk:MadridInternationalRegistrationCreationCategory")
            if category != "Registration":
                raise not_imported(item, f"an international registration created by {category.lower()}")
            items.append(_registration(reader, item, "com:RecordEffectiveDate", None))
        elif name == "tmk:MadridDesignation":
            items += _designation(reader, item, receiving)
        elif name == "tmk:MadridHolderRepresentativeChange":
            items.append(_holder_change(reader, item))
        else:
            raise not_imported(
                item, f"{name} is not an international registration, designation or change of holder"
            )
    return items


def _registration(reader: Reader, item: Any, date_path: str, receiving: str | None) -> TransactionItem:
    date = reader.require_date(item, date_path)
    bag = reader.require(item, "tmk:DesignatedCountryBag")
    found = designations(reader, reader.find_all(bag, "tmk:DesignatedCountry"), "original", date)
    require_designated(reader, found, bag, receiving)
    goods = reader.require(item, "tmk:GoodsServicesBag")
    verbal = reader.find(item, "tmk:MarkVerbalElementText")
    if reader.text(verbal) is None:
        verbal = reader.find(item, "tmk:MarkSignificantVerbalElementText")
    representative = reader.find(item, "com:Representative")
    return registration(
        reader,
        RightKind.TRADEMARK,
        item,
        parties_of(reader, item, "tmk:HolderBag/tmk:Holder"),
        [reader.party(representative)] if representative is not None else [],
        {
            "registrationDate": date,
            "markVerbalElementText": reader.text(verbal),
            "classificationBag": nice(reader, goods),
            "designationBag": found or None,
            "familyLinkBag": distinct_links(
                priority_links(
                    reader, reader.find_all(item, "tmk:PriorityBag/tmk:Priority"), RightKind.TRADEMARK
                )
            ),
        },
        {"markVerbalElementText": verbal, "classificationBag": goods, "designationBag": bag},
    )


def _designation(reader: Reader, item: Any, receiving: str) -> list[TransactionItem]:
    category = reader.require_text(item, "tmk:MadridDesignationCategory")
    if category == "Registration":
        return [_registration(reader, item, "com:InternationalRegistrationDate", receiving)]
    if category != "Subsequent designation":
        raise not_imported(item, f"a designation by {category.lower()}")
    date = reader.require_date(item, "com:RecordEffectiveDate")
    bag = reader.require(item, "tmk:DesignatedCountryBag")
    found = designations(reader, reader.find_all(bag, "tmk:DesignatedCountry"), "subsequent", date)
    require_designated(reader, found, bag, receiving)
    registered = registration_id(reader, item, RightKind.TRADEMARK)
    return [DesignationAdded(registered, designation) for designation in found]


def _holder_change(reader: Reader, item: Any) -> HolderChange:
    category = reader.require_text(item, "tmk:MadridHolderRepresentativeChangeCategory")
    if category != "Change of ownership":
        raise not_imported(item, f"a {category!r} changes no holder")
    changes = reader.require(item, "tmk:HolderChangeBag")
    date = reader.require_date(item, "com:RecordEffectiveDate")
    return HolderChange(
        internationalRegistrationId=registration_id(reader, item, RightKind.TRADEMARK),
        previousHolders=parties_of(reader, changes, "tmk:PreviousHolderBag/tmk:PreviousHolder"),
        newHolders=parties_of(reader, changes, "tmk:HolderBag/tmk:Holder"),
        effectiveDate=date,
        recordalDate=date,
        partial=False,
    )


# --- office to IB ------------------------------------------------------------------------------------


def map_office_to_ib(reader: Reader, evidence: str) -> list[TransactionItem]:
    header = reader.require(reader.root, "tmk:MadridOfficeTransactionHeader")
    sender = sender_office(reader, header)
    header_date = reader.first_date(header, "com:RequestDate", "com:RequestDateTime")
    items: list[TransactionItem] = []
    for item in reader.find_all(reader.require(reader.root, "tmk:MadridOfficeToIBBag"), "*"):
        name = qualified(item.tag)
        read = _DECISIONS.get(name)
        if read is None:
            raise not_imported(
                item, f"{name} is not a provisional refusal, grant, final decision or invalidation"
            )
        check_sender(reader, item, sender, _OFFICE_HEADER)
        stated = read(reader, item)
        date = stated.date or reader.first_date(item, "com:RecordNotificationDate") or header_date
        if date is None:
            raise St96Error(
                element_path(item), "is not dated (no com:RecordNotificationDate, nor header date)"
            )
        items.append(
            decision(
                reader,
                item,
                registration_id=registration_id(reader, item, RightKind.TRADEMARK),
                sender=sender,
                standard=STANDARD,
                category=stated.category,
                scope=stated.scope,
                date=date,
                evidence=evidence,
                refused=stated.refused,
                classes=list(stated.classes),
                goods=stated.goods,
            )
        )
    return items


class _Stated(NamedTuple):
    """What a decision states, read from its element."""

    category: DecisionCategory
    scope: Literal["total", "partial"] | None = None
    classes: tuple[str, ...] = ()
    goods: str | None = None
    refused: bool = False  # a final decision: whether it confirms the refusal
    date: str | None = None  # its own date, when it has one


def _provisional_refusal(reader: Reader, item: Any) -> _Stated:
    date = reader.first_date(item, "tmk:RefusalPronouncedDate")
    if _all_goods(reader, item, "tmk:GoodsServicesRefusalBag"):
        return _Stated(DecisionCategory.PROVISIONAL_REFUSAL, "total", date=date)
    bag = reader.require(item, "tmk:GoodsServicesRefusalBag")
    refused: list[str] = []
    accepted: list[str] = []
    classes: list[str] = []
    for refusal in reader.find_all(bag, "tmk:GoodsServicesRefusal"):
        only_accepted = reader.optional_text(refusal, "tmk:GoodsServicesRefusalCategory") == "Accepted"
        for described in reader.find_all(
            refusal, "tmk:ClassDescriptionRefusalBag/tmk:ClassDescriptionRefusal"
        ):
            klass = nice_class(reader.require_text(described, "tmk:ClassNumber"))
            goods = "; ".join(reader.texts(described, "tmk:GoodsServicesDescriptionText"))
            (accepted if only_accepted else refused).append(f"{klass}: {goods}" if goods else klass)
            if not only_accepted:
                classes.append(klass)
    if not (refused or accepted):
        raise St96Error(
            element_path(bag),
            "a partial refusal names no class: no tmk:GoodsServicesRefusal/tmk:ClassDescriptionRefusalBag/"
            "tmk:ClassDescriptionRefusal/tmk:ClassNumber says what is refused",
        )
    text = " | ".join(
        part
        for part in ("; ".join(refused), f"protected only for {'; '.join(accepted)}" if accepted else "")
        if part
    )
    return _Stated(DecisionCategory.PROVISIONAL_REFUSAL, "partial", tuple(unique(classes)), text, date=date)


def _grant(reader: Reader, item: Any) -> _Stated:
    return _Stated(DecisionCategory.GRANT_OF_PROTECTION)


def _final(reader: Reader, item: Any) -> _Stated:
    granted = indicator(reader, item, "tmk:GrantProtectionIndicator")
    refusal = indicator(reader, item, "tmk:RefusalProtectionIndicator")
    if granted is None and refusal is None:
        raise St96Error(
            element_path(item), "says neither tmk:GrantProtectionIndicator nor tmk:RefusalProtectionIndicator"
        )
    refused = refusal if refusal is not None else not granted
    if _all_goods(reader, item, "tmk:PartialGoodsServicesBag"):
        return _Stated(DecisionCategory.FINAL_DECISION, "total", refused=refused)
    classes, goods = _listed(reader, reader.require(item, "tmk:PartialGoodsServicesBag"))
    text = f"{'refused' if refused else 'protected'} for {goods}"
    return _Stated(DecisionCategory.FINAL_DECISION, "partial", classes, text, refused=refused)


def _invalidation(reader: Reader, item: Any) -> _Stated:
    date = reader.first_date(item, "tmk:RefusalPronouncedDate")
    if _all_goods(reader, item, "tmk:GoodsServicesBag"):
        return _Stated(DecisionCategory.INVALIDATION, "total", date=date)
    classes, goods = _listed(reader, reader.require(item, "tmk:GoodsServicesBag"))
    return _Stated(DecisionCategory.INVALIDATION, "partial", classes, f"invalidated for {goods}", date=date)


_DECISIONS: Final[dict[str, Callable[[Reader, Any], _Stated]]] = {
    "tmk:MadridProvisionalRefusal": _provisional_refusal,
    "tmk:MadridGrantProtection": _grant,
    "tmk:MadridFinalDecision": _final,
    "tmk:MadridFurtherDecision": _final,
    "tmk:MadridInvalidation": _invalidation,
}


def _all_goods(reader: Reader, item: Any, partial_path: str) -> bool:
    """Whether the decision is for all goods and services (tmk:AllGoodsServicesIndicator true)."""
    all_goods = indicator(reader, item, "tmk:AllGoodsServicesIndicator")
    if all_goods is False and reader.find(item, partial_path) is None:
        raise St96Error(
            element_path(reader.find(item, "tmk:AllGoodsServicesIndicator")),
            f"is false and no {partial_path} names the goods and services concerned",
        )
    return bool(all_goods)


def _listed(reader: Reader, goods: Any) -> tuple[tuple[str, ...], str]:
    """The Nice classes of a tmk:GoodsServicesBag (at least one) and its goods as text."""
    classes = nice(reader, goods)
    if not classes:
        raise St96Error(
            element_path(goods),
            "a partial decision names no class: no tmk:GoodsServices/tmk:GoodsServicesClassificationBag/"
            "tmk:GoodsServicesClassification/tmk:ClassNumber",
        )
    described = []
    for description in reader.find_all(
        goods, "tmk:GoodsServices/tmk:ClassDescriptionBag/tmk:ClassDescription"
    ):
        number = reader.optional_text(description, "tmk:ClassNumber")
        text = "; ".join(reader.texts(description, "tmk:GoodsServicesDescriptionText"))
        if text:
            described.append(f"{nice_class(number)}: {text}" if number else text)
    return tuple(classes), "; ".join(described) or ", ".join(classes)
