"""QBFT extraData and committed seals, checked against Hyperledger Besu's own examples.

Every Besu example below is copied from hyperledger/besu at commit 3fd224e2e49ddd68aa61755525593a0a60c65507
(2026-03-29); each test names the file it came from.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
import rlp  # type: ignore[import-untyped]
from eth_keys.datatypes import PrivateKey, PublicKey
from eth_utils.crypto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_node.protocol.consensus.anchor import ConsortiumAnchor, ValidatorTerm
from registry_node.protocol.consensus.finality import finality
from registry_node.protocol.consensus.headers import HEADER_FIELDS, header_hash
from registry_node.protocol.consensus.qbft import (
    QBFT_MIX_HASH,
    QbftError,
    QbftExtraData,
    QbftVote,
    block_hash,
    committed_seal_hash,
    committed_sealers,
    decode_extra,
    encode_extra,
    genesis_extra,
    seal_header,
    seal_quorum,
)

ASSETS = Path(__file__).parent.parent / "assets" / "qbft"
KEYS = [bytes(31) + bytes([i]) for i in range(1, 5)]  # the keys Besu's BftBlockHashingTest seals with
VALIDATORS = [str(PrivateKey(key).public_key.to_address()).lower() for key in KEYS]

# QbftExtraDataCodecTest.RAW_HEX_ENCODING_STRING
# (consensus/qbft/src/test/java/org/hyperledger/besu/consensus/qbft/QbftExtraDataCodecTest.java)
BESU_CODEC_TEST_EXTRA = bytes.fromhex(
    "f8f0a00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20ea940000000000000000"
    "000000000000000000000001940000000000000000000000000000000000000002d7940000000000000000"
    "00000000000000000000000181ff83fedcbaf886b841000000000000000000000000000000000000000000"
    "0000000000000000000001000000000000000000000000000000000000000000000000000000000000000a"
    "00b841000000000000000000000000000000000000000000000000000000000000000a0000000000000000"
    "00000000000000000000000000000000000000000000000100"
)
BESU_GENESIS_EXTRAS = {
    # consensus/qbft-core/src/integration-test/resources/genesis_migrating_validator_contract.json
    "genesis_migrating_validator_contract.json": (
        "f83aa00000000000000000000000000000000000000000000000000000000000000000d594eac51e3fe1afc9894f0dfeab8ceb4718"
        "99b932dfc080c0",
        ["0xeac51e3fe1afc9894f0dfeab8ceb471899b932df"],
    ),
    # consensus/qbft-core/src/integration-test/resources/genesis_validator_contract_london.json
    "genesis_validator_contract_london.json": (
        "e5a00000000000000000000000000000000000000000000000000000000000000000c0c080c0",
        [],
    ),
    # app/src/test/java/org/hyperledger/besu/cli/subcommands/rlp/RLPSubCommandTest.java,
    # decodeQBFTWithoutPathMustWriteToStandardOutput
    "RLPSubCommandTest.decodeQBFT": (
        "f84fa00000000000000000000000000000000000000000000000000000000000000000ea94241f804efb46f71acaa5be94a62f7798e8"
        "9c3724946cdf72da457453063ea92e7fa5ac30afbcec28cdc080c0",
        ["0x241f804efb46f71acaa5be94a62f7798e89c3724", "0x6cdf72da457453063ea92e7fa5ac30afbcec28cd"],
    ),
}


def london_header(number: int, extra_data: bytes) -> dict[str, str]:
    """A block header as Besu's JSON-RPC gives it, London rules, zero base fee."""
    return {
        "parentHash": "0x" + "a7" * 32,
        "sha3Uncles": "0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347",
        "miner": VALIDATORS[0],
        "stateRoot": "0x" + "ca" * 32,
        "transactionsRoot": "0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421",
        "receiptsRoot": "0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421",
        "logsBloom": "0x" + "00" * 256,
        "difficulty": "0x1",
        "number": hex(number),
        "gasLimit": "0x5f5e100",
        "gasUsed": "0x0",
        "timestamp": "0x5b3c3db8",
        "extraData": "0x" + extra_data.hex(),
        "mixHash": QBFT_MIX_HASH,
        "nonce": "0x0000000000000000",
        "baseFeePerGas": "0x0",
    }


