"""Consortium governance: proposals, approvals, the threshold, expiry and every membership change."""

from __future__ import annotations

import brownie
import pytest
from brownie import SharedIPRegistry, accounts, chain
from conftest import MAX_OFFICES, STATUS, VOTING_PERIOD, code, error, plain

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
KIND = {"Admit": 0, "Suspend": 1, "Reinstate": 2, "SetThreshold": 3}
JP_NAME = "Japan Patent Office"
JP_ENDPOINT = "https://jp.example/registry"


def admission(account, office: str = "JP", name: str = JP_NAME, endpoint: str = JP_ENDPOINT) -> tuple:
    """An OfficeInit for proposeAdmission."""
    return (code(office), account, name, endpoint)


def vote(registry, proposal_id: int, *voters) -> None:
    """Approves a proposal with each voter in turn."""
    for voter in voters:
        registry.approve(proposal_id, {"from": voter})


@pytest.fixture
def newcomer():
    """The account of an office that is not yet a member."""
    return accounts[5]


@pytest.fixture
def half(registry, ep, gb, kr):
    """Lowers the threshold to 1/2 by a unanimous vote: two of three active offices then pass a proposal."""
    proposal_id = registry.proposeThreshold(1, 2, {"from": ep}).return_value
    vote(registry, proposal_id, gb, kr)
    assert plain(registry.threshold()) == (1, 2)


@pytest.fixture
def kr_suspended(registry, ep, gb, kr):
    """KR suspended by EP and GB: KR neither votes on nor counts towards its own suspension."""
    proposal_id = registry.proposeSuspension(code("KR"), {"from": ep}).return_value
    registry.approve(proposal_id, {"from": gb})
    assert plain(registry.officeOf(kr)) == (code("KR"), STATUS["Suspended"])


# ---------------------------------------------------------------- deployment


def test_deployment_admits_the_founders_with_the_threshold_and_voting_period(registry, offices):
    assert registry.officeCodes() == [code("EP"), code("GB"), code("KR")]
    assert registry.activeOfficeCount() == 3
    assert plain(registry.threshold()) == (2, 3)
    assert registry.votingPeriod() == VOTING_PERIOD
    assert registry.proposalCount() == 0
    for office in offices.values():
        assert plain(registry.officeOf(office.account)) == (code(office.code), STATUS["Active"])


def test_deployment_emits_office_admitted_and_threshold_changed(offices):
    founders = [(code(c), o.account, o.name, f"https://{c.lower()}.example") for c, o in offices.items()]
    registry = SharedIPRegistry.deploy(founders, 3, 4, 60, MAX_OFFICES, {"from": accounts[0]})
    tx = registry.tx
    assert tx.events["ThresholdChanged"]["numerator"] == 3
    assert tx.events["ThresholdChanged"]["denominator"] == 4
    admitted = tx.events["OfficeAdmitted"]
    assert [e["office"] for e in admitted] == [code("EP"), code("GB"), code("KR")]
    assert [e["account"] for e in admitted] == [o.account for o in offices.values()]
    assert [e["name"] for e in admitted] == [o.name for o in offices.values()]
    assert admitted[1]["endpoint"] == "https://gb.example"
    assert registry.votingPeriod() == 60


def test_deployment_without_founders_reverts():
    with brownie.reverts(error("OfficeRegistryNoFoundingOffices")):
        SharedIPRegistry.deploy([], 2, 3, VOTING_PERIOD, MAX_OFFICES, {"from": accounts[0]})


def test_deployment_with_duplicate_founder_codes_reverts():
    founders = [
        (code("EP"), accounts[1], "European Patent Office", "https://ep.example"),
        (code("EP"), accounts[2], "Another EPO", "https://ep2.example"),
    ]
    with brownie.reverts(error("OfficeRegistryOfficeExists", b"EP")):
        SharedIPRegistry.deploy(founders, 2, 3, VOTING_PERIOD, MAX_OFFICES, {"from": accounts[0]})


def test_deployment_with_a_shared_founder_account_reverts():
    founders = [
        (code("EP"), accounts[1], "European Patent Office", "https://ep.example"),
        (code("GB"), accounts[1], "UK Intellectual Property Office", "https://gb.example"),
    ]
    with brownie.reverts(error("OfficeRegistryAccountInUse", accounts[1], b"EP")):
        SharedIPRegistry.deploy(founders, 2, 3, VOTING_PERIOD, MAX_OFFICES, {"from": accounts[0]})


def test_deployment_with_zero_voting_period_reverts():
    founders = [(code("EP"), accounts[1], "European Patent Office", "https://ep.example")]
    with brownie.reverts(error("OfficeRegistryInvalidVotingPeriod", 0)):
        SharedIPRegistry.deploy(founders, 2, 3, 0, MAX_OFFICES, {"from": accounts[0]})


