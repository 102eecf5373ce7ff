"""The local ganache the tooling starts: a taken port is refused by name, state survives a restart."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from registry_node.devnet import ganache as devchain
from registry_node.devnet.ganache import DevChainError, Ganache, PortInUse, port_is_free
from registry_node.devnet.geth import AUTHRPC_OFFSET, ValidatorPorts, free_validator_base
from registry_node.node.consortium import ConsortiumConfig, FoundingOffice, deploy_consortium
from registry_node.node.transactor import Transactor
from registry_node.protocol.chain import connect
from registry_node.protocol.contract import load_artifact

if TYPE_CHECKING:
    from conftest import GanacheFactory

ABI = load_artifact().abi


def test_a_taken_port_raises_port_in_use_naming_the_port(tmp_path: Path, listening_port: int) -> None:
    chain = Ganache(tmp_path / "chain", port=listening_port)
    with pytest.raises(PortInUse) as caught:
        chain.start()
    assert caught.value.port == listening_port
    assert f"port {listening_port} " in str(caught.value)
    assert "already in use" in str(caught.value)
    assert not chain.running


def test_port_is_free_tells_a_listening_port_from_a_free_one(
    listening_port: int, free_port: Callable[[], int]
) -> None:
    assert not port_is_free("127.0.0.1", listening_port)
    assert port_is_free("127.0.0.1", free_port())


FREE_PORTS_IN_A_CHILD = """
from registry_node.devnet.ganache import free_port
import sys
ports = [free_port() for _ in range(int(sys.argv[1]))]
print(" ".join(map(str, ports)), flush=True)
sys.stdin.read()  # holds its reservations until the test is done with them
"""


def test_free_ports_are_outside_the_ephemeral_range_and_never_handed_out_twice(tmp_path: Path) -> None:
    """Client connections draw their own port from the ephemeral range; a server's port must not be there,
    and no two callers, in this process or another, may get the same one."""
    low, high = (int(n) for n in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    script = tmp_path / "free_ports.py"
    script.write_text(FREE_PORTS_IN_A_CHILD)
    child = subprocess.Popen(
        [sys.executable, str(script), "200"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    try:
        assert child.stdout is not None
        theirs = [int(port) for port in child.stdout.readline().split()]
        ours = [devchain.free_port() for _ in range(200)]
    finally:
        child.communicate("")
    assert len(theirs) == 200 and len(set(ours)) == 200
    assert not set(ours) & set(theirs)
    assert all(not low <= port <= high for port in ours + theirs)
    assert all(port_is_free("127.0.0.1", port) for port in ours)


def test_free_port_never_hands_out_a_port_something_listens_on(
    listening_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(devchain, "_local_port_pool", lambda: range(listening_port, listening_port + 1))
    with pytest.raises(DevChainError, match=f"no free port on 127.0.0.1 in {listening_port}"):
        devchain.free_port()


def test_a_validator_networks_block_of_ports_is_never_handed_out_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A demo takes a block of validator ports from a first one, then ports for its nodes: none of those may
    fall in the block (a CI run's demo once refused its own ports as "given twice")."""
    base = free_validator_base(4)
    block = {p for i in range(4) for p in ValidatorPorts.from_base(base, i).all()}
    assert all(port_is_free("127.0.0.1", port) for port in block)
    monkeypatch.setattr(devchain, "_local_port_pool", lambda: range(base, base + 2 * AUTHRPC_OFFSET))
    handed = set()
    with pytest.raises(DevChainError, match="no free port"):
        while True:
            handed.add(devchain.free_port())
    assert handed and not handed & block


def test_a_block_of_ports_is_reserved_whole_or_not_at_all(free_port: Callable[[], int]) -> None:
    held = free_port()
    others = [free_port() for _ in range(3)]
    devchain.release_ports(others)
    assert not devchain.reserve_ports([*others, held])
    assert devchain.reserve_ports(others)  # the failed attempt kept none of them