def unsealed_block(round: int = 0) -> dict[str, str]:
    extra = QbftExtraData(bytes(32), tuple(VALIDATORS), QbftVote(VALIDATORS[3], False), round, ())
    return london_header(7, encode_extra(extra))


def extra_of(header: dict[str, str]) -> QbftExtraData:
    return decode_extra(bytes.fromhex(header["extraData"][2:]))


# ------------------------------------------------------------ the codec, on Besu's own bytes


def test_besus_codec_test_extra_data_decodes_and_reencodes_byte_identically() -> None:
    """QbftExtraDataCodecTest.RAW_HEX_ENCODING_STRING, from
    consensus/qbft/src/test/java/org/hyperledger/besu/consensus/qbft/QbftExtraDataCodecTest.java at
    hyperledger/besu 3fd224e2e49ddd68aa61755525593a0a60c65507: vanity 0x01..0x20, validators 0x…01 and
    0x…02, an add vote for 0x…01, round 0xFEDCBA, seals (r=1, s=10, v=0) and (r=10, s=1, v=0)."""
    extra = decode_extra(BESU_CODEC_TEST_EXTRA)

    assert extra.vanity == bytes(range(1, 33))
    assert extra.validators == ("0x" + "00" * 19 + "01", "0x" + "00" * 19 + "02")
    assert extra.vote == QbftVote("0x" + "00" * 19 + "01", authorize=True)
    assert extra.round == 0xFEDCBA
    assert extra.seals == (
        (1).to_bytes(32, "big") + (10).to_bytes(32, "big") + b"\x00",
        (10).to_bytes(32, "big") + (1).to_bytes(32, "big") + b"\x00",
    )
    assert encode_extra(extra) == BESU_CODEC_TEST_EXTRA


@pytest.mark.parametrize("source", sorted(BESU_GENESIS_EXTRAS))
def test_besus_genesis_extra_data_decodes_and_reencodes_byte_identically(source: str) -> None:
    """Genesis extraData from Besu's resources (the files named in BESU_GENESIS_EXTRAS, at hyperledger/besu
    3fd224e2e49ddd68aa61755525593a0a60c65507)."""
    raw_hex, validators = BESU_GENESIS_EXTRAS[source]
    extra = decode_extra(bytes.fromhex(raw_hex))

    assert extra == QbftExtraData(bytes(32), tuple(validators), None, 0, ())
    assert encode_extra(extra).hex() == raw_hex
    assert genesis_extra(validators).hex() == raw_hex


def test_genesis_extra_is_what_besus_rlp_subcommand_writes_for_the_same_validators() -> None:
    """RLPSubCommandTest.canEncodeToQbftExtraData
    (app/src/test/java/org/hyperledger/besu/cli/subcommands/rlp/RLPSubCommandTest.java, besu 3fd224e2):
    `besu rlp encode --type QBFT_EXTRA_DATA` keeps the validators in the order given."""
    validators = ["0xbe068f726a13c8d46c44be6ce9d275600e1735a4", "0x5ff6f4b66a46a2b2310a6f3a93aaddc0d9a1c193"]

    assert genesis_extra(validators).hex() == (
        "f84fa00000000000000000000000000000000000000000000000000000000000000000ea94be068f726a13c8d"
        "46c44be6ce9d275600e1735a4945ff6f4b66a46a2b2310a6f3a93aaddc0d9a1c193c080c0"
    )