def test_deployment_with_threshold_below_half_reverts():
    founders = [(code("EP"), accounts[1], "European Patent Office", "https://ep.example")]
    with brownie.reverts(error("OfficeRegistryInvalidThreshold", 1, 3)):
        SharedIPRegistry.deploy(founders, 1, 3, VOTING_PERIOD, MAX_OFFICES, {"from": accounts[0]})


def test_deployment_with_an_invalid_founder_code_reverts():
    founders = [(code("ep"), accounts[1], "European Patent Office", "https://ep.example")]
    with brownie.reverts(error("OfficeRegistryInvalidOfficeCode", b"ep")):
        SharedIPRegistry.deploy(founders, 2, 3, VOTING_PERIOD, MAX_OFFICES, {"from": accounts[0]})


def test_admission_stops_at_the_deployments_max_offices(registry, ep, gb, kr, newcomer):
    small = SharedIPRegistry.deploy(
        [(code(c), a, c, f"https://{c.lower()}.example") for c, a in (("EP", ep), ("GB", gb))], 1, 2,
        VOTING_PERIOD, 3, {"from": accounts[0]},
    )  # fmt: skip
    assert small.maxOffices() == 3
    small.proposeAdmission(admission(kr, office="KR"), {"from": ep})
    small.approve(small.proposalCount(), {"from": gb})
    assert len(small.officeCodes()) == 3

    with brownie.reverts(error("OfficeRegistryTooManyOffices", 3)):
        small.proposeAdmission(admission(newcomer), {"from": ep})


def test_deployment_with_more_founders_than_max_offices_reverts(ep, gb):
    founders = [(code(c), a, c, f"https://{c.lower()}.example") for c, a in (("EP", ep), ("GB", gb))]
    with brownie.reverts(error("OfficeRegistryTooManyOffices", 1)):
        SharedIPRegistry.deploy(founders, 1, 2, VOTING_PERIOD, 1, {"from": accounts[0]})


def test_deployment_with_max_offices_above_the_limit_reverts(ep):
    founders = [(code("EP"), ep, "EP", "https://ep.example")]
    with brownie.reverts(error("OfficeRegistryInvalidMaxOffices", 513, 512)):
        SharedIPRegistry.deploy(founders, 1, 2, VOTING_PERIOD, 513, {"from": accounts[0]})


# ---------------------------------------------------------------- views


def test_office_reads_back_a_founder(registry, ep):
    assert plain(registry.office(code("EP"))) == (
        code("EP"),
        STATUS["Active"],
        ep,
        ZERO_ADDRESS,
        "European Patent Office",
        "https://ep.example/registry",
        0,
        ZERO_ADDRESS,
    )


def test_office_of_an_unknown_code_reverts(registry):
    with brownie.reverts(error("OfficeRegistryUnknownOffice", b"JP")):
        registry.office(code("JP"))


def test_office_of_reports_none_for_non_members(registry, outsider):
    assert plain(registry.officeOf(outsider)) == ("0x0000", STATUS["None"])
    assert plain(registry.officeOf(accounts[0])) == ("0x0000", STATUS["None"])
    assert plain(registry.officeOf(ZERO_ADDRESS)) == ("0x0000", STATUS["None"])


def test_unknown_proposal_has_no_approvals(registry):
    assert registry.approvalCount(1) == 0
    assert registry.approvalCount(0) == 0
    assert registry.hasApproved(1, code("EP")) is False


@pytest.mark.parametrize("proposal_id", [0, 1])
def test_reading_an_unknown_proposal_reverts(registry, proposal_id):
    with brownie.reverts(error("OfficeRegistryUnknownProposal", proposal_id)):
        registry.proposal(proposal_id)


# ---------------------------------------------------------------- proposing and approving


def test_proposer_approval_counts_at_once(registry, ep, newcomer):
    tx = registry.proposeAdmission(admission(newcomer), {"from": ep})

    assert tx.return_value == 1
    assert registry.proposalCount() == 1
    assert registry.approvalCount(1) == 1
    assert registry.hasApproved(1, code("EP")) is True
    assert registry.hasApproved(1, code("GB")) is False
    assert list(tx.events.keys()) == ["ProposalCreated", "ProposalApproved"]
    created = tx.events["ProposalCreated"]
    assert created["proposalId"] == 1
    assert created["proposer"] == code("EP")
    assert created["kind"] == KIND["Admit"]
    assert created["office"] == code("JP")
    assert created["deadline"] == tx.timestamp + VOTING_PERIOD
    assert tx.events["ProposalApproved"]["proposalId"] == 1
    assert tx.events["ProposalApproved"]["office"] == code("EP")


def test_admission_proposal_records_the_new_office(registry, ep, newcomer):
    tx = registry.proposeAdmission(admission(newcomer), {"from": ep})

    assert plain(registry.proposal(1)) == (
        KIND["Admit"],
        code("JP"),
        code("EP"),
        tx.timestamp + VOTING_PERIOD,
        False,
        newcomer,
        0,
        0,
        JP_NAME,
        JP_ENDPOINT,
    )
    with brownie.reverts(error("OfficeRegistryUnknownOffice", b"JP")):
        registry.office(code("JP"))
    assert plain(registry.officeOf(newcomer)) == ("0x0000", STATUS["None"])


