"""A WIPO ST.96 patent publication (pat:PatentPublication) mapped to a Right (paths below the root).

- Right id: office and number from pat:BibliographicData/pat:ApplicationIdentification
  (com:IPOfficeCode, com:ApplicationNumber).
- Publications from pat:PatentPublicationIdentification and the INID 65 prior publications in
  pat:RelatedDocumentBag/pat:RelatedPublication, oldest first; registration from
  pat:PatentGrantIdentification; title: the English pat:InventionTitle (its com:languageCode, else the
  document's), else the first; classifications: IPCR, IPC, then CPC symbols not already listed
  ("H01L 21/30"), and Locarno.
- Parties (pat:PartyBag), each once with its roles, in document order: pat:ApplicantBag/pat:Applicant is
  an applicant (and an inventor too when its pat:ApplicantCategory is Applicant_Inventor);
  pat:InventorBag/pat:Inventor and pat:DeceasedInventor inventors; pat:OwnerBag/pat:Owner and
  pat:AssigneeBag/pat:Assignee owners (both are INID 73, the proprietor: an assignee received the right
  from its owner of record, so in a US grant the assignees own the patent while the applicants are often
  its inventors); pat:RegisteredPractitionerBag/pat:RegisteredPractitioner (agent, attorney or common
  representative) representatives. Examiners are not parties to the right and are left out.
- Current owners (ownerBag): the parties with the owner role, else the applicants.
- Family links: each pat:PriorityClaimBag/pat:PriorityClaim (priorityClaim); pat:InternationalFilingData,
  INID 86, the PCT application this right is the national or regional phase of
  (pctInternationalApplication); pat:RegionalFilingData, INID 96, the regional application (an EP) this
  national right validates (validatedRegionalRight); in pat:RelatedDocumentBag the pat:ParentDocument of a
  pat:Division (parentOfDivisional) or of a pat:Continuation or pat:PartialContinuation
  (parentOfContinuation), and of a pat:Conversion "PCT to national patent" or "Regional patent to national
  patent" (as INID 86 or 96). A parent is linked by its pat:ApplicationIdentification; one given only by
  its publication or grant number has no application number to link to and is left out, and so is a
  priority claim without com:ApplicationNumber. A parent's own pat:PCTDocumentParent is the parent's PCT
  application, not this right's, and is not linked.
- Legal status: the patent rows of the table in `status`.
"""

from __future__ import annotations

from typing import Any, Final

from registry_node.protocol.records import FamilyLink, FamilyRelation, LegalStatus, PartyRole, RightKind
from registry_node.protocol.st96.document import St96Error
from registry_node.protocol.st96.reader import (
    Mapped,
    PartyRoles,
    Reader,
    application_number_element,
    dated_order,
    distinct_links,
    family_link,
    locarno,
    unique,
)
from registry_node.protocol.st96.status import (
    APPLICATION_PUBLISHED,
    CEASED,
    DISCONTINUED,
    GRANTED,
    UNKNOWN,
)
from registry_node.protocol.st96.xml import below, element_path, qualified


