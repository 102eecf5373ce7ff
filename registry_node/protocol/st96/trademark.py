"""A WIPO ST.96 trademark application (tmk:TrademarkApplication) mapped to a Right (paths below the root).

- One mark per document: tmk:TrademarkBag/tmk:Trademark, exactly one; the right id from its
  com:ApplicationNumber, the office from its com:IPOfficeCode, else from com:RegistrationOfficeCode.
- Title: the mark's verbal element (tmk:MarkVerbalElementText, else tmk:MarkSignificantVerbalElementText);
  Nice classes as "Nice 09"; publications from tmk:PublicationBag (a gazette named in
  com:PublicationIdentifier is a `gazetteIdentifier`, see `reader`).
- Parties, each once with its roles: each tmk:ApplicantBag/tmk:Applicant, whose role the USPTO writes in
  its com:CommentText (below), else an applicant; com:RepresentativeBag/com:Representative,
  tmk:RecordAttorney and tmk:NationalRepresentative are representatives. A tmk:Trademark has no holder
  bag; Madrid holders come in transactions (`transaction`).
- USPTO party types. The USPTO lists a mark's owners over its life in the applicant bag, each entry with its
  party type in words: ORIGINAL APPLICANT (type 10), "1ST NEW OWNER BEFORE PUBLICATION" (11 to 19), OWNER
  AT PUBLICATION (20), "1ST NEW OWNER AFTER PUBLICATION" (21 to 29), ORIGINAL REGISTRANT (30), "1ST NEW
  OWNER ENTERED AFTER REGISTRATION" (40 to 49; "NEW OWNER AFTER REGISTRATION" without an ordinal is the
  first). Types 10 and 30 give the roles applicant and registrant, the others owner. The current owners
  are the entries of the highest type, as the USPTO's own tools read them: one party named three times as
  original applicant, owner at publication and original registrant is one party with three roles and the
  one owner; an original applicant A followed by a new owner B gives owner B alone. Entries whose comment
  names no party type are applicants and are never current owners while a typed entry exists.
- Current owners (ownerBag) of a document without USPTO party types: its applicants (ST.96 has no owner
  bag for a mark: the applicant of an application is the owner of its registration).
- Family links: each tmk:InternationalMarkIdentifierBag/tmk:InternationalMarkIdentifier, the Madrid
  international registration this national mark protects (internationalRegistration, `WO:TM:{number}`);
  tmk:PriorityBag/tmk:Priority (priorityClaim); tmk:DivisionalApplicationBag/tmk:InitialApplicationNumber,
  the mark this one was divided from (parentOfDivisional).
- Legal status: the trademark rows of the table in `status` (`TRADEMARK_STATUS` first).
"""

from __future__ import annotations

import re
from typing import Any, Final

from registry_node.protocol.records import (
    INTERNATIONAL_BUREAU,
    FamilyLink,
    FamilyRelation,
    PartyRole,
    RightKind,
)
from registry_node.protocol.st96.document import St96Error
from registry_node.protocol.st96.reader import (
    Mapped,
    PartyRoles,
    Reader,
    application_number,
    application_number_element,
    dated_order,
    distinct_links,
    family_link,
    nice,
    priority_links,
)
from registry_node.protocol.st96.status import CEASED, DISCONTINUED, TRADEMARK_STATUS, by_registration
from registry_node.protocol.st96.xml import below, element_path


def map_trademark(reader: Reader) -> Mapped:
    bag = reader.require(reader.root, "tmk:TrademarkBag")
    marks = reader.find_all(bag, "tmk:Trademark")
    if not marks:
        raise St96Error(below(bag, "tmk:Trademark"), "missing")
    if len(marks) > 1:
        raise St96Error(
            element_path(bag), f"holds {len(marks)} trademarks; import takes one tmk:Trademark per document"
        )
    mark = marks[0]
    office, number_element = application_number(reader, mark, "com:RegistrationOfficeCode")
    word = reader.find(mark, "tmk:MarkRepresentation/tmk:MarkReproduction/tmk:WordMarkSpecification")
    verbal = None
    if word is not None:
        verbal = reader.find(word, "tmk:MarkVerbalElementText")
        if reader.text(verbal) is None:
            verbal = reader.find(word, "tmk:MarkSignificantVerbalElementText")
    registration = reader.optional_text(mark, "com:RegistrationNumber")
    registration_date = reader.first_date(mark, "com:RegistrationDate")
    filing_date = reader.first_date(mark, "com:ApplicationDate", "com:ApplicationDateTime")
    status = TRADEMARK_STATUS.get((reader.optional_text(mark, "tmk:MarkCurrentStatusCode") or "").lower())
    if status is None:
        registered = bool(registration or registration_date)
        if reader.find(mark, "tmk:TerminationDate") is not None:
            status = CEASED if registered else DISCONTINUED
        else:
            status = by_registration(registered, filing_date)
    goods = reader.find(mark, "tmk:GoodsServicesBag")
    parties, owners = _parties(reader, mark)
    fields: dict[str, Any] = {
        "filingDate": filing_date,
        "publicationBag": dated_order(
            [
                reader.publication(e, "com:PublicationIdentifier", office, gazette=True)
                for e in reader.find_all(mark, "tmk:PublicationBag/tmk:Publication")
            ]
        ),
        "registrationNumberText": registration,
        "registrationDate": registration_date,
        "markVerbalElementText": reader.text(verbal),
        "classificationBag": nice(reader, goods),
        "ownerBag": owners,
        "representativeBag": parties.holding(PartyRole.REPRESENTATIVE),
        "partyBag": parties.bag(),
        "familyLinkBag": _family_links(reader, mark, office),
        "legalStatus": status,
    }
    sources = {
        "markVerbalElementText": verbal,
        "classificationBag": goods,
        "ownerBag": mark,
        "representativeBag": mark,
        "partyBag": mark,
        "familyLinkBag": mark,
    }
    return Mapped(office, number_element, fields, sources)