def test_genesis_extra_of_besus_operator_test_node_keys_is_what_besu_generates() -> None:
    """The node public keys of app/src/test/resources/operator/config_import_keys_qbft.json and the extraData
    OperatorSubCommandTest.shouldCreateQbftExtraData expects `besu operator generate-blockchain-config` to
    write for them (app/src/test/java/org/hyperledger/besu/cli/subcommands/operator/
    OperatorSubCommandTest.java, besu 3fd224e2): validator = the last 20 bytes of keccak256(public key)."""
    public_keys = [
        "9481ee2b34196827e8c4807ae29c2675c15d3641e482ab81cc0bc3ef535755b426b9f5c474213df28a563fab0bf0830b455ee8955b"
        "3faac93075422a6abf160d",
        "f9dff57fc0bae7cba6577d82caf40cf6d266afc2a212775eb45c2188ab30aeed01e724daf4203649d4aa7e30717bfeeaf0b4c30b5d"
        "651bad39bcae8429759889",
    ]
    validators = [str(PublicKey(bytes.fromhex(key)).to_address()).lower() for key in public_keys]

    assert genesis_extra(validators).hex() == (
        "f84fa00000000000000000000000000000000000000000000000000000000000000000ea94d5feb0fc5a54a89f97aeb34c3df15397"
        "c19f6dd294d6a9a4c886eb008ac307abdc1f38745c1dd13a88c080c0"
    )


addresses = st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())


@settings(max_examples=50, deadline=None)
@given(
    vanity=st.binary(min_size=32, max_size=32),
    validators=st.lists(addresses, max_size=8),
    vote=st.none() | st.builds(QbftVote, addresses, st.booleans()),
    round=st.integers(min_value=0, max_value=2**31 - 1),
    seals=st.lists(st.binary(min_size=65, max_size=65), max_size=5),
)
def test_any_extra_data_round_trips_through_its_encoding(
    vanity: bytes, validators: list[str], vote: QbftVote | None, round: int, seals: list[bytes]
) -> None:
    extra = QbftExtraData(vanity, tuple(validators), vote, round, tuple(seals))

    encoded = encode_extra(extra)

    assert decode_extra(encoded) == extra
    assert encode_extra(decode_extra(encoded)) == encoded


# ------------------------------------------------------------ hashes


def test_the_block_hash_is_the_header_hashed_with_besus_extra_data_without_seals_and_round() -> None:
    """The extraData the block hash takes is Besu's `encodeWithoutCommitSealsAndRoundNumber` of the codec
    test's extraData: its round written as 0 (0x80) and its seals as an empty list (0xc0), as
    QbftExtraDataCodecTest.extraDataCanBeEncodedWithoutCommitSealsOrRoundNumber builds it; the committed
    seals sign `encodeWithoutCommitSeals`, which keeps the round (0x83fedcba)."""
    header = london_header(1, BESU_CODEC_TEST_EXTRA)
    body = BESU_CODEC_TEST_EXTRA.hex()[4 : 4 + 2 * 100]  # vanity, validators, vote: 100 bytes
    without_seals_and_round = bytes.fromhex("f866" + body + "80" + "c0")
    without_seals = bytes.fromhex("f869" + body + "83fedcba" + "c0")

    assert block_hash(header) == header_hash({**header, "extraData": "0x" + without_seals_and_round.hex()})
    assert committed_seal_hash(header) == header_hash({**header, "extraData": "0x" + without_seals.hex()})


def test_the_genesis_block_is_hashed_with_its_extra_data_as_it_is() -> None:
    genesis = london_header(0, genesis_extra(VALIDATORS))

    assert block_hash(genesis) == header_hash(genesis)
    assert committed_seal_hash(genesis) == header_hash(genesis)
    assert committed_sealers(genesis) == []


def test_a_json_rpc_block_with_more_than_header_fields_hashes_like_its_header() -> None:
    header = seal_header(unsealed_block(), KEYS)
    block = {"hash": "0x" + block_hash(header).hex(), "size": "0x280", "transactions": [], **header}

    assert block_hash(block) == block_hash(header)  # type: ignore[arg-type]


def test_neither_the_seals_nor_the_round_change_the_block_hash() -> None:
    unsealed = unsealed_block()

    in_round_0 = seal_header(unsealed, KEYS[:3])
    in_round_5 = seal_header(unsealed, KEYS, round=5)

    assert block_hash(unsealed) == block_hash(in_round_0) == block_hash(in_round_5)
    assert committed_seal_hash(in_round_0) != committed_seal_hash(in_round_5)


