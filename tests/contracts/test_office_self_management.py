"""An office's own signing keys, endpoint, name and transaction account: it manages them, nobody else can."""

from __future__ import annotations

import brownie
import pytest
from brownie import accounts, chain
from conftest import STATUS, code, error, plain

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
ALGORITHM = {"None": 0, "Ed25519": 1, "EcdsaP256": 2}

ED25519 = bytes(range(1, 33))
P256_UNCOMPRESSED = b"\x04" + bytes(range(1, 65))
P256_EVEN = b"\x02" + bytes(range(1, 33))
P256_ODD = b"\x03" + bytes(range(1, 33))


def key_id(label: str) -> bytes:
    """A bytes32 key id: the label, zero-padded."""
    return label.encode().ljust(32, b"\0")


KEY = key_id("signing-2026-1")
OTHER_KEY = key_id("signing-2026-2")


def hexstr(value: bytes) -> str:
    return "0x" + value.hex()


def stored_key(key: bytes, algorithm: str, public_key: bytes, valid_from: int, revoked_at: int = 0) -> tuple:
    """A SigningKey as signingKey() returns it."""
    return (hexstr(key), ALGORITHM[algorithm], valid_from, revoked_at, hexstr(public_key))


@pytest.fixture
def successor():
    """A fresh account that is to take over an office's transaction account."""
    return accounts[5]


# ---------------------------------------------------------------- adding keys


def test_office_adds_an_ed25519_key_valid_from_the_block_of_the_transaction(registry, ep):
    tx = registry.addSigningKey(KEY, ALGORITHM["Ed25519"], ED25519, {"from": ep})

    assert plain(registry.signingKey(code("EP"), KEY)) == stored_key(KEY, "Ed25519", ED25519, tx.block_number)
    event = tx.events["SigningKeyAdded"]
    assert event["office"] == code("EP")
    assert event["keyId"] == hexstr(KEY)
    assert event["algorithm"] == ALGORITHM["Ed25519"]
    assert event["publicKey"] == hexstr(ED25519)
    assert registry.office(code("EP"))["keyCount"] == 1


@pytest.mark.parametrize(
    "public_key",
    [P256_UNCOMPRESSED, P256_EVEN, P256_ODD],
    ids=["uncompressed-04", "compressed-02", "compressed-03"],
)
def test_office_adds_an_ecdsa_p256_key(registry, ep, public_key):
    tx = registry.addSigningKey(KEY, ALGORITHM["EcdsaP256"], public_key, {"from": ep})

    assert plain(registry.signingKey(code("EP"), KEY)) == stored_key(
        KEY, "EcdsaP256", public_key, tx.block_number
    )
    assert tx.events["SigningKeyAdded"]["algorithm"] == ALGORITHM["EcdsaP256"]
    assert tx.events["SigningKeyAdded"]["publicKey"] == hexstr(public_key)


@pytest.mark.parametrize(
    ("algorithm", "public_key"),
    [
        ("Ed25519", ED25519[:31]),
        ("Ed25519", ED25519 + b"\x01"),
        ("Ed25519", b""),
        ("Ed25519", P256_UNCOMPRESSED),
        ("EcdsaP256", P256_UNCOMPRESSED[1:]),
        ("EcdsaP256", b"\x02" + P256_UNCOMPRESSED[1:]),
        ("EcdsaP256", b"\x05" + P256_UNCOMPRESSED[1:]),
        ("EcdsaP256", b"\x04" + P256_EVEN[1:]),
        ("EcdsaP256", b"\x00" + P256_EVEN[1:]),
        ("EcdsaP256", P256_EVEN[:32]),
        ("EcdsaP256", ED25519),
        ("EcdsaP256", b""),
        ("None", ED25519),
        ("None", b""),
    ],
    ids=[
        "ed25519-31-bytes",
        "ed25519-33-bytes",
        "ed25519-empty",
        "ed25519-65-bytes",
        "p256-64-bytes",
        "p256-65-bytes-prefix-02",
        "p256-65-bytes-prefix-05",
        "p256-33-bytes-prefix-04",
        "p256-33-bytes-prefix-00",
        "p256-32-bytes-prefix-02",
        "p256-32-bytes",
        "p256-empty",
        "none-32-bytes",
        "none-empty",
    ],
)
def test_invalid_key_reverts_with_key_id_algorithm_and_length(registry, ep, algorithm, public_key):
    with brownie.reverts(error("OfficeRegistryInvalidKey", KEY, ALGORITHM[algorithm], len(public_key))):
        registry.addSigningKey(KEY, ALGORITHM[algorithm], public_key, {"from": ep})
    assert registry.office(code("EP"))["keyCount"] == 0


