"""Twilio Lookup v2 in the sandbox (sandbox/lookup.py): reached through the twilio library's own
lookups.twilio.com client, rewritten by RewritingHttpClient to ``base_url/lookups``."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from sandbox_support import ACCOUNT_SID, AUTH_TOKEN, Control

from bridge.outbound.twilio_http import RewritingHttpClient, make_twilio_client
from sandbox.cli import build_parser, settings_from_args
from sandbox.lookup import DEFAULT_LINE_TYPES, lookup_json

# The keys of Twilio's v2 PhoneNumber resource (lookups.v2.phone_number).
RESOURCE_KEYS = {
    "calling_country_code",
    "country_code",
    "phone_number",
    "national_format",
    "valid",
    "validation_errors",
    "caller_name",
    "sim_swap",
    "call_forwarding",
    "line_status",
    "line_type_intelligence",
    "identity_match",
    "reassigned_number",
    "sms_pumping_risk",
    "phone_number_quality_score",
    "pre_fill",
    "url",
}
LTI_KEYS = {"carrier_name", "error_code", "mobile_country_code", "mobile_network_code", "type"}


def test_lookups_host_goes_to_the_base_url_under_lookups_and_other_hosts_are_refused() -> None:
    http = RewritingHttpClient("http://127.0.0.1:9999/", timeout=3)
    assert (
        http.rewrite("https://lookups.twilio.com/v2/PhoneNumbers/+14155550100")
        == "http://127.0.0.1:9999/lookups/v2/PhoneNumbers/+14155550100"
    )
    for other in ("https://messaging.twilio.com/v1/Services", "https://verify.twilio.com/v2/x"):
        with pytest.raises(ValueError):
            http.rewrite(other)
    lookalike = "https://lookups.twilio.com.example.org/v2/x"
    assert http.rewrite(lookalike) == lookalike
    assert RewritingHttpClient(None).rewrite("https://lookups.twilio.com/v2/x") == (
        "https://lookups.twilio.com/v2/x"
    )
    http.session.close()


def test_the_resource_has_twilios_shape() -> None:
    body = lookup_json("+12025550142", "line_type_intelligence", DEFAULT_LINE_TYPES)
    assert set(body) == RESOURCE_KEYS
    assert body["valid"] is True and body["country_code"] == "US"
    assert body["calling_country_code"] == "1" and body["national_format"] == "(202) 555-0142"
    assert set(body["line_type_intelligence"]) == LTI_KEYS
    assert body["line_type_intelligence"]["type"] == "landline"
    assert body["url"] == "https://lookups.twilio.com/v2/PhoneNumbers/+12025550142"
    assert lookup_json("+12025550142", "", DEFAULT_LINE_TYPES)["line_type_intelligence"] is None
    unknown = lookup_json("+12025550149", "line_type_intelligence", DEFAULT_LINE_TYPES)
    assert unknown["line_type_intelligence"]["type"] is None
    assert unknown["line_type_intelligence"]["error_code"] == 60600
    bad = lookup_json("12345", "line_type_intelligence", DEFAULT_LINE_TYPES)
    assert bad["valid"] is False and bad["validation_errors"] == ["NOT_A_NUMBER"]


def test_line_type_options() -> None:
    args = build_parser().parse_args(["--line-type", "+14155550100=landline"])
    settings, _ = settings_from_args(args)
    assert settings.line_types["+14155550100"] == "landline"
    assert settings.line_types["+12025550143"] == "fixedVoip"  # the defaults stay
    args = build_parser().parse_args(["--no-default-line-types", "--line-type", "+1415=x"])
    with pytest.raises(ValueError, match=r"E\.164"):
        settings_from_args(args)
    args = build_parser().parse_args(["--line-type", "+14155550100=cellphone"])
    with pytest.raises(ValueError, match="line type"):
        settings_from_args(args)
    args = build_parser().parse_args(["--no-default-line-types"])
    assert settings_from_args(args)[0].line_types == {}


def test_the_twilio_library_looks_up_through_the_sandbox(client: Any, control: Control) -> None:
    landline = client.lookups.v2.phone_numbers("+12025550142").fetch(
        fields="line_type_intelligence"
    )
    assert landline.line_type_intelligence["type"] == "landline"
    mobile = client.lookups.v2.phone_numbers("+14155550100").fetch(fields="line_type_intelligence")
    assert mobile.line_type_intelligence["type"] == "mobile"
    assert mobile.line_type_intelligence["mobile_country_code"] == "310"
    assert mobile.phone_number == "+14155550100" and mobile.valid is True
    logged = control.requests(kind="lookup")
    assert [r["path"] for r in logged] == [
        "/lookups/v2/PhoneNumbers/+12025550142",
        "/lookups/v2/PhoneNumbers/+14155550100",
    ]
    assert all(r["params"] == {"Fields": "line_type_intelligence"} for r in logged)
    assert all(r["status"] == 200 and r["authorized"] for r in logged)


def _raw(control: Control, number: str = "+14155550100") -> requests.Response:
    return control.http.get(
        f"{control.url}/lookups/v2/PhoneNumbers/{number}",
        params={"Fields": "line_type_intelligence"},
        auth=(ACCOUNT_SID, AUTH_TOKEN),
        timeout=10,
    )


def test_bad_credentials_get_401_and_faults_need_scope_all(control: Control) -> None:
    from twilio.base.exceptions import TwilioRestException

    wrong = make_twilio_client(ACCOUNT_SID, "wrong", base_url=control.url, environment={})
    with pytest.raises(TwilioRestException) as refused:
        wrong.lookups.v2.phone_numbers("+14155550100").fetch(fields="line_type_intelligence")
    assert refused.value.status == 401 and refused.value.code == 20003
    control.faults(rate_500=1.0)  # scope "create": lookups are not hit
    assert _raw(control).status_code == 200
    control.faults(rate_500=1.0, scope="all")
    answer = _raw(control)
    assert answer.status_code == 500 and answer.json()["code"] == 20500
    control.faults(rate_500=0.0, rate_429=1.0, scope="all")
    assert _raw(control).status_code == 429
    assert [r["fault"] for r in control.requests(kind="lookup")][-3:] == [None, "500-before", "429"]


def test_a_number_can_fail_its_lookup_alone() -> None:
    from sandbox.lookup import parse_line_type

    assert parse_line_type("http:500") == "http:500"
    with pytest.raises(ValueError):
        parse_line_type("http:404")