# ------------------------------------------------------------ committed seals


def test_seals_made_with_known_keys_recover_to_those_keys_addresses() -> None:
    sealed = seal_header(unsealed_block(), KEYS, round=2)

    assert committed_sealers(sealed) == VALIDATORS
    assert extra_of(sealed).round == 2
    assert all(len(seal) == 65 and seal[64] in (0, 1) for seal in extra_of(sealed).seals)


def test_a_seal_made_in_another_round_recovers_to_an_address_outside_the_validators() -> None:
    sealed_in_round_0 = seal_header(unsealed_block(), KEYS)
    claimed_round_1 = replace(extra_of(sealed_in_round_0), round=1)
    forged = {**sealed_in_round_0, "extraData": "0x" + encode_extra(claimed_round_1).hex()}

    signers = committed_sealers(forged)

    assert len(signers) == len(KEYS)
    assert not set(signers) & set(VALIDATORS)


def test_a_duplicated_seal_is_seen_twice() -> None:
    sealed = seal_header(unsealed_block(), KEYS[:1])
    seal = extra_of(sealed).seals[0]
    doubled = {
        **sealed,
        "extraData": "0x" + encode_extra(replace(extra_of(sealed), seals=(seal, seal))).hex(),
    }

    assert committed_sealers(doubled) == [VALIDATORS[0], VALIDATORS[0]]


@pytest.mark.parametrize(
    "broken",
    [
        pytest.param(lambda s: s[:64], id="64 bytes"),
        pytest.param(lambda s: s + b"\x00", id="66 bytes"),
        pytest.param(lambda s: s[:64] + b"\x1b", id="v is 27, not 0 or 1"),
        pytest.param(lambda s: bytes(32) + s[32:], id="r is zero"),
        pytest.param(lambda s: s[:32] + b"\xff" * 32 + s[64:], id="s beyond the curve order"),
        pytest.param(lambda s: (5).to_bytes(32, "big") + s[32:], id="r is no point's x"),
    ],
)
def test_a_seal_that_is_no_signature_recovers_to_none_and_the_others_still_count(broken: object) -> None:
    sealed = seal_header(unsealed_block(), KEYS[:2])
    good, other = extra_of(sealed).seals
    bad = broken(good)  # type: ignore[operator]
    tampered = {
        **sealed,
        "extraData": "0x" + encode_extra(replace(extra_of(sealed), seals=(bad, other))).hex(),
    }

    assert committed_sealers(tampered) == [None, VALIDATORS[1]]


def test_besus_codec_test_seals_are_no_signatures_of_a_header() -> None:
    """The codec test's seals (r=1, s=10) and (r=10, s=1) were never made by a key: they recover to no
    validator of the block, whatever they recover to."""
    signers = committed_sealers(london_header(1, BESU_CODEC_TEST_EXTRA))

    assert len(signers) == 2
    assert not {s for s in signers if s is not None} & set(decode_extra(BESU_CODEC_TEST_EXTRA).validators)


def test_the_quorum_of_committed_seals_is_two_thirds_rounded_up() -> None:
    assert [seal_quorum(n) for n in range(1, 8)] == [1, 2, 2, 3, 4, 4, 5]


# ------------------------------------------------------------ what is refused


@pytest.mark.parametrize(
    ("asset", "message"),
    [
        ("ibft2_extra_data.hex", "IBFT 2.0"),
        ("round_with_leading_zero.hex", "round has a leading zero byte"),
        ("round_of_five_bytes.hex", "round must be at most 4 bytes"),
        ("round_beyond_a_java_int.hex", "round must be from 0 to 2147483647"),
        ("item_after_the_seals.hex", "must hold 5 items"),
        ("vote_kind_neither_add_nor_drop.hex", "vote kind must be 0xff (add) or empty (drop)"),
        ("drop_vote_written_as_zero_byte.hex", "vote kind must be 0xff (add) or empty (drop)"),
        ("validator_of_19_bytes.hex", "validators[0] must be a 20-byte address"),
        ("vanity_of_31_bytes.hex", "vanity must be 32 bytes, got 31"),
        ("seals_not_a_list.hex", "seals must be an RLP list"),
        ("bytes_after_the_list.hex", "not canonical RLP"),
        ("long_length_prefix_for_a_short_list.hex", "not canonical RLP"),
        ("not_a_list.hex", "must be an RLP list"),
    ],
)
def test_malformed_extra_data_is_refused_naming_what_is_wrong(asset: str, message: str) -> None:
    data = bytes.fromhex((ASSETS / asset).read_text().strip())

    with pytest.raises(QbftError, match=re.escape(message)):
        decode_extra(data)


