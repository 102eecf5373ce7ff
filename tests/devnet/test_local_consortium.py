"""The one local consortium (`registry_node.devnet.consortium`), on a real ganache with real node and gateway
processes: what `create` makes, and a consortium stopped and taken up again from its folder by another
process's object, on other ports, as `ipreg demo` resumes; a start stopped by its event leaves nothing
running."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from web3 import Web3

from gateway.settings import load_settings as load_gateway_settings
from registry_node.devnet.chains import GanacheChain
from registry_node.devnet.consortium import Founder, LocalConsortium
from registry_node.devnet.ganache import free_port
from registry_node.devnet.processes import Interrupted
from registry_node.experiment.collect import wait_gateway_caught_up
from registry_node.node.client import NodeClient, ProblemError, right_path
from registry_node.protocol.chain import connect
from registry_node.protocol.contract import load_artifact
from registry_node.protocol.errors import ConfigError
from registry_node.protocol.keys import SigningAlgorithm
from tests.support.keys import FAST_SCRYPT_N
from tests.support.records import patent_right

PASSWORD = "local consortium drill"
KR_TOKEN = "the KR operator's own token"
RIGHT_ID = "EP:PAT:EP20260088001"
OUTBOX_S = 120.0


def listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def consortium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalConsortium]:
    """EP (Ed25519) and KR (ECDSA P-256, a token of its own) and the gateway, started."""
    folder = tmp_path_factory.mktemp("consortium")
    made = LocalConsortium(
        folder,
        GanacheChain(folder / "chain"),
        password=PASSWORD,
        gateway_port=free_port(),
        key_scrypt_n=FAST_SCRYPT_N,
    )
    try:
        made.create(
            [
                Founder("EP", "European Patent Office", free_port()),
                Founder(
                    "KR",
                    "Korean Intellectual Property Office",
                    free_port(),
                    SigningAlgorithm.ECDSA_P256,
                    KR_TOKEN,
                ),
            ]
        )
        made.start()
        yield made
    finally:
        made.stop()


def test_every_founder_runs_a_node_the_contract_knows_with_its_signing_key_published(
    consortium: LocalConsortium,
) -> None:
    deployment = consortium.deployment
    assert deployment is not None
    assert json.loads(consortium.deployment_path.read_text("utf-8")) == deployment.to_json()
    w3 = connect(consortium.chain.rpc_url)
    contract = w3.eth.contract(address=Web3.to_checksum_address(deployment.address), abi=load_artifact().abi)
    algorithms = {"EP": SigningAlgorithm.ED25519, "KR": SigningAlgorithm.ECDSA_P256}
    assert set(consortium.offices) == set(algorithms) == set(deployment.offices)
    for code, office in consortium.offices.items():
        account = deployment.offices[code]
        settings = office.settings()
        assert (settings.contract_address, settings.chain_id) == (deployment.address, deployment.chain_id)
        assert settings.listen_port == office.port and settings.data_dir == consortium.folder / "nodes" / code
        code_on_chain, _ = contract.functions.officeOf(account).call()
        assert bytes(code_on_chain) == code.encode("ascii")
        assert w3.eth.get_balance(account) > 0  # funded: ganache charges gas
        (key,) = contract.functions.signingKeys(code.encode("ascii")).call()
        assert key[1] == algorithms[code].chain_value and key[3] == 0  # published, not revoked
        assert httpx.get(f"{office.url}/openapi.json", timeout=30).status_code == 200
    with NodeClient(consortium.offices["KR"].url, KR_TOKEN) as kr:
        assert kr.outbox()["items"] == []
    with (
        NodeClient(consortium.offices["KR"].url, "not the token") as stranger,
        pytest.raises(ProblemError) as err,
    ):
        stranger.outbox()
    assert err.value.status == 401
    status = httpx.get(f"{consortium.gateway_url}/v1/status", timeout=30)
    assert status.status_code == 200
    assert consortium.gateway_dir is not None  # every office serves on loopback, so the gateway allows it
    assert load_gateway_settings(consortium.gateway_dir / "gateway.toml").deep_links_allow_private


def test_the_description_names_what_a_later_process_needs_and_holds_no_key(
    consortium: LocalConsortium,
) -> None:
    described = consortium.to_json()
    assert described["password"] == PASSWORD
    assert described["offices"]["KR"] == {
        "dataDir": str(consortium.folder / "nodes" / "KR"),
        "port": consortium.offices["KR"].port,
        "token": KR_TOKEN,
    }
    assert described["gatewayDir"] == str(consortium.folder / "gateway")
    assert described["deployment"] == json.loads(consortium.deployment_path.read_text("utf-8"))
    text = json.dumps(described)
    assert "BEGIN" not in text and "ciphertext" not in text  # keys stay in their encrypted files


def test_a_stopped_consortium_is_taken_up_from_its_folder_on_other_ports_with_its_state(
    consortium: LocalConsortium,
) -> None:
    with consortium.offices["EP"].client() as ep:
        accepted = ep.register(patent_right(RIGHT_ID))
        ep.wait_for_outbox(OUTBOX_S)
    described = consortium.to_json()
    ports = [consortium.gateway_port, *(office.port for office in consortium.offices.values())]
    consortium.stop()
    assert not any(listening(port) for port in ports if port is not None)

    stop = threading.Event()
    again = LocalConsortium(
        consortium.folder, GanacheChain(consortium.folder / "chain"), gateway_port=free_port(), stop=stop
    )
    assert again.chain.rpc_url != consortium.chain.rpc_url and again.gateway_port != consortium.gateway_port
    again.restore(described)
    try:
        again.chain.resume()
        stop.set()  # a Ctrl-C while the processes start
        with pytest.raises(Interrupted):
            again.start()
        again.stop()
        assert not any(listening(port) for port in ports if port is not None)
        assert not listening(int(again.chain.rpc_url.rsplit(":", 1)[1]))

        stop.clear()
        again.chain.resume()
        again.start()
        assert again.password == PASSWORD and again.to_json() == described
        with again.offices["EP"].client() as ep:
            assert ep.right(RIGHT_ID)["recordHash"] == accepted["recordHash"]
        head = connect(again.chain.rpc_url).eth.block_number
        status = wait_gateway_caught_up(again.gateway_url, head, OUTBOX_S)
        assert int(status["indexedBlock"]) >= head, status
        indexed = httpx.get(f"{again.gateway_url}/v1/rights/{right_path(RIGHT_ID)}", timeout=30).json()
        assert indexed["version"] == 1 and indexed["officeCode"] == "EP"
        # its gateway may fetch the offices' deep links on loopback: the verdict rests on EP's signed record
        verdict = httpx.get(f"{again.gateway_url}/v1/rights/{right_path(RIGHT_ID)}/verification", timeout=30)
        assert verdict.json()["verdict"] == "authentic-current", verdict.text
    finally:
        again.stop()


def test_a_description_that_is_not_a_consortium_is_refused_naming_the_folder(tmp_path: Path) -> None:
    stray = LocalConsortium(tmp_path, GanacheChain(tmp_path / "chain"))
    with pytest.raises(ConfigError) as err:
        stray.restore({"password": "x", "offices": {"EP": {"port": 1}}})
    assert err.value.field == str(tmp_path.resolve()) and "not a consortium" in err.value.reason
    assert (stray.offices, stray.deployment) == ({}, None) and stray.password != "x"  # nothing half-taken
