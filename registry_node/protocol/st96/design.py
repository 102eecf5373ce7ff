"""A WIPO ST.96 design application (dgn:DesignApplication) mapped to a Right (paths below the root).

- One right per application: the right id from the application's com:ApplicationNumber, the office from
  its com:IPOfficeCode, else from com:RegistrationOfficeCode.
- A multiple application's title, registration and status come from its first dgn:Design, classifications
  ("Locarno 31-00") and publications from all of them; owners from the application's dgn:ApplicantBag;
  representatives from its com:RepresentativeBag, else the first design's.
- Legal status: the design rows of the table in `status` (`DESIGN_STATUS` first).
"""

from __future__ import annotations

from typing import Any

from registry_node.protocol.st96.document import St96Error
from registry_node.protocol.st96.reader import (
    Mapped,
    Reader,
    application_number,
    dated_order,
    locarno,
    owners,
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
    representatives = reader.parties(root, "com:RepresentativeBag/com:Representative") or reader.parties(
        first, "com:RepresentativeBag/com:Representative"
    )
    fields: dict[str, Any] = {
        "filingDate": filing_date,
        "publicationBag": dated_order(
            [
                reader.publication(e, "com:PublicationIdentifier", office)
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
        "ownerBag": owners(reader, root, "dgn:ApplicantBag", "dgn:Applicant"),
        "representativeBag": representatives,
        "legalStatus": status,
    }
    sources = {"designTitle": title, "ownerBag": root, "classificationBag": first}
    return Mapped(office, number_element, fields, sources)
