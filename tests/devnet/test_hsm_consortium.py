"""The HSM mode of the local consortium (`ipreg demo --hsm`), on a real ganache with real node and gateway
processes: each office's keys are made in a SoftHSM2 token of its own, no key file exists, and a record the
token signed is judged authentic by the gateway, as a file key's record is."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from registry_node.devnet.chains import GanacheChain
from registry_node.devnet.consortium import Founder, LocalConsortium
from registry_node.devnet.ganache import free_port
from registry_node.devnet.softhsm import SoftHsm
from registry_node.experiment.collect import wait_gateway_caught_up
from registry_node.node.client import right_path
from registry_node.protocol.chain import connect
from registry_node.protocol.keys import SigningAlgorithm
from registry_node.protocol.keys.pkcs11 import TokenUri
from tests.support.records import patent_right
from tests.support.softhsm import softhsm_folder  # noqa: F401 - the fixture, shared with the token tests

PASSWORD = "hsm consortium drill"
RIGHT_ID = "KR:PAT:1020260088001"
OUTBOX_S = 120.0


@pytest.fixture(scope="module")
def consortium(
    tmp_path_factory: pytest.TempPathFactory,
    softhsm_folder: SoftHsm,  # noqa: F811 - the fixture imported above
) -> Iterator[LocalConsortium]:
    """KR (ECDSA P-256) with its keys in a token of its own, in the SoftHSM2 folder of this test process
    (the PKCS#11 module reads its configuration once per process)."""
    folder = tmp_path_factory.mktemp("hsm-consortium")
    made = LocalConsortium(
        folder,
        GanacheChain(folder / "chain"),
        password=PASSWORD,
        gateway_port=free_port(),
        hsm=softhsm_folder,
    )
    try:
        made.create(
            [Founder("KR", "Korean Intellectual Property Office", free_port(), SigningAlgorithm.ECDSA_P256)]
        )
        made.start()
        yield made
    finally:
        made.stop()


def test_each_office_keeps_both_keys_in_a_token_of_its_own_and_no_key_file(
    consortium: LocalConsortium,
) -> None:
    settings = consortium.offices["KR"].settings()
    assert settings.signing_key == TokenUri("ipreg-KR", "signing-key")
    assert settings.account_keystore == TokenUri("ipreg-KR", "account")
    assert sorted(p.name for p in settings.data_dir.iterdir() if p.suffix in (".pem", ".json")) == []
    assert consortium.to_json()["hsm"] == str(consortium.hsm.folder if consortium.hsm else None)


def test_a_record_signed_in_the_token_is_judged_authentic_by_the_gateway(consortium: LocalConsortium) -> None:
    with consortium.offices["KR"].client() as kr:
        kr.register(patent_right(RIGHT_ID))
        kr.wait_for_outbox(OUTBOX_S)
    head = connect(consortium.chain.rpc_url).eth.block_number
    wait_gateway_caught_up(consortium.gateway_url, head, OUTBOX_S)
    answer = httpx.get(f"{consortium.gateway_url}/v1/rights/{right_path(RIGHT_ID)}/verification", timeout=30)
    assert answer.status_code == 200, answer.text
    verdict = answer.json()
    assert verdict["verdict"] == "authentic-current", verdict
