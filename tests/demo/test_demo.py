"""`ipreg demo` as a newcomer runs it, and the auditor page driven in Debian's Chromium (Playwright).

One demo consortium (chain, three office node processes, the gateway) is started for the module in its own
folder on free ports and seeded once; the browser tests run against it. The browser test fails, never
skips, when Chromium cannot be found.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import os
import queue
import shutil
import signal
import socket
import statistics
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from registry_node.devnet.demo import GETH, DemoPorts

PROJECT_ROOT = Path(__file__).resolve().parents[2]
IPREG = PROJECT_ROOT / ".venv" / "bin" / "ipreg"
READY_MARKER = "demo is up"
READY_TIMEOUT_S = 600.0


class DemoProcess:
    """`ipreg demo` in a process group of its own (its chain, nodes and gateway share it), output read by a
    thread line by line."""

    def __init__(self, data_dir: Path, ports: DemoPorts, *extra: str) -> None:
        self.data_dir = data_dir
        self.ports = ports
        self.process = subprocess.Popen(
            [
                str(IPREG), "demo", "--data-dir", str(data_dir),
                "--chain-port", str(ports.chain), "--gateway-port", str(ports.gateway),
                "--node-ports", ",".join(map(str, ports.nodes)), "--chain", ports.chain_kind, *extra,
            ],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
            cwd=PROJECT_ROOT, start_new_session=True,
        )  # fmt: skip
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, marker: str, timeout_s: float = READY_TIMEOUT_S) -> list[str]:
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
                logs = self.data_dir / "logs"
                tails = {p.name: p.read_text("utf-8", "replace")[-1500:] for p in logs.glob("*.log")}
                pytest.fail(
                    f"ipreg demo exited ({self.process.returncode}) before {marker!r}: {self.lines} {tails}"
                )
            self.lines.append(line)
            if marker in line:
                return list(self.lines)

    def interrupt(self) -> list[str]:
        """Ctrl-C, as a terminal sends it: SIGINT to the whole process group."""
        os.killpg(self.process.pid, signal.SIGINT)
        assert self.process.wait(timeout=120) == 0
        while (line := self._queue.get(timeout=30)) is not None:
            self.lines.append(line)
        return self.lines

    def end(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    @property
    def gateway(self) -> str:
        return f"http://127.0.0.1:{self.ports.gateway}"


def nothing_listens(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


@dataclass
class RunningDemo:
    process: DemoProcess
    state: dict[str, Any]

    @property
    def gateway(self) -> str:
        return self.process.gateway

    def node_url(self, code: str) -> str:
        return f"http://127.0.0.1:{self.state['offices'][code]['port']}"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDemo]:
    data_dir = tmp_path_factory.mktemp("demo") / "demo"
    process = DemoProcess(data_dir, DemoPorts.free(GETH))
    try:
        process.wait_for(READY_MARKER)
        yield RunningDemo(process, json.loads((data_dir / "demo.json").read_text("utf-8")))
    finally:
        process.end()


# ---------------------------------------------------------------- the consortium over HTTP


def test_the_demo_serves_every_seeded_right_with_its_total_count(demo: RunningDemo) -> None:
    answer = httpx.get(f"{demo.gateway}/v1/rights", params={"limit": 100}, timeout=30)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/json")
    page = answer.json()
    assert page["count"] >= 49 and len(page["items"]) == min(page["count"], 100)
    assert {item["officeCode"] for item in page["items"]} == {"EP", "GB", "KR"}
    assert {item["kind"] for item in page["items"]} >= {"patent", "trademark", "design"}
    published = httpx.get(f"{demo.gateway}/v1/rights/EP:PAT:EP20250099001", timeout=30).json()
    assert published["version"] == 2 and published["confidential"] is False  # sealed, then published
    keys = httpx.get(f"{demo.gateway}/v1/offices/GB", timeout=30).json()["keys"]
    assert len(keys) == 2 and sum(1 for key in keys if key["revokedAtBlock"]) == 1  # the rotated key


def test_the_auditor_page_is_served_without_any_external_resource(demo: RunningDemo) -> None:
    page = httpx.get(demo.gateway + "/", timeout=30)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "http://" not in page.text.replace(demo.gateway, "") and "https://" not in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]


def median_ms_kept_alive_and_closed(url: str, requests: int = 60) -> tuple[float, float]:
    """The median time of a GET on one kept-alive connection and on a new connection per request (with
    `Connection: close`), the two interleaved so the machine's load falls on both alike."""
    target = urlsplit(url)
    kept = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
    times: dict[str, list[float]] = {"kept": [], "closed": []}
    try:
        for _ in range(requests):
            for way in ("kept", "closed"):
                started = time.perf_counter()
                if way == "kept":
                    kept.request("GET", target.path)
                    answer = kept.getresponse()
                else:
                    closing = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
                    closing.request("GET", target.path, headers={"Connection": "close"})
                    answer = closing.getresponse()
                assert answer.status == 200 and answer.read()
                times[way].append((time.perf_counter() - started) * 1000)
                if way == "closed":
                    closing.close()
    finally:
        kept.close()
    return statistics.median(times["kept"]), statistics.median(times["closed"])


