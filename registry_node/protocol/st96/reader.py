"""The element reader every kind's mapper uses, and the mapping rules the kinds share.

Paths are written with the ST.96 prefixes (pat, com, tmk, dgn: see `NAMESPACES`) below the root; a value
the record needs that is missing or unusable is an St96Error naming its element.

- Numbers (application and publication) are normalised so that one number written two ways keys one
  right: Unicode NFKC, upper case, then every space, separator and punctuation character is dropped
  ("13/797,521" -> "13797521", "30-2021-0012345" -> "3020210012345"); what remains must be A-Z and 0-9,
  1 to `MAX_NUMBER_CHARS` of them. `St96Document.original_application_number` keeps the text as written
  (the Right model has no field for it). A publication by another office than the right's carries that
  office's code as a prefix of its number (the Publication model has no office field).
- Dates: ST.96 DateType (YYYY, YYYY-MM, YYYY-MM-DD, optionally with a time zone, which is dropped);
  a dateTime gives its date.
- Parties: the name from com:Contact or com:PublicationContact (person, organisation or entity name; the
  first given), else com:LegalEntityName; address and country from the structured or free-text postal
  address. A party given only by a com:PartyIdentifier cannot be named and is refused.
- Trademarks and designs key their right by com:ApplicationNumber, with the office from its
  com:IPOfficeCode, else from com:RegistrationOfficeCode, and take their owners from an applicant bag.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final, TypeVar

from pydantic import BaseModel, ValidationError

from registry_node.protocol.records import Party, Publication
from registry_node.protocol.st96.document import St96Error
from registry_node.protocol.st96.xml import NAMESPACES, below, element_path, qualified

MAX_NUMBER_CHARS: Final = 40

_M = TypeVar("_M", bound=BaseModel)
_TRANSLITERATION: Final = f"{{{NAMESPACES['com']}}}TransliterationName"
_DATE: Final = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(?:T[0-9:.]+)?(?:Z|[+-]\d{2}:\d{2})?$")


class Reader:
    """Finds ST.96 elements below a document's root and turns their content into record values, raising
    St96Error with the element's path when something the record needs is missing or unusable."""

    def __init__(self, root: Any) -> None:
        self.root = root

    def find(self, parent: Any, path: str) -> Any:
        """The first element at `path` below `parent`; None when there is none (or no parent)."""
        if parent is None:
            return None
        clark = _clark(path)
        if "/" not in clark and clark != "*":  # one child step: lxml's C child iterator, at half the cost
            return next(parent.iterchildren(clark), None)
        return parent.find(clark)

    def find_all(self, parent: Any, path: str) -> list[Any]:
        if parent is None:
            return []
        clark = _clark(path)
        if "/" not in clark and clark != "*":
            return list(parent.iterchildren(clark))
        return list(parent.iterfind(clark))

    def require(self, parent: Any, path: str) -> Any:
        element = self.find(parent, path)
        if element is None:
            raise St96Error(below(parent, path), "missing")
        return element

    def text(self, element: Any) -> str | None:
        """The element's text with nested markup flattened and white space collapsed; None when empty."""
        if element is None:
            return None
        if len(element) == 0:  # no nested markup (most elements): what _phrase would yield, directly
            own = element.text if isinstance(element.tag, str) else None
            return (" ".join(own.split()) or None) if own else None
        return " ".join("".join(_phrase(element)).split()) or None

    def require_text(self, parent: Any, path: str) -> str:
        element = self.require(parent, path)
        value = self.text(element)
        if value is None:
            raise St96Error(element_path(element), "is empty")
        return value

    def optional_text(self, parent: Any, path: str) -> str | None:
        return self.text(self.find(parent, path))

    def date(self, element: Any) -> str | None:
        value = self.text(element)
        if value is None:
            return None
        match = _DATE.match(value)
        if not match:
            raise St96Error(element_path(element), f"{_quote(value)} is not an ISO 8601 date")
        year, month, day = match.groups()
        try:
            datetime.date(int(year), int(month or 1), int(day or 1))
        except ValueError:
            raise St96Error(element_path(element), f"{_quote(value)} is not a calendar date") from None
        return "-".join(part for part in (year, month, day) if part)

    def first_date(self, parent: Any, *paths: str) -> str | None:
        for path in paths:
            element = self.find(parent, path)
            if element is not None:
                return self.date(element)
        return None

    def office(self, element: Any) -> str:
        value = self.text(element) or ""
        if not re.fullmatch(r"[A-Z]{2}", value):
            raise St96Error(element_path(element), f"{_quote(value)} is not a WIPO ST.3 office code")
        return value

    def number(self, element: Any) -> str:
        """The element's number normalised to capitals and digits (see the module docstring)."""
        written = self.text(element) or ""
        kept: list[str] = []
        for char in unicodedata.normalize("NFKC", written).upper():
            if "A" <= char <= "Z" or "0" <= char <= "9":
                kept.append(char)
            elif not (char.isspace() or unicodedata.category(char)[0] in "PZ"):
                raise St96Error(
                    element_path(element),
                    f"{_quote(written)} holds {char!r}, which is neither A-Z, a digit nor a separator",
                )
        if not kept:
            raise St96Error(element_path(element), f"{_quote(written)} holds no letters or digits")
        if len(kept) > MAX_NUMBER_CHARS:
            raise St96Error(
                element_path(element),
                f"{_quote(written)} has more than {MAX_NUMBER_CHARS} letters and digits",
            )
        return "".join(kept)

    def language(self, element: Any) -> str:
        code = element.get(f"{{{NAMESPACES['com']}}}languageCode") or self.root.get(
            f"{{{NAMESPACES['com']}}}languageCode", ""
        )
        return str(code).lower()

    def preferring_english(self, elements: list[Any]) -> Any:
        english = [e for e in elements if self.language(e).split("-")[0] == "en" and self.text(e)]
        named = [e for e in elements if self.text(e)]
        return (english or named or [None])[0]

    def model(self, model: type[_M], element: Any, **fields: Any) -> _M:
        """Builds a record model, naming the element when the model refuses a value."""
        try:
            return model.model_validate(fields)
        except ValidationError as exc:
            raise St96Error(element_path(element) or qualified(element.tag), reasons(exc)) from None

    # parties

    def parties(self, parent: Any, path: str) -> list[Party]:
        return [self.party(element) for element in self.find_all(parent, path)]

    def party(self, element: Any) -> Party:
        contact = self.find(element, "com:Contact")
        if contact is None:
            contact = self.find(element, "com:PublicationContact")
        name = None
        if contact is not None:
            name = self.name(self.find(contact, "com:Name")) or self.optional_text(contact, "com:ContactText")
        name = name or self.optional_text(element, "com:LegalEntityName")
        if name is None:
            raise St96Error(
                element_path(element),
                "names no party: no com:Contact/com:Name, com:PublicationContact/com:Name or "
                "com:LegalEntityName (a com:PartyIdentifier alone cannot be resolved to a name)",
            )
        address, country = self.address(contact)
        return self.model(Party, element, name=name, addressText=address, countryCode=country)

    def name(self, element: Any) -> str | None:
        if element is None:
            return None
        for choice in element:
            tag = qualified(choice.tag) if isinstance(choice.tag, str) else ""
            if tag == "com:PersonName":
                structured = self.find(choice, "com:PersonStructuredName")
                if structured is None:
                    return self.optional_text(choice, "com:PersonFullName")
                parts = ("NamePrefix", "FirstName", "MiddleName", "LastName", "SecondLastName", "NameSuffix")
                words = [self.optional_text(structured, f"com:{part}") for part in parts]
                return " ".join(w for w in words if w) or None
            if tag == "com:OrganizationName":
                return self.optional_text(choice, "com:OrganizationStandardName")
            if tag == "com:EntityName":
                return self.text(choice)
        return None

    def address(self, contact: Any) -> tuple[str | None, str | None]:
        if contact is None:
            return None, None
        if qualified(contact.tag) == "com:PublicationContact":
            lines = [self._place(contact)]
            country = self.find(contact, "com:CountryCode")
        else:
            postal = self.find(contact, "com:PostalAddressBag/com:PostalAddress")
            if postal is None:
                return None, None
            structured = self.find(postal, "com:PostalStructuredAddress")
            if structured is None:
                return ", ".join(self.texts(postal, "com:PostalAddressText")) or None, None
            lines = [*self.texts(structured, "com:AddressLineText"), self._place(structured)]
            country = self.find(structured, "com:CountryCode")
        return ", ".join(line for line in lines if line) or None, self.text(country)

    def _place(self, element: Any) -> str:
        postcode_city = " ".join(self.texts(element, "com:PostalCode") + self.texts(element, "com:CityName"))
        return ", ".join([postcode_city, *self.texts(element, "com:GeographicRegionName")]).strip(", ")

    def texts(self, parent: Any, path: str) -> list[str]:
        return [t for e in self.find_all(parent, path) if (t := self.text(e))]

    # publications

    def publication(self, element: Any, number_path: str, right_office: str) -> Publication:
        number_element = self.require(element, number_path)
        number = self.number(number_element)
        office_element = self.find(element, "com:IPOfficeCode")
        if office_element is not None and (office := self.office(office_element)) != right_office:
            number = office + number
        kind = self.optional_text(element, "com:PatentDocumentKindCode")
        return self.model(
            Publication,
            element,
            publicationNumber=number,
            kindCode=kind.upper() if kind else None,
            publicationDate=self.first_date(element, "com:PublicationDate"),
        )


