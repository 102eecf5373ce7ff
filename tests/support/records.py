"""Records the tests send to office nodes."""

from __future__ import annotations

from typing import Any


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
