"""The element reader every kind's mapper uses, and the mapping rules the kinds share.

Paths are written with the ST.96 prefixes (pat, com, tmk, dgn, gin: see `NAMESPACES`) below the root; a value
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
  com:IPOfficeCode, else from com:RegistrationOfficeCode.
- A party appears once (`PartyRoles`): two mentions are one party when their names are the same with case
  and spacing folded and their addresses and countries do not differ (one may lack what the other gives).
  The merged party keeps the first mention's name and, of each of address and country, the first given,
  so a party named bare in one bag and with its address in another keeps its address. It holds every
  role its mentions give it, in the order first given.
- A gazette is not a number: a com:PublicationIdentifier with no digit, or with a word of four or more
  letters ("Official Gazette", "Bulletin 2019/23", "TMOG 2020-01-07"), is the publication's
  `gazetteIdentifier`, as written; any other (EUIPO's "2019/187", KIPO's "30-1123456") is a number,
  normalised as above. Patent publication numbers are always numbers.
- Family links (`FamilyLink`): the other application's office, number (normalised as above) and filing
  date, and its right id `{office}:{type}:{number}` in the type of the linking right (a patent's priority
  is taken to be a patent): the id this registry gives that application if it holds it.
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

from registry_node.protocol.records import (
    RIGHT_TYPE_OF_KIND,
    FamilyLink,
    FamilyRelation,
    Party,
    PartyRole,
    Publication,
    Right,
    RightKind,
)
from registry_node.protocol.st96.document import DOCUMENT, St96Error
from registry_node.protocol.st96.xml import NAMESPACES, below, element_path, qualified

MAX_NUMBER_CHARS: Final = 40

_M = TypeVar("_M", bound=BaseModel)
_TRANSLITERATION: Final = f"{{{NAMESPACES['com']}}}TransliterationName"
_DATE: Final = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(?:T[0-9:.]+)?(?:Z|[+-]\d{2}:\d{2})?$")
_WORD: Final = re.compile(r"[^\W\d_]{4,}")  # four or more letters in a row, in any script
_COM: Final = f"{{{NAMESPACES['com']}}}"
_CONTACT: Final = f"{_COM}Contact"
_PUBLICATION_CONTACT: Final = f"{_COM}PublicationContact"
_LEGAL_ENTITY_NAME: Final = f"{_COM}LegalEntityName"
_NAME_PARTS: Final = tuple(
    f"{_COM}{part}"
    for part in ("NamePrefix", "FirstName", "MiddleName", "LastName", "SecondLastName", "NameSuffix")
)
_ADDRESS_LINE, _POSTAL_CODE, _CITY, _REGION, _COUNTRY = (
    f"{_COM}{part}"
    for part in ("AddressLineText", "PostalCode", "CityName", "GeographicRegionName", "CountryCode")
)
_ADDRESS_PARTS: Final = frozenset({_ADDRESS_LINE, _POSTAL_CODE, _CITY, _REGION, _COUNTRY})


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

    def require_date(self, parent: Any, path: str) -> str:
        element = self.require(parent, path)
        value = self.date(element)
        if value is None:
            raise St96Error(element_path(element), "is empty")
        return value

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
        contact = publication_contact = legal_name = None
        for child in element.iterchildren():  # one pass: a bulk import reads a party per bag entry
            if child.tag == _CONTACT and contact is None:
                contact = child
            elif child.tag == _PUBLICATION_CONTACT and publication_contact is None:
                publication_contact = child
            elif child.tag == _LEGAL_ENTITY_NAME and legal_name is None:
                legal_name = child
        if contact is None:
            contact = publication_contact
        name = None
        if contact is not None:
            name = self.name(self.find(contact, "com:Name")) or self.optional_text(contact, "com:ContactText")
        name = name or self.text(legal_name)
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
                parts = self._texts_by_tag(structured, _NAME_PARTS)
                return " ".join(parts[part][0] for part in _NAME_PARTS if part in parts) or None
            if tag == "com:OrganizationName":
                return self.optional_text(choice, "com:OrganizationStandardName")
            if tag == "com:EntityName":
                return self.text(choice)
        return None

    def address(self, contact: Any) -> tuple[str | None, str | None]:
        if contact is None:
            return None, None
        if contact.tag == _PUBLICATION_CONTACT:
            lines = self._texts_by_tag(contact, _ADDRESS_PARTS)
        else:
            postal = self.find(self.find(contact, "com:PostalAddressBag"), "com:PostalAddress")
            if postal is None:
                return None, None
            structured = self.find(postal, "com:PostalStructuredAddress")
            if structured is None:
                return ", ".join(self.texts(postal, "com:PostalAddressText")) or None, None
            lines = self._texts_by_tag(structured, _ADDRESS_PARTS)
        postcode_city = " ".join(lines.get(_POSTAL_CODE, []) + lines.get(_CITY, []))
        place = ", ".join([postcode_city, *lines.get(_REGION, [])]).strip(", ")
        address = ", ".join(line for line in [*lines.get(_ADDRESS_LINE, []), place] if line)
        return address or None, lines.get(_COUNTRY, [None])[0]

    def _texts_by_tag(self, element: Any, tags: frozenset[str] | tuple[str, ...]) -> dict[str, list[str]]:
        """The non-empty texts of `element`'s children of `tags` (Clark names), by tag, in one pass."""
        found: dict[str, list[str]] = {}
        for child in element.iterchildren():
            if child.tag in tags and (value := self.text(child)):
                found.setdefault(child.tag, []).append(value)
        return found

    def texts(self, parent: Any, path: str) -> list[str]:
        return [t for e in self.find_all(parent, path) if (t := self.text(e))]

    # publications

    def publication(
        self, element: Any, number_path: str, right_office: str, gazette: bool = False
    ) -> Publication:
        """The publication `element` describes; with `gazette`, its identifier may name a gazette rather
        than a number (see the module docstring)."""
        number_element = self.require(element, number_path)
        if gazette and is_gazette_name(written := self.text(number_element) or ""):
            return self.model(
                Publication,
                element,
                gazetteIdentifier=written,
                publicationDate=self.first_date(element, "com:PublicationDate"),
            )
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


