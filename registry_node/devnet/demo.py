"""`ipreg demo`: a whole consortium on this machine — a chain, four office nodes and the gateway — seeded
once with a realistic history, and resumed with its state intact on the next run.

Everything lives under the demo folder (default `.demo/`):

    demo.json     what was created: deployment, offices (folder, port, operator token), seeding progress
    chain/        ganache's database        logs/        one log per child process
    nodes/EP …    the office nodes          gateway/     the gateway's folder (settings, index, key)

The nodes and the gateway are child processes (`ipreg node run`, `ipreg gateway run`), the same commands
an office runs; the chain is a local ganache. Ctrl-C stops them all. The demo's keys are encrypted with a
password generated for this demo folder and kept in demo.json (mode 0600): it is a local playground, not
a production set-up.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import secrets
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from registry_node.devnet.chains import GanacheChain, LocalChain
from registry_node.devnet.consortium import GATEWAY_RUN, Founder, LocalConsortium
from registry_node.devnet.demo_data import SeedChange, SeedPlan, seed_plan
from registry_node.devnet.demo_international import (
    FAMILY,
    INTERNATIONAL_REGISTRATION,
    SeedDocument,
    international_documents,
)
from registry_node.devnet.ganache import PortInUse, free_port, port_is_free
from registry_node.devnet.geth import GethError, ValidatorPorts, free_validator_base
from registry_node.devnet.network import GethNetwork
from registry_node.devnet.processes import Interrupted
from registry_node.devnet.softhsm import SoftHsm
from registry_node.node.client import NodeClient, ProblemError
from registry_node.node.key_rotation import rotate_signing_key
from registry_node.protocol.chain import connect
from registry_node.protocol.errors import ConfigError, RegistryError
from registry_node.protocol.keys import SigningAlgorithm

STATE_FILE = "demo.json"
STATE_SCHEMA = "ipreg/demo/1"
OFFICES = {
    "EP": "European Patent Office",
    "GB": "UK Intellectual Property Office",
    "KR": "Korean Intellectual Property Office",
    "WO": "WIPO International Bureau",  # Madrid and Hague: international registrations and designations
}
ROTATING_OFFICE = "GB"  # the office whose signing key the seeded history rotates
OUTBOX_TIMEOUT_S = 300.0
GETH, GANACHE = "geth", "ganache"  # the demo's chains: a validator per office, or one ganache process
BLOCK_PERIOD_S = 1
Say = Callable[[str], None]


@dataclass(frozen=True)
class DemoPorts:
    """The demo's ports. On a geth network `chain` is the first validator's RPC port, and every other port
    the validators take follows from it (`ValidatorPorts.from_base`)."""

    chain: int = 8545
    gateway: int = 8000
    nodes: tuple[int, ...] = (8101, 8102, 8103, 8104)
    chain_kind: str = GETH

    @classmethod
    def free(cls, chain_kind: str) -> DemoPorts:
        """Ports no one else uses (`free_port`), for a demo beside others: in tests and benchmarks (a geth
        network's ports follow from its first: a free block of them is found)."""
        chain = free_port() if chain_kind == GANACHE else free_validator_base(len(OFFICES))
        return cls(chain, free_port(), tuple(free_port() for _ in OFFICES), chain_kind)

    def chain_ports(self) -> list[tuple[str, int]]:
        """Every port the chain takes, each with the option it follows from."""
        if self.chain_kind == GANACHE:
            return [("--chain-port", self.chain)]
        named = []
        for index, code in enumerate(OFFICES):
            ports = ValidatorPorts.from_base(self.chain, index)
            named += [(f"--chain-port (validator {code}: {kind})", port) for kind, port in
                      (("RPC", ports.rpc), ("p2p", ports.p2p), ("authrpc", ports.authrpc))]  # fmt: skip
        return named

    def check_free(self) -> None:
        """Every port must be free before anything starts: a taken one is named with its option."""
        try:
            named = [*self.chain_ports(), ("--gateway-port", self.gateway)]
        except GethError as err:
            raise ConfigError("--chain-port", str(err)) from None
        named += [(f"--node-ports ({code})", port) for code, port in zip(OFFICES, self.nodes, strict=True)]
        seen: set[int] = set()
        for option, port in named:
            if not 1 <= port <= 65535:
                raise ConfigError(option, f"must be a port from 1 to 65535, got {port}")
            if port in seen:
                raise ConfigError(option, f"port {port} is given twice")
            seen.add(port)
            if not port_is_free("127.0.0.1", port):
                raise ConfigError(option, str(PortInUse("127.0.0.1", port)))


class Demo:
    """The demo consortium. `gateway_program` runs the gateway (`ipreg gateway run --data-dir …` by default;
    a benchmark serves the same app with routes of its own beside it); `env` is extra environment of the
    nodes and the gateway."""

    def __init__(
        self,
        data_dir: Path,
        ports: DemoPorts,
        say: Say,
        gateway_program: Sequence[str] = GATEWAY_RUN,
        env: dict[str, str] | None = None,
        hsm: bool = False,
    ) -> None:
        self.data_dir = data_dir.resolve()
        self.ports = ports
        self.hsm = hsm  # a new demo's office keys in SoftHSM2 tokens; a resumed one keeps what it had
        self.say = say
        self.state_path = self.data_dir / STATE_FILE
        self.state: dict[str, Any] = {}
        self.stopping = threading.Event()
        self.env = env
        self.gateway_program = gateway_program
        self._consortium: LocalConsortium | None = None

    @property
    def consortium(self) -> LocalConsortium:
        if self._consortium is None:
            raise RegistryError("the demo has not started")
        return self._consortium

    def _take_up(self, password: str | None) -> None:
        """The consortium on the demo's chain: a new one (password None) or the folder's."""
        chain: LocalChain
        password = password or secrets.token_urlsafe(24)
        if self.ports.chain_kind == GANACHE:
            chain = GanacheChain(self.data_dir / "chain", self.ports.chain)
        elif GethNetwork.exists(self.network_dir):
            chain = GethNetwork.load(self.network_dir, password)
        else:
            chain = GethNetwork(
                self.network_dir, list(OFFICES), password=password, period_s=BLOCK_PERIOD_S,
                first_rpc_port=self.ports.chain,
            )  # fmt: skip
        self._consortium = LocalConsortium(
            self.data_dir,
            chain,
            password=password,
            gateway_port=self.ports.gateway,
            env=self.env,
            gateway_program=self.gateway_program,
            stop=self.stopping,
            hsm=SoftHsm(self.data_dir / "softhsm") if self.hsm else None,
        )

    @property
    def network_dir(self) -> Path:
        return self.data_dir / "network"

    # ------------------------------------------------------------ the whole run

    def run(self, stop: threading.Event, reset: bool = False) -> None:
        """Brings the consortium up (creating and seeding it the first time), then waits for `stop`; `stop`
        set while starting ends the start between two steps (a resumed run goes on from there)."""
        self.ports.check_free()  # before --reset deletes anything
        if reset and self.data_dir.exists():
            shutil.rmtree(self.data_dir)
            self.say(f"--reset: removed {self.data_dir}")
        try:
            self.start(stop)
            self._print_tour()
            stop.wait()
        finally:
            self.stop()

    def start(self, stop: threading.Event) -> None:
        """Starts the chain, the nodes and the gateway (creating and seeding the consortium the first time)
        and returns once the gateway has indexed the chain; the caller stops them with `stop()`."""
        self.stopping = stop
        if self.state_path.exists():
            self._load_state()
            self._take_up(str(self.state["password"]))
            self.consortium.restore(self.state)
            self.consortium.chain.resume()
            self.say(f"resuming the demo consortium in {self.data_dir}")
        else:
            self._take_up(None)
            self._create()
        with _resumable():
            self.consortium.start()
        hsm = self.consortium.hsm
        for code, office in self.consortium.offices.items():
            held = f", keys in PKCS#11 token ipreg-{code} ({hsm.tokens})" if hsm else ""
            self.say(f"office node {code} running at {office.url}{held}")
        self.say(f"gateway running at {self.gateway_url}")
        if not self.state.get("seeded"):
            self._seed()
        self._wait_indexed()

    def stop(self) -> None:
        if self._consortium is not None:
            self._consortium.stop()
        self.say("demo stopped: the chain, the office nodes and the gateway")

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.gateway}"

    # ------------------------------------------------------------ creating the consortium

    def _create(self) -> None:
        founders = [
            Founder(
                code, name, port, SigningAlgorithm.ECDSA_P256 if code == "KR" else SigningAlgorithm.ED25519
            )
            for (code, name), port in zip(OFFICES.items(), self.ports.nodes, strict=True)
        ]
        self.say(f"creating a demo consortium in {self.data_dir}")
        deployment = self.consortium.create(founders)
        for founder in founders:
            self.say(
                f"  office node {founder.code}: account {deployment.offices[founder.code]}, "
                f"{founder.algorithm.value} signing key"
            )
        self.say(f"  SharedIPRegistry deployed at {deployment.address} (chain id {deployment.chain_id})")
        for code, address in self.consortium.chain.validators().items():
            own_rpc = self.consortium.chain.office_rpc_urls(code)[0]
            self.say(f"  validator {code}: sealing key {address}, JSON-RPC {own_rpc}")
        described = self.consortium.to_json()
        self.state = {
            "schema": STATE_SCHEMA,
            "chain": self.ports.chain_kind,
            "password": described["password"],
            "nodePorts": list(self.ports.nodes),
            "offices": described["offices"],
            "seeded": False,
            "seedProgress": [],
            "deployment": described["deployment"],
            "gatewayDir": described["gatewayDir"],
            "hsm": described["hsm"],
        }
        self._save_state()

    def _load_state(self) -> None:
        try:
            self.state = json.loads(self.state_path.read_text("utf-8"))
        except (OSError, ValueError) as err:
            raise ConfigError(
                str(self.state_path), f"unreadable ({err}); start afresh with --reset"
            ) from None
        if self.state.get("schema") != STATE_SCHEMA:
            raise ConfigError(str(self.state_path), "made by another version of the demo; use --reset")
        made_on = self.state.get("chain", GANACHE)
        if made_on != self.ports.chain_kind:
            raise ConfigError(
                "--chain",
                f"this demo was created on {made_on}: run it with --chain {made_on}, or use --reset",
            )
        if tuple(self.state["nodePorts"]) != self.ports.nodes:
            raise ConfigError(
                "--node-ports",
                f"this demo's nodes were created on ports {self.state['nodePorts']} (their deep links are on "
                "chain); keep them, or start afresh with --reset",
            )

    # ------------------------------------------------------------ seeding, once

    def client(self, code: str) -> NodeClient:
        return self.consortium.offices[code].client()

    def _seed(self) -> None:
        plan = seed_plan()
        self.say("seeding the history (once): ST.96 imports, ownership changes, status events, a "
                 "confidential application, a key rotation, international registrations with their "
                 "designations and decisions, a patent family across three offices")  # fmt: skip
        self._step("imports", lambda: self._seed_imports(plan))
        self._step("confidential", lambda: self._seed_confidential(plan))
        before, after = _split_at_rotation(plan)
        for index, change in enumerate(before):
            self._step(f"change-{index}", functools.partial(self._apply, change))
        self._step("rotation", self._rotate_key)
        for index, change in enumerate(after):
            self._step(f"after-rotation-{index}", functools.partial(self._apply, change))
        for index, document in enumerate(international_documents()):
            self._step(f"international-{index}", functools.partial(self._import_document, document))
        for code in OFFICES:
            with self.client(code) as client:
                client.wait_for_outbox(OUTBOX_TIMEOUT_S)
        self.state["seeded"] = True
        self._save_state()
        self.say(
            f"seeded: {len(plan.rights) + 1} national rights and {len(plan.changes)} changes, international "
            "registrations with their designations and decisions, and a patent family, all on chain"
        )

    def _step(self, name: str, action: Callable[[], None]) -> None:
        """Runs a seeding step unless a previous run finished it; an interrupted step is re-run, and a change
        it already made is recognised by its version (the node answers 409), so nothing is made twice."""
        if name in self.state["seedProgress"]:
            return
        if self.stopping.is_set():
            raise Interrupted("interrupted while seeding; run the demo again to finish the seeding")
        action()
        self.state["seedProgress"].append(name)
        self._save_state()

    def _seed_imports(self, plan: SeedPlan) -> None:
        for code in OFFICES:
            files = [(r.file_name, r.xml) for r in plan.rights if r.office == code]
            if not files:  # the International Bureau's rights come with its transactions
                continue
            with self.client(code) as client:
                answer = client.import_st96(files)
                # a resumed step finds the rights it imported before: refused as existing, nothing lost
                refused = [
                    o for o in answer["items"] if not o["accepted"] and not _exists(client, o["name"], plan)
                ]
                if refused:
                    raise RegistryError(f"{code}: the demo's ST.96 files were refused: {refused[:2]}")
                client.wait_for_outbox(OUTBOX_TIMEOUT_S)
            self.say(f"  {code}: imported {len(files)} ST.96 files (patents, trademarks, designs)")

    def _import_document(self, document: SeedDocument) -> None:
        """One office imports one document of the international story and waits until the chain holds it
        (a designated office decides only on a designation the chain holds). A resumed step finds what it
        imported before: already recorded, or refused as existing, and nothing is made twice."""
        with self.client(document.office) as client:
            if document.transaction:
                answer = client.import_transaction(document.file_name, document.xml)
                refused = [item for item in answer["items"] if not item["accepted"]]
                done = f"{len(answer['items']) - len(refused)} items"
            else:
                answer = client.import_st96([(document.file_name, document.xml)])
                refused = [
                    o
                    for o in answer["items"]
                    if not o["accepted"] and o["error"]["field"] != "expectedVersion"
                ]
                done = "a patent of the family"
            if refused:
                raise RegistryError(f"{document.office}: {document.file_name} was refused: {refused[:2]}")
            client.wait_for_outbox(OUTBOX_TIMEOUT_S)
        self.say(f"  {document.office}: imported {document.file_name} ({done})")

    def _seed_confidential(self, plan: SeedPlan) -> None:
        with self.client(plan.confidential["office"]) as client:
            try:
                client.register(plan.confidential["right"], confidential=True)
            except ProblemError as err:
                if err.status != 409:
                    raise
            client.wait_for_outbox(OUTBOX_TIMEOUT_S)
        self.say(f"  EP: confidential application {plan.confidential['right']['rightId']} (sealed on chain)")

    def _apply(self, change: Any) -> None:
        with self.client(change.office) as client:
            try:
                if change.kind == "ownership-change":
                    client.record_ownership_change(
                        change.right_id, change.body["expectedVersion"], change.body["change"]
                    )
                elif change.kind == "status":
                    client.record_status(
                        change.right_id, change.body["expectedVersion"], change.body["event"]
                    )
                else:
                    client.publish(change.right_id, change.body["expectedVersion"])
            except ProblemError as err:
                if err.status != 409:  # 409: this version exists already (a resumed seeding)
                    raise

    def _rotate_key(self) -> None:
        """The rotating office's node is stopped, rotates its signing key, and starts again with it."""
        code = ROTATING_OFFICE
        for _ in range(2):  # let the outbox settle first, so nothing pending is signed with the old key
            with self.client(code) as client:
                client.wait_for_outbox(OUTBOX_TIMEOUT_S)
        self.consortium.stop_node(code)
        office = self.consortium.offices[code]
        rotation = rotate_signing_key(
            office.settings(), self.consortium.password, connect(self.consortium.chain.rpc_url)
        )
        self.say(
            f"  {code}: signing key rotated ({rotation.previous_key_id.hex()[:12]}… revoked in block "
            f"{rotation.revoked_block}, {rotation.key_id.hex()[:12]}… in use)"
        )
        with _resumable():
            self.consortium.start_node(code)

    def _wait_indexed(self, timeout_s: float = 120.0) -> None:
        """Waits until the gateway has indexed the chain's head as it is now (the head in /v1/status is
        the one the indexer last saw, which may be older than the last seeded change)."""
        head = connect(self.consortium.chain.rpc_url).eth.block_number
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and not self.stopping.is_set():
            with contextlib.suppress(httpx.HTTPError, ValueError, KeyError, TypeError):
                status = httpx.get(f"{self.gateway_url}/v1/status", timeout=5).json()
                if status["indexedBlock"] >= head - status["confirmations"]:
                    return
            self.stopping.wait(0.5)
        self.say("warning: the gateway has not caught up with the chain yet; it goes on in the background")

    def _anchor_tour(self) -> list[str]:
        """How an auditor checks a receipt against the validators: the anchor from an office's own validator
        (GB's here), not from the gateway."""
        urls = self.consortium.chain.office_rpc_urls("GB") if self.ports.chain_kind == GETH else []
        if not urls:
            return []
        deployment = self.data_dir / "deployment.json"
        return [
            f"  ipreg network anchor --rpc {urls[0]} --deployment {deployment} --out anchor.json",
            "  ipreg verify receipt.json --anchor anchor.json        # offline, against the validators",
        ]

    def _print_tour(self) -> None:
        url = self.gateway_url
        sample = seed_plan().rights[0].right_id
        lines = [
            "",
            f"Shared IP Registry demo is up. Open the auditor page:  {url}",
            "",
            "Things to try:",
            f"  curl '{url}/v1/rights?limit=100'                      # every right, with the total count",
            f"  curl '{url}/v1/rights/{sample}/history'",
            f"  curl '{url}/v1/rights/{sample}/verification'          # verdict with its checks",
            f"  curl '{url}/v1/rights/{INTERNATIONAL_REGISTRATION}/designations'   # each office's decision",
            f"  curl '{url}/v1/rights/{FAMILY['EP']}/family'       # the family across GB, EP, KR",
            f"  curl -o receipt.json '{url}/v1/rights/{sample}/receipt'",
            *self._anchor_tour(),
            f"  ipreg verify receipt.json --rpc {self.consortium.chain.rpc_url}",
            "  On the page: search a right, open its history, drop a document to verify it.",
            "",
            f"Office nodes (operator API, tokens in {self.state_path}):",
            *(f"  {code}  http://127.0.0.1:{o['port']}" for code, o in self.state["offices"].items()),
            f"Logs: {self.data_dir / 'logs'}",
            "Press Ctrl-C to stop everything; `make demo` again resumes this consortium "
            "(`ipreg demo --reset` starts afresh).",
        ]
        for line in lines:
            self.say(line)

    # ------------------------------------------------------------ state

    def _save_state(self) -> None:
        temporary = self.state_path.with_name(STATE_FILE + ".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(self.state, out, indent=2)
            out.flush()
            os.fsync(out.fileno())
        temporary.replace(self.state_path)


def _exists(client: NodeClient, file_name: str, plan: SeedPlan) -> bool:
    right_id = next(r.right_id for r in plan.rights if r.file_name == file_name)
    try:
        client.right(right_id)
    except ProblemError:
        return False
    return True


def _split_at_rotation(plan: SeedPlan) -> tuple[list[SeedChange], list[SeedChange]]:
    """The rotating office's last two changes come after its key rotation, so both keys sign records."""
    later = [c for c in plan.changes if c.office == ROTATING_OFFICE][-2:]
    return [c for c in plan.changes if c not in later], later


@contextlib.contextmanager
def _resumable() -> Iterator[None]:
    """Ctrl-C while a process starts: what was made is kept, and the next run goes on from there."""
    try:
        yield
    except Interrupted:
        raise Interrupted("interrupted while starting; run the demo again to resume") from None
