"""Import of WIPO ST.96 V6_0 XML: one patent publication, trademark application or design application per
document becomes one `Right`, with the source's Exclusive C14N hash as evidence. `parse_st96` takes one
document, `import_files` a batch; a `ParsePool` parses a batch the same way on every core.

Hostile input. Documents come from outside, so parsing is hardened: input over `MAX_DOCUMENT_BYTES` is
refused before parsing; any DOCTYPE is refused before libxml2 reads it (ST.96 is defined by XML Schema and
needs no DTD; a DTD is how external entities (XXE) and entity-expansion bombs get in), and the parser
neither resolves entities, loads DTDs nor touches the network, so nothing is ever expanded or fetched;
elements nested deeper than `MAX_ELEMENT_DEPTH` and attribute values over `MAX_ATTRIBUTE_CHARS` are
refused. Every refusal is an `St96Error` naming the element (or "(document)") and the reason.

Mapping (paths below the root; pat, com, tmk, dgn are the ST.96 namespaces):

- Right id `{office}:{PAT|TM|DES}:{application number}`. Patent: office and number from
  pat:BibliographicData/pat:ApplicationIdentification (com:IPOfficeCode, com:ApplicationNumber).
  Trademark (tmk:TrademarkBag/tmk:Trademark, exactly one per document) and design (the
  dgn:DesignApplication): com:ApplicationNumber, office from its com:IPOfficeCode, else from
  com:RegistrationOfficeCode.
- Numbers (application and publication) are normalised so that one number written two ways keys one
  right: Unicode NFKC, upper case, then every space, separator and punctuation character is dropped
  ("13/797,521" -> "13797521", "30-2021-0012345" -> "3020210012345"); what remains must be A-Z and 0-9,
  1 to 40 of them. `St96Document.original_application_number` keeps the text as written (the Right model
  has no field for it). A publication by another office than the right's carries that office's code as a
  prefix of its number (the Publication model has no office field).
- Dates: ST.96 DateType (YYYY, YYYY-MM, YYYY-MM-DD, optionally with a time zone, which is dropped);
  a dateTime gives its date.
- Patent: publications from pat:PatentPublicationIdentification and the INID 65 prior publications in
  pat:RelatedDocumentBag/pat:RelatedPublication, oldest first; registration from
  pat:PatentGrantIdentification; title: the English pat:InventionTitle (its com:languageCode, else the
  document's), else the first; classifications: IPCR, IPC, then CPC symbols not already listed
  ("H01L 21/30"), and Locarno; owners: pat:OwnerBag, else pat:AssigneeBag, else pat:ApplicantBag (in a US
  grant the applicants are often the inventors and the assignees own the patent); representatives:
  pat:RegisteredPractitionerBag.
- Trademark: title = the mark's verbal element (tmk:MarkVerbalElementText, else
  tmk:MarkSignificantVerbalElementText); Nice classes as "Nice 09"; publications from tmk:PublicationBag;
  owners from tmk:ApplicantBag; representatives from com:RepresentativeBag.
- Design: one right per application; a multiple application's title, registration and status come from its
  first dgn:Design, classifications ("Locarno 31-00") and publications from all of them; owners from the
  application's dgn:ApplicantBag; representatives from its com:RepresentativeBag, else the first design's.
- Parties: the name from com:Contact or com:PublicationContact (person, organisation or entity name; the
  first given), else com:LegalEntityName; address and country from the structured or free-text postal
  address. A party given only by a com:PartyIdentifier cannot be named and is refused.

Legal status, from what the bibliographic data says (ST.27 codes; trademarks and designs use the same shape
for ST.61 and ST.87). The first rule that applies wins:

| kind | evidence | state | stage | key event |
| --- | --- | --- | --- | --- |
| patent | pat:PatentRevocationDate | N | 6 | H10 ceased |
| patent | pat:ApplicationWithdrawnDate or pat:ApplicationDeemedWithdrawnDate | N | 6 | B10 discontinued |
| patent | pat:PatentGrantIdentification, or ST.16 kind code B* (grant publication) | A | 4 | F10 granted |
| patent | kind code A* (application publication) | A | 1 | Q10 published |
| trademark | tmk:MarkCurrentStatusCode: see `TRADEMARK_STATUS` | | | |
| trademark | tmk:TerminationDate | N | 6 | H10 if registered, else B10 |
| design | dgn:DesignCurrentStatusCategory, else the application's: see `DESIGN_STATUS` | | | |
| trademark, design | com:RegistrationNumber or com:RegistrationDate | A | 4 | F10 granted |
| trademark, design | com:ApplicationDate | A | 1 | A10 filed |
| any | nothing of the above (e.g. kind codes C, E, U, S) | U | 0 | none |

An application publication is put at stage 1 (filing): it shows that the application was filed and
published, not that examination began. Withdrawn, refused, revoked or cancelled rights are N (not active),
not T: the document cannot tell whether revival or appeal is still possible.

Evidence: the SHA-256 of the document's W3C Exclusive XML Canonicalization 1.0 without comments
(`C14N_ALGORITHM`), so re-serialising a document (attribute order, quoting, namespace declarations that
are not used, line ends) keeps its hash and any change of content changes it.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import multiprocessing
import os
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from concurrent import futures
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import lru_cache
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Final, TypeVar

from lxml import etree  # type: ignore[import-untyped]  # lxml ships no type information
from pydantic import BaseModel, ValidationError

from registry_node.protocol.errors import ConfigError, RegistryError
from registry_node.protocol.records import (
    RIGHT_TYPE_OF_KIND,
    LegalStatus,
    Party,
    Publication,
    Right,
    RightKind,
)

MAX_DOCUMENT_BYTES: Final = 10 * 1024 * 1024
MAX_ELEMENT_DEPTH: Final = 100
MAX_ATTRIBUTE_CHARS: Final = 8 * 1024
MAX_NUMBER_CHARS: Final = 40

C14N_ALGORITHM: Final = "http://www.w3.org/2001/10/xml-exc-c14n#"
NOT_VALIDATED_NOTE: Final = "no ST.96 schema folder configured: not validated"
DOCUMENT: Final = "(document)"

NAMESPACES: Final = {
    "pat": "http://www.wipo.int/standards/XMLSchema/ST96/Patent",
    "com": "http://www.wipo.int/standards/XMLSchema/ST96/Common",
    "tmk": "http://www.wipo.int/standards/XMLSchema/ST96/Trademark",
    "dgn": "http://www.wipo.int/standards/XMLSchema/ST96/Design",
}
_PREFIX_OF: Final = {uri: prefix for prefix, uri in NAMESPACES.items()}


@dataclass(frozen=True)
class DocumentType:
    """A root element this module imports: the kind of right it describes and its WIPO schema file."""

    root: str
    kind: RightKind
    schema_file: str


DOCUMENT_TYPES: Final = (
    DocumentType("pat:PatentPublication", RightKind.PATENT, "PatentPublication_V6_0.xsd"),
    DocumentType("tmk:TrademarkApplication", RightKind.TRADEMARK, "TrademarkApplication_V6_0.xsd"),
    DocumentType("dgn:DesignApplication", RightKind.DESIGN, "DesignApplication_V6_0.xsd"),
)
_TYPE_OF_KIND: Final = {t.kind: t for t in DOCUMENT_TYPES}


def _status(state: str, stage: int, key_event: str | None) -> LegalStatus:
    return LegalStatus.model_validate({"stateCode": state, "stageCode": stage, "keyEventCode": key_event})


FILED: Final = _status("A", 1, "A10")
APPLICATION_PUBLISHED: Final = _status("A", 1, "Q10")
GRANTED: Final = _status("A", 4, "F10")
DISCONTINUED: Final = _status("N", 6, "B10")
CEASED: Final = _status("N", 6, "H10")
UNKNOWN: Final = _status("U", 0, None)

# tmk:MarkCurrentStatusCategoryType values (compared case-insensitively); other office codes fall through.
TRADEMARK_STATUS: Final = {
    "application filed": FILED,
    "filing date accorded": FILED,
    "classification checked": FILED,
    "application accepted": _status("A", 2, "D10"),
    "application published": _status("A", 2, "Q10"),
    "opposition pending": _status("A", 3, "E10"),
    "registration published": GRANTED,
    "appeal pending": _status("A", 0, "V10"),
    "interruption of proceeding": _status("A", 0, "T10"),
    "revocation proceeding pending": _status("A", 5, "L10"),
    "invalidity proceeding pending": _status("A", 5, "L10"),
    "action before court of justice pending": _status("A", 5, "L10"),
    "application refused": DISCONTINUED,
    "application withdrawn": DISCONTINUED,
    "registration cancelled": CEASED,
    "registration surrendered": CEASED,
    "conversion requested": _status("N", 6, "W10"),
}
# dgn:DesignCurrentStatusCategoryType and dgn:DesignApplicationCurrentStatusCategoryType values.
DESIGN_STATUS: Final = {
    "filed": FILED,
    "registered": GRANTED,
    "withdrawn": DISCONTINUED,
    "rejected": DISCONTINUED,
    "cancelled": CEASED,
    "expired": CEASED,
    "undefined": UNKNOWN,
}


class St96Error(RegistryError):
    """An ST.96 document was refused; `element` is the offending or missing element's path below the root
    (ST.96 prefixes), or "(document)" for the document as a whole."""

    def __init__(self, element: str, reason: str) -> None:
        super().__init__(f"{element}: {reason}")
        self.element = element
        self.reason = reason

    def __reduce__(self) -> tuple[type[St96Error], tuple[str, str]]:
        # Pickled by its fields (the default would call __init__ with the message alone): a ParsePool
        # worker sends refusals back to the caller.
        return (type(self), (self.element, self.reason))


@dataclass(frozen=True)
class St96Document:
    """An imported ST.96 document: the right it describes and the evidence that ties the right to it."""

    kind: RightKind
    right: Right
    c14n_sha256: bytes
    c14n_algorithm: str
    source: bytes
    validated: bool
    validation_note: str
    original_application_number: str


@dataclass(frozen=True)
class ImportOutcome:
    """One file of a batch: either its whole document or the error that refused it, never both."""

    path: Path
    document: St96Document | None = None
    error: St96Error | None = None

    def __post_init__(self) -> None:
        if (self.document is None) == (self.error is None):
            raise ValueError("an outcome holds either a document or an error")

    @property
    def ok(self) -> bool:
        return self.document is not None

    def __str__(self) -> str:
        if self.document is not None:
            return f"{self.path}: {self.document.right.rightId}"
        return f"{self.path}: {self.error}"


# --- hardened parsing --------------------------------------------------------------------------------


def _new_parser() -> Any:
    # A fresh parser per document: lxml parsers keep an error log across uses and are not thread-safe.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
    )


_BYTE_ORDER: Final = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\x00<\x00?", "utf-16-be"),
    (b"<\x00?\x00", "utf-16-le"),
)


def _as_text(data: bytes) -> str:
    """The document decoded well enough to read its prolog (markup is ASCII in every encoding XML allows)."""
    for mark, codec in _BYTE_ORDER:
        if data.startswith(mark):
            return data.decode(codec, errors="replace").lstrip("\ufeff")
    return data.decode("latin-1")


def _doctype_refusal(data: bytes) -> str | None:
    """Why the document's prolog is refused (it has a DOCTYPE), or None; scans the prolog only."""
    text = _as_text(data)
    at = 0
    while True:
        while at < len(text) and text[at] in " \t\r\n":
            at += 1
        if text.startswith("<?", at):
            end = text.find("?>", at + 2)
        elif text.startswith("<!--", at):
            end = text.find("-->", at + 4)
        elif text.startswith("<!DOCTYPE", at):
            return _describe_doctype(text[at:])
        else:
            return None
        if end < 0:
            return None
        at = text.index(">", end) + 1


