"""Two offices' nodes as real processes (`ipreg node init`, `register-keys`, `run`) on one ganache, driven
through the CLI mirrors as a script would; and a node killed with SIGKILL right after accepting changes."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import GanacheFactory, stop_process
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from registry_node.devnet.demo_international import madrid_ib_transaction
from registry_node.devnet.ganache import free_port
from registry_node.node.cli import Algorithm
from registry_node.node.consortium import ConsortiumConfig, FoundingOffice, deploy_consortium
from registry_node.node.settings import load_settings
from registry_node.node.store import OutboxState, Store
from registry_node.node.transactor import Transactor
from registry_node.protocol.chain import connect, fee_fields
from registry_node.protocol.contract import load_artifact
from registry_node.protocol.deployment import Deployment
from registry_node.protocol.keys import SigningAlgorithm
from registry_node.protocol.records import chain_right_id
from registry_node.protocol.signing import DetachedSignature, verify_signature
from tests.support.records import assignment_json, patent_right

PROJECT_ROOT = Path(__file__).resolve().parents[2]
IPREG = PROJECT_ROOT / ".venv" / "bin" / "ipreg"
PASSWORD = "correct horse battery staple"
COMMAND_TIMEOUT_S = 120.0
READY_TIMEOUT_S = 60.0
NAMES = {
    "EP": "European Patent Office",
    "GB": "UK Intellectual Property Office",
    "WO": "WIPO International Bureau",
}


def ipreg(*args: str | Path, token: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IPREG_NODE_")}
    env.setdefault("HOME", str(PROJECT_ROOT / ".home"))
    env["IPREG_NODE_PASSWORD"] = PASSWORD
    if token:
        env["IPREG_NODE_TOKEN"] = token
    return subprocess.run(
        [str(IPREG), *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT_ROOT,
        timeout=COMMAND_TIMEOUT_S,
        stdin=subprocess.DEVNULL,
    )


def answer(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@dataclass
class NodeProcess:
    """One office's node: its folder, account and token, and its `ipreg node run` process."""

    code: str
    data_dir: Path
    port: int
    account: str
    token: str
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.launch()
        self.wait_ready()

    def launch(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("IPREG_NODE_")}
        env["IPREG_NODE_PASSWORD"] = PASSWORD
        log = (self.data_dir / "run.log").open("ab")
        self.process = subprocess.Popen(
            [str(IPREG), "node", "run", "--data-dir", str(self.data_dir)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=PROJECT_ROOT,
        )
        log.close()

    def wait_ready(self) -> None:
        """Returns once the API answers; fails if the process exits first."""
        assert self.process is not None
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"{self.code} node exited ({self.process.returncode}): {self.log()}")
            try:
                if httpx.get(f"{self.url}/openapi.json", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)  # not listening yet
        pytest.fail(f"{self.code} node did not answer within {READY_TIMEOUT_S:.0f} s: {self.log()}")

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as in a power cut."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> int | None:
        if self.process is None:
            return None
        stop_process(self.process)
        return self.process.returncode

    def log(self) -> str:
        return (self.data_dir / "run.log").read_text("utf-8", "replace")[-3000:]

    def cli(self, *args: str | Path, token: str | None = None) -> subprocess.CompletedProcess[str]:
        return ipreg("node", *args, "--node", self.url, token=token or self.token)

    def post(self, path: str, body: Any) -> httpx.Response:
        return httpx.post(self.url + path, json=body, headers={"Authorization": f"Bearer {self.token}"})

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.url + path, headers={"Authorization": f"Bearer {self.token}"})


@dataclass
class Network:
    w3: Web3
    contract: Contract
    nodes: dict[str, NodeProcess]
    deployment: Deployment
    rpc_url: str


def init_node(code: str, base: Path, rpc_url: str) -> NodeProcess:
    port = free_port()
    data_dir = base / code.lower()
    algorithm = "ecdsa-p256" if code == "GB" else "ed25519"
    result = answer(
        ipreg("node", "init", "--office", code, "--name", NAMES[code], "--data-dir", data_dir,
              "--rpc", rpc_url, "--listen-port", str(port), "--algorithm", algorithm, "--json")
    )  # fmt: skip
    assert result["warning"] is None
    return NodeProcess(code, data_dir, port, result["account"], result["operatorToken"])