def test_a_kept_alive_connection_is_answered_as_quickly_as_a_new_one(demo: RunningDemo) -> None:
    """Browsers, proxies and the gateway's own fetches keep connections alive. Each of their requests waited
    for a delayed acknowledgement (Nagle's algorithm: the answer leaves in two writes) until the servers set
    TCP_NODELAY: 44 ms against 1 ms for a new connection."""
    right = a_transferred_right(demo)
    deep_link = f"{demo.node_url('EP')}/v1/documents/{right['rightId']}/{right['version']}"
    for url in (f"{demo.gateway}/v1/offices", deep_link):
        kept_ms, closed_ms = median_ms_kept_alive_and_closed(url)
        assert kept_ms < 2 * closed_ms, f"{url}: {kept_ms:.2f} ms kept alive, {closed_ms:.2f} ms closed"


# ---------------------------------------------------------------- the browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.fail("Debian's chromium is not installed: `make setup` installs it (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, tmp_path: Path) -> Iterator[Page]:
    context = browser.new_context(accept_downloads=True, viewport={"width": 1100, "height": 900})
    opened = context.new_page()
    yield opened
    opened.screenshot(path=str(tmp_path / "last.png"), full_page=True)
    context.close()


def a_transferred_right(demo: RunningDemo) -> dict[str, Any]:
    """A seeded right of EP with more than one version (so its history has an ownership change)."""
    items = httpx.get(f"{demo.gateway}/v1/rights", params={"limit": 100, "office": "EP"}, timeout=30).json()
    return next(i for i in items["items"] if i["version"] > 1 and i["rightId"] and not i["confidential"])


def test_the_page_shows_each_offices_validator_and_the_blocks_it_sealed_lately(
    demo: RunningDemo, page: Page
) -> None:
    page.goto(demo.gateway + "/")
    rows = page.locator("#validators tbody tr")
    expect(rows).to_have_count(3, timeout=30_000)
    for code in ("EP", "GB", "KR"):
        row = rows.filter(has_text=code)
        expect(row).to_contain_text("of the last", timeout=30_000)
        expect(row.locator("td").nth(3)).to_have_text("2", timeout=30_000)  # peered with the two others
    expect(page.locator("#network-summary")).to_contain_text("3 validators seal the chain")