DECLARES_ENTITIES: Final = (
    "the DOCTYPE declares entities; entity declarations are refused (external entities and entity "
    "expansion are attacks, and ST.96 documents need none)"
)
NAMES_EXTERNAL_DTD: Final = (
    "the DOCTYPE names an external DTD; DTDs are refused (ST.96 documents are defined by XML Schema)"
)
HAS_DOCTYPE: Final = (
    "the document has a DOCTYPE; DTDs are refused (ST.96 documents are defined by XML Schema)"
)


def _describe_doctype(declaration: str) -> str:
    end = declaration.find(">")
    head = declaration if end < 0 else declaration[: end + 1]
    external_id, internal, _ = head.partition("[")
    close = declaration.find("]>")
    subset = declaration if close < 0 else declaration[: close + 2]
    if internal and "<!ENTITY" in subset:
        return DECLARES_ENTITIES
    if re.search(r"\b(SYSTEM|PUBLIC)\b", external_id):
        return NAMES_EXTERNAL_DTD
    return HAS_DOCTYPE


_POSITION_SUFFIX: Final = re.compile(r", line \d+, column \d+$")


def _parse(data: bytes) -> Any:
    """The document's tree from the hardened parser, or an St96Error; nothing in a DTD is ever used."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise St96Error(DOCUMENT, f"is larger than the {MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB limit")
    refusal = _doctype_refusal(data)
    if refusal:
        raise St96Error(DOCUMENT, refusal)
    try:
        root = etree.fromstring(data, _new_parser())
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(exc) from None
    tree = root.getroottree()
    docinfo = tree.docinfo
    if docinfo.internalDTD is not None or docinfo.doctype:
        # Reached only for encodings the prolog scan cannot read; the parser has not used the DTD.
        dtd = docinfo.internalDTD
        entities = dtd is not None and any(True for _ in dtd.iterentities())
        raise St96Error(DOCUMENT, DECLARES_ENTITIES if entities else HAS_DOCTYPE)
    _check_shape(root)
    return tree


def _syntax_error(exc: Any) -> St96Error:
    message = _POSITION_SUFFIX.sub("", str(exc.msg))
    line, column = exc.position if exc.position else (exc.lineno, 0)
    where = f"line {line}, column {column}"
    if "entity" in message.lower():
        return St96Error(DOCUMENT, f"entities are refused ({where}: {message})")
    if "Excessive depth" in message:
        return St96Error(DOCUMENT, f"nests elements deeper than {MAX_ELEMENT_DEPTH} levels ({where})")
    if "encoding" in message.lower():
        return St96Error(DOCUMENT, f"is not valid text in its declared encoding: {where}: {message}")
    return St96Error(DOCUMENT, f"is not well-formed XML: {where}: {message}")


# True when an element sits deeper than MAX_ELEMENT_DEPTH or an attribute value is too long: one pass in
# libxml2 for what the walk in _check_shape would find, so the walk runs only to name the offender.
_SHAPE_EXCEEDED: Final = etree.XPath(
    f"boolean(/*{'/*' * MAX_ELEMENT_DEPTH} | //@*[string-length(.) > {MAX_ATTRIBUTE_CHARS}])"
)


def _check_shape(root: Any) -> None:
    """Refuses nesting deeper than MAX_ELEMENT_DEPTH and attribute values longer than MAX_ATTRIBUTE_CHARS."""
    if not _SHAPE_EXCEEDED(root):
        return
    depth = 0
    for event, element in etree.iterwalk(root, events=("start", "end")):
        if event == "end":
            depth -= 1
            continue
        depth += 1
        if depth > MAX_ELEMENT_DEPTH:
            raise St96Error(
                DOCUMENT,
                f"nests elements deeper than {MAX_ELEMENT_DEPTH} levels (line {element.sourceline})",
            )
        for name, value in element.attrib.items():
            if len(value) > MAX_ATTRIBUTE_CHARS:
                raise St96Error(
                    f"{_element_path(element) or _qualified(element.tag)}/@{_qualified(name)}",
                    f"attribute value has {len(value)} characters; the limit is {MAX_ATTRIBUTE_CHARS}",
                )


def canonical_xml(data: bytes) -> bytes:
    """The document's Exclusive XML C14N 1.0 form without comments, parsed with the same hardening."""
    return _c14n(_parse(data))