def test_two_of_three_approvals_do_not_admit_at_two_thirds(registry, ep, gb, newcomer):
    registry.proposeAdmission(admission(newcomer), {"from": ep})
    tx = registry.approve(1, {"from": gb})

    assert list(tx.events.keys()) == ["ProposalApproved"]
    assert tx.events["ProposalApproved"]["office"] == code("GB")
    assert registry.approvalCount(1) == 2
    assert registry.proposal(1)["executed"] is False
    assert registry.activeOfficeCount() == 3
    assert plain(registry.officeOf(newcomer)) == ("0x0000", STATUS["None"])


def test_admission_executes_when_all_three_offices_approved(registry, ep, gb, kr, newcomer):
    registry.proposeAdmission(admission(newcomer), {"from": ep})
    registry.approve(1, {"from": gb})
    tx = registry.approve(1, {"from": kr})

    assert list(tx.events.keys()) == ["ProposalApproved", "ProposalExecuted", "OfficeAdmitted"]
    assert tx.events["ProposalApproved"]["proposalId"] == 1
    assert tx.events["ProposalApproved"]["office"] == code("KR")
    assert tx.events["ProposalExecuted"]["proposalId"] == 1
    admitted = tx.events["OfficeAdmitted"]
    assert admitted["office"] == code("JP")
    assert admitted["account"] == newcomer
    assert admitted["name"] == JP_NAME
    assert admitted["endpoint"] == JP_ENDPOINT
    assert registry.proposal(1)["executed"] is True
    assert registry.approvalCount(1) == 3


def test_admitted_office_is_active_and_listed(registry, ep, gb, kr, newcomer):
    registry.proposeAdmission(admission(newcomer), {"from": ep})
    vote(registry, 1, gb, kr)

    assert plain(registry.office(code("JP"))) == (
        code("JP"),
        STATUS["Active"],
        newcomer,
        ZERO_ADDRESS,
        JP_NAME,
        JP_ENDPOINT,
        0,
        ZERO_ADDRESS,
    )
    assert plain(registry.officeOf(newcomer)) == (code("JP"), STATUS["Active"])
    assert registry.officeCodes() == [code("EP"), code("GB"), code("KR"), code("JP")]
    assert registry.activeOfficeCount() == 4


def test_admitted_office_can_propose_and_vote(registry, ep, gb, kr, newcomer):
    registry.proposeAdmission(admission(newcomer), {"from": ep})
    vote(registry, 1, gb, kr)

    tx = registry.proposeThreshold(1, 2, {"from": newcomer})
    assert tx.events["ProposalCreated"]["proposer"] == code("JP")
    assert registry.hasApproved(2, code("JP")) is True
    # Four active offices at 2/3 need more than 8/3, i.e. three approvals.
    registry.approve(2, {"from": ep})
    assert registry.proposal(2)["executed"] is False
    tx = registry.approve(2, {"from": gb})
    assert "ProposalExecuted" in tx.events
    assert plain(registry.threshold()) == (1, 2)

    registry.proposeAdmission(admission(accounts[6], "CN", "CNIPA", "https://cn.example"), {"from": gb})
    tx = registry.approve(3, {"from": newcomer})
    assert tx.events["ProposalApproved"]["office"] == code("JP")
    assert registry.approvalCount(3) == 2
    assert registry.hasApproved(3, code("JP")) is True


def test_threshold_change_executes_and_emits_threshold_changed(registry, ep, gb, kr):
    created = registry.proposeThreshold(1, 2, {"from": ep})
    registry.approve(1, {"from": gb})
    tx = registry.approve(1, {"from": kr})

    assert list(tx.events.keys()) == ["ProposalApproved", "ProposalExecuted", "ThresholdChanged"]
    assert tx.events["ThresholdChanged"]["numerator"] == 1
    assert tx.events["ThresholdChanged"]["denominator"] == 2
    assert plain(registry.threshold()) == (1, 2)
    assert plain(registry.proposal(1)) == (
        KIND["SetThreshold"],
        "0x0000",
        code("EP"),
        created.timestamp + VOTING_PERIOD,
        True,
        ZERO_ADDRESS,
        1,
        2,
        "",
        "",
    )
    assert created.events["ProposalCreated"]["kind"] == KIND["SetThreshold"]
    assert created.events["ProposalCreated"]["office"] == "0x0000"


def test_two_of_three_suffice_after_threshold_lowered_to_half(registry, half, ep, gb, newcomer):
    proposal_id = registry.proposeAdmission(admission(newcomer), {"from": gb}).return_value
    assert registry.proposal(proposal_id)["executed"] is False

    tx = registry.approve(proposal_id, {"from": ep})

    assert tx.events["ProposalExecuted"]["proposalId"] == proposal_id
    assert tx.events["OfficeAdmitted"]["office"] == code("JP")
    assert plain(registry.officeOf(newcomer)) == (code("JP"), STATUS["Active"])