def test_an_auditor_searches_a_right_and_reads_its_history_and_verdict(
    demo: RunningDemo, page: Page, tmp_path: Path
) -> None:
    right = a_transferred_right(demo)
    number = right["rightId"].split(":", 2)[2]
    page.goto(demo.gateway + "/")
    page.get_by_label("Right id, application, publication or registration number").fill(number)
    page.keyboard.press("Enter")
    expect(page.locator("#right-title")).to_have_text(right["rightId"], timeout=30_000)
    expect(page.locator("#badge")).to_have_attribute("data-verdict", "authentic-current", timeout=60_000)
    expect(page.locator("#finality")).to_contain_text("validator; ", timeout=30_000)
    expect(page.locator("#finality")).to_contain_text("of 3 offices have built on it (final)")
    timeline = page.locator("#timeline li")
    expect(timeline).to_have_count(right["version"], timeout=30_000)
    expect(timeline.first).to_contain_text("Registered")
    expect(page.locator("#timeline")).to_contain_text("Ownership change")
    expect(page.locator("#timeline .sig.ok").first).to_be_visible(timeout=60_000)
    page.screenshot(path=str(tmp_path / "right.png"), full_page=True)


def test_an_auditor_drops_the_authentic_and_a_tampered_document(
    demo: RunningDemo, page: Page, tmp_path: Path
) -> None:
    right = a_transferred_right(demo)
    deep_link = f"{demo.node_url('EP')}/v1/documents/{right['rightId']}/{right['version']}"
    document = httpx.get(deep_link, timeout=30).json()
    authentic = tmp_path / "authentic.json"
    authentic.write_text(json.dumps(document), "utf-8")
    record = json.loads(base64.b64decode(document["canonical"]))
    record["right"]["ownerBag"][0]["name"] += " (forged)"
    forged = json.dumps(record, separators=(",", ":"), sort_keys=True).encode()
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps({**document, "canonical": base64.b64encode(forged).decode()}), "utf-8")

    page.goto(demo.gateway + "/")
    page.locator("#file-input").set_input_files(str(authentic))
    verdict = page.locator("#verdict .badge")
    expect(verdict).to_have_attribute("data-verdict", "authentic-current", timeout=60_000)
    expect(page.locator("#verdict .checks li").first).to_be_visible()
    page.screenshot(path=str(tmp_path / "authentic.png"), full_page=True)

    page.locator("#file-input").set_input_files(str(tampered))
    expect(verdict).to_have_attribute("data-verdict", "tampered", timeout=60_000)
    page.screenshot(path=str(tmp_path / "tampered.png"), full_page=True)