def fund(w3: Web3, sender: LocalAccount, to: str) -> None:
    tx: Any = {"to": to, "value": 10**21, "gas": 21_000, "chainId": w3.eth.chain_id, **fee_fields(w3)}
    tx["nonce"] = w3.eth.get_transaction_count(sender.address, "pending")
    w3.eth.wait_for_transaction_receipt(
        w3.eth.send_raw_transaction(sender.sign_transaction(tx).raw_transaction)
    )


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    """EP, GB and WO nodes created by `ipreg node init`, a consortium deployed with their accounts, their
    signing keys registered, and both nodes running."""
    base = tmp_path_factory.mktemp("nodes")
    deployer: LocalAccount = Account.create()
    chains = GanacheFactory(base)
    nodes: dict[str, NodeProcess] = {}
    try:
        chain = chains([deployer.key.to_0x_hex()])
        w3 = connect(chain.rpc_url)
        with ThreadPoolExecutor() as pool:  # each init derives two keys from the password: in parallel
            created = pool.map(lambda code: init_node(code, base, chain.rpc_url), NAMES)
        nodes = {node.code: node for node in created}
        for node in nodes.values():
            fund(w3, deployer, node.account)
        config = ConsortiumConfig(
            [FoundingOffice(code, NAMES[code], node.account, node.url) for code, node in nodes.items()]
        )
        deployment = deploy_consortium(Transactor(w3, deployer, load_artifact().abi), config)
        for node in nodes.values():  # the operator's step once the consortium is deployed
            with (node.data_dir / "node.toml").open("a", encoding="utf-8") as toml:
                toml.write(f'contract_address = "{deployment.address}"\nchain_id = {deployment.chain_id}\n')
        registering = [
            subprocess.Popen(
                [str(IPREG), "node", "register-keys", "--data-dir", str(node.data_dir)],
                env={**os.environ, "IPREG_NODE_PASSWORD": PASSWORD},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for node in nodes.values()
        ]
        for process in registering:
            output, _ = process.communicate(timeout=COMMAND_TIMEOUT_S)
            assert process.returncode == 0, output
            assert "registered for" in output
        for node in nodes.values():
            node.launch()
        for node in nodes.values():
            node.wait_ready()
        contract = w3.eth.contract(address=deployment.address, abi=load_artifact().abi)
        yield Network(w3, contract, nodes, deployment, chain.rpc_url)
    finally:
        for node in nodes.values():
            node.stop()
        chains.stop_all()


def change_json(right_id: str) -> dict[str, Any]:
    """The filed patent (`patent_right`) assigned to Nordic Heat AB."""
    return assignment_json(right_id, assignor="Aurora Medical AB")


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), "utf-8")
    return path


def events(network: Network, right_id: str) -> list[tuple[str, int]]:
    """(event, version) of every change of the right on chain, in chain order."""
    rid = chain_right_id(right_id)
    found = []
    for event in ("RightRegistered", "OwnershipChanged", "LegalStatusChanged", "RightPublished"):
        for log in getattr(network.contract.events, event).get_logs(
            from_block=0, argument_filters={"rightId": rid}
        ):
            found.append((log["blockNumber"], log["logIndex"], event, log["args"].get("version", 1)))
    return [(event, version) for _, _, event, version in sorted(found)]


def verify_document(network: Network, node: NodeProcess, right_id: str, version: int) -> dict[str, Any]:
    """Fetches the public deep link and checks its signature against the key the office has on chain."""
    served = httpx.get(f"{node.url}/v1/documents/{right_id}/{version}")
    assert served.status_code == 200, served.text
    document = dict(served.json())
    canonical = base64.b64decode(document["canonical"])
    signature = DetachedSignature.from_json(document["signature"])
    assert signature.office == node.code
    key = network.contract.functions.signingKey(node.code.encode(), signature.key_id).call()
    assert verify_signature(canonical, signature, bytes(key[4]), SigningAlgorithm.from_chain_value(key[1]))
    assert hashlib.sha256(canonical).hexdigest() == document["recordHash"]
    return document


