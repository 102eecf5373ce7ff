"""The entry points of an ST.96 import: `parse_st96` takes one document, `import_files` a batch of files.

One document goes through the hardened parser, names its kind by its root element (`DOCUMENT_TYPES`), is
validated when schemas are given, is mapped by its kind's mapper, and becomes a `Right` with the id
`{office}:{PAT|TM|DES|GI}:{application number}` and its Exclusive C14N hash as evidence. Every refusal is an
St96Error and nothing of a refused document is kept; in a batch each file is accepted or refused alone.
A Madrid or Hague transaction is not a document: `parse_st96` refuses it and names `parse_transaction`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final

from registry_node.protocol.records import RightKind
from registry_node.protocol.st96.design import map_design
from registry_node.protocol.st96.document import (
    DOCUMENT,
    DOCUMENT_TYPES,
    TRANSACTION_TYPES,
    DocumentType,
    ImportOutcome,
    St96Document,
    St96Error,
)
from registry_node.protocol.st96.gi import map_gi
from registry_node.protocol.st96.patent import map_patent
from registry_node.protocol.st96.reader import Reader, right_of
from registry_node.protocol.st96.schema import NOT_VALIDATED_NOTE, SchemaSet
from registry_node.protocol.st96.trademark import map_trademark
from registry_node.protocol.st96.xml import (
    C14N_ALGORITHM,
    MAX_DOCUMENT_BYTES,
    NAMESPACES,
    c14n,
    parse_hardened,
    qualified,
)

_MAPPERS: Final = {
    RightKind.PATENT: map_patent,
    RightKind.TRADEMARK: map_trademark,
    RightKind.DESIGN: map_design,
    RightKind.GEOGRAPHICAL_INDICATION: map_gi,
}


def _document_type(root: Any) -> DocumentType:
    name = qualified(root.tag)
    for document_type in DOCUMENT_TYPES:
        if document_type.root == name:
            return document_type
    if any(t.root == name for t in TRANSACTION_TYPES):
        raise St96Error(
            name, "is a Madrid or Hague transaction, not a document: parse_transaction imports it"
        )
    expected = ", ".join(t.root for t in DOCUMENT_TYPES)
    namespaces = ", ".join(f"{p} = {NAMESPACES[p]}" for p in ("pat", "tmk", "dgn", "gin"))
    raise St96Error(name, f"is not a root this registry imports; expected one of {expected} ({namespaces})")


def parse_st96(data: bytes, schemas: SchemaSet | None = None) -> St96Document:
    """Imports one ST.96 document: hardened parse, schema validation when `schemas` is given, mapping to a
    Right and the C14N evidence. Raises St96Error for any document it refuses, and nothing is kept then."""
    data = bytes(data)
    tree = parse_hardened(data)
    root = tree.getroot()
    document_type = _document_type(root)
    if schemas is not None:
        note, validated = schemas.validate(tree, document_type.kind), True
    else:
        note, validated = NOT_VALIDATED_NOTE, False
    reader = Reader(root)
    right, original_number = right_of(document_type.kind, _MAPPERS[document_type.kind](reader), reader)
    return St96Document(
        kind=document_type.kind,
        right=right,
        c14n_sha256=hashlib.sha256(c14n(tree)).digest(),
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
    return [outcome(path, parse_source(path, schemas)) for path in paths]


def outcome(path: Path, result: St96Document | St96Error) -> ImportOutcome:
    if isinstance(result, St96Error):
        return ImportOutcome(path, error=result)
    return ImportOutcome(path, document=result)


def parse_source(source: bytes | Path, schemas: SchemaSet | None) -> St96Document | St96Error:
    """One document (its bytes, or the file holding them) imported, or the refusal as a value."""
    try:
        return parse_st96(_read(source) if isinstance(source, Path) else source, schemas)
    except St96Error as exc:
        return exc


def _read(path: Path) -> bytes:
    """At most one byte more than the size limit, so an oversized file is refused without reading it all."""
    try:
        with path.open("rb") as file:
            data: bytes = file.read(MAX_DOCUMENT_BYTES + 1)
    except OSError as exc:
        raise St96Error(DOCUMENT, f"cannot be read: {exc.strerror or exc}") from None
    return data