def _c14n(tree: Any) -> bytes:
    try:
        canonical: bytes = etree.tostring(tree, method="c14n", exclusive=True, with_comments=False)
    except etree.C14NError as exc:
        raise St96Error(DOCUMENT, f"cannot be canonicalised (Exclusive C14N): {exc}") from None
    return canonical


# --- element names ----------------------------------------------------------------------------------


def _qualified(name: str) -> str:
    """`pat:Name` for an ST.96 name, Clark notation `{uri}Name` for any other."""
    qname = etree.QName(name)
    prefix = _PREFIX_OF.get(qname.namespace)
    return f"{prefix}:{qname.localname}" if prefix else str(name)


def _element_path(element: Any) -> str:
    """The element's path below the root, e.g. `pat:PartyBag/pat:AssigneeBag/pat:Assignee[2]`."""
    steps: list[str] = []
    while (parent := element.getparent()) is not None:
        step = _qualified(element.tag)
        siblings = list(parent.iterchildren(element.tag))
        if len(siblings) > 1:
            step += f"[{siblings.index(element) + 1}]"
        steps.append(step)
        element = parent
    return "/".join(reversed(steps))


def _below(parent: Any, relative: str) -> str:
    base = _element_path(parent)
    return f"{base}/{relative}" if base else relative