def test_half_threshold_counts_against_the_grown_membership(registry, half, ep, gb, kr, newcomer):
    registry.proposeAdmission(admission(newcomer), {"from": ep})
    registry.approve(2, {"from": gb})
    assert registry.activeOfficeCount() == 4

    # Four active offices at 1/2 need more than two approvals.
    cnipa = accounts[6]
    proposal_id = registry.proposeAdmission(admission(cnipa, "CN"), {"from": ep}).return_value
    registry.approve(proposal_id, {"from": gb})
    assert registry.proposal(proposal_id)["executed"] is False
    registry.approve(proposal_id, {"from": kr})
    assert plain(registry.officeOf(cnipa)) == (code("CN"), STATUS["Active"])
    assert registry.activeOfficeCount() == 5


def test_suspension_executes_and_emits_office_suspended(registry, half, ep, gb, kr):
    created = registry.proposeSuspension(code("KR"), {"from": ep})
    proposal_id = created.return_value
    tx = registry.approve(proposal_id, {"from": gb})

    assert created.events["ProposalCreated"]["kind"] == KIND["Suspend"]
    assert created.events["ProposalCreated"]["office"] == code("KR")
    assert list(tx.events.keys()) == ["ProposalApproved", "ProposalExecuted", "OfficeSuspended"]
    assert tx.events["OfficeSuspended"]["office"] == code("KR")
    assert plain(registry.officeOf(kr)) == (code("KR"), STATUS["Suspended"])
    assert registry.office(code("KR"))["status"] == STATUS["Suspended"]
    assert registry.activeOfficeCount() == 2
    assert registry.officeCodes() == [code("EP"), code("GB"), code("KR")]


def test_suspension_at_two_thirds_needs_both_other_offices(registry, ep, gb, kr, outsider):
    registry.proposeSuspension(code("KR"), {"from": ep})
    assert registry.approvalCount(1) == 1
    # KR does not count: one approval of two voters is not more than 2/3.
    with brownie.reverts(error("OfficeRegistryThresholdNotReached", 1, 1, 2)):
        registry.execute(1, {"from": outsider})
    assert plain(registry.officeOf(kr)) == (code("KR"), STATUS["Active"])

    tx = registry.approve(1, {"from": gb})

    assert list(tx.events.keys()) == ["ProposalApproved", "ProposalExecuted", "OfficeSuspended"]
    assert tx.events["OfficeSuspended"]["office"] == code("KR")
    assert registry.activeOfficeCount() == 2
    assert registry.hasApproved(1, code("KR")) is False


def test_office_cannot_propose_its_own_suspension(registry, ep):
    with brownie.reverts(error("OfficeRegistryOfficeConcerned", b"EP")):
        registry.proposeSuspension(code("EP"), {"from": ep})
    assert registry.proposalCount() == 0


def test_office_cannot_approve_its_own_suspension(registry, ep, kr):
    registry.proposeSuspension(code("KR"), {"from": ep})
    with brownie.reverts(error("OfficeRegistryOfficeConcerned", b"KR")):
        registry.approve(1, {"from": kr})
    assert registry.hasApproved(1, code("KR")) is False
    assert registry.proposal(1)["executed"] is False


def test_reinstatement_executes_and_emits_office_reinstated(registry, kr_suspended, ep, gb, kr):
    created = registry.proposeReinstatement(code("KR"), {"from": gb})
    proposal_id = created.return_value
    tx = registry.approve(proposal_id, {"from": ep})

    assert created.events["ProposalCreated"]["kind"] == KIND["Reinstate"]
    assert created.events["ProposalCreated"]["office"] == code("KR")
    assert list(tx.events.keys()) == ["ProposalApproved", "ProposalExecuted", "OfficeReinstated"]
    assert tx.events["OfficeReinstated"]["office"] == code("KR")
    assert plain(registry.officeOf(kr)) == (code("KR"), STATUS["Active"])
    assert registry.activeOfficeCount() == 3


def test_reinstated_office_can_vote_again(registry, kr_suspended, ep, gb, kr):
    proposal_id = registry.proposeReinstatement(code("KR"), {"from": gb}).return_value
    registry.approve(proposal_id, {"from": ep})

    proposal_id = registry.proposeThreshold(1, 2, {"from": kr}).return_value
    registry.approve(proposal_id, {"from": ep})
    registry.approve(proposal_id, {"from": gb})
    assert plain(registry.threshold()) == (1, 2)


# ---------------------------------------------------------------- who may propose and approve


@pytest.mark.parametrize(
    "propose",
    [
        lambda r, sender: r.proposeAdmission(admission(accounts[5]), {"from": sender}),
        lambda r, sender: r.proposeSuspension(code("GB"), {"from": sender}),
        lambda r, sender: r.proposeThreshold(1, 2, {"from": sender}),
    ],
    ids=["admission", "suspension", "threshold"],
)
def test_non_member_cannot_propose(registry, outsider, propose):
    with brownie.reverts(error("OfficeRegistryNotMember", outsider)):
        propose(registry, outsider)
    assert registry.proposalCount() == 0