def right_of(kind: RightKind, mapped: Mapped, reader: Reader) -> tuple[Right, str]:
    """The Right `mapped` describes, with id `{office}:{type}:{number}`, and its number as written; a value
    the record model refuses is an St96Error naming the element it came from."""
    number = reader.number(mapped.number_element)
    fields = {
        "rightId": f"{mapped.office}:{RIGHT_TYPE_OF_KIND[kind]}:{number}",
        "rightKindCategory": kind,
        "applicationNumberText": number,
        **{k: v for k, v in mapped.fields.items() if v is not None},
    }
    try:
        right = Right.model_validate(fields)
    except ValidationError as exc:
        field = str(exc.errors()[0]["loc"][0]) if exc.errors()[0]["loc"] else ""
        source = mapped.sources.get(field)
        if field in ("rightId", "applicationNumberText"):
            source = mapped.number_element
        element = (element_path(source) or qualified(source.tag)) if source is not None else DOCUMENT
        raise St96Error(element, reasons(exc)) from None
    return right, reader.text(mapped.number_element) or number


@dataclass
class _Mention:
    """One party of `PartyRoles` as merged so far."""

    number: int  # its place in the order parties were first named
    party: Party
    address: str | None  # folded as Party.identity folds it
    roles: list[PartyRole]


def _folded(text: str | None) -> str | None:
    return " ".join(text.casefold().split()) if text else None


class PartyRoles:
    """The parties a document names, each once with every role it holds (merging rule in the module
    docstring); `bag()` is the Right's partyBag, `holding(role)` the parties of a role as ownerBag and
    representativeBag list them (without roleBag)."""

    def __init__(self) -> None:
        self._by_name: dict[str, list[_Mention]] = {}
        self._order: list[_Mention] = []

    def add(self, party: Party, role: PartyRole) -> int:
        """Records that `party` holds `role`; returns the number of the party it was merged into."""
        name, address = _folded(party.name) or "", _folded(party.addressText)
        for mention in self._by_name.get(name, ()):
            known = mention.party
            if (address is None or mention.address is None or address == mention.address) and (
                party.countryCode is None
                or known.countryCode is None
                or party.countryCode == known.countryCode
            ):
                if (known.addressText is None and party.addressText) or (
                    known.countryCode is None and party.countryCode
                ):
                    mention.party = known.model_copy(
                        update={
                            "addressText": known.addressText or party.addressText,
                            "countryCode": known.countryCode or party.countryCode,
                        }
                    )
                    mention.address = mention.address or address
                if role not in mention.roles:
                    mention.roles.append(role)
                return mention.number
        mention = _Mention(len(self._order), party, address, [role])
        self._by_name.setdefault(name, []).append(mention)
        self._order.append(mention)
        return mention.number

    def add_all(self, parties: Iterable[Party], role: PartyRole) -> list[int]:
        return [self.add(party, role) for party in parties]

    def bag(self) -> list[Party] | None:
        """partyBag: every party once, with its roles, in the order first named; None when there is none."""
        return [m.party.model_copy(update={"roleBag": list(m.roles)}) for m in self._order] or None

    def holding(self, *roles: PartyRole) -> list[Party]:
        """The parties that hold any of `roles`, in the order first named, without roleBag."""
        return [m.party for m in self._order if any(role in m.roles for role in roles)]

    def parties(self, numbers: Iterable[int]) -> list[Party]:
        """The parties `add` numbered, each once, in the order first named, without roleBag."""
        return [self._order[n].party for n in sorted(set(numbers))]


