"""While the database keeps failing, webhooks are spooled at once and one a second probes it
(inbound/outage.py): a burst during a write lock is answered in milliseconds, not each after
its full wait, and nothing is lost or forged into the spool."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import falcon.testing

from bridge.replies.processing import replay_spool
from bridge.replies.spool import Spool
from bridge.store import Store
from inbound.app import create_app
from inbound.outage import PROBE_INTERVAL_SECONDS, OutageBreaker
from tests.inbound.conftest import count, inbound_form, make_settings, new_sid, post_signed
from tests.inbound.test_webhook_db_wait import HeldLock


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_breaker_lets_one_probe_a_second_through_while_open() -> None:
    clock = FakeClock()
    breaker = OutageBreaker(monotonic=clock)
    assert breaker.may_try() and breaker.may_try()  # closed: everyone
    breaker.failed("database is locked")
    assert breaker.is_open and not breaker.may_try()
    clock.now += PROBE_INTERVAL_SECONDS
    assert breaker.may_try()  # the probe
    assert not breaker.may_try()  # and only one
    breaker.failed("still locked")
    clock.now += PROBE_INTERVAL_SECONDS
    assert breaker.may_try()
    breaker.succeeded()
    assert not breaker.is_open and breaker.may_try() and breaker.may_try()


def test_a_burst_during_a_write_lock_is_spooled_at_once_and_replayed_once(
    store: Store, tmp_path: Path, now: datetime
) -> None:
    settings = make_settings(tmp_path / "inbound.db", tmp_path / "spool", webhook_db_wait_ms=400)
    spool = Spool(settings.inbound.spool_dir)
    client = falcon.testing.TestClient(create_app(settings, store, clock=lambda: now, spool=spool))
    sids = [new_sid() for _ in range(12)]
    answer_times: list[float] = []
    with HeldLock(tmp_path / "inbound.db"):
        for sid in sids:
            started = time.monotonic()
            answer = post_signed(client, "/twilio/inbound", inbound_form("Thanks", sid=sid))
            answer_times.append(time.monotonic() - started)
            assert answer.status_code == 200
        forged = [(k, v) for k, v in inbound_form("STOP", sid=new_sid()) if k != "Body"]
        forged.append(("BodyS", "TOP"))  # signed alike: refused even with the database down
        assert post_signed(client, "/twilio/inbound", forged).status_code == 400
        assert spool.pending() == len(sids)
    assert answer_times[0] > 0.3  # the first one waited its bound: it found the outage
    # The rest were spooled without waiting, but for the probe a second (none here: fast).
    assert sum(t > 0.3 for t in answer_times[1:]) <= 1, answer_times
    assert max(answer_times[1:]) < 1.0
    time.sleep(PROBE_INTERVAL_SECONDS)
    later = post_signed(client, "/twilio/inbound", inbound_form("Back", sid=new_sid()))
    assert later.status_code == 200 and spool.pending() == len(sids)  # stored directly again
    report = replay_spool(store, settings.inbound)
    assert report.applied == len(sids) and spool.pending() == 0
    assert count(store, "sms_inbound") == len(sids) + 1
    assert all(store.get_inbound(sid) is not None for sid in sids)
