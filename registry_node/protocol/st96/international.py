"""What the Madrid (`madrid`) and Hague (`hague`) transaction mappers share: international registration
numbers and ids, designations, holders, the check that an office speaks only for itself, and a designated
office's decision.

- An international registration's right id is `WO:TM:{number}` (Madrid) or `WO:DES:{number}` (Hague), its
  com:InternationalRegistrationNumber normalised as every application number is (`reader`); the id of its
  designation of an office is `WO:TM:{number}@{office}` (`records.designation_id`).
- The International Bureau (WO) is never a designated office: a designation or decision naming it is
  refused, and so is an office designated twice by one notification.
- An office decides only on its own designations: an office-to-IB transaction is the decision of the office
  its header names, and an item whose identifiers name another office is refused: the com:officeCode
  attribute of its com:OfficeReferenceIdentifier (the office's own reference) must be the sender, that of
  its com:RecordIdentifier or tmk:DesignationRecordIdentifier the sender or the Bureau (whose record the
  decision may answer).
"""

from __future__ import annotations

from typing import Any, Final, Literal

from registry_node.protocol.records import (
    INTERNATIONAL_BUREAU,
    RIGHT_TYPE_OF_KIND,
    DecisionCategory,
    Designation,
    DesignationDecision,
    Party,
    PartyRole,
    RightKind,
    designation_id,
)
from registry_node.protocol.st96.document import InternationalRegistration, OfficeDecision, St96Error
from registry_node.protocol.st96.reader import MAX_TEXT_CHARS, Mapped, PartyRoles, Reader, clipped, right_of
from registry_node.protocol.st96.status import GRANTED, decision_status
from registry_node.protocol.st96.xml import NAMESPACES, below, element_path, qualified

_OFFICE_ATTRIBUTE: Final = f"{{{NAMESPACES['com']}}}officeCode"
# An item's identifiers and whose they may be: the office's own reference is the sender's; a record
# identifier may also be the Bureau's (the record the decision answers).
_OFFICE_NAMING: Final = (
    ("com:OfficeReferenceIdentifier", False),
    ("com:RecordIdentifier", True),
    ("tmk:DesignationRecordIdentifier", True),
)
MAX_REFERENCE_CHARS: Final = 100  # DesignationDecision.officeReferenceText


def not_imported(element: Any, what: str) -> St96Error:
    """The refusal of a notification this registry does not import."""
    return St96Error(element_path(element) or qualified(element.tag), f"not imported: {what}")


def registration_id(reader: Reader, item: Any, kind: RightKind) -> str:
    """`WO:TM:{number}` or `WO:DES:{number}` from the item's com:InternationalRegistrationNumber."""
    return ir_id(reader, reader.require(item, "com:InternationalRegistrationNumber"), kind)


def ir_id(reader: Reader, number: Any, kind: RightKind) -> str:
    return f"{INTERNATIONAL_BUREAU}:{RIGHT_TYPE_OF_KIND[kind]}:{reader.number(number)}"


def office_code(reader: Reader, element: Any, role: str) -> str:
    """An ST.3 office code that must not be the International Bureau's (`role` says what the office is)."""
    office = reader.office(element)
    if office == INTERNATIONAL_BUREAU:
        raise St96Error(
            element_path(element),
            f"names the International Bureau ({INTERNATIONAL_BUREAU}), which is not {role}",
        )
    return office


def designations(
    reader: Reader,
    countries: list[Any],
    category: Literal["original", "subsequent"],
    date: str,
) -> list[Designation]:
    """One designation per com:DesignatedCountryCode of `countries` (tmk: or dgn:DesignatedCountry)."""
    found: list[Designation] = []
    for country in countries:
        code = reader.require(country, "com:DesignatedCountryCode")
        office = office_code(reader, code, "a designated office")
        if any(d.designatedOfficeCode == office for d in found):
            raise St96Error(element_path(code), f"designates {office} a second time")
        found.append(
            reader.model(
                Designation,
                code,
                designatedOfficeCode=office,
                designationCategory=category,
                designationDate=date,
            )
        )
    return found


def require_designated(reader: Reader, found: list[Designation], bag: Any, receiving: str | None) -> None:
    """Refuses a notification sent to an office it does not designate."""
    if receiving is not None and all(d.designatedOfficeCode != receiving for d in found):
        raise St96Error(
            element_path(bag),
            f"does not designate {receiving}, the office it is sent to (com:ReceivingOfficeCode)",
        )


