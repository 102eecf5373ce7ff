"""The node's chain client against real ganache: local signing, fees from the chain, decoded refusals."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import function_abi_to_4byte_selector, is_same_address, keccak
from web3 import Web3
from web3.exceptions import ContractCustomError
from web3.providers.rpc import HTTPProvider
from web3.types import RPCEndpoint, RPCResponse

from registry_node.node.consortium import ConsortiumConfig, FoundingOffice, deploy_consortium
from registry_node.node.transactor import TransactionReverted, Transactor
from registry_node.protocol.chain import ChainError, connect, fee_fields
from registry_node.protocol.contract import ErrorDecoder, RevertReason, load_artifact

if TYPE_CHECKING:
    from conftest import Consortium, RawGanacheFactory

ABI = load_artifact().abi
GRANTED = b"A4F10"
ETHER = 10**18


def registration(label: str) -> tuple[bytes, int, bool, tuple[bytes, bytes, bytes]]:
    """A patent registration with a fresh right id."""
    return (
        keccak(text=f"EP:PAT:{label}"),
        0,
        False,
        (keccak(text=f"record {label}"), keccak(text=label), GRANTED),
    )


def error_selector(name: str) -> bytes:
    (entry,) = [e for e in ABI if e.get("type") == "error" and e["name"] == name]
    return bytes(function_abi_to_4byte_selector(entry))


class RecordingProvider(HTTPProvider):
    """An HTTP provider that remembers which JSON-RPC methods were called."""

    def __init__(self, endpoint_uri: str) -> None:
        super().__init__(endpoint_uri)
        self.methods: list[str] = []

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        self.methods.append(str(method))
        return super().make_request(method, params)


def fund(w3: Web3, payer: LocalAccount, payee: str, wei: int) -> None:
    """Sends `wei` to `payee` with a transfer signed locally by `payer`."""
    tx = {
        "to": payee,
        "value": wei,
        "gas": 21_000,
        "nonce": w3.eth.get_transaction_count(payer.address),
        "chainId": w3.eth.chain_id,
        **fee_fields(w3),
    }
    tx_hash = w3.eth.send_raw_transaction(payer.sign_transaction(tx).raw_transaction)
    assert w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)["status"] == 1


# --- refusals ----------------------------------------------------------------------------------------------


def test_a_refused_transaction_raises_transaction_reverted_and_mines_nothing(consortium: Consortium) -> None:
    outsider = Transactor(consortium.w3, consortium.deployer, ABI)
    block_before = consortium.w3.eth.block_number
    nonce_before = consortium.w3.eth.get_transaction_count(outsider.address)
    with pytest.raises(TransactionReverted) as caught:
        outsider.send(consortium.contract.functions.register(registration("outsider")))
    assert isinstance(caught.value.reason, RevertReason)
    assert str(caught.value).startswith("refused by the contract: ")
    assert caught.value.tx_hash is None  # refused when estimating: never sent
    assert consortium.w3.eth.block_number == block_before
    assert consortium.w3.eth.get_transaction_count(outsider.address) == nonce_before


def test_a_refused_transaction_names_the_custom_error_and_its_arguments(consortium: Consortium) -> None:
    outsider = Transactor(consortium.w3, consortium.deployer, ABI)
    with pytest.raises(TransactionReverted) as caught:
        outsider.send(consortium.contract.functions.register(registration("outsider-reason")))
    assert caught.value.reason.name == "OfficeRegistryNotMember"
    assert is_same_address(caught.value.reason.args["account"], consortium.deployer.address)
    assert "OfficeRegistryNotMember(account=" in str(caught.value)


def test_the_revert_data_of_a_real_refusal_decodes_to_the_custom_error(consortium: Consortium) -> None:
    sender = consortium.deployer.address
    with pytest.raises(ContractCustomError) as caught:
        consortium.contract.functions.register(registration("outsider-call")).call({"from": sender})
    reason = ErrorDecoder(ABI).decode(caught.value.data)
    assert reason.name == "OfficeRegistryNotMember"
    assert list(reason.args) == ["account"]
    assert is_same_address(reason.args["account"], sender)


# --- local signing -----------------------------------------------------------------------------------------


def test_a_successful_transaction_is_signed_locally_by_a_key_the_node_never_had(
    consortium: Consortium,
) -> None:
    provider = RecordingProvider(consortium.chain.rpc_url)
    w3 = Web3(provider)
    # ganache lists (and could sign for) the accounts it was started with; a fresh account it never saw
    # can only transact if the transactor signs locally
    assert consortium.deployer.address in w3.eth.accounts
    newcomer: LocalAccount = Account.create()
    fund(w3, consortium.deployer, newcomer.address, ETHER)
    assert newcomer.address not in w3.eth.accounts

    provider.methods.clear()
    offices = [
        FoundingOffice(code, f"{code} office", Account.create().address, f"https://{code.lower()}.example")
        for code in ("FR", "DE")
    ]
    deployment = deploy_consortium(Transactor(w3, newcomer, ABI), ConsortiumConfig(offices))
    receipt = w3.eth.get_transaction_receipt(deployment.tx_hash)
    assert receipt["status"] == 1
    assert receipt["from"] == newcomer.address
    assert "eth_sendRawTransaction" in provider.methods
    assert "eth_sendTransaction" not in provider.methods
    assert "eth_signTransaction" not in provider.methods
    assert w3.eth.contract(address=deployment.address, abi=ABI).functions.officeCodes().call() == [
        b"FR",
        b"DE",
    ]


def test_a_member_transaction_returns_a_mined_receipt(consortium: Consortium) -> None:
    ep = consortium.transactors["EP"]
    block_before = consortium.w3.eth.block_number
    receipt = ep.send(consortium.contract.functions.register(registration("EP-member")))
    assert receipt["status"] == 1
    assert receipt["from"] == ep.address
    assert receipt["to"] == consortium.contract.address
    assert receipt["blockNumber"] == block_before + 1
    assert receipt["type"] == 2  # EIP-1559 on london ganache
    right = consortium.contract.functions.rightOf(registration("EP-member")[0]).call()
    assert right[0] == 1  # version 1
    assert right[1] == b"EP"


def test_an_explicit_nonce_is_used_as_given(consortium: Consortium) -> None:
    gb = consortium.transactors["GB"]
    nonce = consortium.w3.eth.get_transaction_count(gb.address)
    receipt = gb.send(consortium.contract.functions.register(registration("GB-nonce")), nonce=nonce)
    assert consortium.w3.eth.get_transaction(receipt["transactionHash"])["nonce"] == nonce


# --- fees --------------------------------------------------------------------------------------------------


def test_fee_fields_are_eip1559_on_a_london_chain(consortium: Consortium) -> None:
    w3 = consortium.w3
    fees = fee_fields(w3)
    base_fee = w3.eth.get_block("latest")["baseFeePerGas"]
    assert set(fees) == {"maxFeePerGas", "maxPriorityFeePerGas"}
    assert fees["maxPriorityFeePerGas"] == w3.eth.max_priority_fee > 0
    assert fees["maxFeePerGas"] == 2 * base_fee + fees["maxPriorityFeePerGas"]


def test_fee_fields_are_a_legacy_gas_price_on_a_chain_without_base_fee(
    start_raw_ganache: RawGanacheFactory,
) -> None:
    account: LocalAccount = Account.create()
    w3 = connect(start_raw_ganache([(account.key.to_0x_hex(), 10 * ETHER)], "--chain.hardfork", "berlin"))
    assert "baseFeePerGas" not in w3.eth.get_block("latest")
    fees = fee_fields(w3)
    assert fees == {"gasPrice": w3.eth.gas_price}
    assert fees["gasPrice"] > 0

    deployment = deploy_consortium(
        Transactor(w3, account, ABI),
        ConsortiumConfig(
            [FoundingOffice("EP", "European Patent Office", account.address, "https://ep.example")]
        ),
    )
    receipt = w3.eth.get_transaction_receipt(deployment.tx_hash)
    assert receipt["status"] == 1
    assert receipt["type"] == 0  # legacy
    assert receipt["effectiveGasPrice"] == fees["gasPrice"]


def test_a_zero_gas_price_chain_gets_gas_price_zero_and_still_mines(
    start_raw_ganache: RawGanacheFactory,
) -> None:
    account: LocalAccount = Account.create()
    url = start_raw_ganache(
        [(account.key.to_0x_hex(), 0)], "--chain.hardfork", "berlin", "--miner.defaultGasPrice", "0"
    )
    w3 = connect(url)
    assert fee_fields(w3) == {"gasPrice": 0}

    transactor = Transactor(w3, account, ABI)
    deployment = deploy_consortium(
        transactor,
        ConsortiumConfig(
            [FoundingOffice("EP", "European Patent Office", account.address, "https://ep.example")]
        ),
    )
    contract = w3.eth.contract(address=deployment.address, abi=ABI)
    receipt = transactor.send(contract.functions.register(registration("zero-gas")))
    assert receipt["status"] == 1
    assert receipt["effectiveGasPrice"] == 0
    assert w3.eth.get_balance(account.address) == 0  # an account without ether can write on a zero-gas chain
    assert contract.functions.rightOf(registration("zero-gas")[0]).call()[0] == 1


# --- error decoding ----------------------------------------------------------------------------------------


def test_the_error_decoder_decodes_a_custom_error_with_arguments() -> None:
    right_id = keccak(text="EP:PAT:EP20190012345")
    data = error_selector("RightsRegistryVersionMismatch") + abi_encode(
        ["bytes32", "uint32", "uint32"], [right_id, 2, 3]
    )
    reason = ErrorDecoder(ABI).decode(data)
    assert reason == RevertReason(
        "RightsRegistryVersionMismatch", {"rightId": right_id, "expected": 2, "actual": 3}
    )
    assert str(reason) == f"RightsRegistryVersionMismatch(rightId=0x{right_id.hex()}, expected=2, actual=3)"


def test_the_error_decoder_accepts_hex_text_and_shows_short_codes_as_text() -> None:
    data = error_selector("OfficeRegistryAlreadyApproved") + abi_encode(["uint256", "bytes2"], [7, b"GB"])
    reason = ErrorDecoder(ABI).decode("0x" + data.hex())
    assert reason.name == "OfficeRegistryAlreadyApproved"
    assert reason.args == {"proposalId": 7, "office": b"GB"}
    assert str(reason) == "OfficeRegistryAlreadyApproved(proposalId=7, office='GB')"


def test_the_error_decoder_decodes_an_error_with_an_enum_argument() -> None:
    data = error_selector("OfficeRegistryOfficeNotActive") + abi_encode(["bytes2", "uint8"], [b"KR", 2])
    assert ErrorDecoder(ABI).decode(data) == RevertReason(
        "OfficeRegistryOfficeNotActive", {"code": b"KR", "status": 2}
    )


@pytest.mark.parametrize(
    ("data", "expected_args"),
    [
        (bytes.fromhex("deadbeef") + b"\0" * 32, {"data": "0xdeadbeef" + "00" * 32}),
        ("0x08c379a0", {"data": "0x08c379a0"}),  # Error(string) is not one of the contract's errors
        (None, {}),
        (b"", {}),
    ],
    ids=["unknown selector", "plain Error(string) selector", "no data", "empty data"],
)
def test_the_error_decoder_answers_reverted_for_unknown_data(
    data: bytes | str | None, expected_args: dict[str, str]
) -> None:
    reason = ErrorDecoder(ABI).decode(data)
    assert reason.name == "Reverted"
    assert reason.args == expected_args


# --- connecting --------------------------------------------------------------------------------------------


def test_connecting_where_nothing_listens_raises_chain_error_naming_the_url(
    free_port: Callable[[], int],
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ChainError) as caught:
        connect(url, timeout_s=5)
    assert url in str(caught.value)
    assert "no Ethereum JSON-RPC node answers" in str(caught.value)


def test_connecting_to_a_running_chain_answers_its_chain_id(consortium: Consortium) -> None:
    assert connect(consortium.chain.rpc_url).eth.chain_id == 1337
