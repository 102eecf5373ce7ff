"""What an ST.96 import gives back: the document and transaction types it takes, the imported document or
transaction with its evidence, the refusal, and one file's outcome in a batch.

Every other module of the package builds on these types and none of them reads XML, so a caller (or a
parse pool worker sending results back) needs nothing else to hold a result. `St96Error` pickles by its
fields, so a refusal crosses a process boundary whole.

Two kinds of input. A *document* (`DOCUMENT_TYPES`: a patent publication, trademark, design or
geographical-indication application) describes one right and becomes an `St96Document`. A *transaction*
(`TRANSACTION_TYPES`: the Madrid and Hague exchanges between WIPO's International Bureau and an office)
carries many notifications, each of which becomes one `TransactionItem` of an `St96Transaction`, in document
order: an international registration the Bureau records, an office it designates later, a change of holder
it records, or a designated office's decision on its designation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from registry_node.protocol.errors import RegistryError
from registry_node.protocol.records import Designation, DesignationDecision, Party, Right, RightKind

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
    DocumentType("gin:GIApplication", RightKind.GEOGRAPHICAL_INDICATION, "GIApplication_V6_0.xsd"),
)


@dataclass(frozen=True)
class TransactionType:
    """A Madrid (trademarks, ST.61 statuses) or Hague (designs, ST.87) transaction root this package imports,
    from the International Bureau to an office or back, and its WIPO schema file."""

    root: str
    standard: Literal["ST.61", "ST.87"]
    schema_file: str


TRANSACTION_TYPES: Final = (
    TransactionType("tmk:MadridIBToOfficeTransaction", "ST.61", "MadridIBToOfficeTransaction_V6_0.xsd"),
    TransactionType("tmk:MadridOfficeToIBTransaction", "ST.61", "MadridOfficeToIBTransaction_V6_0.xsd"),
    TransactionType("dgn:HagueIBToOfficeTransaction", "ST.87", "HagueIBToOfficeTransaction_V6_0.xsd"),
    TransactionType("dgn:HagueOfficeToIBTransaction", "ST.87", "HagueOfficeToIBTransaction_V6_0.xsd"),
)


class St96Error(RegistryError):
    """An ST.96 document or transaction was refused; `element` is the offending or missing element's path
    below the root (ST.96 prefixes), or "(document)" for the document as a whole."""

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
class InternationalRegistration:
    """The International Bureau registered a Madrid mark (`WO:TM:…`) or Hague design (`WO:DES:…`): the right
    with its holders, representative, goods or designs and its original designations (`designationBag`)."""

    right: Right


@dataclass(frozen=True)
class DesignationAdded:
    """The International Bureau recorded a subsequent designation of an office (Madrid only: the Hague
    system has none)."""

    internationalRegistrationId: str
    designation: Designation


@dataclass(frozen=True)
class HolderChange:
    """The International Bureau recorded a change in ownership of an international registration; `partial`
    when it concerns only some designations or designs."""

    internationalRegistrationId: str
    previousHolders: list[Party]
    newHolders: list[Party]
    effectiveDate: str
    recordalDate: str
    partial: bool


@dataclass(frozen=True)
class OfficeDecision:
    """A designated office's decision on its designation `WO:TM:1234567@GB`, with the ST.61 or ST.87 status
    it gives the designation and the transaction's C14N hash as its source document."""

    designationId: str
    decision: DesignationDecision


TransactionItem = InternationalRegistration | DesignationAdded | HolderChange | OfficeDecision


@dataclass(frozen=True)
class St96Transaction:
    """An imported Madrid or Hague transaction: its items in document order and the evidence of the whole."""

    root: str  # e.g. "tmk:MadridIBToOfficeTransaction"
    standard: Literal["ST.61", "ST.87"]
    items: tuple[TransactionItem, ...]
    c14n_sha256: bytes
    c14n_algorithm: str
    source: bytes
    validated: bool
    validation_note: str


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