_REPRESENTATIVES: Final = (
    "com:RepresentativeBag/com:Representative",
    "tmk:RecordAttorney",
    "tmk:NationalRepresentative",
)
_ORDINAL: Final = r"(?:(?P<ordinal>\d+)(?:ST|ND|RD|TH) )?"
_NEW_OWNER: Final = re.compile(
    rf"^{_ORDINAL}NEW OWNER (?:ENTERED )?(?P<when>BEFORE PUBLICATION|AFTER PUBLICATION|AFTER REGISTRATION)$"
)
_NEW_OWNER_BASE: Final = {"BEFORE PUBLICATION": 10, "AFTER PUBLICATION": 20, "AFTER REGISTRATION": 39}
_PARTY_TYPES: Final = {
    "ORIGINAL APPLICANT": (10, PartyRole.APPLICANT),
    "OWNER AT PUBLICATION": (20, PartyRole.OWNER),
    "ORIGINAL REGISTRANT": (30, PartyRole.REGISTRANT),
}


def uspto_party_type(comment: str | None) -> tuple[int, PartyRole] | None:
    """The USPTO party type (10 to 49) and role a tmk:Applicant's com:CommentText states, or None."""
    if not comment:
        return None
    words = " ".join(comment.upper().split())
    if words in _PARTY_TYPES:
        return _PARTY_TYPES[words]
    match = _NEW_OWNER.match(words)
    if match is None:
        return None
    ordinal = int(match["ordinal"] or 1)
    if not 1 <= ordinal <= (10 if match["when"] == "AFTER REGISTRATION" else 9):
        return None
    return _NEW_OWNER_BASE[match["when"]] + ordinal, PartyRole.OWNER


def _parties(reader: Reader, mark: Any) -> tuple[PartyRoles, list[Any]]:
    """The mark's parties and its current owners (rule in the module docstring)."""
    bag = reader.require(mark, "tmk:ApplicantBag")
    applicants = reader.find_all(bag, "tmk:Applicant")
    if not applicants:
        raise St96Error(element_path(bag), "names no owner: it holds no tmk:Applicant")
    parties = PartyRoles()
    typed: list[tuple[int, int]] = []  # (USPTO party type, party number)
    for element in applicants:
        party_type = uspto_party_type(reader.optional_text(element, "com:CommentText"))
        role = party_type[1] if party_type else PartyRole.APPLICANT
        number = parties.add(reader.party(element), role)
        if party_type is not None:
            typed.append((party_type[0], number))
    for path in _REPRESENTATIVES:
        parties.add_all(reader.parties(mark, path), PartyRole.REPRESENTATIVE)
    if typed:
        latest = max(party_type for party_type, _ in typed)
        owners = parties.parties(number for party_type, number in typed if party_type == latest)
    else:
        owners = parties.holding(PartyRole.APPLICANT)
    return parties, owners


def _family_links(reader: Reader, mark: Any, office: str) -> list[FamilyLink] | None:
    links = [
        family_link(
            reader,
            FamilyRelation.INTERNATIONAL_REGISTRATION,
            INTERNATIONAL_BUREAU,
            identifier,
            None,
            RightKind.TRADEMARK,
        )
        for identifier in reader.find_all(
            mark, "tmk:InternationalMarkIdentifierBag/tmk:InternationalMarkIdentifier"
        )
    ]
    links += priority_links(
        reader, reader.find_all(mark, "tmk:PriorityBag/tmk:Priority"), RightKind.TRADEMARK
    )
    for initial in reader.find_all(mark, "tmk:DivisionalApplicationBag/tmk:InitialApplicationNumber"):
        number = application_number_element(reader, initial)
        if number is not None:
            office_element = reader.find(initial, "com:IPOfficeCode")
            links.append(
                family_link(
                    reader,
                    FamilyRelation.PARENT_OF_DIVISIONAL,
                    reader.office(office_element) if office_element is not None else office,
                    number,
                    reader.first_date(initial.getparent(), "tmk:InitialApplicationDate"),
                    RightKind.TRADEMARK,
                )
            )
    return distinct_links(links)
