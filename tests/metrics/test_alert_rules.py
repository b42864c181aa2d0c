"""deploy/prometheus/alerts.yml passes ``promtool check rules`` and its unit tests
(tests/metrics/alerts_test.yml: every alert fires when it should and not otherwise), and the
alerts and deploy/grafana/dashboard.json name only metrics the bridge exports.

promtool comes with Debian's ``prometheus`` package (there is no smaller one). When it is
missing and the suite runs as root with apt-get, this installs it, once per session, saying so.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import falcon.testing
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bridge.config import Settings
from bridge.outbound.metrics import WorkerMetrics
from bridge.replies.spool import Spool
from bridge.store import Store
from inbound.app import create_app

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboard.json"
UNIT_TESTS = Path(__file__).with_name("alerts_test.yml")


def _say(text: str) -> None:
    print(f"\n[tests/metrics] {text}", file=sys.__stderr__, flush=True)


@pytest.fixture(scope="session")
def promtool() -> str:
    found = shutil.which("promtool")
    if found:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip("promtool is missing (Debian: apt-get install prometheus, as root)")
    _say(
        "promtool is missing: installing Debian's prometheus package, which ships it"
        " (apt-get install -y --no-install-recommends prometheus; about 20 MB, once)"
    )
    command = ["apt-get", "install", "-y", "--no-install-recommends", "prometheus"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:  # package lists missing or stale
        subprocess.run(["apt-get", "update"], capture_output=True, env=env, check=False)
        result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    found = shutil.which("promtool")
    assert found, f"installing prometheus failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}"
    return found


def test_promtool_checks_the_rules(promtool: str) -> None:
    result = subprocess.run(
        [promtool, "check", "rules", str(ALERTS)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_alert_fires_when_it_should(promtool: str) -> None:
    result = subprocess.run(
        [promtool, "test", "rules", UNIT_TESTS.name],
        cwd=UNIT_TESTS.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    tested = set(re.findall(r"alertname: (\w+)", UNIT_TESTS.read_text()))
    defined = set(re.findall(r"- alert: (\w+)", ALERTS.read_text()))
    assert tested == defined


def exported_sample_names(
    settings: Settings, store: Store, now: datetime, spool: Spool
) -> set[str]:
    """Every sample name the inbound app and the worker can export (families, expanded)."""
    app = create_app(settings, store, clock=lambda: now, spool=spool)
    text = falcon.testing.TestClient(app).simulate_get("/metrics").text
    families = list(text_string_to_metric_families(text))
    families += list(WorkerMetrics().registry.collect())
    names: set[str] = set()
    for family in families:
        suffixes = {
            "counter": ("_total",),
            "histogram": ("_bucket", "_count", "_sum"),
        }.get(family.type, ("",))
        names |= {family.name + s for s in suffixes}
    return names


def test_alerts_and_dashboard_name_only_exported_metrics(
    settings: Settings, store: Store, now: datetime, spool: Spool
) -> None:
    exported = exported_sample_names(settings, store, now, spool)
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [
        t["expr"] for p in dashboard["panels"] if p["type"] != "row" for t in p.get("targets", [])
    ]
    assert exprs and all(
        p["datasource"]["uid"] == "${DS_PROMETHEUS}"
        for p in dashboard["panels"]
        if p["type"] != "row"
    )
    for source, text in (("alerts.yml", ALERTS.read_text()), ("dashboard.json", "\n".join(exprs))):
        used = set(re.findall(r"\bsms_bridge_[a-z_]+", text))
        assert used, source
        assert used <= exported, (source, sorted(used - exported))
    # Every metric the bridge exports is on the dashboard.
    shown = set(re.findall(r"\bsms_bridge_[a-z_]+", "\n".join(exprs)))
    families = {re.sub(r"_(total|bucket|count|sum)$", "", n) for n in exported}
    assert {re.sub(r"_(total|bucket|count|sum)$", "", n) for n in shown} == families
