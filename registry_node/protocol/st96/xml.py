"""Reading ST.96 XML safely, its Exclusive C14N form, and the names the package gives its elements.

Hostile input. Documents come from outside, so parsing is hardened: input over `MAX_DOCUMENT_BYTES` is
refused before parsing; any DOCTYPE is refused before libxml2 reads it (ST.96 is defined by XML Schema and
needs no DTD; a DTD is how external entities (XXE) and entity-expansion bombs get in), and the parser
neither resolves entities, loads DTDs nor touches the network, so nothing is ever expanded or fetched;
elements nested deeper than `MAX_ELEMENT_DEPTH` and attribute values over `MAX_ATTRIBUTE_CHARS` are
refused. Every refusal is an `St96Error` naming the element (or "(document)") and the reason.

Evidence: the SHA-256 of the document's W3C Exclusive XML Canonicalization 1.0 without comments
(`C14N_ALGORITHM`), so re-serialising a document (attribute order, quoting, namespace declarations that
are not used, line ends) keeps its hash and any change of content changes it.

Element names: an element is named by its path below the root with the ST.96 prefixes of `NAMESPACES`
(pat, com, tmk, dgn, gin), whatever prefixes the document itself declares, so a refusal reads the same for any
serialisation of one document.
"""

from __future__ import annotations

import re
from typing import Any, Final

from lxml import etree  # type: ignore[import-untyped]  # lxml ships no type information

from registry_node.protocol.st96.document import DOCUMENT, St96Error

MAX_DOCUMENT_BYTES: Final = 10 * 1024 * 1024
MAX_ELEMENT_DEPTH: Final = 100
MAX_ATTRIBUTE_CHARS: Final = 8 * 1024

C14N_ALGORITHM: Final = "http://www.w3.org/2001/10/xml-exc-c14n#"

NAMESPACES: Final = {
    "pat": "http://www.wipo.int/standards/XMLSchema/ST96/Patent",
    "com": "http://www.wipo.int/standards/XMLSchema/ST96/Common",
    "tmk": "http://www.wipo.int/standards/XMLSchema/ST96/Trademark",
    "dgn": "http://www.wipo.int/standards/XMLSchema/ST96/Design",
    "gin": "http://www.wipo.int/standards/XMLSchema/ST96/GeographicalIndication",
}
PREFIX_OF: Final = {uri: prefix for prefix, uri in NAMESPACES.items()}


# --- hardened parsing --------------------------------------------------------------------------------


def new_parser() -> Any:
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


def parse_hardened(data: bytes) -> Any:
    """The document's tree from the hardened parser, or an St96Error; nothing in a DTD is ever used."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise St96Error(DOCUMENT, f"is larger than the {MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB limit")
    refusal = _doctype_refusal(data)
    if refusal:
        raise St96Error(DOCUMENT, refusal)
    try:
        root = etree.fromstring(data, new_parser())
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
                    f"{element_path(element) or qualified(element.tag)}/@{qualified(name)}",
                    f"attribute value has {len(value)} characters; the limit is {MAX_ATTRIBUTE_CHARS}",
                )


def canonical_xml(data: bytes) -> bytes:
    """The document's Exclusive XML C14N 1.0 form without comments, parsed with the same hardening."""
    return c14n(parse_hardened(data))


def c14n(tree: Any) -> bytes:
    try:
        canonical: bytes = etree.tostring(tree, method="c14n", exclusive=True, with_comments=False)
    except etree.C14NError as exc:
        raise St96Error(DOCUMENT, f"cannot be canonicalised (Exclusive C14N): {exc}") from None
    return canonical


# --- element names ----------------------------------------------------------------------------------


def qualified(name: str) -> str:
    """`pat:Name` for an ST.96 name, Clark notation `{uri}Name` for any other."""
    qname = etree.QName(name)
    prefix = PREFIX_OF.get(qname.namespace)
    return f"{prefix}:{qname.localname}" if prefix else str(name)


def element_path(element: Any) -> str:
    """The element's path below the root, e.g. `pat:PartyBag/pat:AssigneeBag/pat:Assignee[2]`."""
    steps: list[str] = []
    while (parent := element.getparent()) is not None:
        step = qualified(element.tag)
        siblings = list(parent.iterchildren(element.tag))
        if len(siblings) > 1:
            step += f"[{siblings.index(element) + 1}]"
        steps.append(step)
        element = parent
    return "/".join(reversed(steps))


def below(parent: Any, relative: str) -> str:
    base = element_path(parent)
    return f"{base}/{relative}" if base else relative
