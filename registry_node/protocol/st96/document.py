"""What an ST.96 import gives back: the document types it takes, the imported document with its evidence,
the refusal, and one file's outcome in a batch.

Every other module of the package builds on these types and none of them reads XML, so a caller (or a
parse pool worker sending results back) needs nothing else to hold a result. `St96Error` pickles by its
fields, so a refusal crosses a process boundary whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from registry_node.protocol.errors import RegistryError
from registry_node.protocol.records import Right, RightKind

DOCUMENT: Final = "(document)"  # the element an St96Error names when the document as a whole is refused


@dataclass(frozen=True)
class DocumentType:
    """A root element this package imports: the kind of right it describes and its WIPO schema file."""

    root: str
    kind: RightKind
    schema_file: str


DOCUMENT_TYPES: Final = (
    DocumentType("pat:PatentPublication", RightKind.PATENT, "PatentPublication_V6_0.xsd"),
    DocumentType("tmk:TrademarkApplication", RightKind.TRADEMARK, "TrademarkApplication_V6_0.xsd"),
    DocumentType("dgn:DesignApplication", RightKind.DESIGN, "DesignApplication_V6_0.xsd"),
)


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
