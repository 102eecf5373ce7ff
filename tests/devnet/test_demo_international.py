"""The demo's international story as the offices exchange it: every document is valid against WIPO's V6_0
schemas and imports, and the decisions answer designations the Bureau's notifications make."""

from __future__ import annotations

from pathlib import Path

from registry_node.devnet.demo_international import (
    FAMILY,
    GEOGRAPHICAL_INDICATION,
    INTERNATIONAL_REGISTRATION,
    international_documents,
)
from registry_node.protocol.st96 import (
    DesignationAdded,
    InternationalRegistration,
    OfficeDecision,
    SchemaSet,
    parse_st96,
    parse_transaction,
)

SCHEMAS = SchemaSet(Path(__file__).resolve().parents[3] / "shared" / "data" / "st96" / "schemas")


def test_every_document_is_valid_st96_and_each_decision_answers_a_designation_to_its_office() -> None:
    designated: set[str] = set()
    decided: dict[str, list[str]] = {}
    family: dict[str, list[str]] = {}
    for document in international_documents():
        if not document.transaction:
            patent = parse_st96(document.xml, SCHEMAS)
            assert patent.validated and patent.right.ipOfficeCode == document.office
            if patent.right.rightKindCategory == "geographicalIndication":
                assert patent.right.rightId == GEOGRAPHICAL_INDICATION
                assert patent.right.giNameText == "Boseong Green Tea"
                continue
            family[patent.right.rightId] = [link.rightId or "" for link in patent.right.familyLinkBag or []]
            continue
        transaction = parse_transaction(document.xml, SCHEMAS)
        assert transaction.validated, document.file_name
        for item in transaction.items:
            if isinstance(item, InternationalRegistration):
                assert document.office == "WO"
                designated |= {
                    f"{item.right.rightId}@{d.designatedOfficeCode}" for d in item.right.designationBag or []
                }
            elif isinstance(item, DesignationAdded):
                designated.add(f"{item.internationalRegistrationId}@{item.designation.designatedOfficeCode}")
            elif isinstance(item, OfficeDecision):
                assert item.designationId.endswith(f"@{document.office}")
                assert item.designationId in designated, "a decision before its designation"
                decided.setdefault(item.designationId, []).append(item.decision.decisionCategory.value)
    assert decided[f"{INTERNATIONAL_REGISTRATION}@KR"] == ["provisionalRefusal"]
    assert decided["WO:TM:1700002@KR"] == ["provisionalRefusal", "finalDecision"]
    assert {d.rsplit("@", 1)[1] for d in decided} == {"EP", "GB", "KR"}
    assert designated - set(decided) == {"WO:TM:1700002@EP"}  # the later designation, still undecided
    assert family[FAMILY["EP"]] == [FAMILY["GB"]]
    assert FAMILY["GB"] in family[FAMILY["KR"]]
