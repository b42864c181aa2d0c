"""The chaos suite's outbound scenarios: kill -9 storms, fault storms, identical twins and
Twilio clock skew, each against real ``sms-bridge run`` workers and the sandbox."""

from __future__ import annotations

import random
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from bench._chaos_check import Result, account_callbacks, account_outbound, merge
from bench._chaos_env import BIN, NUMBERS, Child, Lab, say

FINAL_AT_SANDBOX = frozenset({"delivered", "undelivered", "failed", "canceled"})


@dataclass(frozen=True)
class Size:
    kill9: int
    storm: int
    twins: int  # rows (pairs x 2)
    skew: int  # rows per offset
    webhooks: int
    lock_seconds: float
    deadline: float  # seconds a drain may take before what is left counts as stuck


SHORT = Size(kill9=200, storm=150, twins=100, skew=60, webhooks=40, lock_seconds=8, deadline=60)
FULL = Size(
    kill9=3000, storm=2000, twins=1000, skew=500, webhooks=300, lock_seconds=20, deadline=240
)


def unique_rows(tag: str, n: int) -> list[tuple[str, str]]:
    return [(NUMBERS[i % len(NUMBERS)], f"chaos {tag} message {i}") for i in range(n)]


def once(lab: Lab) -> None:
    """``sms-bridge run --once``: recovery first (what a restarted worker does at start), so
    the settle phase does not wait for the running workers' 15 s recovery schedule."""
    subprocess.run(
        [str(BIN / "sms-bridge"), "--config", str(lab.config), "run", "--once", "--quiet"],
        cwd=lab.dir, env=lab.env(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def drain(
    lab: Lab,
    result: Result,
    *,
    workers: int,
    deadline: float,
    storm: Callable[[list[Child]], None] | None = None,
) -> None:
    """Run ``workers`` workers until no row is QUEUED or SENDING (or the deadline), calling
    ``storm`` every loop while rows are still queued; then stop them."""
    children = [lab.start_worker() for _ in range(workers)]
    started = time.monotonic()
    said = started
    last_once = started
    while True:
        queued, sending = lab.pending()
        now = time.monotonic()
        if queued + sending == 0 or now - started > deadline:
            break
        if now - said > 5:
            say(f"{lab.name}: {queued} queued, {sending} sending after {now - started:.0f} s")
            said = now
        if queued and storm is not None:
            storm(children)
        elif not queued and now - last_once > 3:
            once(lab)
            last_once = time.monotonic()
        time.sleep(0.25)
    for child in children:
        child.stop()
    crashed = [c for c in children if c.proc.returncode not in (0, -9)]
    if crashed:
        result.notes.append(f"worker exit {crashed[0].proc.returncode}: {crashed[0].tail(300)}")


def settle_callbacks(lab: Lab, timeout: float = 20) -> None:
    """Wait until the sandbox has moved every message to a final status and its callbacks
    stopped arriving, so the callback log is complete."""
    deadline = time.monotonic() + timeout
    seen = -1
    while time.monotonic() < deadline:
        messages = lab.sandbox_messages()
        count = len(lab.sandbox_callbacks())
        if all(m["status"] in FINAL_AT_SANDBOX for m in messages) and count == seen:
            return
        seen = count
        time.sleep(1.0)


def finish(lab: Lab, result: Result) -> Result:
    faults = Counter(r["fault"] for r in lab.control("/_sandbox/requests")["requests"])
    faults.pop(None, None)
    if faults:
        result.notes.append("faults " + " ".join(f"{k} {n}" for k, n in sorted(faults.items())))
    if lab.callbacks:
        settle_callbacks(lab)
        account_callbacks(result, lab.sandbox_callbacks())
        result.answers_ms.extend(ms for _, ms in lab.access_times())
    account_outbound(result, lab.outbound_rows(), lab.sandbox_messages())
    return result


def kill9_drain(size: Size, seed: int) -> Result:
    result = Result("kill9_drain")
    rng = random.Random(seed)
    kills = 0
    # 2 workers x 4 sends of ~200 ms: about 40 messages/s, so the storm hits mid-drain.
    with Lab("kill9", seed=seed, bridge={"concurrency": 4, "batch_size": 8}) as lab:
        lab.start_serve()
        lab.enqueue(unique_rows("kill9", size.kill9))
        lab.faults(latency_ms={"dist": "uniform", "min": 100, "max": 300})
        next_kill = time.monotonic() + rng.uniform(0.5, 1.5)

        def storm(children: list[Child]) -> None:
            nonlocal next_kill, kills
            if time.monotonic() < next_kill:
                return
            victim = rng.randrange(len(children))
            children[victim].kill9()
            children[victim] = lab.start_worker()
            kills += 1
            next_kill = time.monotonic() + rng.uniform(1, 2)

        drain(lab, result, workers=2, deadline=size.deadline, storm=storm)
        result.notes.append(f"{kills} kill -9")
        return finish(lab, result)


STORM_FAULTS = {
    "rate_429": 0.20,
    "rate_500": 0.05,
    "fraction_500_after_create": 1.0,
    "slow_rate": 0.03,
    "slow_ms": 3000,  # beyond the workers' 2 s timeout
    "reset_rate": 0.03,
    "fraction_reset_after_create": 0.5,
}


def fault_storm(size: Size, seed: int, *, callbacks: bool) -> Result:
    name = "fault_storm" + ("" if callbacks else "_nocb")
    result = Result(name)
    with Lab(name, seed=seed, callbacks=callbacks, twilio_timeout=2.0) as lab:
        if callbacks:
            lab.start_serve()
        lab.enqueue(unique_rows(name, size.storm))
        extra = (
            {"callback_duplicate_rate": 0.1, "callback_out_of_order_rate": 0.1} if callbacks else {}
        )
        lab.faults(**STORM_FAULTS, **extra)
        drain(lab, result, workers=2, deadline=size.deadline)
        return finish(lab, result)


def identical_twins(size: Size, seed: int) -> Result:
    result = Result("identical_twins")
    pairs = size.twins // 2
    rows = [
        (NUMBERS[k % len(NUMBERS)], f"chaos twins message {k}") for k in range(pairs) for _ in "ab"
    ]
    with Lab("twins", seed=seed, callbacks=False) as lab:
        lab.enqueue(rows)
        lab.faults(rate_500=0.3, fraction_500_after_create=1.0)
        drain(lab, result, workers=2, deadline=size.deadline)
        return finish(lab, result)


def clock_skew(size: Size, seed: int) -> Result:
    parts = []
    for offset in (-2, 300, -300):
        part = Result(f"clock_skew {offset:+d}")
        started = time.monotonic()
        with Lab(f"skew{offset:+d}", seed=seed, callbacks=False) as lab:
            lab.enqueue(unique_rows(f"skew{offset:+d}", size.skew))
            lab.faults(clock_offset_seconds=offset, rate_500=0.3, fraction_500_after_create=1.0)
            drain(lab, part, workers=2, deadline=size.deadline)
            finish(lab, part)
        part.seconds = time.monotonic() - started
        say(part.line())
        parts.append(part)
    total = merge(parts, "clock_skew")
    total.notes = [f"{p.scenario}: " + ", ".join(p.notes) for p in parts if p.notes]
    return total
