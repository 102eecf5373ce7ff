"""The key-compromise drill, on a real chain with a real office node process and a real gateway process.

EP's document-signing key leaks. EP rotates it (`ipreg node rotate-key`, which revokes the leaked key from
that block on): what EP signed before stays authentic; a document signed with the leaked key afterwards is
`key-revoked`. EP then rotates its transaction account (beginAccountRotation by the old account,
acceptAccountRotation by the new one): its node writes with the new account, and the old account is
refused by the contract with a decoded custom error.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from registry_node.devnet.chains import GanacheChain, fund
from registry_node.devnet.consortium import Founder, LocalConsortium
from registry_node.devnet.ganache import free_port
from registry_node.devnet.processes import IPREG
from registry_node.experiment.collect import wait_gateway_caught_up
from registry_node.node.client import NodeClient, right_path
from registry_node.node.service import load_keys
from registry_node.node.settings import NodeSettings
from registry_node.node.transactor import TransactionReverted, Transactor
from registry_node.protocol.chain import connect
from registry_node.protocol.contract import load_artifact
from registry_node.protocol.keys import create_account_keystore, load_signing_key
from registry_node.protocol.records import canonical_bytes, chain_right_id
from registry_node.protocol.signing import sign_document
from tests.support.keys import FAST_SCRYPT_N
from tests.support.records import patent_right

PASSWORD = "key compromise drill"
TOKEN = "operator token of the drill"
RIGHT_ID = "EP:PAT:EP20260077001"
OUTBOX_S = 120.0
INDEXED_WITHIN_S = 120.0  # for the gateway to index a confirmed write


@dataclasses.dataclass
class Drill:
    """A one-office consortium (EP) whose node and gateway run as processes, EP's endpoint its node."""

    consortium: LocalConsortium
    w3: Web3

    @property
    def settings(self) -> NodeSettings:
        return self.consortium.offices["EP"].settings()

    @property
    def env(self) -> dict[str, str]:
        return self.consortium.env()

    @property
    def deployer(self) -> LocalAccount:
        return self.consortium.chain.deployer

    @property
    def node_url(self) -> str:
        return self.consortium.offices["EP"].url

    @property
    def gateway_url(self) -> str:
        return self.consortium.gateway_url

    def client(self) -> NodeClient:
        return NodeClient(self.node_url, TOKEN)

    def stop_node(self) -> None:
        self.consortium.stop_node("EP")

    def start_node(self) -> None:
        self.consortium.start_node("EP")

    def write(self, send: Any) -> dict[str, Any]:
        with self.client() as client:
            answer: dict[str, Any] = send(client)
            client.wait_for_outbox(OUTBOX_S)
            entry = client._call("GET", f"/v1/outbox/{answer['outboxId']}")
        assert entry["state"] == "confirmed", entry
        # a verification reads the chain at the head the gateway's indexer last saw: wait until it saw this
        status = wait_gateway_caught_up(self.gateway_url, int(entry["blockNumber"]), OUTBOX_S)
        assert int(status.get("indexedBlock") or 0) >= int(entry["blockNumber"]), status
        return entry

    def document(self, version: int) -> bytes:
        url = f"{self.node_url}/v1/documents/{right_path(RIGHT_ID)}/{version}"
        return httpx.get(url, timeout=30).raise_for_status().content

    def verify_upload(self, body: bytes) -> dict[str, Any]:
        answer = httpx.post(f"{self.gateway_url}/v1/verifications", content=body, timeout=60)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())


@pytest.fixture
def drill(tmp_path: Path) -> Iterator[Drill]:
    consortium = LocalConsortium(
        tmp_path,
        GanacheChain(tmp_path / "chain"),
        password=PASSWORD,
        gateway_port=free_port(),
        key_scrypt_n=FAST_SCRYPT_N,
    )
    try:
        consortium.create([Founder("EP", "European Patent Office", free_port(), token=TOKEN)])
        consortium.start()
        yield Drill(consortium, connect(consortium.chain.rpc_url))
    finally:
        consortium.stop()


def assignment() -> dict[str, Any]:
    return {
        "conveyanceCategory": "assignment",
        "assignorBag": [{"name": "Aurora Medical AB", "executionDate": "2026-02-01"}],
        "assigneeBag": [{"name": "Thames Optics Ltd", "countryCode": "GB"}],
        "effectiveDate": "2026-02-01",
        "recordalDate": "2026-03-01",
        "rightIdBag": [RIGHT_ID],
        "evidenceDocumentHash": "ab" * 32,
    }


def status(key_event: str, stage: int) -> dict[str, Any]:
    return {
        "status": {"stateCode": "A", "stageCode": stage, "keyEventCode": key_event},
        "previousStageCode": 2,
        "eventDate": "2026-05-01",
        "effectiveDate": "2026-05-01",
    }


def checks_of(verdict: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c["result"] for c in verdict["checks"]}


