"""Import of WIPO ST.96 V6_0 XML. A document (a patent publication, trademark, design or geographical
indication application) becomes one `Right`, with the source's Exclusive C14N hash as evidence:
`parse_st96` takes one document, `import_files` a batch, and a `ParsePool` parses a batch the same way on
every core. A Madrid or Hague transaction between WIPO's International Bureau and an office becomes an
`St96Transaction` of items (international registrations, designations, changes of holder, designated
offices' decisions): `parse_transaction` takes one.

One module per step, imports running one way (down this list, never up, and the mappers never import
each other):

- `pool`: the parse pool and its fork-server workers;
- `parse`, `transaction`: the entry points: the document's kind or transaction's system, its mapper, the
  result and the evidence;
- `patent`, `trademark`, `design`, `gi`: one mapper per kind of document, from ST.96 elements to the
  record's fields; `madrid`, `hague`: one mapper per system of transactions;
- `international`: what the Madrid and Hague mappers share (registration ids, designations, decisions);
- `reader`: the element reader and the mapping rules the kinds share (numbers, dates, parties, family
  links); `status`: legal status (ST.27, ST.61, ST.87) from the bibliographic data and decisions;
  `schema`: validation against WIPO's XSD;
- `xml`: the hardened parser (DOCTYPE refused, limits), Exclusive C14N, element names;
- `document`: the document and transaction types, results and the St96Error refusal.
"""

from registry_node.protocol.st96.document import (
    DesignationAdded,
    HolderChange,
    ImportOutcome,
    InternationalRegistration,
    OfficeDecision,
    St96Document,
    St96Error,
    St96Transaction,
    TransactionItem,
)
from registry_node.protocol.st96.parse import import_files, parse_st96
from registry_node.protocol.st96.pool import POOL_MIN_DOCUMENTS, ParsePool
from registry_node.protocol.st96.schema import NOT_VALIDATED_NOTE, SchemaSet
from registry_node.protocol.st96.transaction import parse_transaction
from registry_node.protocol.st96.xml import (
    C14N_ALGORITHM,
    MAX_ATTRIBUTE_CHARS,
    MAX_DOCUMENT_BYTES,
    MAX_ELEMENT_DEPTH,
    NAMESPACES,
    canonical_xml,
)

__all__ = [
    "C14N_ALGORITHM",
    "MAX_ATTRIBUTE_CHARS",
    "MAX_DOCUMENT_BYTES",
    "MAX_ELEMENT_DEPTH",
    "NAMESPACES",
    "NOT_VALIDATED_NOTE",
    "POOL_MIN_DOCUMENTS",
    "DesignationAdded",
    "HolderChange",
    "ImportOutcome",
    "InternationalRegistration",
    "OfficeDecision",
    "ParsePool",
    "SchemaSet",
    "St96Document",
    "St96Error",
    "St96Transaction",
    "TransactionItem",
    "canonical_xml",
    "import_files",
    "parse_st96",
    "parse_transaction",
]