def test_a_right_lives_across_two_offices_nodes_through_the_cli(network: Network, tmp_path: Path) -> None:
    ep, gb = network.nodes["EP"], network.nodes["GB"]
    ep_right, gb_right = "EP:PAT:EP23100001", "GB:PAT:GB2310001"

    accepted = answer(ep.cli("register", write_json(tmp_path / "ep.json", patent_right(ep_right)), "--json"))
    assert (accepted["rightId"], accepted["version"], accepted["status"]) == (ep_right, 1, "pending")
    gb_file = write_json(tmp_path / "gb.json", patent_right(gb_right))
    by_data_dir = ipreg("node", "register", gb_file, "--confidential", "--json", "--data-dir", gb.data_dir,
                        token=gb.token)  # fmt: skip
    assert answer(by_data_dir)["version"] == 1

    refused = ep.cli("register", gb_file, "--json")
    assert refused.returncode == 1
    assert json.loads(refused.stdout)["status"] == 403
    assert "belongs to office GB" in refused.stderr and "rightId" in refused.stderr
    assert "Traceback" not in refused.stderr

    change = write_json(tmp_path / "change.json", change_json(ep_right))
    assert (
        answer(ep.cli("ownership-change", ep_right, change, "--expected-version", "1", "--json"))["version"]
        == 2
    )
    stale = ep.cli("ownership-change", ep_right, change, "--expected-version", "1")
    assert stale.returncode == 1 and "is at version 2, not 1" in stale.stderr
    # the command's first name still reaches it, for scripts that use it
    again = ep.cli("transfer", ep_right, change, "--expected-version", "1")
    assert again.returncode == 1 and "is at version 2, not 1" in again.stderr
    grant = {"status": {"stateCode": "A", "stageCode": 4, "keyEventCode": "F10"}, "previousStageCode": 1,
             "eventDate": "2026-03-01", "effectiveDate": "2026-03-01"}  # fmt: skip
    event = write_json(tmp_path / "event.json", grant)
    assert answer(gb.cli("status", gb_right, event, "--expected-version", "1", "--json"))["version"] == 2
    assert httpx.get(f"{gb.url}/v1/documents/{gb_right}/2").status_code == 404  # still confidential
    assert answer(gb.cli("publish", gb_right, "--expected-version", "2", "--json"))["version"] == 3

    for node in (ep, gb):
        entries = answer(node.cli("outbox", "--wait", "--json"))["items"]
        assert {e["state"] for e in entries} == {"confirmed"}
    assert answer(ep.cli("show", ep_right, "--json"))["onChain"] == {"version": 2, "matchesLocal": True}
    assert answer(gb.cli("show", gb_right, "--json"))["onChain"] == {"version": 3, "matchesLocal": True}
    assert events(network, ep_right) == [("RightRegistered", 1), ("OwnershipChanged", 2)]
    assert events(network, gb_right) == [
        ("RightRegistered", 1),
        ("LegalStatusChanged", 2),
        ("RightPublished", 3),
    ]

    document = verify_document(network, ep, ep_right, 2)
    assert document["record"]["right"]["ownerBag"] == [{"name": "Nordic Heat AB", "countryCode": "SE"}]
    for version in (1, 2, 3):
        verify_document(network, gb, gb_right, version)
    assert httpx.get(f"{ep.url}/v1/documents/{gb_right}/1").status_code == 404  # each office serves its own

    wrong = ep.cli("outbox", token="not-the-token")
    assert wrong.returncode == 1 and "not this node's operator token" in wrong.stderr


def test_a_node_killed_right_after_accepting_changes_sends_each_exactly_once_after_restart(
    network: Network, tmp_path: Path
) -> None:
    ep = network.nodes["EP"]
    transferred = "EP:PAT:EP23200001"
    assert ep.post("/v1/rights", {"right": patent_right(transferred)}).status_code == 202
    answer(ep.cli("outbox", "--wait", "--json"))
    fresh = [f"EP:PAT:EP2320001{n}" for n in range(3)]

    accepted = [ep.post(f"/v1/rights/{transferred}/ownership-changes",
                        {"expectedVersion": 1, "change": change_json(transferred)})]  # fmt: skip
    accepted += [ep.post("/v1/rights", {"right": patent_right(right_id)}) for right_id in fresh]
    ep.kill()
    assert [a.status_code for a in accepted] == [202] * 4

    at_crash = {e.id: e.state for e in Store(ep.data_dir / "node.sqlite").outbox()}
    ids = [a.json()["outboxId"] for a in accepted]
    assert all(i in at_crash for i in ids), "an accepted change was not on disk"
    assert at_crash[ids[-1]] is not OutboxState.CONFIRMED, "the crash came too late to test anything"

    ep.start()
    entries = {e["id"]: e for e in answer(ep.cli("outbox", "--wait", "--json", "--limit", "500"))["items"]}
    assert {entries[i]["state"] for i in ids} == {"confirmed"}
    assert events(network, transferred) == [("RightRegistered", 1), ("OwnershipChanged", 2)]
    for right_id in fresh:
        assert events(network, right_id) == [("RightRegistered", 1)]
        assert ep.get(f"/v1/rights/{right_id}").json()["onChain"] == {"version": 1, "matchesLocal": True}