def map_patent(reader: Reader) -> Mapped:
    root = reader.root
    bib = reader.require(root, "pat:BibliographicData")
    application = reader.require(bib, "pat:ApplicationIdentification")
    office = reader.office(reader.require(application, "com:IPOfficeCode"))
    number_element = reader.find(application, "com:ApplicationNumber/com:ApplicationNumberText")
    if number_element is None:
        number_element = reader.find(application, "com:ApplicationNumber/com:ST13ApplicationNumber")
    if number_element is None:
        reader.require(application, "com:ApplicationNumber")
        raise St96Error(below(application, "com:ApplicationNumber/com:ApplicationNumberText"), "missing")

    main = reader.find(bib, "pat:PatentPublicationIdentification")
    related = reader.find_all(
        bib,
        "pat:RelatedDocumentBag/pat:RelatedPublication/pat:PatentDocumentIdentification"
        "/pat:PatentPublicationIdentification",
    )
    publications = [
        reader.publication(e, "pat:PublicationNumber", office) for e in ([main] if main is not None else [])
    ]
    publications += [reader.publication(e, "pat:PublicationNumber", office) for e in related]

    grant = reader.find(bib, "pat:PatentGrantIdentification")
    titles = reader.find_all(reader.require(bib, "pat:InventionTitleBag"), "pat:InventionTitle")
    if not titles:
        raise St96Error(below(bib, "pat:InventionTitleBag/pat:InventionTitle"), "missing")
    title = reader.preferring_english(titles)
    if title is None:
        raise St96Error(element_path(titles[0]), "is empty")

    party_bag = reader.require(bib, "pat:PartyBag")
    parties = _parties(reader, party_bag)
    owners = parties.holding(PartyRole.OWNER) or parties.holding(PartyRole.APPLICANT)
    if not owners:
        raise St96Error(
            element_path(party_bag),
            "names no owner: none of pat:OwnerBag, pat:AssigneeBag or pat:ApplicantBag holds a party",
        )
    classification_bag = reader.find(bib, "pat:PatentClassificationBag")
    fields: dict[str, Any] = {
        "filingDate": reader.first_date(application, "pat:FilingDate"),
        "publicationBag": dated_order(publications),
        "registrationNumberText": reader.optional_text(grant, "pat:PatentNumber"),
        "registrationDate": reader.first_date(grant, "pat:GrantDate"),
        "inventionTitle": reader.text(title),
        "classificationBag": _patent_classifications(reader, classification_bag),
        "ownerBag": owners,
        "representativeBag": parties.holding(PartyRole.REPRESENTATIVE),
        "partyBag": parties.bag(),
        "familyLinkBag": _family_links(reader, bib),
        "legalStatus": _patent_status(reader, bib, main, grant),
    }
    sources = {
        "inventionTitle": title,
        "classificationBag": classification_bag,
        "ownerBag": party_bag,
        "representativeBag": party_bag,
        "partyBag": party_bag,
        "familyLinkBag": bib,
        "publicationBag": main,
    }
    return Mapped(office, number_element, fields, sources)


_APPLICANT_INVENTOR: Final = "Applicant_Inventor"  # a pat:ApplicantCategory value
_PARTY_ROLES: Final = {
    "pat:ApplicantBag": {"pat:Applicant": PartyRole.APPLICANT},
    "pat:InventorBag": {"pat:Inventor": PartyRole.INVENTOR, "pat:DeceasedInventor": PartyRole.INVENTOR},
    "pat:OwnerBag": {"pat:Owner": PartyRole.OWNER},
    "pat:AssigneeBag": {"pat:Assignee": PartyRole.OWNER},
    "pat:RegisteredPractitionerBag": {"pat:RegisteredPractitioner": PartyRole.REPRESENTATIVE},
}


def _parties(reader: Reader, party_bag: Any) -> PartyRoles:
    """The parties of pat:PartyBag in document order (one pass: a bulk import reads thousands of these)."""
    parties = PartyRoles()
    for bag in party_bag.iterchildren("{*}*"):
        roles = _PARTY_ROLES.get(qualified(bag.tag))
        if roles is None:
            continue
        for element in bag.iterchildren("{*}*"):
            role = roles.get(qualified(element.tag))
            if role is None:
                continue
            party = reader.party(element)
            parties.add(party, role)
            category = (
                reader.optional_text(element, "pat:ApplicantCategory")
                if role is PartyRole.APPLICANT
                else None
            )
            if category == _APPLICANT_INVENTOR:
                parties.add(party, PartyRole.INVENTOR)
    return parties


_PARENTS: Final = (
    ("pat:Division", FamilyRelation.PARENT_OF_DIVISIONAL),
    ("pat:Continuation", FamilyRelation.PARENT_OF_CONTINUATION),
    ("pat:PartialContinuation", FamilyRelation.PARENT_OF_CONTINUATION),
)
_CONVERSIONS: Final = {
    "PCT to national patent": FamilyRelation.PCT_INTERNATIONAL_APPLICATION,
    "Regional patent to national patent": FamilyRelation.VALIDATED_REGIONAL_RIGHT,
}


