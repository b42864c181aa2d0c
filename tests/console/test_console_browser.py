"""The console in a real browser: headless Debian chromium (selenium's Chrome driver) against
the real app under gunicorn (2 workers: the signed session must hold across them) on a real
SQLite file. Screenshots of each page go to the test's tmp_path; with
SMS_BRIDGE_CONSOLE_SCREENSHOTS=docs/console they are also written there, for docs/console.md.
`make test` installs chromium and chromium-driver when they are missing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service as ChromeService
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.wait import WebDriverWait

from bridge.apikeys import Scope
from bridge.domain.statuses import Status
from bridge.store import Store, open_store
from tests.console.seed import Seeded, seed
from tests.inbound.conftest import AUTH_TOKEN, BOB, api_key, make_settings
from tests.inbound.gunicorn_support import free_port, serve_env, start_gunicorn

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
DOCS_SHOTS = os.environ.get("SMS_BRIDGE_CONSOLE_SCREENSHOTS")


@dataclass
class Console:
    url: str
    db: Path
    env: dict[str, str]
    store: Store
    seeded: Seeded
    key: str
    driver: WebDriver
    shots: Path

    def open(self, path: str) -> None:
        self.driver.get(f"{self.url}{path}")

    def submit(self, by: str, value: str) -> None:
        """Click a button and wait for the page it leads to (clicks do not wait for it)."""
        self.driver.execute_script("window.__before = true")
        self.driver.find_element(by, value).click()
        WebDriverWait(self.driver, 10, ignored_exceptions=[WebDriverException]).until(
            lambda d: d.execute_script(
                "return document.readyState === 'complete' && window.__before === undefined"
            )
        )

    def text(self, css: str) -> str:
        return str(self.driver.find_element(By.CSS_SELECTOR, css).text)

    def shot(self, name: str, *, width: int = 1280) -> None:
        """The whole page at ``width`` CSS px (a phone's viewport below 600), via Chrome's
        device-metrics override: the viewport grown to the document's height."""
        driver = self.driver
        metrics = {"width": width, "height": 800, "deviceScaleFactor": 1, "mobile": width < 600}
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        height = int(driver.execute_script("return document.documentElement.scrollHeight"))
        metrics["height"] = min(max(height, 400), 5000)
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        path = self.shots / f"{name}.png"
        driver.save_screenshot(str(path))
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        if DOCS_SHOTS:
            target = ROOT / DOCS_SHOTS
            target.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target / path.name)


def _chrome() -> WebDriver:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",  # root in a container
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,900",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
    ):
        options.add_argument(arg)
    return webdriver.Chrome(service=ChromeService(executable_path=CHROMEDRIVER), options=options)


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.fail("chromium and chromedriver are missing: `make test` installs them")
    tmp = tmp_path_factory.mktemp("console")
    port = free_port()
    db = tmp / "console.db"
    now = datetime.now(UTC)
    store = open_store(make_settings(db, tmp / "spool").database)
    store.install(now)
    seeded = seed(store, now)
    key = api_key(store, now, "ops", Scope.CONSOLE)
    env = serve_env(
        port=port,
        database_url=f"sqlite:///{db}",
        inbound_public_url=f"http://127.0.0.1:{port}",
        inbound_spool_dir=str(tmp / "spool"),
        twilio_auth_token=AUTH_TOKEN,
    )
    served = start_gunicorn(tmp, env, port)
    driver: WebDriver | None = None
    try:
        driver = _chrome()
        shots = tmp / "screenshots"
        shots.mkdir()
        yield Console(served.url, db, env, store, seeded, key, driver, shots)
    finally:
        if driver is not None:
            driver.quit()
        served.stop()
        store.close()


def sign_in(c: Console) -> None:
    c.open("/console/login")
    c.driver.find_element(By.ID, "key").send_keys(c.key)
    c.submit(By.CSS_SELECTOR, "form button[type=submit]")
    assert c.driver.find_element(By.TAG_NAME, "h1").text == "Overview"