def test_zero_key_id_reverts(registry, ep):
    zero = bytes(32)
    with brownie.reverts(error("OfficeRegistryInvalidKey", zero, ALGORITHM["Ed25519"], 32)):
        registry.addSigningKey(zero, ALGORITHM["Ed25519"], ED25519, {"from": ep})


def test_duplicate_key_id_reverts(registry, ep):
    registry.addSigningKey(KEY, ALGORITHM["Ed25519"], ED25519, {"from": ep})
    with brownie.reverts(error("OfficeRegistryKeyExists", b"EP", KEY)):
        registry.addSigningKey(KEY, ALGORITHM["EcdsaP256"], P256_EVEN, {"from": ep})
    assert registry.office(code("EP"))["keyCount"] == 1
    assert registry.signingKey(code("EP"), KEY)["algorithm"] == ALGORITHM["Ed25519"]


def test_revoked_key_id_is_never_reused(registry, ep):
    registry.addSigningKey(KEY, ALGORITHM["Ed25519"], ED25519, {"from": ep})
    registry.revokeSigningKey(KEY, {"from": ep})
    with brownie.reverts(error("OfficeRegistryKeyExists", b"EP", KEY)):
        registry.addSigningKey(KEY, ALGORITHM["Ed25519"], ED25519, {"from": ep})


def test_the_same_key_id_may_exist_in_two_offices(registry, ep, gb):
    ep_tx = registry.addSigningKey(KEY, ALGORITHM["Ed25519"], ED25519, {"from": ep})
    gb_tx = registry.addSigningKey(KEY, ALGORITHM["EcdsaP256"], P256_ODD, {"from": gb})
    registry.revokeSigningKey(KEY, {"from": gb})

    assert plain(registry.signingKey(code("EP"), KEY)) == stored_key(
        KEY, "Ed25519", ED25519, ep_tx.block_number
    )
    assert registry.signingKey(code("GB"), KEY)["validFromBlock"] == gb_tx.block_number
    assert registry.signingKey(code("GB"), KEY)["publicKey"] == hexstr(P256_ODD)
    assert registry.signingKey(code("GB"), KEY)["revokedAtBlock"] != 0
    assert gb_tx.events["SigningKeyAdded"]["office"] == code("GB")


# ---------------------------------------------------------------- revoking keys


def test_office_revokes_its_key_from_the_block_of_the_transaction(registry, ep):
    added = registry.addSigningKey(KEY, ALGORITHM["Ed25519"], ED25519, {"from": ep})
    tx = registry.revokeSigningKey(KEY, {"from": ep})

    assert plain(registry.signingKey(code("EP"), KEY)) == stored_key(
        KEY, "Ed25519", ED25519, added.block_number, tx.block_number
    )
    assert tx.events["SigningKeyRevoked"]["office"] == code("EP")
    assert tx.events["SigningKeyRevoked"]["keyId"] == hexstr(KEY)
    assert registry.office(code("EP"))["keyCount"] == 1


def test_revoking_a_key_twice_reverts(registry, ep):
    registry.addSigningKey(KEY, ALGORITHM["Ed25519"], ED25519, {"from": ep})
    revoked_at = registry.revokeSigningKey(KEY, {"from": ep}).block_number
    with brownie.reverts(error("OfficeRegistryKeyAlreadyRevoked", b"EP", KEY, revoked_at)):
        registry.revokeSigningKey(KEY, {"from": ep})
    assert registry.signingKey(code("EP"), KEY)["revokedAtBlock"] == revoked_at