def test_a_started_chain_answers_and_stops_for_good(
    start_ganache: GanacheFactory, free_port: Callable[[], int]
) -> None:
    account: LocalAccount = Account.create()
    chain = start_ganache([account.key.to_0x_hex()])
    assert chain.running
    w3 = connect(chain.rpc_url)
    assert w3.eth.chain_id == chain.chain_id == 1337
    assert w3.eth.get_balance(account.address) > 0
    assert w3.eth.get_block("latest")["gasLimit"] == chain.block_gas_limit
    chain.stop()
    assert not chain.running
    chain.stop()  # stopping twice is harmless
    assert not chain.running
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        assert probe.connect_ex(("127.0.0.1", chain.port)) != 0, "nothing listens after stop"


def test_the_context_manager_stops_the_chain(tmp_path: Path, free_port: Callable[[], int]) -> None:
    with Ganache(tmp_path / "chain", port=free_port()) as chain:
        assert chain.running
        assert connect(chain.rpc_url).eth.block_number == 0
    assert not chain.running


def test_state_survives_a_stop_and_a_restart_on_the_same_data_dir(
    start_ganache: GanacheFactory, tmp_path: Path
) -> None:
    deployer: LocalAccount = Account.create()
    office: LocalAccount = Account.create()
    keys = [deployer.key.to_0x_hex(), office.key.to_0x_hex()]
    data_dir = tmp_path / "persistent"
    chain = start_ganache(keys, data_dir=data_dir)
    w3 = connect(chain.rpc_url)
    config = ConsortiumConfig(
        [FoundingOffice("EP", "European Patent Office", office.address, "https://ep.example")]
    )
    deployment = deploy_consortium(Transactor(w3, deployer, ABI), config)
    contract = w3.eth.contract(address=deployment.address, abi=ABI)
    root = keccak(text="anchored before the restart")
    Transactor(w3, office, ABI).send(contract.functions.anchor(root, 42, keccak(text="manifest")))
    code = w3.eth.get_code(deployment.address)
    head = w3.eth.get_block("latest")
    chain.stop()
    assert not chain.running

    # a new port: see test_a_chain_restarts_on_the_same_port_right_after_it_stopped
    restarted = start_ganache(keys, data_dir=data_dir)
    w3 = connect(restarted.rpc_url)
    contract = w3.eth.contract(address=deployment.address, abi=ABI)
    assert w3.eth.get_code(deployment.address) == code
    assert len(code) > 0
    assert w3.eth.get_block("latest")["hash"] == head["hash"]
    assert contract.functions.officeCodes().call() == [b"EP"]
    assert contract.functions.anchorOf(root).call()[:2] == (b"EP", 42)
    assert w3.eth.get_transaction_count(office.address) == 1
    receipt = Transactor(w3, office, ABI).send(contract.functions.anchor(keccak(text="after"), 1, root))
    assert receipt["blockNumber"] == head["number"] + 1


def test_a_chain_restarts_on_the_same_port_right_after_it_stopped(start_ganache: GanacheFactory) -> None:
    account: LocalAccount = Account.create()
    chain = start_ganache([account.key.to_0x_hex()])
    assert connect(chain.rpc_url).eth.block_number == 0
    chain.stop()
    restarted = start_ganache([account.key.to_0x_hex()], data_dir=chain.data_dir, port=chain.port)
    assert connect(restarted.rpc_url).eth.block_number == 0


def test_a_missing_ganache_executable_is_reported_with_its_path(
    tmp_path: Path, free_port: Callable[[], int], monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "no-such-ganache"
    monkeypatch.setenv("IPREG_GANACHE", str(missing))
    with pytest.raises(DevChainError, match="ganache not found at " + str(missing)):
        Ganache(tmp_path / "chain", port=free_port()).start()


def test_a_ganache_that_exits_at_start_is_reported_with_its_exit_code_and_log(
    tmp_path: Path, free_port: Callable[[], int], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "fake-ganache"
    fake.write_text("#!/bin/sh\necho 'cannot open the database' >&2\nexit 3\n", "utf-8")
    fake.chmod(0o755)
    monkeypatch.setenv("IPREG_GANACHE", str(fake))
    chain = Ganache(tmp_path / "chain", port=free_port())
    with pytest.raises(DevChainError) as caught:
        chain.start()
    assert "exited with code 3" in str(caught.value)
    assert "cannot open the database" in str(caught.value)
    assert not chain.running
