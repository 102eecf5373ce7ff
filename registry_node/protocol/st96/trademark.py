"""A WIPO ST.96 trademark application (tmk:TrademarkApplication) mapped to a Right (paths below the root).

- One mark per document: tmk:TrademarkBag/tmk:Trademark, exactly one; the right id from its
  com:ApplicationNumber, the office from its com:IPOfficeCode, else from com:RegistrationOfficeCode.
- Title: the mark's verbal element (tmk:MarkVerbalElementText, else tmk:MarkSignificantVerbalElementText);
  Nice classes as "Nice 09"; publications from tmk:PublicationBag; owners from tmk:ApplicantBag;
  representatives from com:RepresentativeBag.
- Legal status: the trademark rows of the table in `status` (`TRADEMARK_STATUS` first).
"""

from __future__ import annotations

from typing import Any

from registry_node.protocol.st96.document import St96Error
from registry_node.protocol.st96.reader import Mapped, Reader, application_number, dated_order, owners, unique
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
    fields: dict[str, Any] = {
        "filingDate": filing_date,
        "publicationBag": dated_order(
            [
                reader.publication(e, "com:PublicationIdentifier", office)
                for e in reader.find_all(mark, "tmk:PublicationBag/tmk:Publication")
            ]
        ),
        "registrationNumberText": registration,
        "registrationDate": registration_date,
        "markVerbalElementText": reader.text(verbal),
        "classificationBag": _nice(reader, goods),
        "ownerBag": owners(reader, mark, "tmk:ApplicantBag", "tmk:Applicant"),
        "representativeBag": reader.parties(mark, "com:RepresentativeBag/com:Representative"),
        "legalStatus": status,
    }
    sources = {"markVerbalElementText": verbal, "classificationBag": goods, "ownerBag": mark}
    return Mapped(office, number_element, fields, sources)


def _nice(reader: Reader, goods: Any) -> list[str]:
    numbers: list[str] = []
    for classification in reader.find_all(
        goods, "tmk:GoodsServices/tmk:GoodsServicesClassificationBag/tmk:GoodsServicesClassification"
    ):
        if (reader.optional_text(classification, "tmk:ClassificationKindCode") or "").lower() == "nice":
            numbers += reader.texts(classification, "tmk:ClassNumber")
    numbers += reader.texts(
        goods, "tmk:GoodsServices/tmk:ClassDescriptionBag/tmk:ClassDescription/tmk:ClassNumber"
    )
    return unique(f"Nice {int(n):02d}" if n.isdigit() else f"Nice {n}" for n in numbers)
