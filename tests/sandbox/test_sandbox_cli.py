"""The sandbox command line: help, validation, ready line, clean shutdown on SIGTERM/SIGINT."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest
import requests
from sandbox_support import REPO, start_sandbox

from sandbox.cli import build_parser, main, settings_from_args
from tests.cli.support import one_line, sms_bridge


def test_help_lists_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    for flag in (
        "--port", "--host", "--account-sid", "--auth-token", "--number", "--inbound-url",
        "--messaging-service", "--queued-delay", "--sending-delay", "--delivery-delay",
        "--accepted-delay", "--mps", "--threads", "--seed", "--latency-ms", "--rate-429",
        "--rate-500", "--fraction-500-after-create", "--rate-503", "--slow-rate", "--slow-ms",
        "--reset-rate", "--magic", "--callback-duplicate-rate", "--callback-out-of-order-rate",
    ):  # fmt: skip
        assert flag in text, flag


@pytest.mark.parametrize(
    "argv",
    [
        ["--account-sid", "AC123"],
        ["--number", "5551234"],
        ["--magic", "+15550001111=explode:1"],
        ["--messaging-service", "MGnope=+15005550006"],
        ["--rate-429", "0.7", "--rate-500", "0.7"],
        ["--latency-ms", "gaussian:1"],
    ],
)
def test_bad_options_exit_2_with_a_reason(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert capsys.readouterr().err.startswith("sandbox: ")


def test_options_become_settings() -> None:
    args = build_parser().parse_args(
        [
            "--number", "+15005550006",
            "--messaging-service", "MG" + "a" * 32 + "=+15017122662,+15017122663",
            "--latency-ms", "normal:100:20",
            "--rate-500", "0.1",
            "--fraction-500-after-create", "0.5",
            "--magic", "+15550001111=undelivered:30007",
            "--seed", "3",
        ]
    )  # fmt: skip
    settings, faults = settings_from_args(args)
    assert settings.numbers == ("+15005550006", "+15017122662", "+15017122663")
    assert settings.service_of("+15017122663") == "MG" + "a" * 32
    assert settings.magic_numbers["+15550001111"] == "undelivered:30007"
    assert settings.magic_numbers["+15005550009"] == "reject:21614"
    assert (faults.latency_ms.dist, faults.latency_ms.mean, faults.latency_ms.stddev) == (
        "normal",
        100.0,
        20.0,
    )
    assert (faults.rate_500, faults.fraction_500_after_create, settings.seed) == (0.1, 0.5, 3)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serves_then_stops_cleanly(sig: int) -> None:
    sp = start_sandbox("--threads", "4")
    try:
        health = requests.get(sp.url + "/_sandbox/health", timeout=5).json()
        assert health["status"] == "ok" and health["numbers"] == ["+15005550006"]
    finally:
        code = sp.stop(sig)
    assert code == 0
    assert "Traceback" not in sp.log, sp.log


# -- what a user sees from the real commands -----------------------------------------------
@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        yield int(held.getsockname()[1])


@pytest.mark.parametrize("command", ["sms-bridge", "python -m sandbox"])
def test_a_port_in_use_is_one_line_and_exit_2(command: str, busy_port: int) -> None:
    args = ("--port", str(busy_port))
    if command == "sms-bridge":
        result = sms_bridge("sandbox", *args, cwd=REPO, timeout=20)
    else:
        result = subprocess.run(
            [sys.executable, "-m", "sandbox", *args],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    line = one_line(result.stderr)
    assert result.returncode == 2, result.stderr
    assert f"127.0.0.1:{busy_port}" in line and "in use" in line, line
    assert result.stdout == ""  # no ready line


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.7", "example.com"])
def test_a_non_loopback_host_is_refused(host: str) -> None:
    result = sms_bridge("sandbox", "--host", host, cwd=REPO, timeout=20)
    line = one_line(result.stderr)
    assert result.returncode == 2, result.stderr
    assert host in line and "loopback" in line and "--allow-non-loopback" in line, line


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_hosts_are_accepted(host: str) -> None:
    settings, _ = settings_from_args(build_parser().parse_args(["--host", host]))
    assert settings.host == host


def test_a_non_loopback_host_needs_the_explicit_flag() -> None:
    args = build_parser().parse_args(["--host", "0.0.0.0", "--allow-non-loopback"])
    assert settings_from_args(args)[0].host == "0.0.0.0"


def test_help_states_only_true_defaults() -> None:
    result = sms_bridge("sandbox", "--help", cwd=REPO, timeout=20)
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())  # argparse wraps lines
    assert "(default: None)" not in text and "(default: [])" not in text, text
    assert "(default: False)" not in text, text
    assert "default +15005550006" in text and "(default: 127.0.0.1)" in text
    assert "--allow-non-loopback" in text
