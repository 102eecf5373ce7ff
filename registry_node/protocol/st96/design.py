"""A WIPO ST.96 design application (dgn:DesignApplication) mapped to a Right (paths below the root).

- One right per application: the right id from the application's com:ApplicationNumber, the office from
  its com:IPOfficeCode, else from com:RegistrationOfficeCode.
- A multiple application's title, registration and status come from its first dgn:Design, classifications
  ("Locarno 31-00") and publications from all of them (a gazette named in com:PublicationIdentifier is a
  `gazetteIdentifier`, see `reader`).
- Parties, each once with its roles: the application's dgn:ApplicantBag/dgn:Applicant are applicants; its
  com:RepresentativeBag/com:Representative, else the first design's, representatives. Designers
  (dgn:DesignerBag) are not parties to the right (the record has no designer role) and are left out, as is
  each design's own applicant bag (the application's names the same applicants).
- Current owners (ownerBag): the applicants (ST.96 has no owner bag for a design).
- Family links: the application's com:InternationalRegistrationNumber, the Hague international
  registration this national design protects (internationalRegistration, `WO:DES:{number}`); each design's
  dgn:PriorityBag/dgn:Priority (priorityClaim) and dgn:RelatedApplicationBag/dgn:RelatedApplication of
  category Division (parentOfDivisional, from its dgn:RelatedApplicationNumber).
- Legal status: the design rows of the table in `status` (`DESIGN_STATUS` first).
"""

from __future__ import annotations

from typing import Any

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
    locarno,
    owners,
    priority_links,
    unique,
)
from registry_node.protocol.st96.status import DESIGN_STATUS, by_registration


def map_design(reader: Reader) -> Mapped:
    root = reader.root
    office, number_element = application_number(reader, root, "com:RegistrationOfficeCode")
    designs = reader.find_all(reader.require(root, "dgn:DesignBag"), "dgn:Design")
    if not designs:
        raise St96Error("dgn:DesignBag/dgn:Design", "missing")
    first = designs[0]
    title = reader.preferring_english(reader.find_all(first, "dgn:DesignTitleText"))
    registration = reader.optional_text(first, "com:RegistrationNumber")
    registration_date = reader.first_date(first, "com:RegistrationDate")
    filing_date = reader.first_date(root, "com:ApplicationDate", "com:ApplicationDateTime")
    status_text = reader.optional_text(first, "dgn:DesignCurrentStatusCategory") or reader.optional_text(
        root, "dgn:DesignApplicationCurrentStatusCategory"
    )
    status = DESIGN_STATUS.get((status_text or "").lower())
    if status is None:
        status = by_registration(bool(registration or registration_date), filing_date)
    parties = PartyRoles()
    applicants = parties.add_all(
        owners(reader, root, "dgn:ApplicantBag", "dgn:Applicant"), PartyRole.APPLICANT
    )
    representatives = reader.parties(root, "com:RepresentativeBag/com:Representative") or reader.parties(
        first, "com:RepresentativeBag/com:Representative"
    )
    parties.add_all(representatives, PartyRole.REPRESENTATIVE)
    fields: dict[str, Any] = {
        "filingDate": filing_date,
        "publicationBag": dated_order(
            [
                reader.publication(e, "com:PublicationIdentifier", office, gazette=True)
                for d in designs
                for e in reader.find_all(d, "dgn:PublicationBag/dgn:Publication")
            ]
        ),
        "registrationNumberText": registration,
        "registrationDate": registration_date,
        "designTitle": reader.text(title),
        "classificationBag": unique(
            c for d in designs for c in locarno(reader, reader.find(d, "com:DesignClassificationBag"))
        ),
        "ownerBag": parties.parties(applicants),
        "representativeBag": parties.holding(PartyRole.REPRESENTATIVE),
        "partyBag": parties.bag(),
        "familyLinkBag": _family_links(reader, root, designs, office),
        "legalStatus": status,
    }
    sources = {
        "designTitle": title,
        "ownerBag": root,
        "representativeBag": root,
        "partyBag": root,
        "familyLinkBag": root,
        "classificationBag": first,
    }
    return Mapped(office, number_element, fields, sources)


def _family_links(reader: Reader, root: Any, designs: list[Any], office: str) -> list[FamilyLink] | None:
    links = [
        family_link(
            reader,
            FamilyRelation.INTERNATIONAL_REGISTRATION,
            INTERNATIONAL_BUREAU,
            number,
            None,
            RightKind.DESIGN,
        )
        for number in reader.find_all(root, "com:InternationalRegistrationNumber")
    ]
    for design in designs:
        links += priority_links(
            reader, reader.find_all(design, "dgn:PriorityBag/dgn:Priority"), RightKind.DESIGN
        )
        for related in reader.find_all(design, "dgn:RelatedApplicationBag/dgn:RelatedApplication"):
            application = reader.find(related, "dgn:RelatedApplicationNumber")
            number = application_number_element(reader, application)
            if (
                reader.optional_text(related, "dgn:RelatedApplicationCategory") != "Division"
                or number is None
            ):
                continue
            office_element = reader.find(application, "com:IPOfficeCode")
            links.append(
                family_link(
                    reader,
                    FamilyRelation.PARENT_OF_DIVISIONAL,
                    reader.office(office_element) if office_element is not None else office,
                    number,
                    reader.first_date(related, "dgn:RelatedApplicationDate"),
                    RightKind.DESIGN,
                )
            )
    return distinct_links(links)