# --- family links ------------------------------------------------------------------------------------


def application_number_element(reader: Reader, application: Any) -> Any:
    """The number element of a com:ApplicationNumberType element (its text, else its ST.13 number)."""
    number = reader.find(application, "com:ApplicationNumberText")
    return number if number is not None else reader.find(application, "com:ST13ApplicationNumber")


def family_link(
    reader: Reader,
    relation: FamilyRelation,
    office: str,
    number_element: Any,
    filing_date: str | None,
    kind: RightKind | None,
) -> FamilyLink:
    """A link to the application `number_element` numbers, with its right id when `kind` is known."""
    number = reader.number(number_element)
    return reader.model(
        FamilyLink,
        number_element,
        relationCategory=relation,
        ipOfficeCode=office,
        applicationNumberText=number,
        filingDate=filing_date,
        rightId=f"{office}:{RIGHT_TYPE_OF_KIND[kind]}:{number}" if kind is not None else None,
    )


def priority_links(reader: Reader, priorities: list[Any], kind: RightKind) -> list[FamilyLink]:
    """priorityClaim links of trademark, design and GI priorities (com:PriorityCountryCode, the
    com:ApplicationNumber, com:PriorityApplicationFilingDate); a priority that gives no number is left out:
    there is nothing to link to."""
    links = []
    for priority in priorities:
        application = reader.find(priority, "com:ApplicationNumber")
        number = application_number_element(reader, application)
        if number is None:
            continue
        office_element = reader.find(application, "com:IPOfficeCode")
        if office_element is None:
            office_element = reader.require(priority, "com:PriorityCountryCode")
        links.append(
            family_link(
                reader,
                FamilyRelation.PRIORITY_CLAIM,
                reader.office(office_element),
                number,
                reader.first_date(priority, "com:PriorityApplicationFilingDate"),
                kind,
            )
        )
    return links


def distinct_links(links: Iterable[FamilyLink]) -> list[FamilyLink] | None:
    """Each link once (by relation, office and number), in document order; None when there is none."""
    found: dict[tuple[str, str, str], FamilyLink] = {}
    for link in links:
        found.setdefault((link.relationCategory, link.ipOfficeCode, link.applicationNumberText), link)
    return list(found.values()) or None


def nice(reader: Reader, goods: Any) -> list[str]:
    """The Nice classes ("Nice 09") of a tmk:GoodsServicesBag (or any element holding tmk:GoodsServices)."""
    numbers: list[str] = []
    for classification in reader.find_all(
        goods, "tmk:GoodsServices/tmk:GoodsServicesClassificationBag/tmk:GoodsServicesClassification"
    ):
        if (reader.optional_text(classification, "tmk:ClassificationKindCode") or "").lower() == "nice":
            numbers += reader.texts(classification, "tmk:ClassNumber")
    numbers += reader.texts(
        goods, "tmk:GoodsServices/tmk:ClassDescriptionBag/tmk:ClassDescription/tmk:ClassNumber"
    )
    return unique(nice_class(n) for n in numbers)


def nice_class(number: str) -> str:
    return f"Nice {int(number):02d}" if number.isdigit() else f"Nice {number}"


MAX_TEXT_CHARS: Final = 2000  # the record's Text limit


def clipped(text: str | None, limit: int = MAX_TEXT_CHARS) -> str | None:
    """`text` cut to `limit` characters, ending in "…" when cut (the source document keeps the whole)."""
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


def is_gazette_name(text: str) -> bool:
    """Whether a publication identifier names a gazette rather than gives a number (module docstring)."""
    return not any(c.isdigit() for c in text) or _WORD.search(text) is not None


def dated_order(publications: list[Publication]) -> list[Publication]:
    """Distinct publications, oldest first: a number once per kind code, a gazette once per date."""
    distinct = list(
        {
            (
                p.publicationNumber,
                p.kindCode,
                p.gazetteIdentifier,
                p.gazetteIdentifier and p.publicationDate,
            ): p
            for p in publications
        }.values()
    )
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
