"""``sms-bridge serve`` and gunicorn with deploy/gunicorn.conf.py on a port that is in use:
one line and exit 2 at once, not gunicorn's five bind attempts a second apart."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from bridge.cli.inbound import UsageError, probe_listen
from bridge.cli.main import main
from tests.cli.support import one_line, sms_bridge

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {
        "SMS_BRIDGE_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "SMS_BRIDGE_INBOUND_PUBLIC_URL": "http://127.0.0.1:8080",
        "SMS_BRIDGE_INBOUND_SPOOL_DIR": str(tmp_path / "spool"),
        "SMS_BRIDGE_TWILIO_AUTH_TOKEN": "test-auth-token-0123456789abcdef",
        "SMS_BRIDGE_SERVE_WORKERS": "1",
        "SMS_BRIDGE_SERVE_ACCESS_LOG": "",
    }
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SMS_BRIDGE_CONFIG", raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    assert main(["db", "install"]) == 0
    return values


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        yield int(held.getsockname()[1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_on_a_busy_port_is_one_line_and_exit_2_at_once(
    env: dict[str, str], busy_port: int, tmp_path: Path
) -> None:
    started = time.monotonic()
    result = sms_bridge("serve", "--port", str(busy_port), cwd=tmp_path, env=env, timeout=30)
    elapsed = time.monotonic() - started
    line = one_line(result.stderr)
    assert result.returncode == 2, result.stderr
    assert line.startswith("sms-bridge: error: "), line
    assert f"127.0.0.1:{busy_port}" in line and "in use" in line, line
    assert elapsed < 3, f"took {elapsed:.1f} s"


def test_serve_on_a_busy_port_from_the_environment_is_refused_too(
    env: dict[str, str], busy_port: int, tmp_path: Path
) -> None:
    bind = {**env, "SMS_BRIDGE_SERVE_BIND": f"127.0.0.1:{busy_port}"}
    result = sms_bridge("serve", cwd=tmp_path, env=bind, timeout=30)
    line = one_line(result.stderr)
    assert result.returncode == 2 and f"127.0.0.1:{busy_port}" in line, result.stderr


def test_gunicorn_with_the_conf_on_a_busy_port_fails_at_once_with_one_error(
    env: dict[str, str], busy_port: int, tmp_path: Path
) -> None:
    """What systemd runs (gunicorn -c deploy/gunicorn.conf.py) fails fast as well: one ERROR
    line after gunicorn's own "Starting gunicorn" line, exit 2, no retry loop."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("SMS_BRIDGE_")}
    started = time.monotonic()
    result = subprocess.run(
        [
            str(GUNICORN),
            "-c",
            str(ROOT / "deploy" / "gunicorn.conf.py"),
            "inbound.app:get_app()",
        ],
        cwd=tmp_path,
        env={**base, **env, "SMS_BRIDGE_SERVE_BIND": f"127.0.0.1:{busy_port}"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    elapsed = time.monotonic() - started
    errors = [line for line in result.stderr.splitlines() if " ERROR " in line]
    assert len(errors) == 1, result.stderr
    assert f"127.0.0.1:{busy_port}" in errors[0] and "in use" in errors[0], errors[0]
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, result.stderr
    assert elapsed < 3, f"took {elapsed:.1f} s"


def test_serve_on_a_free_port_still_serves(env: dict[str, str], tmp_path: Path) -> None:
    port = free_port()
    base = {k: v for k, v in os.environ.items() if not k.startswith("SMS_BRIDGE_")}
    with (tmp_path / "serve.log").open("w+") as log:
        proc = subprocess.Popen(
            [str(Path(sys.executable).with_name("sms-bridge")), "serve", "--port", str(port)],
            cwd=tmp_path,
            env={**base, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    health = requests.get(f"http://127.0.0.1:{port}/health", timeout=2)
                    if health.status_code == 200:
                        break
                except requests.RequestException:
                    pass
                log.seek(0)
                assert proc.poll() is None and time.monotonic() < deadline, log.read()
                time.sleep(0.1)
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(20)
        log.seek(0)
        text = log.read()
    assert code == 0, text
    assert " ERROR " not in text and "Traceback" not in text, text


def test_the_probe_is_not_fooled_by_connections_in_time_wait() -> None:
    """gunicorn binds with SO_REUSEADDR, so a port whose last connections linger in TIME_WAIT
    (a restart just after serving) is free to it: the probe must not call it taken."""
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = int(server.getsockname()[1])
        with socket.create_connection(("127.0.0.1", port)) as client:
            accepted, _ = server.accept()
            accepted.close()  # the server side closes first: it keeps the TIME_WAIT
            client.recv(1)
    # The premise: a plain bind (no SO_REUSEADDR) is refused.
    with pytest.raises(OSError), socket.socket() as plain:
        plain.bind(("127.0.0.1", port))
    probe_listen(f"127.0.0.1:{port}")  # no UsageError
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        with pytest.raises(UsageError, match="already in use"):
            probe_listen(f"127.0.0.1:{held.getsockname()[1]}")
