"""The auditors' page on rights across offices, driven in Debian's Chromium (Playwright) against a gateway
served for real over the international world: an international registration's designations with their
decisions, verdicts and receipts; a patent's family across offices, each member clickable; a geographical
indication's name, product and area. Fails, never skips, when Chromium cannot be found."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from gateway.api.app import create_app
from tests.gateway.conftest import GEOGRAPHICAL_INDICATION, IR, InternationalWorld
from tests.support.chain import free_port
from tests.support.served import ServedApp

PROJECT_ROOT = Path(__file__).resolve().parents[2]
AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def gateway(international: InternationalWorld) -> Iterator[str]:
    app = international.client.app
    assert hasattr(app, "state")
    served = ServedApp(create_app(app.state.services), free_port()).start()
    try:
        yield served.url
    finally:
        served.stop()


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
def page(browser: Browser) -> Iterator[Page]:
    # bypass_csp: axe-core is added as a script of its own, which the page's Content-Security-Policy refuses
    context = browser.new_context(
        accept_downloads=True, bypass_csp=True, viewport={"width": 1100, "height": 900}
    )
    yield context.new_page()
    context.close()


def keep_screenshot(page: Page, name: str, tmp_path: Path) -> None:
    """A full-page PNG into IPREG_SCREENSHOTS (bench/results/screenshots) when set, else into tmp_path."""
    folder = Path(os.environ.get("IPREG_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def serious_axe_violations(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate(
        """async () => (await axe.run()).violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
        }))"""
    )
    return [v for v in violations if v["impact"] in ("serious", "critical")]


def test_a_registration_shows_each_designation_with_its_decision_verdict_and_receipt(
    gateway: str, page: Page, tmp_path: Path
) -> None:
    page.goto(f"{gateway}/#/rights/{IR}")
    rows = page.locator("#designations-table tbody tr")
    expect(rows).to_have_count(3, timeout=TIMEOUT_MS)
    gb = rows.filter(has=page.get_by_role("rowheader", name="GB", exact=True))
    expect(gb).to_contain_text("Protected in GB since 2024-05-02")
    expect(gb.locator(".sig")).to_have_attribute("data-verdict", "authentic-current")
    kr = rows.filter(has=page.get_by_role("rowheader", name="KR", exact=True))
    expect(kr).to_contain_text("protected except Nice class 09")
    em = rows.filter(has=page.get_by_role("rowheader", name="EM", exact=True))
    expect(em).to_contain_text("no decision recorded yet")
    expect(em.locator(".sig")).to_have_attribute("data-verdict", "authentic-current")
    expect(page.locator("#designations-summary")).to_contain_text("Protected in GB since 2024-05-02")
    expect(page.locator("#right-facts")).to_contain_text("Aurora Brands SA")
    keep_screenshot(page, "designations", tmp_path)

    with page.expect_download() as download:
        kr.get_by_role("link", name="Decision receipt").click()
    receipt = json.loads(Path(download.value.path()).read_text("utf-8"))
    assert receipt["rightId"] == f"{IR}@KR" and receipt["version"] == 2
    assert not serious_axe_violations(page)


def test_a_designation_shows_the_registration_s_holder_and_its_decisions(gateway: str, page: Page) -> None:
    page.goto(f"{gateway}/#/rights/{IR}@KR")
    expect(page.locator("#badge")).to_have_attribute("data-verdict", "authentic-current", timeout=TIMEOUT_MS)
    facts = page.locator("#right-facts")
    expect(facts).to_contain_text("Holder (of the international registration)")
    expect(facts).to_contain_text("Aurora Brands SA")
    expect(page.locator("#timeline")).to_contain_text("Provisionally refused in KR for Nice class 09")
    page.locator("#right-facts").get_by_role("link", name=IR).click()
    expect(page.locator("#designations-table tbody tr")).to_have_count(3, timeout=TIMEOUT_MS)


def test_an_undecided_designation_says_so_and_is_verified(gateway: str, page: Page) -> None:
    page.goto(f"{gateway}/#/rights/{IR}@EM")
    expect(page.locator("#right-message")).to_contain_text("no decision on it yet", timeout=TIMEOUT_MS)
    expect(page.locator("#badge")).to_have_attribute("data-verdict", "authentic-current", timeout=TIMEOUT_MS)


def test_a_patent_s_family_lists_its_members_each_clickable(gateway: str, page: Page, tmp_path: Path) -> None:
    page.goto(f"{gateway}/#/rights/EP:PAT:EP3000001")
    rows = page.locator("#family-table tbody tr")
    expect(rows).to_have_count(2, timeout=TIMEOUT_MS)
    priority = rows.filter(has=page.get_by_role("link", name="GB:PAT:GB2000001"))
    expect(priority).to_contain_text("its priority")
    expect(priority).to_contain_text("Acme Thermal GmbH")
    expect(priority.locator(".sig")).to_have_attribute(
        "data-verdict", "authentic-current", timeout=TIMEOUT_MS
    )
    keep_screenshot(page, "family", tmp_path)
    assert not serious_axe_violations(page)

    priority.get_by_role("link", name="GB:PAT:GB2000001").click()
    expect(page.locator("#right-title")).to_have_text("GB:PAT:GB2000001")
    claimant = page.locator("#family-table tbody tr").filter(
        has=page.get_by_role("link", name="EP:PAT:EP3000001")
    )
    expect(claimant).to_contain_text("claims its priority", timeout=TIMEOUT_MS)


def test_a_geographical_indication_shows_its_name_product_and_area(gateway: str, page: Page) -> None:
    page.goto(f"{gateway}/#/rights/{GEOGRAPHICAL_INDICATION.rightId}")
    facts = page.locator("#right-facts")
    expect(facts).to_contain_text("Boseong Green Tea", timeout=TIMEOUT_MS)
    expect(facts).to_contain_text("Green tea")
    expect(facts).to_contain_text("Boseong County, South Jeolla Province")
