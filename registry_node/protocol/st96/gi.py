"""A WIPO ST.96 geographical indication application (gin:GIApplication) mapped to a Right of kind GI
(paths below the root; the namespace is `…/ST96/GeographicalIndication`, prefix gin).

- Right id `{office}:GI:{number}`: the number of the root's com:ApplicationNumber, else of
  gin:GIData/com:ApplicationNumber, else gin:GIData/com:RegistrationNumber (a GI known only by its
  registration, as the Lisbon register lists them); the office from that com:ApplicationNumber's
  com:IPOfficeCode, else from gin:GIData's com:officeCode attribute (which the schema requires).
- The GI itself (gin:GIData): giNameText is the first gin:GINameBag/gin:GINameText (else
  gin:GINameRichText), the name as protected, not a translation; productText the goods of
  gin:ProductIndicationBag, the English tmk:GoodsServicesDescriptionText of each tmk:ClassDescription
  (else its first) joined by "; ", else its gin:ProductCategory values; classificationBag their Nice
  classes; geographicRegionDescriptionText each gin:GeographicRegionDescriptionBag/
  gin:GeographicRegionDescription's English gin:GeographicRegionDescriptionText (else its first), joined.
  A text longer than the record allows (2,000 characters) is cut there, ending in "…"; the source document
  keeps the whole of it.
- Filing date: the root's com:ApplicationDate, else gin:GIData's; registration number and date from
  gin:GIData; publications from gin:GIPublicationBag/gin:GIPublication (root and gin:GIData; a gazette
  named in com:PublicationIdentifier is a `gazetteIdentifier`).
- Parties, each once with its roles: gin:ApplicantBag/gin:Applicant applicants; gin:AuthorizedUser (of
  gin:GIData, then of the root) beneficiaries, which ST.96 defines them to be ("the beneficiary or the
  holder of the geographical indication"), except those whose gin:AuthorizedUserStatusCategory is Pending
  or Ended (not, or no longer, beneficiaries); com:RepresentativeBag/com:Representative representatives.
- Current owners (ownerBag): the beneficiaries, else the applicants (the schema requires one).
- Family links: gin:GIPriorityBag/gin:GIPriority (priorityClaim, `{office}:GI:{number}`).
- Legal status: the GI rows of the table in `status` (`GI_STATUS` first).
"""

from __future__ import annotations

from typing import Any, Final

from registry_node.protocol.records import PartyRole, RightKind
from registry_node.protocol.st96.document import St96Error
from registry_node.protocol.st96.reader import (
    Mapped,
    PartyRoles,
    Reader,
    application_number_element,
    clipped,
    dated_order,
    distinct_links,
    nice,
    owners,
    priority_links,
)
from registry_node.protocol.st96.status import DISCONTINUED, GI_STATUS, by_registration
from registry_node.protocol.st96.xml import NAMESPACES, below, element_path

_OFFICE_ATTRIBUTE: Final = f"{{{NAMESPACES['com']}}}officeCode"
_NOT_BENEFICIARIES: Final = ("pending", "ended")  # gin:AuthorizedUserStatusCategory values


