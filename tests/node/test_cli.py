"""The `ipreg` command, run as an operator would: the console script in a subprocess."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from registry_node.artifacts import load_artifact
from registry_node.chain import connect

if TYPE_CHECKING:
    from conftest import GanacheFactory

PROJECT_ROOT = Path(__file__).resolve().parents[2]
IPREG = PROJECT_ROOT / ".venv" / "bin" / "ipreg"
ABI = load_artifact().abi
DEMO_READY_TIMEOUT_S = 120.0
COMMAND_TIMEOUT_S = 120.0
PASSWORD = "correct horse battery staple"
ADDRESS = r"0x[0-9a-fA-F]{40}"


def ipreg_env() -> dict[str, str]:
    """The caller's environment, minus a deployer password that would change what `chain deploy` reads."""
    env = {k: v for k, v in os.environ.items() if k != "IPREG_DEPLOYER_PASSWORD"}
    env.setdefault("HOME", str(PROJECT_ROOT / ".home"))
    return env


def ipreg(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(IPREG), *map(str, args)],
        capture_output=True,
        text=True,
        env=ipreg_env(),
        cwd=PROJECT_ROOT,
        timeout=COMMAND_TIMEOUT_S,
        stdin=subprocess.DEVNULL,
    )


def nothing_listens(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


class Demo:
    """`ipreg demo` in its own process group; its output is read line by line by a thread."""

    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir = data_dir
        self.port = port
        self.process = subprocess.Popen(
            [str(IPREG), "demo", "--chain-port", str(port), "--data-dir", str(data_dir)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            env=ipreg_env(),
            cwd=PROJECT_ROOT,
            start_new_session=True,  # its ganache shares the group, so teardown can end both
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, marker: str, timeout_s: float = DEMO_READY_TIMEOUT_S) -> list[str]:
        """Reads output until a line contains `marker`; returns every line read so far."""
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(f"no line with {marker!r} within {timeout_s:.0f} s; output: {self.lines}")
            try:
                line = self._queue.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                self.process.wait()
                pytest.fail(f"ipreg demo exited ({self.process.returncode}) before {marker!r}: {self.lines}")
            self.lines.append(line)
            if marker in line:
                return list(self.lines)

    def rest_of_output(self) -> list[str]:
        """The remaining output once the process has closed it."""
        while (line := self._queue.get(timeout=COMMAND_TIMEOUT_S)) is not None:
            self.lines.append(line)
        return list(self.lines)

    def group_is_gone(self) -> bool:
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return True
        return False

    def end(self) -> None:
        """Teardown: kills whatever is left of the demo's process group (ours, by its id)."""
        if not self.group_is_gone():
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


@pytest.fixture
def start_demo(tmp_path: Path, free_port: Callable[[], int]) -> Iterator[Callable[[], Demo]]:
    demos: list[Demo] = []

    def start() -> Demo:
        demos.append(Demo(tmp_path / "demo", free_port()))
        return demos[-1]

    try:
        yield start
    finally:
        for demo in demos:
            demo.end()


def parse_demo_output(lines: list[str]) -> tuple[str, dict[str, tuple[str, str]]]:
    """The contract address and {code: (account, rest of line)} from the demo's announcement."""
    (address,) = [
        m.group(1) for line in lines if (m := re.search(rf"SharedIPRegistry deployed at ({ADDRESS})", line))
    ]
    offices = {
        m.group(1): (m.group(2), m.group(3))
        for line in lines
        if (m := re.fullmatch(rf"\s+([A-Z]{{2}})\s+({ADDRESS})\s+(.+)", line))
    }
    return address, offices


# --- ipreg demo --------------------------------------------------------------------------------------------


def test_demo_deploys_the_three_founding_offices_on_its_own_chain(start_demo: Callable[[], Demo]) -> None:
    demo = start_demo()
    lines = demo.wait_for("Press Ctrl-C")
    address, offices = parse_demo_output(lines)
    assert list(offices) == ["EP", "GB", "KR"]
    assert "European Patent Office" in offices["EP"][1]
    assert "UK Intellectual Property Office" in offices["GB"][1]
    assert "Korean Intellectual Property Office" in offices["KR"][1]

    w3 = connect(f"http://127.0.0.1:{demo.port}")
    contract = w3.eth.contract(address=address, abi=ABI)
    assert contract.functions.officeCodes().call() == [b"EP", b"GB", b"KR"]
    for code, (account, _) in offices.items():
        assert contract.functions.office(code.encode()).call()[2] == account

    record = json.loads((demo.data_dir / "deployment.json").read_text("utf-8"))
    assert record["contracts"] == {"SharedIPRegistry": address}
    assert record["chainId"] == w3.eth.chain_id
    assert record["offices"] == {code: account for code, (account, _) in offices.items()}


def test_demo_stops_its_chain_and_exits_cleanly_on_ctrl_c(start_demo: Callable[[], Demo]) -> None:
    demo = start_demo()
    demo.wait_for("Press Ctrl-C")
    assert connect(f"http://127.0.0.1:{demo.port}").eth.block_number == 1  # the chain serves until Ctrl-C

    demo.process.send_signal(signal.SIGINT)
    assert demo.process.wait(timeout=60) == 0
    assert "chain stopped" in demo.rest_of_output()
    assert nothing_listens(demo.port)
    assert demo.group_is_gone(), "ganache outlived the demo"


def test_demo_on_a_taken_port_fails_naming_the_port(tmp_path: Path, listening_port: int) -> None:
    result = ipreg("demo", "--chain-port", str(listening_port), "--data-dir", tmp_path / "demo")
    assert result.returncode != 0
    assert f"port {listening_port}" in result.stderr
    assert "already in use" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


# --- ipreg chain deploy ------------------------------------------------------------------------------------


def consortium_toml(offices: dict[str, LocalAccount], first_code: str = "EP") -> str:
    names = {"EP": "European Patent Office", "GB": "UK Intellectual Property Office", "KR": "Korean IPO"}
    entries = [
        f'[[offices]]\ncode = "{first_code if i == 0 else code}"\nname = "{names[code]}"\n'
        f'account = "{acct.address}"\nendpoint = "https://{code.lower()}.example/registry"\n'
        for i, (code, acct) in enumerate(offices.items())
    ]
    return '[governance]\nthreshold = "3/4"\nvoting_period_days = 10\n\n' + "\n".join(entries)


class DeploySetup:
    """A running chain, the deployer's encrypted keystore and password file, and a consortium file."""

    def __init__(self, base: Path, start_ganache: GanacheFactory) -> None:
        self.deployer: LocalAccount = Account.create()
        self.offices: dict[str, LocalAccount] = {code: Account.create() for code in ("EP", "GB", "KR")}
        self.chain = start_ganache([self.deployer.key.to_0x_hex()])
        self.keystore = base / "deployer.json"
        keystore = Account.encrypt(self.deployer.key, PASSWORD, kdf="scrypt", iterations=2**12)
        self.keystore.write_text(json.dumps(keystore), "utf-8")
        self.password_file = base / "password.txt"
        self.password_file.write_text(PASSWORD + "\n", "utf-8")  # as an editor saves it
        self.consortium = base / "consortium.toml"
        self.consortium.write_text(consortium_toml(self.offices), "utf-8")
        self.out = base / "deployment.json"

    def deploy(
        self, password_file: Path | None = None, rpc: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return ipreg(
            "chain", "deploy",
            "--consortium", self.consortium,
            "--keystore", self.keystore,
            "--rpc", rpc or self.chain.rpc_url,
            "--password-file", password_file or self.password_file,
            "--out", self.out,
        )  # fmt: skip


@pytest.fixture
def deploy_setup(tmp_path: Path, start_ganache: GanacheFactory) -> DeploySetup:
    return DeploySetup(tmp_path, start_ganache)


def test_chain_deploy_writes_the_deployment_record_and_the_contract_answers(
    deploy_setup: DeploySetup,
) -> None:
    result = deploy_setup.deploy()
    assert result.returncode == 0, result.stderr
    record = json.loads(deploy_setup.out.read_text("utf-8"))
    address = record["contracts"]["SharedIPRegistry"]
    assert f"SharedIPRegistry deployed at {address} on chain 1337" in result.stdout
    assert str(deploy_setup.out) in result.stdout
    assert record["chainId"] == 1337
    assert record["offices"] == {code: acct.address for code, acct in deploy_setup.offices.items()}

    w3 = connect(deploy_setup.chain.rpc_url)
    contract = w3.eth.contract(address=address, abi=ABI)
    assert contract.functions.officeCodes().call() == [b"EP", b"GB", b"KR"]
    assert contract.functions.threshold().call() == [3, 4]
    assert contract.functions.votingPeriod().call() == 10 * 86_400
    assert contract.functions.officeOf(deploy_setup.deployer.address).call()[1] == 0
    receipt = w3.eth.get_transaction_receipt(record["deployment"]["txHash"])
    assert receipt["from"] == deploy_setup.deployer.address
    assert receipt["contractAddress"] == address
    assert receipt["blockNumber"] == record["deployment"]["blockNumber"]


def test_chain_deploy_with_a_wrong_password_fails_clearly(deploy_setup: DeploySetup, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong-password.txt"
    wrong.write_text("not the password\n", "utf-8")
    result = deploy_setup.deploy(password_file=wrong)
    assert result.returncode == 1
    assert f"keystore {deploy_setup.keystore}: cannot decrypt" in result.stderr
    assert "Traceback" not in result.stderr
    assert not deploy_setup.out.exists()
    w3 = connect(deploy_setup.chain.rpc_url)
    assert w3.eth.get_transaction_count(deploy_setup.deployer.address) == 0


def test_chain_deploy_with_an_invalid_consortium_file_names_the_field(deploy_setup: DeploySetup) -> None:
    deploy_setup.consortium.write_text(consortium_toml(deploy_setup.offices, first_code="ep"), "utf-8")
    result = deploy_setup.deploy()
    assert result.returncode == 1
    assert "offices[0].code" in result.stderr
    assert "two capital letters" in result.stderr
    assert "Traceback" not in result.stderr
    assert not deploy_setup.out.exists()


def test_chain_deploy_to_a_chain_that_does_not_answer_names_the_url(
    deploy_setup: DeploySetup, free_port: Callable[[], int]
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = deploy_setup.deploy(rpc=url)
    assert result.returncode == 1
    assert url in result.stderr
    assert "Traceback" not in result.stderr
