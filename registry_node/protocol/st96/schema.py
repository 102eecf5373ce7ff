"""Validation against WIPO's ST.96 V6_0 XML Schemas, when the operator names a folder of them.

Validation is optional (a node without the schemas imports and says so, `NOT_VALIDATED_NOTE`); a schema
takes seconds to load, so a `SchemaSet` loads each schema once, at the first document (of its kind of right)
or transaction (of its root) that needs it, and keeps it.
A schema folder that cannot serve is a ConfigError, not a refusal of the document: no document could pass.
A document that fails is refused with the first failing element, named as the rest of the package names
elements, and libxml2's line and message.
"""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path
from typing import Any, Final

from lxml import etree  # type: ignore[import-untyped]  # lxml ships no type information

from registry_node.protocol.errors import ConfigError
from registry_node.protocol.records import RightKind
from registry_node.protocol.st96.document import DOCUMENT, DOCUMENT_TYPES, St96Error, TransactionType
from registry_node.protocol.st96.xml import PREFIX_OF, element_path, new_parser, qualified

NOT_VALIDATED_NOTE: Final = "no ST.96 schema folder configured: not validated"

_TYPE_OF_KIND: Final = {t.kind: t for t in DOCUMENT_TYPES}


def _load_schema(path: Path) -> Any:
    """Loads one WIPO schema (seconds: call once); a missing or broken file is a configuration error."""
    if not path.is_file():
        raise ConfigError("st96 schema folder", f"{path.name} is missing from {path.parent}")
    try:
        return etree.XMLSchema(etree.parse(str(path), new_parser()))
    except (etree.XMLSyntaxError, etree.XMLSchemaParseError) as exc:
        raise ConfigError("st96 schema folder", f"{path.name} is not a loadable XML schema: {exc}") from exc


class SchemaSet:
    """WIPO's ST.96 V6_0 schemas in `folder`, each loaded the first time a document or transaction needs
    it, then reused.

    Safe to share between threads: loading and validating take a lock (an lxml schema keeps its error
    log on the instance).
    """

    def __init__(self, folder: Path) -> None:
        folder = Path(folder)
        if not folder.is_dir():
            raise ConfigError("st96 schema folder", f"{folder} is not a directory")
        self.folder = folder
        self._schemas: dict[str, Any] = {}
        self._loads: Counter[RightKind | str] = Counter()
        self._lock = threading.Lock()

    @property
    def load_counts(self) -> dict[RightKind | str, int]:
        """How many times each schema was loaded (at most once): a document schema under its kind of right,
        a transaction schema under its root (`tmk:MadridIBToOfficeTransaction`)."""
        return dict(self._loads)

    def validate(self, tree: Any, of: RightKind | TransactionType) -> str:
        """A note saying which schema the document (of a kind of right) or transaction is valid against; an
        St96Error naming the first failing element otherwise."""
        if isinstance(of, TransactionType):
            schema_file, counted = of.schema_file, of.root
        else:
            schema_file, counted = _TYPE_OF_KIND[of].schema_file, of
        with self._lock:
            schema = self._schemas.get(schema_file)
            if schema is None:
                schema = self._schemas[schema_file] = _load_schema(self.folder / schema_file)
                self._loads[counted] += 1
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
        return element_path(found[0]) or qualified(found[0].tag)
    return libxml_path or DOCUMENT


def _readable(message: str) -> str:
    for uri, prefix in PREFIX_OF.items():
        message = message.replace(f"{{{uri}}}", f"{prefix}:")
    return message
