"""Verdicts on rights and uploaded documents: the evidence gathered at a stated block
(`gateway.verify.evidence`), judged (`gateway.verify.judge`).

The API does the two steps itself, to gather in a worker thread and judge on the event loop; this is the
two in one call, for everything else (tests, the benchmark's checks, a script).
"""

from __future__ import annotations

from collections.abc import Callable

from gateway.deep_links import OfficeDocuments
from gateway.verify.chain_reads import ChainReader
from gateway.verify.evidence import Gatherer, Locate
from gateway.verify.facts import BlockRef
from gateway.verify.judge import judge
from gateway.verify.models import Verdict
from registry_node.protocol.chain import ConfirmationDepth


class Verifier:
    """Verdicts from chain state at a stated block and the offices' deep links; shared by request threads
    and the event loop."""

    def __init__(
        self,
        reader: ChainReader,
        documents: OfficeDocuments,
        confirmations: int | ConfirmationDepth = 1,
        locate: Locate | None = None,
        known_head: Callable[[], int | None] | None = None,
    ) -> None:
        self.gatherer = Gatherer(reader, documents, confirmations, locate, known_head)
        self.reader = reader
        self.documents = documents

    def block_at(self, at_block: int | None = None) -> BlockRef:
        return self.gatherer.block_at(at_block)

    def verify_right(self, right_id: str, at_block: int | None = None) -> Verdict:
        """The verdict on the right's current version; BadRightId for an id that is not one."""
        return judge(self.gatherer.right(right_id, at_block))

    def verify_document(
        self,
        data: bytes,
        content_type: str | None = None,
        filename: str | None = None,
        at_block: int | None = None,
        locate: Locate | None = None,
    ) -> Verdict:
        return judge(self.gatherer.upload(data, content_type, filename, at_block, locate))