def test_revoking_an_unknown_key_reverts(registry, ep):
    with brownie.reverts(error("OfficeRegistryUnknownKey", b"EP", KEY)):
        registry.revokeSigningKey(KEY, {"from": ep})


def test_other_office_cannot_revoke_key(registry, ep, gb):
    registry.addSigningKey(KEY, ALGORITHM["Ed25519"], ED25519, {"from": ep})
    with brownie.reverts(error("OfficeRegistryUnknownKey", b"GB", KEY)):
        registry.revokeSigningKey(KEY, {"from": gb})
    assert registry.signingKey(code("EP"), KEY)["revokedAtBlock"] == 0


# ---------------------------------------------------------------- validity


def test_key_is_valid_from_its_block_until_the_block_of_revocation(registry, ep):
    added = registry.addSigningKey(KEY, ALGORITHM["Ed25519"], ED25519, {"from": ep}).block_number
    chain.mine(3)
    revoked = registry.revokeSigningKey(KEY, {"from": ep}).block_number
    chain.mine(2)
    assert revoked == added + 4

    def valid(block: int) -> bool:
        return registry.isKeyValidAt(code("EP"), KEY, block)

    assert valid(0) is False
    assert valid(added - 1) is False
    assert valid(added) is True
    assert valid(added + 1) is True
    assert valid(revoked - 1) is True
    assert valid(revoked) is False
    assert valid(revoked + 1) is False
    assert valid(2**256 - 1) is False


def test_revocation_is_not_retroactive(registry, ep):
    added = registry.addSigningKey(KEY, ALGORITHM["Ed25519"], ED25519, {"from": ep}).block_number
    chain.mine()
    signed_in = chain.height
    assert registry.isKeyValidAt(code("EP"), KEY, signed_in) is True

    registry.revokeSigningKey(KEY, {"from": ep})

    assert registry.isKeyValidAt(code("EP"), KEY, signed_in) is True
    assert registry.isKeyValidAt(code("EP"), KEY, added) is True


def test_unrevoked_key_stays_valid_for_later_blocks(registry, ep):
    added = registry.addSigningKey(KEY, ALGORITHM["Ed25519"], ED25519, {"from": ep}).block_number
    assert registry.isKeyValidAt(code("EP"), KEY, added + 1_000_000) is True
    assert registry.isKeyValidAt(code("EP"), KEY, 2**256 - 1) is True


def test_unknown_key_is_never_valid(registry, ep):
    added = registry.addSigningKey(KEY, ALGORITHM["Ed25519"], ED25519, {"from": ep}).block_number
    assert registry.isKeyValidAt(code("EP"), OTHER_KEY, added) is False
    assert registry.isKeyValidAt(code("GB"), KEY, added) is False
    assert registry.isKeyValidAt(code("JP"), KEY, added) is False


# ---------------------------------------------------------------- reading keys


def test_signing_keys_lists_every_key_in_order_revoked_ones_included(registry, ep):
    third = key_id("signing-2026-3")
    first_block = registry.addSigningKey(KEY, ALGORITHM["Ed25519"], ED25519, {"from": ep}).block_number
    second_block = registry.addSigningKey(
        OTHER_KEY, ALGORITHM["EcdsaP256"], P256_EVEN, {"from": ep}
    ).block_number
    third_block = registry.addSigningKey(
        third, ALGORITHM["EcdsaP256"], P256_UNCOMPRESSED, {"from": ep}
    ).block_number
    revoked_block = registry.revokeSigningKey(OTHER_KEY, {"from": ep}).block_number

    assert plain(registry.signingKeys(code("EP"))) == (
        stored_key(KEY, "Ed25519", ED25519, first_block),
        stored_key(OTHER_KEY, "EcdsaP256", P256_EVEN, second_block, revoked_block),
        stored_key(third, "EcdsaP256", P256_UNCOMPRESSED, third_block),
    )
    assert registry.office(code("EP"))["keyCount"] == 3


def test_office_without_keys_lists_none(registry, ep):
    registry.addSigningKey(KEY, ALGORITHM["Ed25519"], ED25519, {"from": ep})
    assert plain(registry.signingKeys(code("GB"))) == ()
    assert plain(registry.signingKeys(code("JP"))) == ()