def map_gi(reader: Reader) -> Mapped:
    root = reader.root
    data = reader.require(root, "gin:GIData")
    office, number_element = _key(reader, root, data)
    names = reader.require(data, "gin:GINameBag")
    name = reader.find(names, "gin:GINameText")
    if name is None:
        name = reader.find(names, "gin:GINameRichText")
    if reader.text(name) is None:
        raise St96Error(
            below(names, "gin:GINameText"), "missing or empty: a geographical indication has a name"
        )
    products = reader.require(data, "gin:ProductIndicationBag")
    region = reader.require(data, "gin:GeographicRegionDescriptionBag")
    registration = reader.optional_text(data, "com:RegistrationNumber")
    registration_date = reader.first_date(data, "com:RegistrationDate")
    filing_date = reader.first_date(root, "com:ApplicationDate") or reader.first_date(
        data, "com:ApplicationDate"
    )
    status = GI_STATUS.get((reader.optional_text(data, "gin:GIStatusCategory") or "").lower())
    if status is None:
        if reader.find(data, "gin:WithdrawalDate") is not None:
            status = DISCONTINUED
        else:
            status = by_registration(bool(registration or registration_date), filing_date)
    parties = PartyRoles()
    applicants = parties.add_all(
        owners(reader, root, "gin:ApplicantBag", "gin:Applicant"), PartyRole.APPLICANT
    )
    beneficiaries = parties.add_all(
        (
            reader.party(user)
            for user in [
                *reader.find_all(data, "gin:AuthorizedUser"),
                *reader.find_all(root, "gin:AuthorizedUser"),
            ]
            if (reader.optional_text(user, "gin:AuthorizedUserStatusCategory") or "").lower()
            not in _NOT_BENEFICIARIES
        ),
        PartyRole.BENEFICIARY,
    )
    parties.add_all(
        reader.parties(root, "com:RepresentativeBag/com:Representative"), PartyRole.REPRESENTATIVE
    )
    publications = [
        *reader.find_all(root, "gin:GIPublicationBag/gin:GIPublication"),
        *reader.find_all(data, "gin:GIPublicationBag/gin:GIPublication"),
    ]
    fields: dict[str, Any] = {
        "filingDate": filing_date,
        "publicationBag": dated_order(
            [reader.publication(e, "com:PublicationIdentifier", office, gazette=True) for e in publications]
        ),
        "registrationNumberText": registration,
        "registrationDate": registration_date,
        "giNameText": clipped(reader.text(name)),
        "productText": _products(reader, products),
        "geographicRegionDescriptionText": _region(reader, region),
        "classificationBag": nice(reader, products),
        "ownerBag": parties.parties(beneficiaries or applicants),
        "representativeBag": parties.holding(PartyRole.REPRESENTATIVE),
        "partyBag": parties.bag(),
        "familyLinkBag": distinct_links(
            priority_links(
                reader,
                reader.find_all(root, "gin:GIPriorityBag/gin:GIPriority"),
                RightKind.GEOGRAPHICAL_INDICATION,
            )
        ),
        "legalStatus": status,
    }
    sources = {
        "giNameText": name,
        "productText": products,
        "geographicRegionDescriptionText": region,
        "classificationBag": products,
        "ownerBag": root,
        "representativeBag": root,
        "partyBag": root,
        "familyLinkBag": root,
    }
    return Mapped(office, number_element, fields, sources)


def _key(reader: Reader, root: Any, data: Any) -> tuple[str, Any]:
    """Office and number element of the GI's right id (module docstring)."""
    application = reader.find(root, "com:ApplicationNumber")
    if application is None:
        application = reader.find(data, "com:ApplicationNumber")
    number = application_number_element(reader, application)
    if number is None:
        number = reader.find(data, "com:RegistrationNumber")
    if number is None:
        raise St96Error(
            "com:ApplicationNumber",
            "missing, and so are gin:GIData/com:ApplicationNumber and gin:GIData/com:RegistrationNumber",
        )
    office_element = reader.find(application, "com:IPOfficeCode")
    if office_element is not None:
        return reader.office(office_element), number
    office = data.get(_OFFICE_ATTRIBUTE)
    if office is None:
        raise St96Error(
            f"{element_path(data)}/@com:officeCode", "missing, and no com:IPOfficeCode names the office"
        )
    if not (len(office) == 2 and office.isascii() and office.isupper()):
        raise St96Error(f"{element_path(data)}/@com:officeCode", f"{office!r} is not a WIPO ST.3 office code")
    return str(office), number


def _products(reader: Reader, products: Any) -> str | None:
    descriptions = [
        reader.text(
            reader.preferring_english(reader.find_all(description, "tmk:GoodsServicesDescriptionText"))
        )
        for description in reader.find_all(
            products, "tmk:GoodsServices/tmk:ClassDescriptionBag/tmk:ClassDescription"
        )
    ]
    named = [d for d in descriptions if d] or reader.texts(products, "gin:ProductCategory")
    return clipped("; ".join(named)) if named else None


def _region(reader: Reader, region: Any) -> str | None:
    texts = [
        reader.text(
            reader.preferring_english(reader.find_all(description, "gin:GeographicRegionDescriptionText"))
        )
        for description in reader.find_all(region, "gin:GeographicRegionDescription")
    ]
    return clipped(" ".join(t for t in texts if t)) or None
