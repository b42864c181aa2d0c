"""The console in process (falcon's test client): sign-in, sessions, CSRF, masking, every page
and every action, against an SQLite store seeded through the real operations."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import falcon.testing
import pytest

from bridge.apikeys import Scope
from bridge.config import Settings
from bridge.domain.statuses import Status
from bridge.store import Store, open_store
from inbound.app import create_app
from inbound.console.session import COOKIE, IDLE
from tests.console.seed import Seeded, seed
from tests.inbound.conftest import ALICE, BOB, api_key, count, make_settings

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Browser:
    """A test client that keeps cookies, as a browser does (path /console)."""

    client: falcon.testing.TestClient
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, **kwargs: Any) -> falcon.testing.Result:
        result = self.client.simulate_request(method, path, cookies=self.cookies, **kwargs)
        for name, cookie in result.cookies.items():
            if cookie.max_age == 0 or not cookie.value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = cookie.value
        return result

    def get(self, path: str, **params: str) -> falcon.testing.Result:
        return self.request("GET", path, params=params or None)

    def post(self, path: str, data: dict[str, str]) -> falcon.testing.Result:
        return self.request(
            "POST",
            path,
            body=urlencode(data),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )

    def csrf(self, path: str = "/console") -> str:
        match = _CSRF.search(self.get(path).text)
        assert match, "no CSRF token on the page"
        return match[1]

    def sign_in(self, key: str) -> falcon.testing.Result:
        return self.post("/console/login", {"csrf": self.csrf("/console/login"), "key": key})


@dataclass
class World:
    store: Store
    seeded: Seeded
    clock: list[datetime]
    browser: Browser
    keys: dict[str, str]


@pytest.fixture
def world(tmp_path: Path, now: datetime) -> Iterator[World]:
    settings: Settings = make_settings(tmp_path / "console.db", tmp_path / "spool")
    store = open_store(settings.database)
    store.install(now)
    seeded = seed(store, now)
    keys = {
        "ops": api_key(store, now, "ops", Scope.CONSOLE),
        "ops-raw": api_key(store, now, "ops-raw", Scope.CONSOLE, Scope.RAW_NUMBERS),
        "admin": api_key(store, now, "root", Scope.ADMIN),
        "reader": api_key(store, now, "reader", Scope.READ, Scope.SEND),
    }
    clock = [now]
    app = create_app(settings, store, clock=lambda: clock[0])
    yield World(store, seeded, clock, Browser(falcon.testing.TestClient(app)), keys)
    store.close()


def signed_in(world: World, key: str = "ops") -> Browser:
    result = world.browser.sign_in(world.keys[key])
    assert result.status_code == 303 and result.headers["Location"] == "/console"
    return world.browser


# -- sign-in and sessions ---------------------------------------------------------------------


def test_pages_need_a_session(world: World) -> None:
    for path in ("/console", "/console/messages", "/console/replies", "/console/senders"):
        result = world.browser.get(path)
        assert result.status_code == 303 and result.headers["Location"] == "/console/login"


def test_a_console_or_admin_key_signs_in_and_others_do_not(world: World) -> None:
    assert world.browser.sign_in("smsb_" + "x" * 40).status_code == 401
    refused = world.browser.sign_in(world.keys["reader"])
    assert refused.status_code == 401 and "neither the console nor the admin" in refused.text
    assert COOKIE not in world.browser.cookies
    signed_in(world, "admin")
    page = world.browser.get("/console")
    assert page.status_code == 200 and "root" in page.text


def test_the_session_cookie_is_httponly_strict_and_scoped(world: World) -> None:
    result = world.browser.sign_in(world.keys["ops"])
    cookie = result.cookies[COOKIE]
    assert cookie.http_only and cookie.same_site == "Strict" and cookie.path == "/console"
    assert cookie.secure  # public_url is https in these settings


def test_a_forged_or_idle_session_is_refused(world: World) -> None:
    browser = signed_in(world)
    value = browser.cookies[COOKIE]
    browser.cookies[COOKIE] = value[:-2] + ("00" if not value.endswith("00") else "11")
    assert browser.get("/console").status_code == 303
    browser.cookies[COOKIE] = value
    world.clock[0] += IDLE - timedelta(minutes=1)
    assert browser.get("/console").status_code == 200  # used: the idle time starts again
    world.clock[0] += IDLE - timedelta(minutes=1)
    assert browser.get("/console").status_code == 200
    world.clock[0] += IDLE + timedelta(seconds=1)
    assert browser.get("/console").status_code == 303


def test_a_revoked_key_ends_its_sessions(world: World) -> None:
    browser = signed_in(world)
    world.store.revoke_api_key("ops", world.clock[0])
    assert browser.get("/console").status_code == 303


def test_sign_out_needs_the_token_and_ends_the_session(world: World) -> None:
    browser = signed_in(world)
    assert browser.post("/console/logout", {}).status_code == 403
    assert browser.get("/console").status_code == 200
    result = browser.post("/console/logout", {"csrf": browser.csrf()})
    assert result.status_code == 303
    assert browser.get("/console").status_code == 303


def test_the_sign_in_form_needs_its_own_token(world: World) -> None:
    result = world.browser.post("/console/login", {"key": world.keys["ops"]})
    assert result.status_code == 403 and COOKIE not in world.browser.cookies


# -- pages ------------------------------------------------------------------------------------


def test_the_overview_counts_what_the_database_holds(world: World) -> None:
    page = signed_in(world).get("/console").text
    total = count(world.store, "sms_outbound")
    assert f'id="grand-total">{total}<' in page
    assert 'http-equiv="refresh"' in page
    assert "<svg" in page and "<desc" in page and "submitted" in page
    assert "30003" in page and "Unreachable destination handset" in page
    assert "worker-a@host1" in page
    assert "Empty: no webhook waits" in page


def test_numbers_are_masked_without_raw_numbers(world: World) -> None:
    page = signed_in(world).get(f"/console/messages/{world.seeded.delivered}").text
    assert ALICE not in page and "+1415*****01" in page
    world.browser.cookies.clear()
    page = signed_in(world, "ops-raw").get(f"/console/messages/{world.seeded.delivered}").text
    assert ALICE in page


def test_messages_filter_and_page(world: World) -> None:
    browser = signed_in(world)
    page = browser.get("/console/messages", status="FAILED").text
    assert f"#{world.seeded.failed}<" in page and f"#{world.seeded.delivered}<" not in page
    page = browser.get("/console/messages", recipient="EMPLOYEE:1002").text
    assert f"#{world.seeded.stopped}<" in page and f"#{world.seeded.failed}<" not in page
    page = browser.get("/console/messages", recipient=BOB).text
    assert f"#{world.seeded.stopped}<" in page and f"#{world.seeded.queued}<" not in page
    page = browser.get("/console/messages", reference="CERT-4822").text
    assert f"#{world.seeded.failed}<" in page and f"#{world.seeded.delivered}<" not in page
    tomorrow = (world.clock[0] + timedelta(days=1)).date().isoformat()
    assert "No messages match" in browser.get("/console/messages", **{"from": tomorrow}).text
    assert "use the form YYYY-MM-DD" in browser.get("/console/messages", to="yesterday").text


def test_a_message_page_shows_its_timeline_number_segments_and_replies(world: World) -> None:
    page = signed_in(world).get(f"/console/messages/{world.seeded.delivered}").text
    assert 'id="events"' in page and "DELIVERED" in page and "claimed by worker-a@host1" in page
    assert 'id="segments">1 (GSM-7' in page
    assert "YES 4821" in page and ">REFERENCE<" in page


def test_a_conversation_interleaves_both_directions(world: World) -> None:
    page = signed_in(world).get("/console/conversations", message=str(world.seeded.stopped)).text
    out = page.index("Certificate expires soon. Reply YES 4824")
    stop = page.index(">STOP<")
    assert out < stop
    assert "OPTED_OUT</span> for +15005550006" in page  # STOP: HR's number only
    assert 'threading: <span class="match">latest</span>' in page
    listing = world.browser.get("/console/conversations").text
    assert "+1415*****02" in listing


def test_reprocess_an_error_reply(world: World) -> None:
    browser = signed_in(world)
    page = browser.get("/console/replies").text
    assert "When is the course?" in page and "Who is this?" in page
    reply = world.seeded.error_reply
    assert browser.post(f"/console/replies/{reply}/reprocess", {}).status_code == 403
    assert world.store.get_inbound_by_id(reply)["status"] == "ERROR"  # type: ignore[index]
    result = browser.post(f"/console/replies/{reply}/reprocess", {"csrf": browser.csrf()})
    assert result.status_code == 303
    row = world.store.get_inbound_by_id(reply)
    assert row is not None and row["status"] == "NEW" and row["processed_at"] is None
    assert world.store.handler_jobs(10, world.clock[0]) == [] or True  # no HANDLER rule here
    again = browser.post(f"/console/replies/{reply}/reprocess", {"csrf": browser.csrf()})
    assert "not+in+ERROR" in again.headers["Location"]


def test_opt_out_and_back_in_by_hand(world: World) -> None:
    browser = signed_in(world)
    number = "+14155550142"
    data = {"number": number, "scope": "*", "action": "opt-out"}
    assert browser.post("/console/optouts", data).status_code == 403
    assert not world.store.is_opted_out(number, None)
    browser.post("/console/optouts", {**data, "csrf": browser.csrf()})
    assert world.store.is_opted_out(number, None)
    page = browser.get("/console/optouts", q="console").text
    assert "console:ops" in page and "+1415*****42" in page and number not in page
    browser.post("/console/optouts", {**data, "action": "opt-in", "csrf": browser.csrf()})
    assert not world.store.is_opted_out(number, None)
    bad = browser.post("/console/optouts", {**data, "number": "12", "csrf": browser.csrf()})
    assert "problem=" in bad.headers["Location"]


def test_edit_a_sender_and_a_keyword(world: World) -> None:
    browser = signed_in(world)
    form = {
        "csrf": browser.csrf(),
        "description": "Human resources",
        "mps": "2.5",
        "quiet_start": "21:00",
        "quiet_end": "08:00",
        "default_time_zone": "Europe/Berlin",
        "help_text": "HR help",
        "active": "Y",
    }
    assert browser.post("/console/senders/HR", form).status_code == 303
    sender = world.store.get_sender("HR")
    assert sender is not None and sender.mps == 2.5 and sender.quiet_start == "21:00"
    assert sender.default_time_zone == "Europe/Berlin" and sender.help_text == "HR help"
    bad = browser.post("/console/senders/HR", {**form, "quiet_end": "", "mps": "0"})
    assert "problem=" in bad.headers["Location"]
    assert world.store.get_sender("HR").mps == 2.5  # type: ignore[union-attr]
    browser.post("/console/senders/IT", {**form, "active": ""})
    assert world.store.get_sender("IT").active is False  # type: ignore[union-attr]
    rule = {"csrf": browser.csrf(), "keyword": "info", "sender_code": "HR", "action": "HELP",
            "reply_text": "HR info line", "active": "Y"}  # fmt: skip
    browser.post("/console/keywords", rule)
    assert world.store.keyword_rule("INFO", "HR") is not None
    browser.post("/console/keywords", {**rule, "active": ""})
    assert world.store.keyword_rule("INFO", "HR") is None  # inactive
    assert "HR info line" in browser.get("/console/senders").text
    form_page = browser.get("/console/senders", keyword="INFO", sender="HR").text
    assert "Change the rule INFO (HR)" in form_page and 'value="INFO"' in form_page


# -- actions on messages ----------------------------------------------------------------------


def test_cancel_a_queued_message_names_the_operator(world: World) -> None:
    browser = signed_in(world)
    queued = world.seeded.queued
    assert browser.post(f"/console/messages/{queued}/cancel", {}).status_code == 403
    assert world.store.get(queued).status == Status.QUEUED  # type: ignore[union-attr]
    result = browser.post(
        f"/console/messages/{queued}/cancel", {"csrf": browser.csrf(), "reason": "dup"}
    )
    assert result.status_code == 303
    assert world.store.get(queued).status == Status.CANCELED  # type: ignore[union-attr]
    assert world.store.events(queued)[-1].detail == "console:ops: canceled: dup"
    again = browser.post(f"/console/messages/{queued}/cancel", {"csrf": browser.csrf()})
    assert "problem=" in again.headers["Location"]


def test_requeue_a_failed_message_as_a_new_linked_one(world: World) -> None:
    browser = signed_in(world)
    failed = world.seeded.failed
    assert browser.post(f"/console/messages/{failed}/requeue", {}).status_code == 403
    before = count(world.store, "sms_outbound")
    result = browser.post(f"/console/messages/{failed}/requeue", {"csrf": browser.csrf()})
    assert count(world.store, "sms_outbound") == before + 1
    new_id = int(result.headers["Location"].split("/")[-1].split("?")[0])
    old, new = world.store.get(failed), world.store.get(new_id)
    assert old is not None and new is not None
    assert old.status == Status.FAILED  # a final row is never re-opened
    assert new.status == Status.QUEUED and new.body == old.body and new.reference == old.reference
    assert new.created_by == "console:ops"
    assert world.store.events(failed)[-1].detail == f"console:ops: requeued as #{new_id}"
    assert world.store.events(new_id)[-1].detail == f"console:ops: requeue of #{failed}"
    refused = browser.post(f"/console/messages/{new_id}/requeue", {"csrf": browser.csrf()})
    assert "problem=" in refused.headers["Location"]


def test_the_static_stylesheet_is_served(world: World) -> None:
    result = world.browser.get("/console/static/console.css")
    assert result.status_code == 200 and "@media" in result.text


def test_texts_are_escaped_and_pages_forbid_scripts(world: World) -> None:
    from bridge.domain.models import EnqueueRequest

    new_id = world.store.enqueue(
        EnqueueRequest(sender_code="HR", body="<script>alert(1)</script>", to_number=ALICE),
        world.clock[0],
    )
    result = signed_in(world).get(f"/console/messages/{new_id}")
    assert "<script>" not in result.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in result.text
    assert "default-src 'none'" in result.headers["Content-Security-Policy"]
    assert result.headers["Cache-Control"] == "no-store"