def test_an_auditor_downloads_a_receipt_that_ipreg_verify_accepts(
    demo: RunningDemo, page: Page, tmp_path: Path
) -> None:
    right = a_transferred_right(demo)
    page.goto(f"{demo.gateway}/#/rights/{right['rightId']}")
    expect(page.locator("#right-title")).to_have_text(right["rightId"], timeout=30_000)
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("link", name="Download receipt").click()
    receipt = tmp_path / "receipt.json"
    download.value.save_as(receipt)
    # the auditor takes the trust anchor from an office (here GB's own validator), not from the gateway
    anchor = tmp_path / "anchor.json"
    gb_validator = f"http://127.0.0.1:{demo.process.ports.chain + 1}"
    deployment = demo.process.data_dir / "deployment.json"
    wrote = subprocess.run(
        [str(IPREG), "network", "anchor", "--rpc", gb_validator, "--deployment", str(deployment),
         "--out", str(anchor)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert wrote.returncode == 0, wrote.stdout + wrote.stderr
    offline = subprocess.run(
        [str(IPREG), "verify", str(receipt), "--anchor", str(anchor)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert offline.returncode == 0, offline.stdout + offline.stderr
    assert "bound to the consortium by the anchor's validators" in offline.stdout
    unbound = subprocess.run(
        [str(IPREG), "verify", str(receipt)], capture_output=True, text=True, timeout=120
    )
    assert unbound.returncode == 3 and "bound to no consortium" in unbound.stdout, unbound.stdout
    chain = f"http://127.0.0.1:{demo.process.ports.chain}"
    online = subprocess.run(
        [str(IPREG), "verify", str(receipt), "--rpc", chain], capture_output=True, text=True, timeout=120
    )
    assert online.returncode == 0, online.stdout + online.stderr
    assert "now: version" in online.stdout
    receipt.write_text(receipt.read_text("utf-8").replace(right["recordHash"], "00" * 32), "utf-8")
    forged = subprocess.run(
        [str(IPREG), "verify", str(receipt), "--anchor", str(anchor)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert forged.returncode == 1, forged.stdout


def test_the_page_works_from_the_keyboard_on_a_phone_sized_screen(
    demo: RunningDemo, browser: Browser
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone = context.new_page()
    try:
        right = a_transferred_right(demo)
        phone.goto(demo.gateway + "/")
        phone.keyboard.press("Tab")  # the skip link
        phone.keyboard.press("Tab")
        phone.keyboard.press("Tab")
        focused = phone.evaluate("document.activeElement.id")
        assert focused == "search-input"
        phone.keyboard.type(right["rightId"])
        phone.keyboard.press("Enter")
        expect(phone.locator("#right-title")).to_have_text(right["rightId"], timeout=30_000)
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    finally:
        context.close()


def test_no_secret_reaches_a_log_or_the_console(demo: RunningDemo) -> None:
    """The demo's password, the operator tokens and every private key stay out of every log it wrote."""
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    from registry_node.node.settings import load_settings
    from registry_node.protocol.keys import load_account, load_signing_key

    secrets = [demo.state["password"]]
    for office in demo.state["offices"].values():
        secrets.append(office["token"])
        settings = load_settings(Path(office["dataDir"]) / "node.toml")
        account = load_account(settings.account_keystore, demo.state["password"])
        secrets += [account.key.hex(), account.key.to_0x_hex()]
        private = load_signing_key(settings.signing_key, demo.state["password"]).private_key
        raw = private.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
        secrets += [raw.hex(), base64.b64encode(raw).decode()]
    logs = {p.name: p.read_text("utf-8", "replace") for p in (demo.process.data_dir / "logs").glob("*.log")}
    logs["console"] = "\n".join(demo.process.lines)
    assert len(logs) >= 5  # three nodes, the gateway, the console
    for name, text in logs.items():
        for secret in secrets:
            assert secret not in text, f"a secret appears in {name}"


# ---------------------------------------------------------------- stopping and resuming (last: it restarts)


def test_ctrl_c_stops_everything_and_a_second_run_resumes_without_seeding_again(demo: RunningDemo) -> None:
    before = httpx.get(f"{demo.gateway}/v1/rights", params={"limit": 1}, timeout=30).json()["count"]
    lines = demo.process.interrupt()
    assert any("demo stopped" in line for line in lines)
    ports = demo.process.ports
    for port in (*(port for _, port in ports.chain_ports()), ports.gateway, *ports.nodes):
        assert nothing_listens(port), f"port {port} still served after Ctrl-C"

    again = DemoProcess(demo.process.data_dir, demo.process.ports)
    try:
        lines = again.wait_for(READY_MARKER)
        assert any("resuming" in line for line in lines)
        assert not any("seeding" in line for line in lines)
        after = httpx.get(f"{again.gateway}/v1/rights", params={"limit": 1}, timeout=30).json()["count"]
        assert after == before
        demo.process = again
    finally:
        again.end()


def test_a_taken_port_is_named_and_nothing_is_deleted(tmp_path: Path) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    marker = tmp_path / "demo" / "demo.json"
    marker.parent.mkdir()
    marker.write_text("{}", "utf-8")
    try:
        result = subprocess.run(
            [str(IPREG), "demo", "--data-dir", str(tmp_path / "demo"),
             "--gateway-port", str(port), "--reset"],
            capture_output=True, text=True, timeout=120, cwd=PROJECT_ROOT,
        )  # fmt: skip
    finally:
        taken.close()
    assert result.returncode != 0
    assert "--gateway-port" in result.stderr and f"port {port}" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert marker.exists(), "--reset deleted the demo although it could not start"