def report_counts(c: Console) -> dict[tuple[str, str], int]:
    """`sms-bridge report --json` on the same database: (sender, status) -> count."""
    out = subprocess.run(
        [str(BIN / "sms-bridge"), "report", "--days", "2", "--json"],
        env=c.env, cwd=c.db.parent, capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    counts: dict[tuple[str, str], int] = {}
    for row in json.loads(out):
        for status in Status:
            counts[(row["sender"], status.value)] = (
                counts.get((row["sender"], status.value), 0) + row[status.value.lower()]
            )
    return {k: v for k, v in counts.items() if v}


def test_sign_in_and_read_the_counts(console: Console) -> None:
    c = console
    c.open("/console")
    assert c.driver.current_url.endswith("/console/login")
    c.shot("login")
    sign_in(c)
    table = c.driver.find_element(By.ID, "counts")
    statuses = [th.text for th in table.find_elements(By.CSS_SELECTOR, "thead th")][1:-1]
    shown: dict[tuple[str, str], int] = {}
    for row in table.find_elements(By.CSS_SELECTOR, "tbody tr"):
        sender = row.find_element(By.TAG_NAME, "th").text
        cells = [td.text for td in row.find_elements(By.TAG_NAME, "td")][:-1]
        for status, cell in zip(statuses, cells, strict=True):
            if int(cell):
                shown[(sender, status)] = int(cell)
    in_db = {(s.sender_code, s.status): s.count for s in c.store.counts()}
    assert shown == in_db == report_counts(c)
    assert c.driver.find_element(By.CSS_SELECTOR, "svg.chart desc").get_attribute("textContent")
    assert "30003" in c.text("#errors") and "Unreachable destination handset" in c.text("#errors")
    assert "worker-a@host1" in c.text("#workers")
    c.shot("overview")
    c.shot("overview-phone", width=390)


def test_open_a_message_and_cancel_one(console: Console) -> None:
    c = console
    c.open("/console/messages?status=QUEUED")
    c.shot("messages")
    c.submit(By.LINK_TEXT, f"#{c.seeded.queued}")
    assert c.text("#status") == "QUEUED"
    assert "claimed" not in c.text("#events")
    c.shot("message")
    c.driver.find_element(By.ID, "reason").send_keys("sent by mistake")
    c.submit(By.ID, "cancel")
    assert "Canceled." in c.text(".flash.done")
    assert c.text("#status") == "CANCELED"
    assert "console:ops: canceled: sent by mistake" in c.text("#events")
    assert c.store.get(c.seeded.queued).status == Status.CANCELED  # type: ignore[union-attr]


def test_requeue_a_failed_message(console: Console) -> None:
    c = console
    c.open(f"/console/messages/{c.seeded.failed}")
    assert c.text("#status") == "FAILED" and "30003" in c.driver.page_source
    c.submit(By.ID, "requeue")
    assert "Queued again as #" in c.text(".flash.done")
    new_id = int(c.driver.current_url.split("/")[-1].split("?")[0])
    assert c.text("#status") == "QUEUED"
    assert f"requeue of #{c.seeded.failed}" in c.text("#events")
    assert c.store.get(c.seeded.failed).status == Status.FAILED  # type: ignore[union-attr]
    assert f"requeued as #{new_id}" in (c.store.events(c.seeded.failed)[-1].detail or "")


def test_follow_a_conversation_with_a_stop(console: Console) -> None:
    c = console
    c.open("/console/conversations")
    c.shot("conversations")
    c.submit(By.LINK_TEXT, "+1415*****02")  # Bob, masked
    thread = c.driver.find_element(By.ID, "thread")
    items = thread.find_elements(By.TAG_NAME, "li")
    texts = [li.text for li in items]
    stop_at = next(i for i, t in enumerate(texts) if t.startswith("STOP"))
    assert any("Reply YES 4824" in t for t in texts[:stop_at])  # our message, then the STOP
    assert "threading: latest" in texts[stop_at]
    assert BOB not in c.driver.page_source
    c.shot("conversation")
    c.shot("conversation-phone", width=390)


def test_the_other_pages_render(console: Console) -> None:
    c = console
    for path, name in (("/console/replies", "replies"), ("/console/optouts", "optouts"),
                       ("/console/senders", "senders")):  # fmt: skip
        c.open(path)
        assert c.driver.find_element(By.TAG_NAME, "h1").text
        c.shot(name)
    c.open("/console/replies")
    assert "When is the course?" in c.text("#replies-error")


def test_a_form_without_its_csrf_token_is_refused(console: Console) -> None:
    c = console
    c.open("/console/optouts")
    c.driver.execute_script(
        "document.querySelectorAll('main input[name=csrf]').forEach(e => e.remove())"
    )
    c.driver.find_element(By.ID, "o-number").send_keys("+14155550177")
    c.submit(By.ID, "optout-save")
    assert c.driver.find_element(By.TAG_NAME, "h1").text == "Refused"
    assert "Nothing was changed" in c.driver.page_source
    assert not c.store.is_opted_out("+14155550177", None)
    c.shot("refused")
    # The same form with its token goes through.
    c.open("/console/optouts")
    c.driver.find_element(By.ID, "o-number").send_keys("+14155550177")
    c.submit(By.ID, "optout-save")
    assert "opted out" in c.text(".flash.done")
    assert c.store.is_opted_out("+14155550177", None)
