"""Each change of a right told in one sentence: the parties and dates from the record, or only what the
chain shows."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.read_model.story import decision, names, summary


def change(category: str, **fields: Any) -> dict[str, Any]:
    return {
        "action": "ownershipChange",
        "officeCode": "GB",
        "conveyance": {"conveyanceCategory": category, "transferCategory": "full", **fields},
    }


PARTIES = {
    "assignorBag": [{"name": "Lumière Énergie SA"}],
    "assigneeBag": [{"name": "Thames Optics Ltd", "countryCode": "GB"}],
    "effectiveDate": "2023-10-16",
    "recordalDate": "2023-11-02",
}


def test_an_assignment_names_both_parties_and_both_dates() -> None:
    assert summary(change("assignment", **PARTIES)) == (
        "Assignment from Lumière Énergie SA to Thames Optics Ltd, effective 2023-10-16, "
        "recorded 2023-11-02 by GB"
    )


@pytest.mark.parametrize(
    ("category", "told"),
    [
        ("merger", "Merger of Lumière Énergie SA into Thames Optics Ltd"),
        ("securityInterest", "Security interest granted by Lumière Énergie SA to Thames Optics Ltd"),
        ("securityRelease", "Release of a security interest by Lumière Énergie SA to Thames Optics Ltd"),
        ("nameChange", "Change of name from Lumière Énergie SA to Thames Optics Ltd"),
        ("governmentInterest", "Government interest from Lumière Énergie SA to Thames Optics Ltd"),
    ],
)
def test_each_conveyance_names_its_sides_in_its_own_words(category: str, told: str) -> None:
    assert summary(change(category, **PARTIES)).startswith(told + ", effective 2023-10-16")


def test_a_partial_transfer_and_several_assignees_are_said() -> None:
    several = [{"name": "A Ltd"}, {"name": "B Ltd"}, {"name": "C Ltd"}]
    told = summary(change("assignment", **{**PARTIES, "transferCategory": "partial", "assigneeBag": several}))
    assert told.startswith("Assignment (partial) from Lumière Énergie SA to A Ltd, B Ltd and C Ltd")


def test_without_its_record_a_change_is_told_with_what_the_chain_shows() -> None:
    told = summary(change("merger", effectiveDate="2023-10-16"))
    assert told == "Merger, effective 2023-10-16, recorded by GB"
    confidential = {"action": "registration", "officeCode": "EP", "confidential": True}
    assert "only a seal of its record is on chain" in summary(confidential)


def test_a_correction_names_the_version_it_corrects() -> None:
    item = {
        "action": "legalStatusEvent",
        "officeCode": "KR",
        "statusEvent": {"statusCode": "A4Y10", "correctsVersion": 3, "effectiveDate": "2024-05-01"},
    }
    assert summary(item, "patent") == (
        "Correction of version 3: event corrected or deleted (Y10, correction or deletion of an earlier "
        "event): active, stage grant, effective 2024-05-01, recorded by KR"
    )


def test_names_are_joined_as_a_person_reads_them() -> None:
    assert names([{"name": "A"}]) == "A"
    assert names([{"name": "A"}, {"name": "B"}]) == "A and B"
    assert names([]) is None and names(None) is None


def made(category: str, state: str = "A", classes: list[str] | None = None, **fields: Any) -> dict[str, Any]:
    """A designated office's decision as its record gives it."""
    scope = {"scopeCategory": "partial", "classificationBag": classes} if classes else {}
    told = {"decisionCategory": category, "decisionDate": "2024-06-10", "status": {"stateCode": state}}
    return {**told, **scope, **fields}


@pytest.mark.parametrize(
    ("decided", "kind", "told"),
    [
        (made("grantOfProtection"), "trademark", "Protected in KR since 2024-06-10"),
        (made("provisionalRefusal", classes=["09"]), "trademark",
         "Provisionally refused in KR for Nice class 09, on 2024-06-10"),
        (made("provisionalRefusal", scopeCategory="total"), "trademark",
         "Provisionally refused in KR in whole, on 2024-06-10"),
        (made("provisionalRefusal", classes=["09", "25"]), "design",
         "Provisionally refused in KR for Locarno classes 09 and 25, on 2024-06-10"),
        (made("finalDecision", classes=["09"], protectionCategory="refused"), "trademark",
         "Final decision in KR of 2024-06-10: protected except Nice class 09"),
        (made("finalDecision", classes=["Nice 10"], protectionCategory="protected"), "trademark",
         "Final decision in KR of 2024-06-10: protected only for Nice class 10"),
        (made("finalDecision", state="N", scopeCategory="total", protectionCategory="refused"), "trademark",
         "Final decision in KR of 2024-06-10: refused"),
        (made("provisionalRefusal", classes=["Nice 09", "Nice 25"]), "trademark",
         "Provisionally refused in KR for Nice classes 09 and 25, on 2024-06-10"),
        (made("invalidation", scopeCategory="partial", goodsServicesText="Clothing"), "trademark",
         "Invalidated in KR in part, on 2024-06-10"),
    ],
)  # fmt: skip
def test_a_designated_office_s_decision_is_told_with_its_scope(
    decided: dict[str, Any], kind: str, told: str
) -> None:
    assert decision(decided, "KR", kind, "A4F10") == told


def test_a_decision_not_fetched_yet_is_told_by_its_status_on_chain() -> None:
    assert decision(None, "KR", "trademark", "A4F10") == (
        "Decision recorded by KR: Active (stage: grant), key event F10: grant, right granted"
    )


def test_a_designation_names_the_office_designated() -> None:
    item = {"action": "designation", "officeCode": "WO",
            "designation": {"designatedOfficeCode": "KR", "designationCategory": "subsequent",
                            "designationDate": "2024-03-01"}}  # fmt: skip
    assert summary(item) == "Designated KR (subsequent designation of 2024-03-01), recorded by WO"
