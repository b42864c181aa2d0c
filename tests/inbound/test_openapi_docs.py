"""The generated REST API reference (docs/rest-api-reference.md) matches the OpenAPI document.

Regenerate with ``python -m inbound.openapi_docs > docs/rest-api-reference.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from inbound.openapi_docs import METHODS, document, render, slug, type_of

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "rest-api-reference.md"
REGENERATE = "python -m inbound.openapi_docs > docs/rest-api-reference.md"


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return document()


@pytest.fixture(scope="module")
def rendered(spec: dict[str, Any]) -> str:
    return render(spec)


def test_committed_reference_is_the_rendered_document(rendered: str) -> None:
    committed = REFERENCE.read_text(encoding="utf-8")
    assert committed == rendered, f"docs/rest-api-reference.md is stale: run {REGENERATE}"


def test_every_operation_has_a_section(spec: dict[str, Any], rendered: str) -> None:
    for path, item in spec["paths"].items():
        methods = [m for m in METHODS if m in item]
        assert methods, path
        for method in methods:
            heading = f"### {method.upper()} {path}"
            assert f"\n{heading}\n" in rendered, heading
            assert f"(#{slug(heading[4:])})" in rendered, f"index link to {heading}"
            for status in item[method]["responses"]:
                assert f"\n| {status} | " in rendered, f"{heading}: response {status}"


def test_every_component_schema_and_member_is_listed(spec: dict[str, Any], rendered: str) -> None:
    for name, schema in spec["components"]["schemas"].items():
        assert f"\n### Schema: {name}\n" in rendered, name
        for member in schema.get("properties", {}):
            assert f"| `{member}` |" in rendered, f"{name}.{member}"


def test_links_point_at_headings(rendered: str) -> None:
    headings = {slug(line.lstrip("#")) for line in rendered.splitlines() if line.startswith("#")}
    for anchor in {part.split(")")[0] for part in rendered.split("](#")[1:]}:
        assert anchor in headings, anchor


def test_auth_and_scopes_are_shown(rendered: str) -> None:
    assert (
        "| [`POST /sms`](#post-sms) | Queue one SMS (scope send) | Bearer API key, scope `send` |"
        in rendered
    )
    assert "Auth: Twilio signature (`X-Twilio-Signature`)." in rendered
    assert "### GET /health\n\nLiveness, including the database\n\nAuth: none." in rendered


@pytest.mark.parametrize(
    ("schema", "shown"),
    [
        (
            {"type": "integer", "minimum": 1, "maximum": 500, "default": 25},
            "integer (1–500, default `25`)",
        ),
        ({"type": ["string", "null"], "format": "date-time"}, "string (date-time) or null"),
        (
            {"type": "array", "items": {"$ref": "#/components/schemas/Link"}},
            "array of [Link](#schema-link)",
        ),
        ({"type": "object", "additionalProperties": {"type": "integer"}}, "object of integer"),
        ({"type": "string", "enum": ["A", None]}, "string (one of `A`, `null`)"),
        (
            {"oneOf": [{"type": "integer"}, {"type": "string", "maxLength": 3}]},
            "one of: integer; string (length ≤ 3)",
        ),
        ({"type": "string", "pattern": "a|b"}, "string (pattern `a|b`)"),
        ({}, "any"),
    ],
)
def test_type_of(schema: dict[str, Any], shown: str) -> None:
    assert type_of(schema) == shown


def test_pipes_are_escaped_in_tables() -> None:
    spec = {
        "openapi": "3.1.0",
        "info": {"title": "T", "version": "1"},
        "paths": {
            "/x": {
                "get": {
                    "summary": "a | b",
                    "security": [],
                    "parameters": [
                        {"name": "q", "in": "query", "schema": {"type": "string", "pattern": "a|b"}}
                    ],
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
    }
    text = render(spec)
    assert "| [`GET /x`](#get-x) | a \\| b | none |" in text
    assert "| `q` | query | string (pattern `a\\|b`) | no |  |" in text
    assert "| 200 | ok | — |" in text


@pytest.mark.parametrize("member", ["sendAfter", "expiresAt"])
def test_send_request_instants_describe_the_range_the_api_accepts(
    spec: dict[str, Any], member: str
) -> None:
    # "format: date-time" alone promises any year 0001-9999; parse_instant refuses instants
    # outside 1970-01-01T00:00:00Z..9998-12-31T00:00:00Z (the stores keep four-digit years).
    import re

    from inbound.http import ApiError, parse_instant

    schema = spec["components"]["schemas"]["SendRequest"]["properties"][member]
    assert schema["format"] == "date-time"
    assert "1970-01-01T00:00:00Z" in schema["description"]
    assert "9998-12-31T00:00:00Z" in schema["description"]
    for value in (
        "1969-12-31T23:59:59Z",
        "1970-01-01T00:00:00Z",
        "2030-01-31T09:00:00+02:00",
        "9998-01-01T00:00:00Z",
        "9999-01-01T00:00:00Z",
        "0001-01-01T00:00:00Z",
    ):
        try:
            parse_instant(value, member)
            accepted = True
        except ApiError:
            accepted = False
        assert bool(re.search(schema["pattern"], value)) is accepted, value
