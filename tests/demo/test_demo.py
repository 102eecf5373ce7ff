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
import re
import shutil
import signal
import socket
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, expect, sync_playwright

from gateway.read_model.story import CONVEYANCES
from registry_node.devnet.demo import GETH, OFFICES, DemoPorts
from registry_node.devnet.demo_international import (
    FAMILY,
    GEOGRAPHICAL_INDICATION,
    INTERNATIONAL_REGISTRATION,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
IPREG = PROJECT_ROOT / ".venv" / "bin" / "ipreg"
READY_MARKER = "demo is up"
READY_TIMEOUT_S = 600.0
AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"


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
    assert {item["officeCode"] for item in page["items"]} == {"EP", "GB", "KR", "WO"}
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


@pytest.fixture
def keep_screenshot(tmp_path: Path) -> Callable[[Page, str], Path]:
    """Saves a full-page PNG of what the page shows, as `{name}.png`, into the folder named by
    IPREG_SCREENSHOTS (bench/results/screenshots, for the README) or else into the test's tmp_path."""

    def keep(page: Page, name: str) -> Path:
        folder = Path(os.environ.get("IPREG_SCREENSHOTS") or tmp_path)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return keep


def a_transferred_right(demo: RunningDemo) -> dict[str, Any]:
    """A seeded right of EP with more than one version (so its history has an ownership change)."""
    items = httpx.get(f"{demo.gateway}/v1/rights", params={"limit": 100, "office": "EP"}, timeout=30).json()
    return next(i for i in items["items"] if i["version"] > 1 and i["rightId"] and not i["confidential"])


def test_the_page_shows_each_offices_validator_and_the_blocks_it_sealed_lately(
    demo: RunningDemo, page: Page
) -> None:
    page.goto(demo.gateway + "/#/offices")
    rows = page.locator("#validators tbody tr")
    expect(rows).to_have_count(4, timeout=30_000)  # every member, WO's included
    for code in OFFICES:
        row = rows.filter(has_text=code)
        expect(row).to_contain_text("of the last", timeout=30_000)
        expect(row.locator("td").nth(3)).to_have_text("3", timeout=30_000)  # peered with the three others
    expect(page.locator("#network-summary")).to_contain_text("4 validators seal the chain")


def test_the_home_page_says_what_the_registry_holds_and_what_changed_lately(
    demo: RunningDemo, page: Page, keep_screenshot: Callable[[Page, str], Path]
) -> None:
    summary = httpx.get(f"{demo.gateway}/v1/summary", timeout=30).json()
    changes = httpx.get(f"{demo.gateway}/v1/changes", params={"limit": 10}, timeout=30).json()["items"]
    page.goto(demo.gateway + "/")
    expect(page.locator("#holdings-total")).to_contain_text(f"{summary['total']} rights", timeout=30_000)
    for office in summary["offices"]:
        header = page.get_by_role("rowheader", name=office["officeCode"], exact=True)
        row = page.locator("#holdings tbody tr").filter(has=header)
        expect(row.locator("td").last).to_have_text(str(office["total"]))
    expect(page.locator("#changes li")).to_have_count(len(changes), timeout=30_000)
    expect(page.locator("#changes")).to_contain_text(changes[0]["summary"])
    expect(page.locator("#chain-facts")).to_contain_text("Index lag")
    keep_screenshot(page, "home")

    page.get_by_label("Right id, application, publication or registration number").fill("ZZ 0000000")
    page.keyboard.press("Enter")
    results = page.locator("#search-results")
    expect(results).to_contain_text("No right matches “ZZ 0000000”.", timeout=30_000)
    expect(results).to_contain_text("EP:PAT:EP20190012345")
    expect(results).to_contain_text("with or without spaces")
    expect(results).to_contain_text("another office")


def test_a_search_that_matches_several_rights_lists_them(demo: RunningDemo, page: Page) -> None:
    """The seeded rights have numbers of their own, so the gateway's answer to the search is replaced by two
    of its real rights (Playwright's page.route)."""
    listed = httpx.get(f"{demo.gateway}/v1/rights", params={"limit": 2}, timeout=30).json()
    several = json.dumps({"count": 2, "items": listed["items"], "next": None})
    page.route(
        re.compile(r"/v1/rights\?.*number="),
        lambda route: route.fulfill(status=200, content_type="application/json", body=several),
    )
    page.goto(demo.gateway + "/")
    page.get_by_label("Right id, application, publication or registration number").fill("3712345")
    page.keyboard.press("Enter")
    expect(page.locator("#search-results")).to_contain_text("2 rights match “3712345”.", timeout=30_000)
    for item in listed["items"]:
        expect(
            page.get_by_role("link", name=item["rightId"] or item["chainRightId"], exact=True)
        ).to_be_visible()


def history_of(demo: RunningDemo, right_id: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{demo.gateway}/v1/rights/{right_id}/history", timeout=30)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def names_of(owners: list[dict[str, Any]] | None) -> set[str]:
    return {owner["name"] for owner in owners or [] if owner.get("name")}


def told_ownership_changes(demo: RunningDemo) -> list[tuple[dict[str, Any], list[dict[str, Any]], int]]:
    """Published rights whose history has an ownership change with both parties known from its record (the
    gateway learns them once it has fetched the record, so this waits for one), registered in an earlier block
    second than the change: (the right, its history, the index of the change in it)."""
    deadline = time.monotonic() + 120
    while True:
        rights = httpx.get(f"{demo.gateway}/v1/rights", params={"limit": 100}, timeout=30).json()["items"]
        found = []
        for right in rights:
            if right["version"] < 2 or not right["rightId"] or right["confidential"]:
                continue
            items = history_of(demo, right["rightId"])
            for index, item in enumerate(items):
                conveyance = item.get("conveyance") or {}
                told = conveyance.get("assignorBag") and conveyance.get("assigneeBag")
                if item["action"] == "ownershipChange" and told and items[0]["timestamp"] < item["timestamp"]:
                    found.append((right, items, index))
                    break
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail("no seeded right has an ownership change whose parties the gateway knows")
        time.sleep(2)


def test_the_ownership_change_entry_names_the_category_both_parties_and_the_effective_date(
    demo: RunningDemo, page: Page, keep_screenshot: Callable[[Page, str], Path]
) -> None:
    right, items, index = told_ownership_changes(demo)[0]
    change = items[index]
    conveyance = change["conveyance"]
    page.goto(f"{demo.gateway}/#/rights/{right['rightId']}")
    entry = page.locator("#timeline li").nth(index)
    heading = entry.get_by_role("heading")
    expect(heading).to_contain_text(CONVEYANCES[conveyance["conveyanceCategory"]], timeout=30_000)
    for party in conveyance["assignorBag"] + conveyance["assigneeBag"]:
        expect(heading).to_contain_text(party["name"])
    expect(heading).to_contain_text(f"effective {conveyance['effectiveDate']}")
    expect(heading).to_contain_text(f"by {change['officeCode']}")
    owners = entry.locator(".owners")
    for name in names_of(change["owners"]):
        expect(owners).to_contain_text(name)
    if change["ownersChecked"]:
        expect(owners).to_contain_text("(checked against the record hash)")
    expect(entry).to_contain_text(f"Block {change['blockNumber']} · transaction {change['transactionHash']}")
    expect(entry.locator(".sig")).to_have_text("signature valid", timeout=60_000)
    keep_screenshot(page, "right")


def test_the_status_reads_in_words(demo: RunningDemo, page: Page) -> None:
    right = a_transferred_right(demo)
    status = httpx.get(f"{demo.gateway}/v1/rights/{right['rightId']}", timeout=30).json()["status"]
    assert status["text"] != status["code"] and status["state"]["name"].lower() in status["text"].lower()
    page.goto(f"{demo.gateway}/#/rights/{right['rightId']}")
    status_fact = page.locator("#right-facts dt", has_text="Status").locator("xpath=following-sibling::dd[1]")
    expect(status_fact).to_have_text(f"{status['text']} ({status['code']})", timeout=30_000)
    last = history_of(demo, right["rightId"])[-1]
    expect(page.locator("#timeline li").last.locator(".status")).to_have_text(
        f"Status: {last['status']['text']} ({last['status']['code']})"
    )


def test_the_state_at_a_past_date_shows_the_owner_of_that_date(
    demo: RunningDemo, page: Page, keep_screenshot: Callable[[Page, str], Path]
) -> None:
    right, items, _ = next(
        (right, items, index)
        for right, items, index in told_ownership_changes(demo)
        if names_of(items[0]["owners"]) - names_of(items[-1]["owners"])
        and names_of(items[-1]["owners"]) - names_of(items[0]["owners"])
    )
    first, original, current = items[0], names_of(items[0]["owners"]), names_of(items[-1]["owners"])
    right_id = right["rightId"]

    # a date before its registration, through the form
    page.goto(f"{demo.gateway}/#/rights/{right_id}")
    expect(page.locator("#right-title")).to_have_text(right_id, timeout=30_000)
    page.get_by_label("Date (UTC)").fill("1990-01-01")
    page.get_by_role("button", name="Show the right as it stood then").click()
    expect(page).to_have_url(re.compile(r"\?at=1990-01-01$"))
    expect(page.locator("#right-message")).to_have_text(
        f"{right_id} did not exist yet on 1990-01-01.", timeout=30_000
    )

    # the instant of its first version: the original owner, not the current one
    page.goto("about:blank")
    page.goto(f"{demo.gateway}/#/rights/{right_id}?at={quote(first['timestamp'], safe='')}")
    facts = page.locator("#right-facts")
    for name in original:
        expect(facts).to_contain_text(name, timeout=30_000)
    for name in current - original:
        expect(facts).not_to_contain_text(name)
    expect(facts).to_contain_text(f"block {first['blockNumber']}")
    expect(page.locator("#as-of")).to_contain_text("As it stood at")
    expect(page.locator("#badge")).to_have_attribute("data-verdict", "authentic-current", timeout=60_000)
    expect(page.locator("#badge")).to_contain_text(f"at block {first['blockNumber']}")
    keep_screenshot(page, "right-at-date")

    page.get_by_role("link", name="Back to the current state").click()
    for name in current:
        expect(facts).to_contain_text(name, timeout=30_000)


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
    expect(page.locator("#finality")).to_contain_text(f"of {len(OFFICES)} offices have built on it (final)")
    timeline = page.locator("#timeline li")
    expect(timeline).to_have_count(right["version"], timeout=30_000)
    expect(timeline.first).to_contain_text("Registered")
    expect(page.locator("#timeline")).to_contain_text("Ownership change")
    expect(page.locator("#timeline .sig.ok").first).to_be_visible(timeout=60_000)
    page.screenshot(path=str(tmp_path / "right.png"), full_page=True)


def signed_document(demo: RunningDemo, right_id: str, version: int) -> dict[str, Any]:
    """A version's signed record from its office's deep link, as an auditor downloads it."""
    office = right_id.split(":", 1)[0]
    answer = httpx.get(f"{demo.node_url(office)}/v1/documents/{right_id}/{version}", timeout=30)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_each_verdict_the_demo_gives_reads_as_its_sentence(
    demo: RunningDemo, page: Page, tmp_path: Path, keep_screenshot: Callable[[Page, str], Path]
) -> None:
    right = a_transferred_right(demo)
    right_id, office = right["rightId"], right["officeCode"]
    document = signed_document(demo, right_id, right["version"])
    record = json.loads(base64.b64decode(document["canonical"]))
    record["right"]["ownerBag"][0]["name"] += " (forged)"
    forged = json.dumps(record, separators=(",", ":"), sort_keys=True).encode()
    signature = document["signature"]["signature"]
    flipped = signature[:-2] + f"{int(signature[-2:], 16) ^ 0xFF:02x}"
    files = {
        "authentic.json": json.dumps(document),
        "older.json": json.dumps(signed_document(demo, right_id, 1)),
        "tampered.json": json.dumps({**document, "canonical": base64.b64encode(forged).decode()}),
        "bad-signature.json": json.dumps(
            {**document, "signature": {**document["signature"], "signature": flipped}}
        ),
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text, "utf-8")
    (tmp_path / "stray.bin").write_bytes(os.urandom(4096))
    cases = [
        ("authentic.json", "authentic-current",
         f"This document is the authentic, current record of {right_id} (version {right['version']}): "
         f"{office} signed it", "verify-authentic"),
        ("tampered.json", "tampered",
         f"This document has been altered: its content does not match what {office} recorded on the chain",
         "verify-tampered"),
        ("bad-signature.json", "bad-signature",
         f"This document's signature is not valid: it was not signed with {office}'s registered key", None),
        ("stray.bin", "unknown", "The registry does not know this document", None),
        ("older.json", "authentic-superseded",
         f"This document is an authentic record of {right_id}, but it is out of date: it is version 1, and "
         f"version {right['version']} has replaced it.", None),
    ]  # fmt: skip

    page.goto(demo.gateway + "/#/verify")
    verdict = page.locator("#verdict .badge")
    for name, kind, sentence, screenshot in cases:
        page.locator("#file-input").set_input_files(str(tmp_path / name))
        expect(verdict).to_have_attribute("data-verdict", kind, timeout=60_000)
        expect(page.locator("#verdict .verdict-sentence")).to_contain_text(sentence)
        expect(page.locator("#verdict .checks li").first).to_be_visible()
        expect(page.locator("#verdict details summary")).to_have_text("Technical detail")
        if screenshot:
            keep_screenshot(page, screenshot)
    expect(page.locator("#verdict .checks")).to_contain_text("Whether it is the current version: passed")
    page.get_by_role("link", name=f"See the current version of {right_id}").click()
    expect(page.locator("#right-title")).to_have_text(right_id, timeout=30_000)


def answering(body: str) -> Callable[[Route], None]:
    """A route handler that answers with `body` as JSON, whatever was asked."""

    def fulfil(route: Route) -> None:
        route.fulfill(status=200, content_type="application/json", body=body)

    return fulfil


def test_the_verdicts_the_running_demo_cannot_give_read_as_their_sentences(
    demo: RunningDemo, page: Page, tmp_path: Path
) -> None:
    """key-revoked, confidential and office-unreachable need a record signed after its key's revocation, a
    right still sealed, or a stopped office node, which the running demo does not offer: POST
    /v1/verifications is intercepted (Playwright's page.route) and answered with a real verdict of the demo
    whose `verdict`, and the checks that lead to it, are changed to those of each kind."""
    right = a_transferred_right(demo)
    right_id, office = right["rightId"], right["officeCode"]
    document = json.dumps(signed_document(demo, right_id, right["version"])).encode()
    real = httpx.post(
        f"{demo.gateway}/v1/verifications",
        files={"file": ("record.json", document, "application/json")},
        timeout=60,
    ).json()
    assert real["verdict"] == "authentic-current", real
    real.pop("gatewaySignature", None)
    chain = [c for c in real["checks"] if c["name"] in ("chain-state", "office-standing")]

    def check(name: str, result: str, detail: str) -> dict[str, str]:
        return {"name": name, "result": result, "detail": detail}

    revoked = [c for c in real["checks"] if c["name"] != "key-validity"] + [
        check(
            "key-validity", "fail", "the record's block 90 is not in the key's window (revoked at block 60)"
        )
    ]
    sealed = check(
        "confidential", "pass", f"version {right['version']} is confidential: only its seal is on chain"
    )
    unreachable = check(
        "document-fetch", "fail", f"the office endpoint {demo.node_url(office)} could not be asked: refused"
    )
    cases = [
        ({**real, "verdict": "key-revoked", "checks": revoked},
         f"This document was signed with a key that {office} had already revoked when the record was made",
         "The key was valid when the record was made: failed"),
        ({**real, "verdict": "confidential", "checks": [*chain, sealed]},
         f"{right_id} is confidential at this version: the chain holds only a seal of its record",
         "Confidentiality: passed"),
        ({**real, "verdict": "office-unreachable", "checks": [*chain, unreachable],
          "stillChecked": [f"{c['name']}: {c['result']}" for c in chain]},
         f"{office}'s endpoint could not be reached, so this document was only partly checked",
         "The signed document from the office's endpoint: failed"),
    ]  # fmt: skip

    page.goto(demo.gateway + "/#/verify")
    for number, (answer, sentence, said_check) in enumerate(cases):
        page.route("**/v1/verifications", answering(json.dumps(answer)))
        upload = tmp_path / f"record-{number}.json"
        upload.write_bytes(document)
        page.locator("#file-input").set_input_files(str(upload))
        expect(page.locator("#verdict .badge")).to_have_attribute(
            "data-verdict", answer["verdict"], timeout=30_000
        )
        expect(page.locator("#verdict .verdict-sentence")).to_contain_text(sentence)
        expect(page.locator("#verdict .checks")).to_contain_text(said_check)
        page.unroute("**/v1/verifications")


def test_the_offices_page_lists_the_keys_and_the_revoked_one_as_revoked(
    demo: RunningDemo, page: Page, keep_screenshot: Callable[[Page, str], Path]
) -> None:
    offices = httpx.get(f"{demo.gateway}/v1/offices", timeout=30).json()["items"]
    gb_keys = next(o for o in offices if o["officeCode"] == "GB")["keys"]
    assert sorted(k["revokedAtBlock"] is not None for k in gb_keys) == [False, True]  # GB rotated its key
    page.goto(demo.gateway + "/#/offices")
    for office in offices:
        code = office["officeCode"]
        card = page.locator("article.office").filter(has=page.locator(f"#office-{code}"))
        expect(card.get_by_role("heading")).to_have_text(f"{code} — {office['name']}", timeout=30_000)
        expect(card).to_contain_text(office["status"])
        expect(card).to_contain_text("reachable (answered in", timeout=30_000)
        expect(card).to_contain_text(f"{office['validator']} · sealing blocks", timeout=30_000)
        rows = card.locator("table.keys tbody tr")
        expect(rows).to_have_count(len(office["keys"]))
        for key in office["keys"]:
            cells = rows.filter(has_text=key["keyId"]).locator("td")
            expect(cells.nth(2)).to_contain_text(f"block {key['addedAtBlock']}")
            if key["revokedAtBlock"] is None:
                expect(cells.nth(3)).to_have_text("still in force")
                expect(cells.nth(4)).to_have_text("valid")
                continue
            expect(cells.nth(3)).to_contain_text(f"block {key['revokedAtBlock']}")
            if key.get("revokedAt"):
                expect(cells.nth(3)).to_contain_text(key["revokedAt"][:10])
            expect(cells.nth(4)).to_have_text("revoked")
    keep_screenshot(page, "offices")


def serious_axe_violations(page: Page) -> list[dict[str, Any]]:
    if page.evaluate("typeof axe") == "undefined":
        page.add_script_tag(path=str(AXE))
    violations = page.evaluate(
        """async () => (await axe.run()).violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
        }))"""
    )
    return [v for v in violations if v["impact"] in ("serious", "critical")]


def test_axe_core_finds_no_serious_violation_on_any_view(
    demo: RunningDemo, browser: Browser, tmp_path: Path
) -> None:
    right = a_transferred_right(demo)
    authentic = tmp_path / "authentic.json"
    authentic.write_text(json.dumps(signed_document(demo, right["rightId"], right["version"])), "utf-8")
    # axe is added as a script of its own, which the page's Content-Security-Policy would refuse
    context = browser.new_context(bypass_csp=True, viewport={"width": 1100, "height": 900})
    page = context.new_page()
    found: dict[str, list[dict[str, Any]]] = {}
    try:
        for view, path, ready in (
            ("home", "/", "#changes li a"),
            ("a right", f"/#/rights/{right['rightId']}", "#timeline .sig.ok"),
            ("offices", "/#/offices", "table.keys tbody tr"),
            ("verify", "/#/verify", None),
        ):
            page.goto("about:blank")
            page.goto(demo.gateway + path)
            if ready:
                expect(page.locator(ready).first).to_be_visible(timeout=60_000)
            else:
                page.locator("#file-input").set_input_files(str(authentic))
                expect(page.locator("#verdict .badge")).to_have_attribute(
                    "data-verdict", "authentic-current", timeout=60_000
                )
            if serious := serious_axe_violations(page):
                found[view] = serious
    finally:
        context.close()
    assert not found, "axe-core: " + json.dumps(found, indent=1, ensure_ascii=False)


def anchor_from_validator(demo: RunningDemo, index: int, folder: Path) -> Path:
    """`ipreg network anchor` from the `index`th office's own validator: the trust anchor an auditor holds."""
    anchor = folder / "anchor.json"
    validator = f"http://127.0.0.1:{demo.process.ports.chain + index}"
    deployment = demo.process.data_dir / "deployment.json"
    wrote = subprocess.run(
        [str(IPREG), "network", "anchor", "--rpc", validator, "--deployment", str(deployment),
         "--out", str(anchor)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert wrote.returncode == 0, wrote.stdout + wrote.stderr
    return anchor


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
    anchor = anchor_from_validator(demo, 1, tmp_path)
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


def test_an_auditor_follows_an_international_registration_its_decisions_and_a_family_across_offices(
    demo: RunningDemo, page: Page, tmp_path: Path, keep_screenshot: Callable[[Page, str], Path]
) -> None:
    page.goto(f"{demo.gateway}/#/rights/{INTERNATIONAL_REGISTRATION}")
    rows = page.locator("#designations-table tbody tr")
    expect(rows).to_have_count(3, timeout=60_000)
    for code in ("EP", "GB", "KR"):  # every designated office's latest decision, verified
        row = rows.filter(has=page.get_by_role("rowheader", name=code, exact=True))
        expect(row.locator(".sig")).to_have_attribute("data-verdict", "authentic-current", timeout=60_000)
    gb = rows.filter(has=page.get_by_role("rowheader", name="GB", exact=True))
    expect(gb).to_contain_text("Protected in GB since 2024-07-01")
    kr = rows.filter(has=page.get_by_role("rowheader", name="KR", exact=True))
    expect(kr).to_contain_text("Provisionally refused in KR for Nice class 09")
    expect(page.locator("#right-facts")).to_contain_text("Aurora Medical AB")  # the registration's holder
    keep_screenshot(page, "designations")
    with page.expect_download(timeout=60_000) as download:
        kr.get_by_role("link", name="Decision receipt").click()
    receipt = tmp_path / "decision-receipt.json"
    download.value.save_as(receipt)
    anchor = anchor_from_validator(demo, 2, tmp_path)  # KR's own validator
    offline = subprocess.run(
        [str(IPREG), "verify", str(receipt), "--anchor", str(anchor)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert offline.returncode == 0, offline.stdout + offline.stderr
    assert f"{INTERNATIONAL_REGISTRATION}@KR" in offline.stdout

    page.goto(f"{demo.gateway}/#/rights/{FAMILY['EP']}")
    family = page.locator("#family-table tbody tr")
    priority = family.filter(has=page.get_by_role("link", name=FAMILY["GB"]))
    expect(priority.locator(".sig")).to_have_attribute("data-verdict", "authentic-current", timeout=60_000)
    expect(family.filter(has=page.get_by_role("link", name=FAMILY["KR"]))).to_have_count(1, timeout=60_000)
    priority.get_by_role("link", name=FAMILY["GB"]).click()
    expect(page.locator("#right-title")).to_have_text(FAMILY["GB"], timeout=30_000)
    members = page.locator("#family-table tbody tr")
    for other in ("EP", "KR"):  # the links the other offices recorded, seen from the priority application
        expect(members.filter(has=page.get_by_role("link", name=FAMILY[other]))).to_contain_text(
            "claims its priority", timeout=60_000
        )
    keep_screenshot(page, "family")


def test_a_geographical_indication_is_found_by_its_name_and_verified(demo: RunningDemo, page: Page) -> None:
    verdict = httpx.get(f"{demo.gateway}/v1/rights/{GEOGRAPHICAL_INDICATION}/verification", timeout=60).json()
    assert verdict["verdict"] == "authentic-current", verdict
    page.goto(demo.gateway + "/")
    page.get_by_label("Right id, application, publication or registration number").fill(
        GEOGRAPHICAL_INDICATION.split(":")[2]
    )
    page.keyboard.press("Enter")
    expect(page.locator("#right-title")).to_have_text(GEOGRAPHICAL_INDICATION, timeout=30_000)
    facts = page.locator("#right-facts")
    expect(facts).to_contain_text("Boseong Green Tea")
    expect(facts).to_contain_text("Boseong County, South Jeolla Province")
    expect(page.locator("#badge")).to_have_attribute("data-verdict", "authentic-current", timeout=60_000)


def test_the_page_works_from_the_keyboard_on_a_phone_sized_screen(
    demo: RunningDemo, browser: Browser
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone = context.new_page()
    try:
        right = a_transferred_right(demo)
        phone.goto(demo.gateway + "/")
        phone.keyboard.press("Tab")
        assert phone.evaluate("document.activeElement.id") == "skip-link"
        phone.keyboard.press("Enter")  # skips the header and the navigation
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


def test_the_offices_are_reached_from_the_keyboard(demo: RunningDemo, page: Page) -> None:
    page.goto(demo.gateway + "/")
    for _ in range(8):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Offices":
            break
    else:
        pytest.fail("no link named Offices within eight Tab presses")
    page.keyboard.press("Enter")
    expect(page).to_have_url(demo.gateway + "/#/offices")
    expect(page.get_by_role("heading", name="Offices", exact=True)).to_be_focused()
    expect(page.locator("nav a[aria-current=page]")).to_have_text("Offices")
    expect(page.locator("table.keys").first).to_be_visible(timeout=30_000)


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
    assert len(logs) >= 6  # four nodes, the gateway, the console
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
