"""A purged message (retention) in the console: it shows as purged and is never sent again."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bridge.store import Store
from tests.console.test_console_app import World, signed_in, world  # noqa: F401 (fixture)


def _purge(store: Store, now: datetime) -> None:
    later = now + timedelta(days=1)
    result = store.purge(later, outbound_before=later, inbound_before=later)
    assert result.messages > 0


def test_a_purged_message_page_and_no_requeue(world: World) -> None:  # noqa: F811
    now = world.clock[0]
    failed = world.seeded.failed
    browser = signed_in(world)
    assert 'id="requeue"' in browser.get(f"/console/messages/{failed}").text
    _purge(world.store, now)
    page = browser.get(f"/console/messages/{failed}").text
    assert "[purged]" in page and 'id="purged"' in page
    assert 'id="requeue"' not in page and "conversations?message=" not in page
    assert 'id="segments">-<' in page  # no stored count: never the placeholder's count
    with pytest.raises(ValueError, match="was purged"):
        world.store.console_requeue(failed, now, "ops")
    assert "[purged]" in browser.get("/console/messages").text
    assert browser.get("/console/replies").status_code == 200