def _quote(value: str) -> str:
    return repr(value if len(value) <= 60 else value[:57] + "...")


# --- schema validation ------------------------------------------------------------------------------


def _load_schema(path: Path) -> Any:
    """Loads one WIPO schema (seconds: call once); a missing or broken file is a configuration error."""
    if not path.is_file():
        raise ConfigError("st96 schema folder", f"{path.name} is missing from {path.parent}")
    try:
        return etree.XMLSchema(etree.parse(str(path), _new_parser()))
    except (etree.XMLSyntaxError, etree.XMLSchemaParseError) as exc:
        raise ConfigError("st96 schema folder", f"{path.name} is not a loadable XML schema: {exc}") from exc


class SchemaSet:
    """WIPO's ST.96 V6_0 schemas in `folder`, each loaded the first time a document needs it, then reused.

    Safe to share between threads: loading and validating take a lock (an lxml schema keeps its error
    log on the instance).
    """

    def __init__(self, folder: Path) -> None:
        folder = Path(folder)
        if not folder.is_dir():
            raise ConfigError("st96 schema folder", f"{folder} is not a directory")
        self.folder = folder
        self._schemas: dict[RightKind, Any] = {}
        self._loads: Counter[RightKind] = Counter()
        self._lock = threading.Lock()

    @property
    def load_counts(self) -> dict[RightKind, int]:
        """How many times each kind's schema was loaded (at most once)."""
        return dict(self._loads)

    def validate(self, tree: Any, kind: RightKind) -> str:
        """A note saying which schema the document is valid against; an St96Error naming the first
        failing element otherwise."""
        schema_file = _TYPE_OF_KIND[kind].schema_file
        with self._lock:
            schema = self._schemas.get(kind)
            if schema is None:
                schema = self._schemas[kind] = _load_schema(self.folder / schema_file)
                self._loads[kind] += 1
            if schema.validate(tree):
                return f"valid against WIPO ST.96 {schema_file}"
            first = schema.error_log[0]
            line, path, message = int(first.line), str(first.path or ""), str(first.message)
        raise St96Error(_failing_element(tree, path), f"line {line}: {_readable(message)} (in {schema_file})")


def _failing_element(tree: Any, libxml_path: str) -> str:
    """Our name for the element at libxml2's path (which uses the document's own prefixes)."""
    root = tree.getroot()
    prefixes = {p: u for el in root.iter(tag=etree.Element) for p, u in el.nsmap.items() if p}
    try:
        found = tree.xpath(libxml_path, namespaces=prefixes) if libxml_path else []
    except etree.XPathError:
        found = []
    if found and isinstance(found[0], etree._Element):
        return _element_path(found[0]) or _qualified(found[0].tag)
    return libxml_path or DOCUMENT


