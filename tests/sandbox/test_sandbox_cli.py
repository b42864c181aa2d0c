"""The sandbox command line: help, validation, ready line, clean shutdown on SIGTERM/SIGINT."""

from __future__ import annotations

import signal

import pytest
import requests
from sandbox_support import start_sandbox

from sandbox.cli import build_parser, main, settings_from_args


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