def test_a_leaked_signing_key_is_revoked_and_a_leaked_account_rotated_away(drill: Drill) -> None:
    w3, settings = drill.w3, drill.settings
    contract = w3.eth.contract(
        address=Web3.to_checksum_address(settings.contract_address), abi=load_artifact().abi
    )

    # EP records a right and an assignment, signed with its first key
    drill.write(lambda c: c.register(patent_right(RIGHT_ID)))
    drill.write(lambda c: c.record_ownership_change(RIGHT_ID, 1, assignment()))
    signed_before = {version: drill.document(version) for version in (1, 2)}

    # the key leaks: the attacker holds a copy of the key file and its password
    leaked = load_signing_key(settings.signing_key, PASSWORD)

    # EP rotates: a new key published, the leaked one revoked from that block on
    drill.stop_node()
    rotated = subprocess.run(
        [str(IPREG), "node", "rotate-key", "--data-dir", str(settings.data_dir), "--json"],
        env=drill.env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert rotated.returncode == 0, rotated.stderr
    rotation = json.loads(rotated.stdout)
    assert rotation["previousKeyId"] == leaked.key_id.hex() and rotation["previousRevokedAtBlock"]
    revoked_at = int(rotation["previousRevokedAtBlock"])
    assert not contract.functions.isKeyValidAt(b"EP", leaked.key_id, revoked_at).call()
    drill.start_node()
    drill.write(lambda c: c.record_status(RIGHT_ID, 2, status("F10", 4)))  # signed with the new key

    # what EP signed before the revocation stays authentic
    current = httpx.get(
        f"{drill.gateway_url}/v1/rights/{right_path(RIGHT_ID)}/verification", timeout=60
    ).json()
    assert current["verdict"] == "authentic-current" and current["version"] == 3, current
    for version, body in signed_before.items():
        verdict = drill.verify_upload(body)
        assert verdict["verdict"] == "authentic-superseded", (version, verdict)
        assert checks_of(verdict)["key-validity"] == "pass"
        assert json.loads(body)["signature"]["keyId"] == leaked.key_id.hex()

    # the attacker signs version 3 (whose hash is on chain, written after the revocation) with the leaked key
    document = json.loads(drill.document(3))
    canonical = base64.b64decode(document["canonical"])
    document["signature"] = sign_document(canonical, leaked, "EP").to_json()
    verdict = drill.verify_upload(json.dumps(document).encode())
    assert verdict["verdict"] == "key-revoked", verdict
    checks = checks_of(verdict)
    assert checks["record-hash"] == "pass" and checks["signature"] == "pass"
    assert checks["key-validity"] == "fail"

    # ... or forges a record of their own: its hash is on no version, and the leaked key does not help
    forged_record = json.loads(canonical)
    forged_record["right"]["ownerBag"] = [{"name": "Mallory Holdings Ltd", "countryCode": "GB"}]
    forged = canonical_bytes(forged_record)
    document.update(
        record=forged_record,
        canonical=base64.b64encode(forged).decode(),
        signature=sign_document(forged, leaked, "EP").to_json(),
    )
    document.pop("recordHash", None)
    verdict = drill.verify_upload(json.dumps(document).encode())
    assert verdict["verdict"] == "tampered", verdict
    assert checks_of(verdict)["key-validity"] == "fail"

    # the transaction account leaks too: EP moves to a new account in two steps
    old = load_keys(settings, PASSWORD).account
    new_keystore = settings.data_dir / "account-new.json"
    new_address = create_account_keystore(new_keystore, PASSWORD)
    fund(w3, drill.deployer, new_address)
    abi = load_artifact().abi
    Transactor(w3, old, abi).send(contract.functions.beginAccountRotation(new_address))
    new: LocalAccount = Account.from_key(Account.decrypt(json.loads(new_keystore.read_text()), PASSWORD))
    Transactor(w3, new, abi).send(contract.functions.acceptAccountRotation(b"EP"))
    _, _, account, pending, *_ = contract.functions.office(b"EP").call()
    assert (account, int(pending, 16)) == (new_address, 0)
    drill.stop_node()
    os.replace(new_keystore, settings.account_keystore)
    drill.start_node()

    # the node, now holding the new account, still writes EP's right
    entry = drill.write(lambda c: c.record_status(RIGHT_ID, 3, status("M10", 4)))
    assert w3.eth.get_transaction(entry["txHash"])["from"] == new_address
    assert contract.functions.rightOf(chain_right_id(RIGHT_ID)).call()[0] == 4

    # the old account is refused: it is no longer any office's account
    record_hash, owner_commitment, status_code = _current_state(drill)
    update = (
        chain_right_id(RIGHT_ID),
        4,
        (record_hash, owner_commitment, status_code),
        b"\x11" * 32,
        (b"T6H13", 4, b"\0" * 16, 20260601, 0),
    )
    with pytest.raises(TransactionReverted) as refused:
        Transactor(w3, old, abi).send(contract.functions.recordStatusEvent(update))
    assert refused.value.reason.name == "OfficeRegistryNotMember", refused.value.reason
    assert Web3.to_checksum_address(refused.value.reason.args["account"]) == old.address
    assert contract.functions.rightOf(chain_right_id(RIGHT_ID)).call()[0] == 4


def _current_state(drill: Drill) -> tuple[bytes, bytes, bytes]:
    """The right's current (recordHash, ownerCommitment, status) from its last chain event, as the gateway
    indexed it and the chain's matchesState confirms."""
    deadline = time.monotonic() + INDEXED_WITHIN_S
    answer: dict[str, Any] = {}
    while time.monotonic() < deadline:
        answer = httpx.get(f"{drill.gateway_url}/v1/rights/{right_path(RIGHT_ID)}", timeout=30).json()
        if answer.get("version") == 4:
            break
        time.sleep(0.2)
    assert answer.get("version") == 4, answer
    state = (
        bytes.fromhex(answer["recordHash"].removeprefix("0x")),
        bytes.fromhex(answer["ownerCommitment"].removeprefix("0x")),
        answer["statusCode"].encode("ascii"),
    )
    settings = drill.settings
    contract = drill.w3.eth.contract(
        address=Web3.to_checksum_address(settings.contract_address), abi=load_artifact().abi
    )
    assert contract.functions.matchesState(chain_right_id(RIGHT_ID), state).call()
    return state