@pytest.mark.parametrize("office", ["EP", "GB", "JP"])
def test_reading_an_unknown_key_reverts(registry, ep, office):
    registry.addSigningKey(OTHER_KEY, ALGORITHM["Ed25519"], ED25519, {"from": ep})
    with brownie.reverts(error("OfficeRegistryUnknownKey", office.encode(), KEY)):
        registry.signingKey(code(office), KEY)


# ---------------------------------------------------------------- non-members


@pytest.mark.parametrize(
    "call",
    [
        lambda r, sender: r.addSigningKey(KEY, ALGORITHM["Ed25519"], ED25519, {"from": sender}),
        lambda r, sender: r.revokeSigningKey(KEY, {"from": sender}),
        lambda r, sender: r.setEndpoint("https://evil.example", {"from": sender}),
        lambda r, sender: r.setName("Evil Office", {"from": sender}),
        lambda r, sender: r.beginAccountRotation(accounts[5], {"from": sender}),
    ],
    ids=["addSigningKey", "revokeSigningKey", "setEndpoint", "setName", "beginAccountRotation"],
)
@pytest.mark.parametrize("sender", [8, 0], ids=["outsider", "deployer"])
def test_non_member_cannot_manage_an_office(registry, ep, call, sender):
    registry.addSigningKey(KEY, ALGORITHM["Ed25519"], ED25519, {"from": ep})
    before = plain(registry.office(code("EP")))

    with brownie.reverts(error("OfficeRegistryNotMember", accounts[sender])):
        call(registry, accounts[sender])

    assert plain(registry.office(code("EP"))) == before
    assert registry.signingKey(code("EP"), KEY)["revokedAtBlock"] == 0


# ---------------------------------------------------------------- suspended offices


def test_suspended_office_can_still_revoke_its_keys(registry, suspend, kr):
    registry.addSigningKey(KEY, ALGORITHM["Ed25519"], ED25519, {"from": kr})
    suspend("KR")

    tx = registry.revokeSigningKey(KEY, {"from": kr})

    assert tx.events["SigningKeyRevoked"]["office"] == code("KR")
    assert registry.signingKey(code("KR"), KEY)["revokedAtBlock"] == tx.block_number


def test_suspended_office_cannot_add_keys(registry, suspend, kr):
    suspend("KR")
    with brownie.reverts(error("OfficeRegistryOfficeNotActive", b"KR", STATUS["Suspended"])):
        registry.addSigningKey(KEY, ALGORITHM["Ed25519"], ED25519, {"from": kr})
    assert registry.office(code("KR"))["keyCount"] == 0


def test_suspended_office_can_still_change_its_endpoint_and_name(registry, suspend, kr):
    suspend("KR")

    endpoint_tx = registry.setEndpoint("https://kipo.example/v2", {"from": kr})
    name_tx = registry.setName("Korean Intellectual Property Office", {"from": kr})

    assert endpoint_tx.events["EndpointChanged"]["endpoint"] == "https://kipo.example/v2"
    assert name_tx.events["OfficeRenamed"]["name"] == "Korean Intellectual Property Office"
    office = registry.office(code("KR"))
    assert office["endpoint"] == "https://kipo.example/v2"
    assert office["name"] == "Korean Intellectual Property Office"
    assert office["status"] == STATUS["Suspended"]


def test_suspended_office_cannot_propose(registry, suspend, kr):
    suspend("KR")
    with brownie.reverts(error("OfficeRegistryOfficeNotActive", b"KR", STATUS["Suspended"])):
        registry.proposeThreshold(1, 2, {"from": kr})


# ---------------------------------------------------------------- endpoint and name


@pytest.mark.parametrize(
    "endpoint",
    ["https://epo.example/v2/registry", "http://10.0.0.1:8080", "https://" + "e" * 2040],
    ids=["https", "http", "2048-bytes"],
)
def test_office_sets_its_endpoint(registry, ep, endpoint):
    tx = registry.setEndpoint(endpoint, {"from": ep})

    assert tx.events["EndpointChanged"]["office"] == code("EP")
    assert tx.events["EndpointChanged"]["endpoint"] == endpoint
    assert registry.office(code("EP"))["endpoint"] == endpoint
    assert registry.office(code("GB"))["endpoint"] == "https://gb.example/registry"


