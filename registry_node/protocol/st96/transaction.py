"""The entry point of a Madrid or Hague transaction: `parse_transaction` takes one, in the same hardened way
as `parse_st96` takes a document.

A transaction goes through the hardened parser (DOCTYPE, size and depth refused as for any document), names
its system and direction by its root element (`TRANSACTION_TYPES`), is validated against its WIPO schema
when schemas are given, and its Exclusive C14N hash becomes the evidence of the whole and the
`sourceDocumentHash` of every decision in it. Its notifications are then mapped one by one, in document
order, by the system's mapper (`madrid`, `hague`) into `TransactionItem`s. The transaction is accepted whole
or refused whole: a notification this registry does not import, or one it cannot read, refuses the
transaction with an St96Error naming that notification's element and the reason, and nothing of it is kept
(an office that sends mixed notifications splits them first). A document given here, or a transaction given
to `parse_st96`, is refused and named for what it is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, Final

from registry_node.protocol.st96 import hague, madrid
from registry_node.protocol.st96.document import (
    DOCUMENT_TYPES,
    TRANSACTION_TYPES,
    St96Error,
    St96Transaction,
    TransactionItem,
    TransactionType,
)
from registry_node.protocol.st96.reader import Reader
from registry_node.protocol.st96.schema import NOT_VALIDATED_NOTE, SchemaSet
from registry_node.protocol.st96.xml import C14N_ALGORITHM, NAMESPACES, c14n, parse_hardened, qualified

_MAPPERS: Final[dict[str, Callable[[Reader, str], list[TransactionItem]]]] = {
    "tmk:MadridIBToOfficeTransaction": madrid.map_ib_to_office,
    "tmk:MadridOfficeToIBTransaction": madrid.map_office_to_ib,
    "dgn:HagueIBToOfficeTransaction": hague.map_ib_to_office,
    "dgn:HagueOfficeToIBTransaction": hague.map_office_to_ib,
}


def _transaction_type(root: Any) -> TransactionType:
    name = qualified(root.tag)
    for transaction_type in TRANSACTION_TYPES:
        if transaction_type.root == name:
            return transaction_type
    if any(t.root == name for t in DOCUMENT_TYPES):
        raise St96Error(name, "is a document, not a Madrid or Hague transaction: parse_st96 imports it")
    expected = ", ".join(t.root for t in TRANSACTION_TYPES)
    namespaces = ", ".join(f"{p} = {NAMESPACES[p]}" for p in ("tmk", "dgn"))
    raise St96Error(
        name, f"is not a transaction this registry imports; expected one of {expected} ({namespaces})"
    )


def parse_transaction(data: bytes, schemas: SchemaSet | None = None) -> St96Transaction:
    """Imports one Madrid or Hague transaction: hardened parse, schema validation when `schemas` is given,
    and every notification mapped. Raises St96Error for a transaction it refuses, and nothing is kept then."""
    data = bytes(data)
    tree = parse_hardened(data)
    root = tree.getroot()
    transaction_type = _transaction_type(root)
    if schemas is not None:
        note, validated = schemas.validate(tree, transaction_type), True
    else:
        note, validated = NOT_VALIDATED_NOTE, False
    digest = hashlib.sha256(c14n(tree)).digest()
    items = _MAPPERS[transaction_type.root](Reader(root), digest.hex())
    return St96Transaction(
        root=transaction_type.root,
        standard=transaction_type.standard,
        items=tuple(items),
        c14n_sha256=digest,
        c14n_algorithm=C14N_ALGORITHM,
        source=data,
        validated=validated,
        validation_note=note,
    )