def test_st96_files_are_imported_through_the_cli_each_accepted_or_refused_alone(
    network: Network, tmp_path: Path
) -> None:
    assets = PROJECT_ROOT / "tests" / "assets" / "st96"
    sample = (assets / "patent_application_publication.xml").read_text("utf-8")
    good = tmp_path / "ep.xml"
    good.write_text(sample.replace("19175123.4", "22999001.4"), "utf-8")
    hostile = assets / "hostile" / "billion_laughs.xml"
    ep = network.nodes["EP"]

    result = ep.cli("import", str(good), str(hostile), "--json")

    assert result.returncode == 1  # one file was refused
    outcome = json.loads(result.stdout)
    assert (outcome["accepted"], outcome["refused"]) == (1, 1)
    right_id = outcome["items"][0]["rightId"]
    assert right_id == "EP:PAT:229990014"
    assert outcome["items"][1]["name"].endswith("billion_laughs.xml") and not outcome["items"][1]["accepted"]
    answer(ep.cli("outbox", "--wait", "--json"))
    assert network.contract.functions.rightOf(chain_right_id(right_id)).call()[0] == 1


def test_the_bureau_imports_madrid_notifications_and_a_designated_office_decides_through_the_cli(
    network: Network, tmp_path: Path
) -> None:
    wo, gb = network.nodes["WO"], network.nodes["GB"]
    notifications = tmp_path / "madrid.xml"
    notifications.write_bytes(madrid_ib_transaction().encode())  # 1700001 designates EP, GB and KR

    result = wo.cli("import-transaction", str(notifications), "--json")

    assert result.returncode == 1  # KR is not a member of this consortium: its designations are refused
    outcome = json.loads(result.stdout)
    refused = [item for item in outcome["items"] if not item["accepted"]]
    assert {item["rightId"] for item in refused} == {"WO:TM:1700001@KR", "WO:TM:1700002@KR"}
    assert {item["error"]["field"] for item in refused} == {"designatedOfficeCode"}
    assert all("KR is not a member office" in item["error"]["reason"] for item in refused)
    designated = [i["rightId"] for i in outcome["items"] if i["item"] == "designation" and i["accepted"]]
    assert designated == ["WO:TM:1700001@EP", "WO:TM:1700001@GB", "WO:TM:1700002@GB"]
    answer(wo.cli("outbox", "--wait", "--json"))

    repeated = json.loads(wo.cli("import-transaction", str(notifications), "--json").stdout)
    assert all(i["alreadyRecorded"] for i in repeated["items"] if i["accepted"])
    assert not any(i["changes"] for i in repeated["items"])  # nothing recorded twice
    shown = wo.cli("import-transaction", str(notifications))
    assert "0: internationalRegistration WO:TM:1700001: already recorded" in shown.stdout
    assert "WO:TM:1700001@KR: refused: designatedOfficeCode: KR is not a member office" in shown.stderr

    grant = {"decisionCategory": "grantOfProtection", "decisionDate": "2024-07-01", "standard": "ST.61",
             "status": {"stateCode": "A", "stageCode": 4, "keyEventCode": "F10"}}  # fmt: skip
    decision = write_json(tmp_path / "grant.json", grant)
    decided = answer(gb.cli("decide", "WO:TM:1700001@GB", decision, "--expected-version", "0", "--json"))
    assert (decided["rightId"], decided["version"]) == ("WO:TM:1700001@GB", 1)
    not_ours = gb.cli("decide", "WO:TM:1700001@EP", decision, "--expected-version", "0")
    assert not_ours.returncode == 1 and "designates EP; this node acts for GB" in not_ours.stderr
    answer(gb.cli("outbox", "--wait", "--json"))
    assert tuple(network.contract.functions.rightOf(chain_right_id("WO:TM:1700001@GB")).call()[:2]) == (
        1,
        b"GB",
    )
    verify_document(network, gb, "WO:TM:1700001@GB", 1)


