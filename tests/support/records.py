"""Records the tests send to office nodes: a newly filed patent, a granted one, an assignment of it, and its
lapse. Tests that need another owner or date pass it; the rest share these."""

from __future__ import annotations

import hashlib
from typing import Any

from registry_node.protocol.records import LegalStatus, LegalStatusEvent, OwnershipChange, Right

EVIDENCE = hashlib.sha256(b"deed of assignment").hexdigest()
"""The hash of the deed the assignments name as their evidence."""

GRANTED_OWNER = "Acme Thermal GmbH"


def patent_right(right_id: str, title: str = "Cryogenic valve") -> dict[str, Any]:
    """A newly filed patent application of `right_id` (`EP:PAT:<number>`), owned by one applicant."""
    return {
        "rightId": right_id,
        "rightKindCategory": "patent",
        "applicationNumberText": right_id.split(":", 2)[2],
        "filingDate": "2026-01-05",
        "inventionTitle": title,
        "ownerBag": [{"name": "Aurora Medical AB", "countryCode": "SE"}],
        "legalStatus": {"stateCode": "A", "stageCode": 1, "keyEventCode": "A10"},
    }


def granted_patent(right_id: str, **changes: Any) -> Right:
    """A granted patent (stage 4, F10) of `right_id`, filed in 2019 and owned by Acme Thermal GmbH; `changes`
    replace fields."""
    data: dict[str, Any] = {
        "rightId": right_id,
        "rightKindCategory": "patent",
        "applicationNumberText": right_id.split(":", 2)[2],
        "filingDate": "2019-03-01",
        "inventionTitle": "Heat exchanger",
        "ownerBag": [{"name": GRANTED_OWNER, "countryCode": "DE"}],
        "legalStatus": {"stateCode": "A", "stageCode": 4, "keyEventCode": "F10"},
    }
    return Right.model_validate(data | changes)


def assignment_json(
    right_id: str, assignee: str = "Nordic Heat AB", evidence: str = EVIDENCE, assignor: str = GRANTED_OWNER
) -> dict[str, Any]:
    """The right assigned in whole from `assignor` to `assignee` (in Sweden), as an office API takes it."""
    return {
        "conveyanceCategory": "assignment",
        "assignorBag": [{"name": assignor, "executionDate": "2026-02-01"}],
        "assigneeBag": [{"name": assignee, "countryCode": "SE"}],
        "effectiveDate": "2026-02-01",
        "recordalDate": "2026-03-15",
        "rightIdBag": [right_id],
        "evidenceDocumentHash": evidence,
    }


def assignment(right_id: str, assignee: str = "Nordic Heat AB", evidence: str = EVIDENCE) -> OwnershipChange:
    """A granted patent's assignment (`assignment_json`), as an office takes it in Python."""
    return OwnershipChange.model_validate(assignment_json(right_id, assignee, evidence))


LAPSE = LegalStatusEvent(
    status=LegalStatus(stateCode="N", stageCode=6, keyEventCode="H13"),
    previousStageCode=4,
    detailedEventCode="EPIDOSNLAPS",
    eventDate="2026-04-01",
    effectiveDate="2026-04-01",
)
"""A granted patent lapsing: its renewal fee was not paid."""