def test_non_member_cannot_propose_reinstatement(registry, kr_suspended, outsider):
    with brownie.reverts(error("OfficeRegistryNotMember", outsider)):
        registry.proposeReinstatement(code("KR"), {"from": outsider})


def test_deployer_is_not_a_member(registry):
    deployer = accounts[0]
    with brownie.reverts(error("OfficeRegistryNotMember", deployer)):
        registry.proposeThreshold(1, 2, {"from": deployer})


def test_non_member_cannot_approve(registry, ep, outsider):
    registry.proposeThreshold(1, 2, {"from": ep})
    with brownie.reverts(error("OfficeRegistryNotMember", outsider)):
        registry.approve(1, {"from": outsider})
    assert registry.approvalCount(1) == 1


@pytest.mark.parametrize(
    "propose",
    [
        lambda r, sender: r.proposeAdmission(admission(accounts[5]), {"from": sender}),
        lambda r, sender: r.proposeSuspension(code("GB"), {"from": sender}),
        lambda r, sender: r.proposeReinstatement(code("KR"), {"from": sender}),
        lambda r, sender: r.proposeThreshold(1, 2, {"from": sender}),
    ],
    ids=["admission", "suspension", "reinstatement", "threshold"],
)
def test_suspended_office_cannot_propose(registry, kr_suspended, kr, propose):
    count = registry.proposalCount()
    with brownie.reverts(error("OfficeRegistryOfficeNotActive", b"KR", STATUS["Suspended"])):
        propose(registry, kr)
    assert registry.proposalCount() == count


def test_suspended_office_cannot_approve(registry, kr_suspended, ep, kr):
    proposal_id = registry.proposeThreshold(1, 2, {"from": ep}).return_value
    with brownie.reverts(error("OfficeRegistryOfficeNotActive", b"KR", STATUS["Suspended"])):
        registry.approve(proposal_id, {"from": kr})
    assert registry.hasApproved(proposal_id, code("KR")) is False


def test_proposer_cannot_approve_twice(registry, ep):
    registry.proposeThreshold(1, 2, {"from": ep})
    with brownie.reverts(error("OfficeRegistryAlreadyApproved", 1, b"EP")):
        registry.approve(1, {"from": ep})


def test_office_cannot_approve_twice(registry, ep, gb):
    registry.proposeThreshold(1, 2, {"from": ep})
    registry.approve(1, {"from": gb})
    with brownie.reverts(error("OfficeRegistryAlreadyApproved", 1, b"GB")):
        registry.approve(1, {"from": gb})
    assert registry.approvalCount(1) == 2


@pytest.mark.parametrize("proposal_id", [0, 2, 2**256 - 1])
def test_approving_an_unknown_proposal_reverts(registry, ep, gb, proposal_id):
    registry.proposeThreshold(1, 2, {"from": ep})
    with brownie.reverts(error("OfficeRegistryUnknownProposal", proposal_id)):
        registry.approve(proposal_id, {"from": gb})


@pytest.mark.parametrize("proposal_id", [0, 2])
def test_executing_an_unknown_proposal_reverts(registry, ep, outsider, proposal_id):
    registry.proposeThreshold(1, 2, {"from": ep})
    with brownie.reverts(error("OfficeRegistryUnknownProposal", proposal_id)):
        registry.execute(proposal_id, {"from": outsider})


def test_approval_after_expiry_reverts(registry, ep, gb, kr):
    deadline = registry.proposeThreshold(1, 2, {"from": ep}).timestamp + VOTING_PERIOD
    registry.approve(1, {"from": gb})
    chain.sleep(VOTING_PERIOD + 1)
    chain.mine()

    with brownie.reverts(error("OfficeRegistryProposalExpired", 1, deadline)):
        registry.approve(1, {"from": kr})
    assert registry.proposal(1)["deadline"] == deadline
    assert plain(registry.threshold()) == (2, 3)


def test_approval_before_the_deadline_still_counts(registry, ep, gb, kr):
    registry.proposeThreshold(1, 2, {"from": ep})
    chain.sleep(VOTING_PERIOD - 600)
    chain.mine()

    registry.approve(1, {"from": gb})
    tx = registry.approve(1, {"from": kr})

    assert tx.timestamp <= registry.proposal(1)["deadline"]
    assert "ThresholdChanged" in tx.events


def test_executing_an_expired_proposal_reverts(registry, half, ep, outsider):
    proposal_id = registry.proposeSuspension(code("KR"), {"from": ep}).return_value
    deadline = registry.proposal(proposal_id)["deadline"]
    chain.sleep(VOTING_PERIOD + 1)
    chain.mine()

    with brownie.reverts(error("OfficeRegistryProposalExpired", proposal_id, deadline)):
        registry.execute(proposal_id, {"from": outsider})


