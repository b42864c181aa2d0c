"""The shipped examples stay true: the TOML loads and names every key; the units run real
commands."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

from bridge.config import Secret, Settings, load_settings

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


def test_example_config_loads_and_documents_every_key() -> None:
    path = DEPLOY / "sms-bridge.example.toml"
    # The secret files it names exist only on a server; the environment wins over them.
    secrets = {
        "SMS_BRIDGE_DATABASE_PASSWORD": "x",
        "SMS_BRIDGE_TWILIO_AUTH_TOKEN": "x",
        "SMS_BRIDGE_MAIL_SMTP_PASSWORD": "x",
    }
    settings = load_settings(path, secrets)
    assert settings.database.url.startswith("oracle://")
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    for section in dataclasses.fields(Settings):
        if section.name in ("source", "origins"):  # bookkeeping, not configuration
            continue
        cls = type(getattr(settings, section.name))
        for key in dataclasses.fields(cls):
            secret = isinstance(getattr(settings, section.name).__dict__[key.name], Secret)
            name = f"{key.name}_file" if secret else key.name
            assert name in raw[section.name], f"[{section.name}] {name} missing from the example"


def test_units_start_the_real_entry_points() -> None:
    worker = (DEPLOY / "systemd" / "sms-bridge-worker.service").read_text(encoding="utf-8")
    inbound = (DEPLOY / "systemd" / "sms-bridge-inbound.service").read_text(encoding="utf-8")
    assert "sms-bridge run" in worker and "KillSignal=SIGTERM" in worker
    assert "inbound.app:get_app()" in inbound and "gunicorn.conf.py" in inbound
    assert (DEPLOY / "gunicorn.conf.py").is_file()


def test_make_says_what_it_installs_before_it_installs() -> None:
    """`make demo` on a fresh machine spends a minute in pip: it says so first, and pip's own
    output (setuptools' editable notice, index warnings) goes to a log shown on failure."""
    makefile = (DEPLOY.parent / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("$(STAMP): pyproject.toml\n", 1)[1].split("\n\n", 1)[0]
    lines = [line.strip() for line in recipe.splitlines() if line.startswith("\t")]
    first_pip = next(i for i, line in enumerate(lines) if "pip install" in line)
    assert any(line.startswith("@echo") and "about a minute" in line for line in lines[:first_pip])
    pip_lines = [line for line in lines if "pip install" in line]
    assert pip_lines and all("install.log 2>&1" in line for line in pip_lines), pip_lines