def _readable(message: str) -> str:
    for uri, prefix in _PREFIX_OF.items():
        message = message.replace(f"{{{uri}}}", f"{prefix}:")
    return message


# --- mapping to the record model --------------------------------------------------------------------

_M = TypeVar("_M", bound=BaseModel)
_TRANSLITERATION: Final = f"{{{NAMESPACES['com']}}}TransliterationName"
_DATE: Final = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(?:T[0-9:.]+)?(?:Z|[+-]\d{2}:\d{2})?$")


class _Reader:
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
            raise St96Error(_below(parent, path), "missing")
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
            raise St96Error(_element_path(element), "is empty")
        return value

    def optional_text(self, parent: Any, path: str) -> str | None:
        return self.text(self.find(parent, path))

    def date(self, element: Any) -> str | None:
        value = self.text(element)
        if value is None:
            return None
        match = _DATE.match(value)
        if not match:
            raise St96Error(_element_path(element), f"{_quote(value)} is not an ISO 8601 date")
        year, month, day = match.groups()
        try:
            datetime.date(int(year), int(month or 1), int(day or 1))
        except ValueError:
            raise St96Error(_element_path(element), f"{_quote(value)} is not a calendar date") from None
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
            raise St96Error(_element_path(element), f"{_quote(value)} is not a WIPO ST.3 office code")
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
                    _element_path(element),
                    f"{_quote(written)} holds {char!r}, which is neither A-Z, a digit nor a separator",
                )
        if not kept:
            raise St96Error(_element_path(element), f"{_quote(written)} holds no letters or digits")
        if len(kept) > MAX_NUMBER_CHARS:
            raise St96Error(
                _element_path(element),
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
            raise St96Error(_element_path(element) or _qualified(element.tag), _reasons(exc)) from None

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
                _element_path(element),
                "names no party: no com:Contact/com:Name, com:PublicationContact/com:Name or "
                "com:LegalEntityName (a com:PartyIdentifier alone cannot be resolved to a name)",
            )
        address, country = self.address(contact)
        return self.model(Party, element, name=name, addressText=address, countryCode=country)

    def name(self, element: Any) -> str | None:
        if element is None:
            return None
        for choice in element:
            tag = _qualified(choice.tag) if isinstance(choice.tag, str) else ""
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
        if _qualified(contact.tag) == "com:PublicationContact":
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


def _reasons(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or 'value'}: {error['msg']}" for error in exc.errors()
    )


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


@dataclass
class _Mapped:
    """What a kind's mapping read: the right's id parts, its other fields, and their source elements."""

    office: str
    number_element: Any
    fields: dict[str, Any]
    sources: dict[str, Any]


