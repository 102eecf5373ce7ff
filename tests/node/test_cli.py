"""The `ipreg` command, run as an operator would: the console script in a subprocess."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from registry_node.protocol.chain import connect
from registry_node.protocol.contract import load_artifact

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