@lru_cache(maxsize=512)
def _clark(path: str) -> str:
    """`pat:A/com:B` as `{uri}A/{uri}B`: lxml finds Clark-notation paths without a namespace map, which it
    would otherwise sort and look up again on every call."""
    steps = []
    for step in path.split("/"):
        prefix, colon, local = step.partition(":")
        steps.append(f"{{{NAMESPACES[prefix]}}}{local}" if colon else step)
    return "/".join(steps)


def _phrase(element: Any) -> Iterator[str]:
    """The text of an element and its descendants, without transliterations, comments or PIs."""
    if element.text and isinstance(element.tag, str):
        yield element.text
    for child in element:
        if isinstance(child.tag, str) and child.tag != _TRANSLITERATION:
            yield from _phrase(child)
        if child.tail:
            yield child.tail


def _quote(value: str) -> str:
    return repr(value if len(value) <= 60 else value[:57] + "...")


def reasons(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or 'value'}: {error['msg']}" for error in exc.errors()
    )


def unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


# --- what the mappers share --------------------------------------------------------------------------


@dataclass
class Mapped:
    """What a kind's mapping read: the right's id parts, its other fields, and their source elements."""

    office: str
    number_element: Any
    fields: dict[str, Any]
    sources: dict[str, Any]


def dated_order(publications: list[Publication]) -> list[Publication]:
    distinct = list({(p.publicationNumber, p.kindCode): p for p in publications}.values())
    return sorted(distinct, key=lambda p: (p.publicationDate is None, p.publicationDate or ""))