def receiving_office(reader: Reader, header: Any) -> str:
    return office_code(reader, reader.require(header, "com:ReceivingOfficeCode"), "a receiving office")


def parties_of(reader: Reader, parent: Any, path: str) -> list[Party]:
    """The parties at `path` below `parent`, at least one (an St96Error naming the path otherwise)."""
    parties = reader.parties(parent, path)
    if not parties:
        raise St96Error(below(parent, path), "missing: names no party")
    return parties


def registration(
    reader: Reader,
    kind: RightKind,
    item: Any,
    holders: list[Party],
    representatives: list[Party],
    fields: dict[str, Any],
    sources: dict[str, Any],
) -> InternationalRegistration:
    """The international registration `item` records: holders (role holder, the owners), representatives,
    the given fields, status A4F10 (registered and in force)."""
    parties = PartyRoles()
    parties.add_all(holders, PartyRole.HOLDER)
    parties.add_all(representatives, PartyRole.REPRESENTATIVE)
    number = reader.require(item, "com:InternationalRegistrationNumber")
    mapped = Mapped(
        INTERNATIONAL_BUREAU,
        number,
        {
            "registrationNumberText": reader.text(number),
            "ownerBag": parties.holding(PartyRole.HOLDER),
            "representativeBag": parties.holding(PartyRole.REPRESENTATIVE),
            "partyBag": parties.bag(),
            "legalStatus": GRANTED,
            **fields,
        },
        {"ownerBag": item, "representativeBag": item, "partyBag": item, **sources},
    )
    right, _ = right_of(kind, mapped, reader)
    return InternationalRegistration(right)


def check_sender(reader: Reader, item: Any, sender: str, header_path: str) -> None:
    """Refuses an item whose identifiers name another office than the transaction's sender."""
    for path, bureau_may_name in _OFFICE_NAMING:
        for element in reader.find_all(item, path):
            named = element.get(_OFFICE_ATTRIBUTE)
            if (
                named is not None
                and named != sender
                and not (bureau_may_name and named == INTERNATIONAL_BUREAU)
            ):
                raise St96Error(
                    f"{element_path(element)}/@com:officeCode",
                    f"names office {named!r}, but this transaction is sent by {sender} ({header_path}): an "
                    f"office decides only on its own designation",
                )


def decision(
    reader: Reader,
    item: Any,
    *,
    registration_id: str,
    sender: str,
    standard: Literal["ST.61", "ST.87"],
    category: DecisionCategory,
    scope: Literal["total", "partial"] | None,
    date: str,
    evidence: str,
    refused: bool = False,
    classes: list[str] | None = None,
    goods: str | None = None,
) -> OfficeDecision:
    """The designated office's decision `item` states, with its status from `status.decision_status`."""
    status, previous_stage = decision_status(category, scope, refused)
    reference = reader.optional_text(item, "com:OfficeReferenceIdentifier")
    made = reader.model(
        DesignationDecision,
        item,
        decisionCategory=category,
        scopeCategory=scope,
        protectionCategory=(
            ("refused" if refused else "protected") if category is DecisionCategory.FINAL_DECISION else None
        ),
        classificationBag=classes or None,
        goodsServicesText=clipped(goods),
        decisionDate=date,
        standard=standard,
        status=status,
        previousStageCode=previous_stage,
        officeReferenceText=clipped(reference, MAX_REFERENCE_CHARS),
        freeText=clipped(reader.optional_text(item, "com:CommentText"), MAX_TEXT_CHARS),
        sourceDocumentHash=evidence,
    )
    return OfficeDecision(designation_id(registration_id, sender), made)


def indicator(reader: Reader, item: Any, path: str) -> bool | None:
    """An xsd:boolean element's value, or None when the element is absent."""
    element = reader.find(item, path)
    if element is None:
        return None
    value = reader.text(element) or ""
    if value not in ("true", "false", "1", "0"):
        raise St96Error(element_path(element), f"{value!r} is not an xsd:boolean (true, false, 1 or 0)")
    return value in ("true", "1")


def sender_office(reader: Reader, header: Any) -> str:
    """The office an office-to-IB transaction comes from: its header's com:IPOfficeCode."""
    element = reader.find(header, "com:IPOfficeCode")
    if element is None:
        raise St96Error(
            below(header, "com:IPOfficeCode"),
            "missing: the transaction names no sending office, so none of its decisions has a designation",
        )
    return office_code(reader, element, "a designated office (the Bureau does not decide on designations)")