@pytest.mark.parametrize(
    "endpoint",
    [
        "",
        "https://",
        "http://",
        "ftp://epo.example",
        "epo.example",
        "Https://epo.example",
        "https://" + "e" * 2041,
    ],
    ids=["empty", "https-only", "http-only", "ftp", "no-scheme", "capitalised-scheme", "2049-bytes"],
)
def test_invalid_endpoint_reverts(registry, ep, endpoint):
    with brownie.reverts(error("OfficeRegistryInvalidEndpoint", b"EP", endpoint)):
        registry.setEndpoint(endpoint, {"from": ep})
    assert registry.office(code("EP"))["endpoint"] == "https://ep.example/registry"


@pytest.mark.parametrize(
    "name", ["EPO", "x" * 200, "Office européen des brevets"], ids=["short", "200", "utf8"]
)
def test_office_renames_itself(registry, ep, name):
    tx = registry.setName(name, {"from": ep})

    assert tx.events["OfficeRenamed"]["office"] == code("EP")
    assert tx.events["OfficeRenamed"]["name"] == name
    assert registry.office(code("EP"))["name"] == name
    assert registry.office(code("GB"))["name"] == "UK Intellectual Property Office"


@pytest.mark.parametrize(
    ("name", "length"), [("", 0), ("x" * 201, 201), ("é" * 101, 202)], ids=["empty", "201", "utf8"]
)
def test_invalid_name_reverts(registry, ep, name, length):
    with brownie.reverts(error("OfficeRegistryInvalidName", b"EP", length)):
        registry.setName(name, {"from": ep})
    assert registry.office(code("EP"))["name"] == "European Patent Office"


def test_other_office_changes_only_its_own_settings(registry, gb):
    registry.setEndpoint("https://ipo.example/gb", {"from": gb})
    registry.setName("Intellectual Property Office", {"from": gb})
    registry.addSigningKey(KEY, ALGORITHM["Ed25519"], ED25519, {"from": gb})

    ep_office = registry.office(code("EP"))
    assert ep_office["endpoint"] == "https://ep.example/registry"
    assert ep_office["name"] == "European Patent Office"
    assert ep_office["keyCount"] == 0
    assert registry.office(code("GB"))["name"] == "Intellectual Property Office"


# ---------------------------------------------------------------- account rotation


def test_begin_account_rotation_names_the_pending_account(registry, ep, successor):
    tx = registry.beginAccountRotation(successor, {"from": ep})

    assert tx.events["AccountRotationStarted"]["office"] == code("EP")
    assert tx.events["AccountRotationStarted"]["pendingAccount"] == successor
    office = registry.office(code("EP"))
    assert office["pendingAccount"] == successor
    assert office["account"] == ep
    assert plain(registry.officeOf(successor)) == ("0x0000", STATUS["None"])
    assert plain(registry.officeOf(ep)) == (code("EP"), STATUS["Active"])


def test_accepted_rotation_moves_the_office_to_the_new_account(registry, ep, successor):
    registry.addSigningKey(KEY, ALGORITHM["Ed25519"], ED25519, {"from": ep})
    registry.beginAccountRotation(successor, {"from": ep})

    tx = registry.acceptAccountRotation(code("EP"), {"from": successor})

    rotated = tx.events["AccountRotated"]
    assert rotated["office"] == code("EP")
    assert rotated["previousAccount"] == ep
    assert rotated["account"] == successor
    assert plain(registry.officeOf(ep)) == ("0x0000", STATUS["None"])
    assert plain(registry.officeOf(successor)) == (code("EP"), STATUS["Active"])
    office = registry.office(code("EP"))
    assert office["account"] == successor
    assert office["pendingAccount"] == ZERO_ADDRESS
    assert office["status"] == STATUS["Active"]
    assert office["keyCount"] == 1
    assert registry.activeOfficeCount() == 3


