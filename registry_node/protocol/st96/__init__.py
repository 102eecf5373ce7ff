"""Import of WIPO ST.96 V6_0 XML: one patent publication, trademark application or design application per
document becomes one `Right`, with the source's Exclusive C14N hash as evidence. `parse_st96` takes one
document, `import_files` a batch; a `ParsePool` parses a batch the same way on every core.

One module per step, imports running one way (down this list, never up, and the mappers never import
each other):

- `pool`: the parse pool and its fork-server workers;
- `parse`: the entry points: the document's kind, its mapper, the Right and the evidence;
- `patent`, `trademark`, `design`: one mapper per kind, from ST.96 elements to the record's fields;
- `reader`: the element reader and the mapping rules the kinds share (numbers, dates, parties);
  `status`: legal status (ST.27) from the bibliographic data; `schema`: validation against WIPO's XSD;
- `xml`: the hardened parser (DOCTYPE refused, limits), Exclusive C14N, element names;
- `document`: the document types, results and the St96Error refusal.
"""

from registry_node.protocol.st96.document import ImportOutcome, St96Document, St96Error
from registry_node.protocol.st96.parse import import_files, parse_st96
from registry_node.protocol.st96.pool import POOL_MIN_DOCUMENTS, ParsePool
from registry_node.protocol.st96.schema import NOT_VALIDATED_NOTE, SchemaSet
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
    "ImportOutcome",
    "ParsePool",
    "SchemaSet",
    "St96Document",
    "St96Error",
    "canonical_xml",
    "import_files",
    "parse_st96",
]