def test_approving_an_executed_proposal_reverts(registry, half, ep, gb, kr):
    proposal_id = registry.proposeThreshold(3, 5, {"from": ep}).return_value
    registry.approve(proposal_id, {"from": gb})
    assert registry.proposal(proposal_id)["executed"] is True

    with brownie.reverts(error("OfficeRegistryProposalAlreadyExecuted", proposal_id)):
        registry.approve(proposal_id, {"from": kr})
    with brownie.reverts(error("OfficeRegistryProposalAlreadyExecuted", proposal_id)):
        registry.execute(proposal_id, {"from": kr})
    assert registry.hasApproved(proposal_id, code("KR")) is False


# ---------------------------------------------------------------- admission validation


@pytest.mark.parametrize(
    "office",
    [b"ep", b"Ep", b"E1", b"12", b"@A", b"A[", b"\x00\x00", b"E "],
    ids=["lowercase", "mixed-case", "digit", "digits", "before-A", "after-Z", "zero", "space"],
)
def test_admission_with_an_invalid_office_code_reverts(registry, ep, newcomer, office):
    init = ("0x" + office.hex(), newcomer, JP_NAME, JP_ENDPOINT)
    with brownie.reverts(error("OfficeRegistryInvalidOfficeCode", office)):
        registry.proposeAdmission(init, {"from": ep})
    assert registry.proposalCount() == 0


@pytest.mark.parametrize("office", ["GB", "EP"])
def test_admission_of_an_existing_office_code_reverts(registry, ep, newcomer, office):
    with brownie.reverts(error("OfficeRegistryOfficeExists", office.encode())):
        registry.proposeAdmission(admission(newcomer, office), {"from": ep})


def test_admission_of_a_suspended_office_code_reverts(registry, kr_suspended, ep, newcomer):
    with brownie.reverts(error("OfficeRegistryOfficeExists", b"KR")):
        registry.proposeAdmission(admission(newcomer, "KR"), {"from": ep})


def test_admission_with_the_zero_account_reverts(registry, ep):
    with brownie.reverts(error("OfficeRegistryInvalidAccount", ZERO_ADDRESS)):
        registry.proposeAdmission(admission(ZERO_ADDRESS), {"from": ep})


@pytest.mark.parametrize("holder", ["EP", "GB"])
def test_admission_with_an_account_of_an_office_reverts(registry, offices, ep, holder):
    account = offices[holder].account
    with brownie.reverts(error("OfficeRegistryAccountInUse", account, holder.encode())):
        registry.proposeAdmission(admission(account), {"from": ep})


def test_admission_with_the_account_of_a_suspended_office_reverts(registry, kr_suspended, ep, kr):
    with brownie.reverts(error("OfficeRegistryAccountInUse", kr, b"KR")):
        registry.proposeAdmission(admission(kr), {"from": ep})


@pytest.mark.parametrize(
    ("name", "length"),
    [("", 0), ("x" * 201, 201), ("é" * 101, 202)],
    ids=["empty", "201-bytes", "multibyte-202-bytes"],
)
def test_admission_with_an_invalid_name_reverts(registry, ep, newcomer, name, length):
    with brownie.reverts(error("OfficeRegistryInvalidName", b"JP", length)):
        registry.proposeAdmission(admission(newcomer, name=name), {"from": ep})


def test_admission_accepts_a_name_of_200_bytes(registry, ep, newcomer):
    registry.proposeAdmission(admission(newcomer, name="x" * 200), {"from": ep})
    assert registry.proposal(1)["name"] == "x" * 200


@pytest.mark.parametrize(
    "endpoint",
    [
        "",
        "ftp://jp.example",
        "jp.example/registry",
        "https://",
        "http://",
        "HTTPS://jp.example",
        " https://jp.example",
        "https://jp.example/" + "a" * (2049 - len("https://jp.example/")),
    ],
    ids=["empty", "ftp", "no-scheme", "https-only", "http-only", "uppercase-scheme", "leading-space", "2049"],
)
def test_admission_with_an_invalid_endpoint_reverts(registry, ep, newcomer, endpoint):
    with brownie.reverts(error("OfficeRegistryInvalidEndpoint", b"JP", endpoint)):
        registry.proposeAdmission(admission(newcomer, endpoint=endpoint), {"from": ep})


@pytest.mark.parametrize(
    "endpoint",
    ["http://jp.example", "https://j", "https://jp.example/" + "a" * (2048 - len("https://jp.example/"))],
    ids=["http", "shortest-https", "2048"],
)
def test_admission_accepts_http_and_https_endpoints(registry, ep, newcomer, endpoint):
    registry.proposeAdmission(admission(newcomer, endpoint=endpoint), {"from": ep})
    assert registry.proposal(1)["endpoint"] == endpoint