def test_previous_account_can_no_longer_act_for_the_office(registry, ep, successor):
    registry.addSigningKey(KEY, ALGORITHM["Ed25519"], ED25519, {"from": ep})
    registry.beginAccountRotation(successor, {"from": ep})
    registry.acceptAccountRotation(code("EP"), {"from": successor})

    with brownie.reverts(error("OfficeRegistryNotMember", ep)):
        registry.addSigningKey(OTHER_KEY, ALGORITHM["Ed25519"], ED25519, {"from": ep})
    with brownie.reverts(error("OfficeRegistryNotMember", ep)):
        registry.revokeSigningKey(KEY, {"from": ep})
    with brownie.reverts(error("OfficeRegistryNotMember", ep)):
        registry.proposeThreshold(1, 2, {"from": ep})


def test_new_account_acts_for_the_office(registry, ep, successor):
    registry.addSigningKey(KEY, ALGORITHM["Ed25519"], ED25519, {"from": ep})
    registry.beginAccountRotation(successor, {"from": ep})
    registry.acceptAccountRotation(code("EP"), {"from": successor})

    added = registry.addSigningKey(OTHER_KEY, ALGORITHM["Ed25519"], ED25519, {"from": successor})
    revoked = registry.revokeSigningKey(KEY, {"from": successor})
    proposed = registry.proposeThreshold(1, 2, {"from": successor})

    assert added.events["SigningKeyAdded"]["office"] == code("EP")
    assert revoked.events["SigningKeyRevoked"]["office"] == code("EP")
    assert proposed.events["ProposalCreated"]["proposer"] == code("EP")
    assert registry.office(code("EP"))["keyCount"] == 2


def test_approvals_survive_a_rotation(registry, ep, successor):
    proposal_id = registry.proposeThreshold(1, 2, {"from": ep}).return_value
    registry.beginAccountRotation(successor, {"from": ep})
    registry.acceptAccountRotation(code("EP"), {"from": successor})

    assert registry.hasApproved(proposal_id, code("EP")) is True
    assert registry.approvalCount(proposal_id) == 1
    with brownie.reverts(error("OfficeRegistryAlreadyApproved", proposal_id, b"EP")):
        registry.approve(proposal_id, {"from": successor})


@pytest.mark.parametrize("caller", [6, 8, 1], ids=["stranger", "outsider", "current-account"])
def test_accepting_from_a_wrong_account_reverts(registry, ep, successor, caller):
    registry.beginAccountRotation(successor, {"from": ep})
    with brownie.reverts(error("OfficeRegistryNoPendingAccount", b"EP", accounts[caller])):
        registry.acceptAccountRotation(code("EP"), {"from": accounts[caller]})
    assert registry.office(code("EP"))["account"] == ep
    assert registry.office(code("EP"))["pendingAccount"] == successor


def test_accepting_without_a_pending_rotation_reverts(registry, successor):
    with brownie.reverts(error("OfficeRegistryNoPendingAccount", b"EP", successor)):
        registry.acceptAccountRotation(code("EP"), {"from": successor})


def test_accepting_for_another_office_reverts(registry, ep, successor):
    registry.beginAccountRotation(successor, {"from": ep})
    with brownie.reverts(error("OfficeRegistryNoPendingAccount", b"GB", successor)):
        registry.acceptAccountRotation(code("GB"), {"from": successor})
    with brownie.reverts(error("OfficeRegistryNoPendingAccount", b"JP", successor)):
        registry.acceptAccountRotation(code("JP"), {"from": successor})


@pytest.mark.parametrize("holder", ["GB", "EP"])
def test_rotation_to_an_account_of_an_office_reverts(registry, offices, ep, holder):
    account = offices[holder].account
    with brownie.reverts(error("OfficeRegistryAccountInUse", account, holder.encode())):
        registry.beginAccountRotation(account, {"from": ep})
    assert registry.office(code("EP"))["pendingAccount"] == ZERO_ADDRESS