def _family_links(reader: Reader, bib: Any) -> list[FamilyLink] | None:
    links: list[FamilyLink] = []
    for claim in reader.find_all(bib, "pat:PriorityClaimBag/pat:PriorityClaim"):
        application = reader.find(claim, "com:ApplicationNumber")
        number = application_number_element(reader, application)
        if number is not None:
            office = reader.office(reader.require(claim, "com:IPOfficeCode"))
            date = reader.first_date(claim, "pat:FilingDate")
            links.append(
                family_link(reader, FamilyRelation.PRIORITY_CLAIM, office, number, date, RightKind.PATENT)
            )
    filings = (
        ("pat:InternationalFilingData", FamilyRelation.PCT_INTERNATIONAL_APPLICATION),
        ("pat:RegionalFilingData", FamilyRelation.VALIDATED_REGIONAL_RIGHT),
    )
    for path, relation in filings:
        application = reader.find(bib, f"{path}/pat:ApplicationIdentification")
        if application is not None:
            links.append(_application_link(reader, relation, application))
    related = reader.find(bib, "pat:RelatedDocumentBag")
    if related is not None:
        for path, relation in _PARENTS:
            for parent in reader.find_all(related, f"{path}/pat:ParentDocument"):
                links += _parent_links(reader, relation, parent)
        for conversion in reader.find_all(related, "pat:Conversion"):
            converted = _CONVERSIONS.get(reader.optional_text(conversion, "pat:ConversionCategory") or "")
            if converted is not None:
                links += _parent_links(reader, converted, reader.find(conversion, "pat:ParentDocument"))
    return distinct_links(links)


def _parent_links(reader: Reader, relation: FamilyRelation, parent: Any) -> list[FamilyLink]:
    return [
        _application_link(reader, relation, application)
        for application in reader.find_all(
            parent, "pat:PatentDocumentIdentification/pat:ApplicationIdentification"
        )
    ]


def _application_link(reader: Reader, relation: FamilyRelation, application: Any) -> FamilyLink:
    """A link to the application a pat:ApplicationIdentification names."""
    office = reader.office(reader.require(application, "com:IPOfficeCode"))
    number_holder = reader.require(application, "com:ApplicationNumber")
    number = application_number_element(reader, number_holder)
    if number is None:
        raise St96Error(below(number_holder, "com:ApplicationNumberText"), "missing")
    date = reader.first_date(application, "pat:FilingDate")
    return family_link(reader, relation, office, number, date, RightKind.PATENT)


def _patent_classifications(reader: Reader, bag: Any) -> list[str]:
    symbols: list[str] = []
    for ipcr in reader.find_all(bag, "pat:IPCRClassificationBag/pat:IPCRClassification"):
        text = reader.optional_text(ipcr, "pat:PatentClassificationText") or reader.optional_text(
            ipcr, "pat:PatentClassificationSymbolText"
        )
        symbols.append(text or _symbol(reader, ipcr, "pat:Section"))
    for ipc in reader.find_all(bag, "pat:IPCClassification"):
        symbols += reader.texts(ipc, "pat:MainClassification") + reader.texts(
            ipc, "pat:FurtherClassification"
        )
    for cpc in reader.find_all(bag, "pat:CPCClassificationBag/*/pat:CPCClassification"):
        symbols.append(_symbol(reader, cpc, "pat:CPCSection"))
    symbols += locarno(reader, bag)
    return unique(s for s in symbols if s)


def _symbol(reader: Reader, element: Any, section_path: str) -> str:
    """An IPC/CPC symbol in its usual form, e.g. `H01L 21/302`."""
    section = reader.optional_text(element, section_path) or ""
    klass = reader.optional_text(element, "pat:Class") or ""
    subclass = reader.optional_text(element, "pat:Subclass") or ""
    group = reader.optional_text(element, "pat:MainGroup")
    subgroup = reader.optional_text(element, "pat:Subgroup")
    symbol = f"{section}{klass}{subclass}"
    if group:
        symbol += f" {group}/{subgroup or '00'}"
    return symbol


def _patent_status(reader: Reader, bib: Any, publication: Any, grant: Any) -> LegalStatus:
    if reader.find(bib, "pat:PatentRevocationDate") is not None:
        return CEASED
    if any(
        reader.find(bib, p) is not None
        for p in ("pat:ApplicationWithdrawnDate", "pat:ApplicationDeemedWithdrawnDate")
    ):
        return DISCONTINUED
    kind = (reader.optional_text(publication, "com:PatentDocumentKindCode") or "").upper()
    if grant is not None or kind.startswith("B"):
        return GRANTED
    if kind.startswith("A"):
        return APPLICATION_PUBLISHED
    return UNKNOWN