def test_empty_extra_data_is_refused() -> None:
    with pytest.raises(QbftError, match="extraData is empty"):
        decode_extra(b"")


def test_a_header_whose_extra_data_is_not_qbft_names_it() -> None:
    clique_like = london_header(3, bytes(32) + bytes.fromhex(VALIDATORS[0][2:]) + bytes(65))

    with pytest.raises(QbftError, match="extraData"):
        committed_sealers(clique_like)


def test_a_header_with_a_field_that_is_not_hex_names_the_field() -> None:
    with pytest.raises(QbftError, match=r"header\.stateRoot"):
        block_hash({**unsealed_block(), "stateRoot": "ca"})


def test_a_validator_listed_twice_in_a_genesis_is_refused() -> None:
    with pytest.raises(QbftError, match=r"validators\[1\]: .* is listed twice"):
        genesis_extra([VALIDATORS[0], VALIDATORS[0].upper().replace("0X", "0x")])


def test_sealing_with_a_key_that_is_not_one_names_it() -> None:
    with pytest.raises(QbftError, match=r"keys\[1\] is not a 32-byte secp256k1 private key"):
        seal_header(unsealed_block(), [KEYS[0], b"short"])


# ---------------------------------------------------------------- a header a real Besu network sealed


def test_a_header_a_real_besu_network_sealed_carries_three_committed_seals_of_its_four_validators() -> None:
    """Block 7528 of a Besu QBFT network, as the light client datachainlab/besu-qbft-elc keeps it for its
    tests (elc/src/header.rs at commit 2ab1edf7, `test_parse_header`): round 1, four validators, three
    committed seals. The hash the seals sign, 0x75ea18…, is the one that test computes from the same header
    with its seals emptied and its round kept."""
    raw = bytes.fromhex((ASSETS / "besu_block_7528_sealed_header.rlp.hex").read_text().strip())
    items = rlp.decode(raw)
    header = {name: "0x" + bytes(item).hex() for name, item in zip(HEADER_FIELDS, items, strict=False)}
    assert header_hash(header) == keccak(raw)  # our header RLP re-encodes Besu's byte for byte
    extra = decode_extra(bytes.fromhex(header["extraData"][2:]))
    assert (extra.round, len(extra.validators), len(extra.seals)) == (1, 4, 3)
    assert (
        committed_seal_hash(header).hex()
        == "75ea184f58cd3f0ef89032a069df01f07ec524ef3a85cf6d3e424d62130c0a32"
    )
    signers = committed_sealers(header)
    assert len(set(signers)) == 3 and set(signers) <= set(extra.validators)
    anchor = ConsortiumAnchor(
        chain_id=2018,
        genesis_hash=b"\0" * 32,
        contract="0x" + "00" * 19 + "01",
        engine="qbft",
        as_of_block=7528,
        validators=tuple(ValidatorTerm(a, None, 0, None) for a in extra.validators),
    )
    judged = finality("qbft", block_hash(header), [header], anchor)
    assert judged.final and (judged.distinct, judged.validators, judged.needed) == (3, 4, 3)
    stranger = ValidatorTerm("0x" + "99" * 20, None, 0, None)
    without_a_sealer = (*(t for t in anchor.validators if t.address != signers[0]), stranger)
    refused = finality("qbft", block_hash(header), [header], replace(anchor, validators=without_a_sealer))
    assert not refused.final and {c.name for c in refused.checks if not c.ok} == {"seals", "distinct-sealers"}