def test_rotation_to_the_account_of_a_suspended_office_reverts(registry, suspend, ep, kr):
    suspend("KR")
    with brownie.reverts(error("OfficeRegistryAccountInUse", kr, b"KR")):
        registry.beginAccountRotation(kr, {"from": ep})


def test_rotation_to_the_zero_address_cancels_the_pending_rotation(registry, ep, successor):
    registry.beginAccountRotation(successor, {"from": ep})

    tx = registry.beginAccountRotation(ZERO_ADDRESS, {"from": ep})

    assert tx.events["AccountRotationStarted"]["office"] == code("EP")
    assert tx.events["AccountRotationStarted"]["pendingAccount"] == ZERO_ADDRESS
    assert registry.office(code("EP"))["pendingAccount"] == ZERO_ADDRESS
    with brownie.reverts(error("OfficeRegistryNoPendingAccount", b"EP", successor)):
        registry.acceptAccountRotation(code("EP"), {"from": successor})
    assert registry.office(code("EP"))["account"] == ep


def test_a_new_rotation_replaces_the_pending_account(registry, ep, successor):
    replacement = accounts[6]
    registry.beginAccountRotation(successor, {"from": ep})
    registry.beginAccountRotation(replacement, {"from": ep})

    with brownie.reverts(error("OfficeRegistryNoPendingAccount", b"EP", successor)):
        registry.acceptAccountRotation(code("EP"), {"from": successor})
    registry.acceptAccountRotation(code("EP"), {"from": replacement})
    assert registry.office(code("EP"))["account"] == replacement


def test_pending_account_taken_meanwhile_cannot_accept(registry, ep, gb, successor):
    registry.beginAccountRotation(successor, {"from": ep})
    registry.beginAccountRotation(successor, {"from": gb})
    registry.acceptAccountRotation(code("GB"), {"from": successor})

    with brownie.reverts(error("OfficeRegistryAccountInUse", successor, b"GB")):
        registry.acceptAccountRotation(code("EP"), {"from": successor})
    assert registry.office(code("EP"))["account"] == ep
    assert plain(registry.officeOf(successor)) == (code("GB"), STATUS["Active"])


def test_previous_account_is_free_after_rotation(registry, ep, gb, successor):
    registry.beginAccountRotation(successor, {"from": ep})
    registry.acceptAccountRotation(code("EP"), {"from": successor})

    registry.beginAccountRotation(ep, {"from": gb})
    registry.acceptAccountRotation(code("GB"), {"from": ep})

    assert plain(registry.officeOf(ep)) == (code("GB"), STATUS["Active"])
    assert registry.office(code("GB"))["account"] == ep


def test_rotation_of_a_suspended_office_keeps_it_suspended(registry, suspend, kr, successor):
    suspend("KR")
    started = registry.beginAccountRotation(successor, {"from": kr})
    rotated = registry.acceptAccountRotation(code("KR"), {"from": successor})

    assert started.events["AccountRotationStarted"]["pendingAccount"] == successor
    assert rotated.events["AccountRotated"]["previousAccount"] == kr
    assert plain(registry.officeOf(successor)) == (code("KR"), STATUS["Suspended"])
    assert plain(registry.officeOf(kr)) == ("0x0000", STATUS["None"])
    assert registry.office(code("KR"))["status"] == STATUS["Suspended"]
    assert registry.activeOfficeCount() == 2
    with brownie.reverts(error("OfficeRegistryOfficeNotActive", b"KR", STATUS["Suspended"])):
        registry.proposeThreshold(1, 2, {"from": successor})


def test_reinstated_office_acts_through_its_rotated_account(registry, suspend, ep, gb, kr, successor):
    suspend("KR")
    registry.beginAccountRotation(successor, {"from": kr})
    registry.acceptAccountRotation(code("KR"), {"from": successor})

    proposal_id = registry.proposeReinstatement(code("KR"), {"from": ep}).return_value
    registry.approve(proposal_id, {"from": gb})

    assert plain(registry.officeOf(successor)) == (code("KR"), STATUS["Active"])
    assert registry.activeOfficeCount() == 3
    tx = registry.proposeThreshold(1, 2, {"from": successor})
    assert tx.events["ProposalCreated"]["proposer"] == code("KR")