def test_admission_is_rechecked_at_execution(registry, ep, gb, kr, newcomer):
    registry.proposeAdmission(admission(newcomer), {"from": ep})
    registry.proposeAdmission(admission(accounts[6], name="JPO bis"), {"from": gb})
    vote(registry, 1, gb, kr)
    registry.approve(2, {"from": ep})

    with brownie.reverts(error("OfficeRegistryOfficeExists", b"JP")):
        registry.approve(2, {"from": kr})
    assert registry.proposal(2)["executed"] is False
    assert registry.hasApproved(2, code("KR")) is False
    assert registry.office(code("JP"))["account"] == newcomer
    assert plain(registry.officeOf(accounts[6])) == ("0x0000", STATUS["None"])


def test_admission_account_is_rechecked_at_execution(registry, ep, gb, kr, newcomer):
    registry.proposeAdmission(admission(newcomer), {"from": ep})
    registry.proposeAdmission(admission(newcomer, "CN", "CNIPA", "https://cn.example"), {"from": ep})
    vote(registry, 1, gb, kr)
    registry.approve(2, {"from": gb})

    with brownie.reverts(error("OfficeRegistryAccountInUse", newcomer, b"JP")):
        registry.approve(2, {"from": kr})
    assert registry.officeCodes() == [code("EP"), code("GB"), code("KR"), code("JP")]


# ---------------------------------------------------------------- suspension and reinstatement validation


def test_suspending_an_unknown_office_reverts(registry, ep):
    with brownie.reverts(error("OfficeRegistryUnknownOffice", b"JP")):
        registry.proposeSuspension(code("JP"), {"from": ep})


def test_suspending_a_suspended_office_reverts(registry, kr_suspended, ep):
    with brownie.reverts(error("OfficeRegistryOfficeNotActive", b"KR", STATUS["Suspended"])):
        registry.proposeSuspension(code("KR"), {"from": ep})


def test_suspension_is_rechecked_at_execution(registry, ep, gb):
    first = registry.proposeSuspension(code("KR"), {"from": ep}).return_value
    second = registry.proposeSuspension(code("KR"), {"from": gb}).return_value
    registry.approve(first, {"from": gb})

    with brownie.reverts(error("OfficeRegistryOfficeNotActive", b"KR", STATUS["Suspended"])):
        registry.approve(second, {"from": ep})
    assert registry.proposal(second)["executed"] is False


def test_reinstating_an_active_office_reverts(registry, ep):
    with brownie.reverts(error("OfficeRegistryOfficeNotSuspended", b"GB", STATUS["Active"])):
        registry.proposeReinstatement(code("GB"), {"from": ep})


def test_reinstating_an_unknown_office_reverts(registry, ep):
    with brownie.reverts(error("OfficeRegistryUnknownOffice", b"JP")):
        registry.proposeReinstatement(code("JP"), {"from": ep})


def test_reinstatement_is_rechecked_at_execution(registry, half, kr_suspended, ep, gb):
    first = registry.proposeReinstatement(code("KR"), {"from": ep}).return_value
    second = registry.proposeReinstatement(code("KR"), {"from": gb}).return_value
    registry.approve(first, {"from": gb})

    with brownie.reverts(error("OfficeRegistryOfficeNotSuspended", b"KR", STATUS["Active"])):
        registry.approve(second, {"from": ep})


@pytest.fixture
def ep_alone(registry, kr_suspended, ep, gb):
    """KR suspended by EP and GB, then GB by EP alone (the only other active office): EP is left."""
    registry.proposeSuspension(code("GB"), {"from": ep})
    assert registry.activeOfficeCount() == 1
    assert plain(registry.officeOf(gb)) == (code("GB"), STATUS["Suspended"])


def test_with_two_active_offices_either_suspends_the_other_alone(registry, kr_suspended, ep):
    tx = registry.proposeSuspension(code("GB"), {"from": ep})

    assert list(tx.events.keys()) == [
        "ProposalCreated",
        "ProposalApproved",
        "ProposalExecuted",
        "OfficeSuspended",
    ]
    assert tx.events["OfficeSuspended"]["office"] == code("GB")
    assert registry.approvalCount(tx.return_value) == 1
    assert registry.activeOfficeCount() == 1


def test_the_last_active_office_cannot_be_suspended(registry, ep_alone, ep):
    with brownie.reverts(error("OfficeRegistryOfficeConcerned", b"EP")):
        registry.proposeSuspension(code("EP"), {"from": ep})
    assert plain(registry.officeOf(ep)) == (code("EP"), STATUS["Active"])


def test_the_last_active_office_cannot_be_suspended_at_half_threshold(registry, half, ep, gb):
    proposal_id = registry.proposeSuspension(code("KR"), {"from": ep}).return_value
    registry.approve(proposal_id, {"from": gb})
    registry.proposeSuspension(code("GB"), {"from": ep})
    assert registry.activeOfficeCount() == 1

    with brownie.reverts(error("OfficeRegistryOfficeConcerned", b"EP")):
        registry.proposeSuspension(code("EP"), {"from": ep})