def locarno(reader: Reader, parent: Any) -> list[str]:
    classes: list[str] = []
    for bag in reader.find_all(parent, "com:LocarnoClassificationBag"):
        for element in reader.find_all(bag, "com:LocarnoClassification"):
            klass = reader.require_text(element, "com:LocarnoClass")
            subclasses = reader.texts(element, "com:LocarnoSubclassBag/com:LocarnoSubclass")
            classes += [f"Locarno {klass}-{s}" for s in subclasses] or [f"Locarno {klass}"]
        classes += [f"Locarno {t}" for t in reader.texts(bag, "com:LocarnoClassificationText")]
    return classes


def application_number(reader: Reader, holder: Any, fallback_office_path: str) -> tuple[str, Any]:
    """Office and number element of a trademark's or design's com:ApplicationNumber."""
    application = reader.require(holder, "com:ApplicationNumber")
    number_element = reader.find(application, "com:ApplicationNumberText")
    if number_element is None:
        number_element = reader.find(application, "com:ST13ApplicationNumber")
    if number_element is None:
        raise St96Error(below(application, "com:ApplicationNumberText"), "missing")
    office_element = reader.find(application, "com:IPOfficeCode")
    if office_element is None:
        office_element = reader.find(holder, fallback_office_path)
    if office_element is None:
        raise St96Error(below(application, "com:IPOfficeCode"), f"missing, and so is {fallback_office_path}")
    return reader.office(office_element), number_element


def owners(reader: Reader, holder: Any, bag_path: str, party_path: str) -> list[Party]:
    bag = reader.require(holder, bag_path)
    parties = reader.parties(bag, party_path)
    if not parties:
        raise St96Error(element_path(bag), f"names no owner: it holds no {party_path}")
    return parties
