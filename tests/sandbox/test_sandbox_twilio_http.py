"""bridge.outbound.twilio_http: the base-URL rewriting client that reaches Twilio or the sandbox."""

from __future__ import annotations

import threading

import pytest
from sandbox_support import ACCOUNT_SID, AUTH_TOKEN, Control

from bridge.outbound.twilio_http import RewritingHttpClient, make_twilio_client


def test_rewrites_only_the_twilio_api_host() -> None:
    http = RewritingHttpClient("http://127.0.0.1:9999/", timeout=3)
    assert (
        http.rewrite("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json")
        == "http://127.0.0.1:9999/2010-04-01/Accounts/AC1/Messages.json"
    )
    assert http.rewrite("http://127.0.0.1:8000/x") == "http://127.0.0.1:8000/x"
    with pytest.raises(ValueError):
        http.rewrite("https://messaging.twilio.com/v1/Services")
    lookalike = "https://api.twilio.com.example.org/x"  # not the Twilio API host: untouched
    assert http.rewrite(lookalike) == lookalike
    untouched = RewritingHttpClient(None)
    assert untouched.rewrite("https://api.twilio.com/x") == "https://api.twilio.com/x"
    assert http.session.trust_env is False and untouched.session.trust_env is True
    http.session.close()
    untouched.session.close()


def test_never_retries_on_its_own() -> None:
    http = RewritingHttpClient("http://127.0.0.1:9999", timeout=3)
    for prefix in ("http://", "https://"):
        retries = http.session.get_adapter(prefix + "x").max_retries
        assert retries.total == 0 and not retries.read
    http.session.close()


def test_empty_environment_ignores_the_process_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TWILIO_EDGE", "sydney")
    monkeypatch.setenv("TWILIO_REGION", "au1")
    client = make_twilio_client(
        ACCOUNT_SID, AUTH_TOKEN, base_url="http://127.0.0.1:1", environment={}
    )
    assert client.edge is None and client.region is None
    url = "https://api.twilio.com/2010-04-01/Accounts.json"
    assert client.get_hostname(url) == url
    inherited = make_twilio_client(ACCOUNT_SID, AUTH_TOKEN)
    assert inherited.edge == "sydney"  # environment=None keeps the library's default
    client.http_client.session.close()
    inherited.http_client.session.close()


def test_last_response_headers_are_per_thread(control: Control) -> None:
    client = make_twilio_client(ACCOUNT_SID, AUTH_TOKEN, base_url=control.url, environment={})
    client.incoming_phone_numbers.list()
    mine = client.http_client.last_response_headers
    assert mine["content-type"].startswith("application/json")
    assert mine["Twilio-Request-Id"].startswith("RQ")
    seen: list[int] = []
    thread = threading.Thread(
        target=lambda: seen.append(len(client.http_client.last_response_headers))
    )
    thread.start()
    thread.join()
    assert seen == [0]
    client.http_client.session.close()
