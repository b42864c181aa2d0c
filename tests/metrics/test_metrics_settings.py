"""The metrics settings: [bridge] metrics_port (off by default) and [inbound]
metrics_networks, checked like their neighbours; a taken port fails in one line."""

from __future__ import annotations

import socket

import pytest

from bridge.config import load_settings
from bridge.errors import ConfigError
from bridge.outbound.metrics import WorkerMetrics, serve


def test_defaults_are_off_and_open() -> None:
    settings = load_settings(None, {})
    assert settings.bridge.metrics_port is None
    assert settings.inbound.metrics_networks == ()
    assert serve(settings.bridge.metrics_port, WorkerMetrics()) is False
    assert load_settings(None, {"SMS_BRIDGE_BRIDGE_METRICS_PORT": ""}).bridge.metrics_port is None
    assert (
        load_settings(None, {"SMS_BRIDGE_BRIDGE_METRICS_PORT": "9464"}).bridge.metrics_port == 9464
    )


@pytest.mark.parametrize(
    ("variable", "text", "expected"),
    [
        ("SMS_BRIDGE_BRIDGE_METRICS_PORT", "70000", "must be a port"),
        ("SMS_BRIDGE_BRIDGE_METRICS_PORT", "http", "is not a valid int"),
        ("SMS_BRIDGE_INBOUND_METRICS_NETWORKS", "10.0.0.0/8,not-a-net", "is not a network"),
    ],
)
def test_bad_values_name_the_variable(variable: str, text: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected) as caught:
        load_settings(None, {variable: text})
    assert variable in str(caught.value)


def test_a_taken_port_fails_in_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match=f"metrics_port = {port}: cannot listen"):
            serve(port, WorkerMetrics())