def _map_patent(reader: _Reader) -> _Mapped:
    root = reader.root
    bib = reader.require(root, "pat:BibliographicData")
    application = reader.require(bib, "pat:ApplicationIdentification")
    office = reader.office(reader.require(application, "com:IPOfficeCode"))
    number_element = reader.find(application, "com:ApplicationNumber/com:ApplicationNumberText")
    if number_element is None:
        number_element = reader.find(application, "com:ApplicationNumber/com:ST13ApplicationNumber")
    if number_element is None:
        reader.require(application, "com:ApplicationNumber")
        raise St96Error(_below(application, "com:ApplicationNumber/com:ApplicationNumberText"), "missing")

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
        raise St96Error(_below(bib, "pat:InventionTitleBag/pat:InventionTitle"), "missing")
    title = reader.preferring_english(titles)
    if title is None:
        raise St96Error(_element_path(titles[0]), "is empty")

    party_bag = reader.require(bib, "pat:PartyBag")
    owner_paths = ("pat:OwnerBag/pat:Owner", "pat:AssigneeBag/pat:Assignee", "pat:ApplicantBag/pat:Applicant")
    owner_path = next((p for p in owner_paths if reader.find(party_bag, p) is not None), None)
    if owner_path is None:
        raise St96Error(
            _element_path(party_bag),
            "names no owner: none of pat:OwnerBag, pat:AssigneeBag or pat:ApplicantBag holds a party",
        )
    classification_bag = reader.find(bib, "pat:PatentClassificationBag")
    fields: dict[str, Any] = {
        "filingDate": reader.first_date(application, "pat:FilingDate"),
        "publicationBag": _dated_order(publications),
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
    return _Mapped(office, number_element, fields, sources)


def _dated_order(publications: list[Publication]) -> list[Publication]:
    unique = list({(p.publicationNumber, p.kindCode): p for p in publications}.values())
    return sorted(unique, key=lambda p: (p.publicationDate is None, p.publicationDate or ""))


def _patent_classifications(reader: _Reader, bag: Any) -> list[str]:
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
    symbols += _locarno(reader, bag)
    return _unique(s for s in symbols if s)


def _symbol(reader: _Reader, element: Any, section_path: str) -> str:
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


def _locarno(reader: _Reader, parent: Any) -> list[str]:
    classes: list[str] = []
    for bag in reader.find_all(parent, "com:LocarnoClassificationBag"):
        for element in reader.find_all(bag, "com:LocarnoClassification"):
            klass = reader.require_text(element, "com:LocarnoClass")
            subclasses = reader.texts(element, "com:LocarnoSubclassBag/com:LocarnoSubclass")
            classes += [f"Locarno {klass}-{s}" for s in subclasses] or [f"Locarno {klass}"]
        classes += [f"Locarno {t}" for t in reader.texts(bag, "com:LocarnoClassificationText")]
    return classes


def _patent_status(reader: _Reader, bib: Any, publication: Any, grant: Any) -> LegalStatus:
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


def _application_number(reader: _Reader, holder: Any, fallback_office_path: str) -> tuple[str, Any]:
    """Office and number element of a trademark's or design's com:ApplicationNumber."""
    application = reader.require(holder, "com:ApplicationNumber")
    number_element = reader.find(application, "com:ApplicationNumberText")
    if number_element is None:
        number_element = reader.find(application, "com:ST13ApplicationNumber")
    if number_element is None:
        raise St96Error(_below(application, "com:ApplicationNumberText"), "missing")
    office_element = reader.find(application, "com:IPOfficeCode")
    if office_element is None:
        office_element = reader.find(holder, fallback_office_path)
    if office_element is None:
        raise St96Error(_below(application, "com:IPOfficeCode"), f"missing, and so is {fallback_office_path}")
    return reader.office(office_element), number_element


def _owners(reader: _Reader, holder: Any, bag_path: str, party_path: str) -> list[Party]:
    bag = reader.require(holder, bag_path)
    owners = reader.parties(bag, party_path)
    if not owners:
        raise St96Error(_element_path(bag), f"names no owner: it holds no {party_path}")
    return owners


def _map_trademark(reader: _Reader) -> _Mapped:
    bag = reader.require(reader.root, "tmk:TrademarkBag")
    marks = reader.find_all(bag, "tmk:Trademark")
    if not marks:
        raise St96Error(_below(bag, "tmk:Trademark"), "missing")
    if len(marks) > 1:
        raise St96Error(
            _element_path(bag), f"holds {len(marks)} trademarks; import takes one tmk:Trademark per document"
        )
    mark = marks[0]
    office, number_element = _application_number(reader, mark, "com:RegistrationOfficeCode")
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
            status = _by_registration(registered, filing_date)
    goods = reader.find(mark, "tmk:GoodsServicesBag")
    fields: dict[str, Any] = {
        "filingDate": filing_date,
        "publicationBag": _dated_order(
            [
                reader.publication(e, "com:PublicationIdentifier", office)
                for e in reader.find_all(mark, "tmk:PublicationBag/tmk:Publication")
            ]
        ),
        "registrationNumberText": registration,
        "registrationDate": registration_date,
        "markVerbalElementText": reader.text(verbal),
        "classificationBag": _nice(reader, goods),
        "ownerBag": _owners(reader, mark, "tmk:ApplicantBag", "tmk:Applicant"),
        "representativeBag": reader.parties(mark, "com:RepresentativeBag/com:Representative"),
        "legalStatus": status,
    }
    sources = {"markVerbalElementText": verbal, "classificationBag": goods, "ownerBag": mark}
    return _Mapped(office, number_element, fields, sources)


def _nice(reader: _Reader, goods: Any) -> list[str]:
    numbers: list[str] = []
    for classification in reader.find_all(
        goods, "tmk:GoodsServices/tmk:GoodsServicesClassificationBag/tmk:GoodsServicesClassification"
    ):
        if (reader.optional_text(classification, "tmk:ClassificationKindCode") or "").lower() == "nice":
            numbers += reader.texts(classification, "tmk:ClassNumber")
    numbers += reader.texts(
        goods, "tmk:GoodsServices/tmk:ClassDescriptionBag/tmk:ClassDescription/tmk:ClassNumber"
    )
    return _unique(f"Nice {int(n):02d}" if n.isdigit() else f"Nice {n}" for n in numbers)


def _by_registration(registered: bool, filing_date: str | None) -> LegalStatus:
    if registered:
        return GRANTED
    return FILED if filing_date else UNKNOWN


def _map_design(reader: _Reader) -> _Mapped:
    root = reader.root
    office, number_element = _application_number(reader, root, "com:RegistrationOfficeCode")
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
        status = _by_registration(bool(registration or registration_date), filing_date)
    representatives = reader.parties(root, "com:RepresentativeBag/com:Representative") or reader.parties(
        first, "com:RepresentativeBag/com:Representative"
    )
    fields: dict[str, Any] = {
        "filingDate": filing_date,
        "publicationBag": _dated_order(
            [
                reader.publication(e, "com:PublicationIdentifier", office)
                for d in designs
                for e in reader.find_all(d, "dgn:PublicationBag/dgn:Publication")
            ]
        ),
        "registrationNumberText": registration,
        "registrationDate": registration_date,
        "designTitle": reader.text(title),
        "classificationBag": _unique(
            c for d in designs for c in _locarno(reader, reader.find(d, "com:DesignClassificationBag"))
        ),
        "ownerBag": _owners(reader, root, "dgn:ApplicantBag", "dgn:Applicant"),
        "representativeBag": representatives,
        "legalStatus": status,
    }
    sources = {"designTitle": title, "ownerBag": root, "classificationBag": first}
    return _Mapped(office, number_element, fields, sources)


_MAPPERS: Final = {
    RightKind.PATENT: _map_patent,
    RightKind.TRADEMARK: _map_trademark,
    RightKind.DESIGN: _map_design,
}


def _document_type(root: Any) -> DocumentType:
    name = _qualified(root.tag)
    for document_type in DOCUMENT_TYPES:
        if document_type.root == name:
            return document_type
    expected = ", ".join(t.root for t in DOCUMENT_TYPES)
    namespaces = ", ".join(f"{p} = {NAMESPACES[p]}" for p in ("pat", "tmk", "dgn"))
    raise St96Error(name, f"is not a root this registry imports; expected one of {expected} ({namespaces})")


def _right(kind: RightKind, mapped: _Mapped, reader: _Reader) -> tuple[Right, str]:
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
        element = (_element_path(source) or _qualified(source.tag)) if source is not None else DOCUMENT
        raise St96Error(element, _reasons(exc)) from None
    return right, reader.text(mapped.number_element) or number


# --- entry points -----------------------------------------------------------------------------------


def parse_st96(data: bytes, schemas: SchemaSet | None = None) -> St96Document:
    """Imports one ST.96 document: hardened parse, schema validation when `schemas` is given, mapping to a
    Right and the C14N evidence. Raises St96Error for any document it refuses, and nothing is kept then."""
    data = bytes(data)
    tree = _parse(data)
    root = tree.getroot()
    document_type = _document_type(root)
    if schemas is not None:
        note, validated = schemas.validate(tree, document_type.kind), True
    else:
        note, validated = NOT_VALIDATED_NOTE, False
    reader = _Reader(root)
    right, original_number = _right(document_type.kind, _MAPPERS[document_type.kind](reader), reader)
    return St96Document(
        kind=document_type.kind,
        right=right,
        c14n_sha256=hashlib.sha256(_c14n(tree)).digest(),
        c14n_algorithm=C14N_ALGORITHM,
        source=data,
        validated=validated,
        validation_note=note,
        original_application_number=original_number,
    )


def import_files(paths: Iterable[Path], schemas: SchemaSet | None = None) -> list[ImportOutcome]:
    """Imports each file on its own: a refused file gives an outcome with its error and the batch goes on.

    A schema folder that cannot be loaded is a ConfigError and stops the batch, since no file could pass.
    `ParsePool.import_files` does the same on every core.
    """
    paths = [Path(path) for path in paths]
    return [_outcome(path, _parse_source(path, schemas)) for path in paths]


def _outcome(path: Path, result: St96Document | St96Error) -> ImportOutcome:
    if isinstance(result, St96Error):
        return ImportOutcome(path, error=result)
    return ImportOutcome(path, document=result)


def _parse_source(source: bytes | Path, schemas: SchemaSet | None) -> St96Document | St96Error:
    """One document (its bytes, or the file holding them) imported, or the refusal as a value."""
    try:
        return parse_st96(_read(source) if isinstance(source, Path) else source, schemas)
    except St96Error as exc:
        return exc


# --- parallel import --------------------------------------------------------------------------------

POOL_MIN_DOCUMENTS: Final = 16  # below this a batch is parsed in the caller: the round trip would cost more
POOL_MAX_CHUNK: Final = 64  # documents per task at most; a batch is cut into 4+ tasks per worker to share it


@dataclass(frozen=True)
class _WorkerConfigError:
    """A worker's ConfigError, sent back as data (ConfigError is not rebuilt by pickle from its message)."""

    field: str
    reason: str


class ParsePool:
    """Parses ST.96 documents in worker processes, one per core by default: parsing, mapping and the C14N
    hash are about 0.3 ms of single-threaded Python and libxml2 per document, the bulk of an import.

    A document gets exactly what `parse_st96` gives it (the same hardened parser, refusals and evidence),
    and results come back in the order given. Each worker validates against its own `SchemaSet` of
    `schemas.folder`, so a schema is loaded at most once per worker for the pool's life. The workers are
    started at the first batch of `POOL_MIN_DOCUMENTS` or more (smaller ones are parsed in the caller,
    with `schemas`) by a fork server, never by forking the caller, whose threads may hold locks; they stay
    until `close` and exit by themselves if the caller dies without closing the pool. Safe to share
    between threads.
    """

    def __init__(self, schemas: SchemaSet | None = None, workers: int | None = None) -> None:
        self.schemas = schemas
        self.workers = workers if workers is not None else os.cpu_count() or 1
        self._executor: ProcessPoolExecutor | None = None
        # The workers exit when the writing end closes (see _exit_with_the_pool); nothing is sent on it.
        self._alive: tuple[Connection, Connection] | None = None
        self._lock = threading.Lock()

    @property
    def started(self) -> bool:
        """Whether the worker processes are running."""
        return self._executor is not None

    def start(self) -> None:
        """Starts the workers now rather than at the first big batch, and waits until they can take work.

        The first start in a process also starts its fork server, which imports the caller's main module:
        up to a second, paid once.
        """
        if self.workers < 2:
            return
        executor = self._running()
        futures.wait([executor.submit(_ready) for _ in range(self.workers)])

    def parse_many(self, sources: Sequence[bytes]) -> list[St96Document | St96Error]:
        """Each document imported, or the St96Error that refused it, in the order of `sources`.

        A schema folder that cannot be loaded is a ConfigError, as with `parse_st96`.
        """
        return self._parse_all(list(sources))

    def import_files(self, paths: Iterable[Path]) -> list[ImportOutcome]:
        """`import_files` on every core: each worker reads its own files."""
        paths = [Path(path) for path in paths]
        return [_outcome(path, result) for path, result in zip(paths, self._parse_all(paths), strict=True)]

    def close(self) -> None:
        """Stops the workers (a later batch starts new ones)."""
        with self._lock:
            executor, alive = self._executor, self._alive
            self._executor = self._alive = None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
        for end in alive or ():
            end.close()

    def __enter__(self) -> ParsePool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _parse_all(self, sources: list[bytes] | list[Path]) -> list[St96Document | St96Error]:
        if self.workers < 2 or len(sources) < POOL_MIN_DOCUMENTS:
            return [_parse_source(source, self.schemas) for source in sources]
        executor = self._running()
        chunk = max(1, min(POOL_MAX_CHUNK, len(sources) // (4 * self.workers)))
        try:
            results = list(executor.map(_parse_in_worker, sources, chunksize=chunk))
        except BrokenProcessPool:
            # A worker died (killed, or out of memory): the next batch gets new workers.
            with self._lock:
                if self._executor is executor:
                    for end in self._alive or ():
                        end.close()
                    self._executor = self._alive = None
            raise
        parsed: list[St96Document | St96Error] = []
        for result in results:
            if isinstance(result, _WorkerConfigError):
                raise ConfigError(result.field, result.reason)
            parsed.append(result)
        return parsed

    def _running(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                context = multiprocessing.get_context("forkserver")
                # The server (one per process) imports the caller's main module, as by default, and this
                # one; the workers it forks start with both instead of importing them each.
                context.set_forkserver_preload(["__main__", __name__])
                folder = self.schemas.folder if self.schemas is not None else None
                self._alive = context.Pipe(duplex=False)
                self._executor = ProcessPoolExecutor(
                    self.workers, context, initializer=_start_worker, initargs=(folder, self._alive[0])
                )
            return self._executor


_worker_schemas: SchemaSet | None = None  # a ParsePool worker's own schemas, set once by _start_worker


def _start_worker(schema_folder: Path | None, pool_alive: Connection) -> None:
    global _worker_schemas
    _worker_schemas = SchemaSet(schema_folder) if schema_folder is not None else None
    threading.Thread(target=_exit_with_the_pool, args=(pool_alive,), daemon=True).start()


def _exit_with_the_pool(pool_alive: Connection) -> None:
    """Ends the worker when the pool's process is gone. Nothing is ever sent on `pool_alive`: the read
    returns at end of file, once the only writing end, the pool's, is closed, as it is when that process
    dies. A pool killed before it could stop its workers would otherwise leave them waiting for tasks
    forever (each holds the task queue's writing end itself, so it never sees the queue end)."""
    with contextlib.suppress(EOFError):
        pool_alive.recv_bytes()
    os._exit(0)


def _ready() -> None:
    """A task that does nothing: `ParsePool.start` waits for it to know the workers are up."""


def _parse_in_worker(source: bytes | Path) -> St96Document | St96Error | _WorkerConfigError:
    try:
        return _parse_source(source, _worker_schemas)
    except ConfigError as exc:
        return _WorkerConfigError(exc.field, exc.reason)


def _read(path: Path) -> bytes:
    """At most one byte more than the size limit, so an oversized file is refused without reading it all."""
    try:
        with path.open("rb") as file:
            data: bytes = file.read(MAX_DOCUMENT_BYTES + 1)
    except OSError as exc:
        raise St96Error(DOCUMENT, f"cannot be read: {exc.strerror or exc}") from None
    return data


__all__ = [
    "C14N_ALGORITHM",
    "DESIGN_STATUS",
    "DOCUMENT_TYPES",
    "MAX_ATTRIBUTE_CHARS",
    "MAX_DOCUMENT_BYTES",
    "MAX_ELEMENT_DEPTH",
    "NAMESPACES",
    "NOT_VALIDATED_NOTE",
    "POOL_MIN_DOCUMENTS",
    "TRADEMARK_STATUS",
    "DocumentType",
    "ImportOutcome",
    "ParsePool",
    "SchemaSet",
    "St96Document",
    "St96Error",
    "canonical_xml",
    "import_files",
    "parse_st96",
]
