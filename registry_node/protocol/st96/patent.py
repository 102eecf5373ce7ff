"""A WIPO ST.96 patent publication (pat:PatentPublication) mapped to a Right (paths below the root).

- Right id: office and number from pat:BibliographicData/pat:ApplicationIdentification
  (com:IPOfficeCode, com:ApplicationNumber).
- Publications from pat:PatentPublicationIdentification and the INID 65 prior publications in
  pat:RelatedDocumentBag/pat:RelatedPublication, oldest first; registration from
  pat:PatentGrantIdentification; title: the English pat:InventionTitle (its com:languageCode, else the
  document's), else the first; classifications: IPCR, IPC, then CPC symbols not already listed
  ("H01L 21/30"), and Locarno; owners: pat:OwnerBag, else pat:AssigneeBag, else pat:ApplicantBag (in a US
  grant the applicants are often the inventors and the assignees own the patent); representatives:
  pat:RegisteredPractitionerBag.
- Legal status: the patent rows of the table in `status`.
"""

from __future__ import annotations

from typing import Any

from registry_node.protocol.records import LegalStatus
from registry_node.protocol.st96.document import St96Error
from registry_node.protocol.st96.reader import Mapped, Reader, dated_order, locarno, unique
from registry_node.protocol.st96.status import (
    APPLICATION_PUBLISHED,
    CEASED,
    DISCONTINUED,
    GRANTED,
    UNKNOWN,
)
from registry_node.protocol.st96.xml import below, element_path


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
    owner_paths = ("pat:OwnerBag/pat:Owner", "pat:AssigneeBag/pat:Assignee", "pat:ApplicantBag/pat:Applicant")
    owner_path = next((p for p in owner_paths if reader.find(party_bag, p) is not None), None)
    if owner_path is None:
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
        "ownerBag": reader.parties(party_bag, owner_path),
        "representativeBag": reader.parties(
            party_bag, "pat:RegisteredPractitionerBag/pat:RegisteredPractitioner"
        ),
        "legalStatus": _patent_status(reader, bib, main, grant),
    }
    sources = {
        "inventionTitle": title,
        "classificationBag": classification_bag,
        "ownerBag": party_bag,
        "representativeBag": party_bag,
        "publicationBag": main,
    }
    return Mapped(office, number_element, fields, sources)


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