def test_run_on_a_taken_port_fails_naming_the_port(network: Network, listening_port: int) -> None:
    ep = network.nodes["EP"]
    env_port = {"IPREG_NODE_LISTEN_PORT": str(listening_port)}
    result = subprocess.run(
        [str(IPREG), "node", "run", "--data-dir", str(ep.data_dir)],
        capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, stdin=subprocess.DEVNULL,
        env={**os.environ, **env_port, "IPREG_NODE_PASSWORD": PASSWORD},
    )  # fmt: skip
    assert result.returncode == 1
    assert f"port {listening_port} on 127.0.0.1 is already in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_init_refuses_a_folder_that_holds_a_node(network: Network) -> None:
    ep = network.nodes["EP"]
    keystore = (ep.data_dir / "account.json").read_bytes()
    result = ipreg("node", "init", "--office", "EP", "--name", "Other", "--data-dir", ep.data_dir)
    assert result.returncode == 1 and "refusing to overwrite" in result.stderr
    assert (ep.data_dir / "account.json").read_bytes() == keystore


def test_init_takes_the_registry_from_a_deployment_record(network: Network, tmp_path: Path) -> None:
    record = write_json(tmp_path / "deployment.json", network.deployment.to_json())
    data_dir = tmp_path / "ep-spare"
    created = answer(
        ipreg("node", "init", "--office", "EP", "--name", NAMES["EP"], "--data-dir", data_dir,
              "--deployment", record, "--rpc", network.rpc_url, "--json")
    )  # fmt: skip
    assert f"lists {network.nodes['EP'].account} as EP's account" in created["warning"]
    settings = load_settings(data_dir / "node.toml", environ={})
    assert (settings.contract_address, settings.chain_id) == (network.deployment.address, 1337)

    refused = ipreg("node", "register-keys", "--data-dir", data_dir)
    assert refused.returncode == 1
    assert f"{created['account']} is the account of no office on chain, not of EP" in refused.stderr


def test_init_offers_every_signing_algorithm() -> None:
    assert [a.value for a in Algorithm] == [a.value for a in SigningAlgorithm]


def test_a_node_killed_right_after_an_anchored_import_anchors_it_exactly_once_after_restart(
    network: Network,
) -> None:
    ep = network.nodes["EP"]
    sample = (PROJECT_ROOT / "tests" / "assets" / "st96" / "patent_application_publication.xml").read_text()
    files = [
        {
            "name": f"ep{n}.xml",
            "content": base64.b64encode(sample.replace("19175123.4", f"2388800{n}.4").encode()).decode(),
        }
        for n in range(4)
    ]

    accepted = ep.post("/v1/imports", {"files": files, "mode": "anchor"})
    ep.kill()
    assert accepted.status_code == 202, accepted.text
    (anchor,) = accepted.json()["anchors"]
    at_crash = {e.id: e.state for e in Store(ep.data_dir / "node.sqlite").outbox()}
    assert anchor["outboxId"] in at_crash, "the accepted anchor was not on disk"

    ep.start()
    answer(ep.cli("outbox", "--wait", "--json"))
    root = bytes.fromhex(anchor["root"][2:])
    anchored = [log for log in network.contract.events.RootAnchored.get_logs(from_block=0)
                if bytes(log["args"]["root"]) == root]  # fmt: skip
    assert len(anchored) == 1 and anchored[0]["args"]["count"] == 4
    document = httpx.get(f"{ep.url}/v1/documents/{accepted.json()['items'][0]['rightId']}/1").json()
    proof = [bytes.fromhex(p[2:]) for p in document["anchor"]["proof"]]
    record = bytes.fromhex(document["recordHash"])
    assert network.contract.functions.verifyRecord(root, record, proof).call()


def test_sigterm_stops_the_node_and_its_worker_cleanly(network: Network) -> None:
    """The module's last test: it leaves GB's node stopped."""
    gb = network.nodes["GB"]
    assert gb.stop() == 0
    assert "node stopped" in gb.log()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{gb.url}/openapi.json", timeout=2)