def test_non_member_is_refused_before_its_proposal_is_looked_at(registry, outsider):
    for propose in (
        lambda: registry.proposeAdmission(admission(outsider, office="ep"), {"from": outsider}),
        lambda: registry.proposeSuspension(code("ZZ"), {"from": outsider}),
        lambda: registry.proposeReinstatement(code("EP"), {"from": outsider}),
        lambda: registry.proposeThreshold(0, 0, {"from": outsider}),
    ):
        with brownie.reverts(error("OfficeRegistryNotMember", outsider)):
            propose()


def test_last_active_office_proposal_executes_at_once(registry, ep_alone, ep, gb):
    tx = registry.proposeReinstatement(code("GB"), {"from": ep})

    assert list(tx.events.keys()) == [
        "ProposalCreated",
        "ProposalApproved",
        "ProposalExecuted",
        "OfficeReinstated",
    ]
    assert registry.proposal(tx.return_value)["executed"] is True
    assert plain(registry.officeOf(gb)) == (code("GB"), STATUS["Active"])
    assert registry.activeOfficeCount() == 2


# ---------------------------------------------------------------- threshold validation


@pytest.mark.parametrize(
    ("numerator", "denominator"),
    [(0, 0), (1, 0), (0, 1), (1, 3), (49, 100), (3, 3), (1, 1), (4, 3)],
    ids=["0/0", "1/0", "0/1", "1/3", "49/100", "3/3", "1/1", "4/3"],
)
def test_invalid_threshold_proposal_reverts(registry, ep, numerator, denominator):
    with brownie.reverts(error("OfficeRegistryInvalidThreshold", numerator, denominator)):
        registry.proposeThreshold(numerator, denominator, {"from": ep})
    assert registry.proposalCount() == 0


@pytest.mark.parametrize(("numerator", "denominator"), [(1, 2), (50, 100), (99, 100), (65534, 65535)])
def test_threshold_between_one_half_and_one_can_be_proposed(registry, ep, numerator, denominator):
    proposal_id = registry.proposeThreshold(numerator, denominator, {"from": ep}).return_value
    assert registry.proposal(proposal_id)["thresholdNumerator"] == numerator
    assert registry.proposal(proposal_id)["thresholdDenominator"] == denominator


# ---------------------------------------------------------------- execute()


def test_execute_below_threshold_reverts_with_approvals_and_voter_count(registry, ep, gb, outsider):
    registry.proposeThreshold(1, 2, {"from": ep})
    with brownie.reverts(error("OfficeRegistryThresholdNotReached", 1, 1, 3)):
        registry.execute(1, {"from": outsider})

    registry.approve(1, {"from": gb})
    with brownie.reverts(error("OfficeRegistryThresholdNotReached", 1, 2, 3)):
        registry.execute(1, {"from": outsider})
    assert registry.proposal(1)["executed"] is False


def test_execute_succeeds_after_a_non_approving_office_was_suspended(registry, ep, gb, outsider, newcomer):
    admit = registry.proposeAdmission(admission(newcomer), {"from": ep}).return_value
    registry.approve(admit, {"from": gb})
    # KR never approves the admission; EP and GB suspend it.
    suspension = registry.proposeSuspension(code("KR"), {"from": ep}).return_value
    registry.approve(suspension, {"from": gb})
    assert registry.approvalCount(admit) == 2
    assert registry.activeOfficeCount() == 2

    tx = registry.execute(admit, {"from": outsider})

    assert list(tx.events.keys()) == ["ProposalExecuted", "OfficeAdmitted"]
    assert tx.events["ProposalExecuted"]["proposalId"] == admit
    assert tx.events["OfficeAdmitted"]["account"] == newcomer
    assert registry.proposal(admit)["executed"] is True
    assert plain(registry.officeOf(newcomer)) == (code("JP"), STATUS["Active"])
    assert registry.activeOfficeCount() == 3


def test_approvals_of_a_suspended_office_no_longer_count(registry, ep, gb, kr):
    registry.proposeThreshold(1, 2, {"from": ep})
    registry.approve(1, {"from": gb})
    assert registry.approvalCount(1) == 2

    suspension = registry.proposeSuspension(code("GB"), {"from": ep}).return_value
    registry.approve(suspension, {"from": kr})

    assert registry.approvalCount(1) == 1
    assert registry.hasApproved(1, code("GB")) is True
    with brownie.reverts(error("OfficeRegistryThresholdNotReached", 1, 1, 2)):
        registry.execute(1, {"from": kr})


def test_approvals_of_a_reinstated_office_count_again(registry, ep, gb, kr):
    registry.proposeThreshold(1, 2, {"from": ep})
    registry.approve(1, {"from": gb})
    suspension = registry.proposeSuspension(code("GB"), {"from": ep}).return_value
    registry.approve(suspension, {"from": kr})
    assert registry.approvalCount(1) == 1

    reinstatement = registry.proposeReinstatement(code("GB"), {"from": ep}).return_value
    registry.approve(reinstatement, {"from": kr})

    assert plain(registry.officeOf(gb)) == (code("GB"), STATUS["Active"])
    assert registry.approvalCount(1) == 2
