"""Markdown reference of the REST API, generated from the OpenAPI document.

``python -m inbound.openapi_docs > docs/rest-api-reference.md`` writes it;
tests/inbound/test_openapi_docs.py checks that the committed file equals :func:`render` of
:func:`document`, so the reference cannot drift from ``inbound/openapi.py`` (which schemathesis
in turn holds to the running service).

Pure: a dict in, a string out. No server is started; the document is built by
:func:`inbound.openapi.openapi_document`, the same function the app serves at /openapi.json.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Mapping
from typing import Any

from inbound.openapi import openapi_document

# The base URL the committed reference shows; the served document names the site's public_url.
DOCS_BASE_URL = "https://sms.example.com"
METHODS = ("get", "post", "put", "patch", "delete")
SCHEMA_PREFIX = "#/components/schemas/"
_SCOPE_IN_SUMMARY = re.compile(r"\(scope ([A-Za-z-]+)\)")


def document() -> dict[str, Any]:
    """The OpenAPI document as the service builds it (with the docs' example base URL)."""
    return openapi_document(DOCS_BASE_URL)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def cell(text: object) -> str:
    """Text safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def code(value: object) -> str:
    """A literal in backticks (JSON spelling: null, true)."""
    shown = value if isinstance(value, str) else json.dumps(value)
    return f"`{shown}`"


def schema_name(ref: str) -> str:
    return ref[len(SCHEMA_PREFIX) :] if ref.startswith(SCHEMA_PREFIX) else ref


def schema_link(ref: str) -> str:
    name = schema_name(ref)
    return f"[{name}](#{slug('Schema: ' + name)})"


def _base_type(schema: Mapping[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        names = [str(k) for k in kind]
    elif isinstance(kind, str):
        names = [kind]
    else:
        names = []
    shown: list[str] = []
    for name in names:
        if name == "array":
            items = schema.get("items")
            shown.append(f"array of {type_of(items)}" if isinstance(items, Mapping) else "array")
        elif name == "object" and isinstance(schema.get("additionalProperties"), Mapping):
            shown.append(f"object of {type_of(schema['additionalProperties'])}")
        elif name == "string" and "format" in schema:
            shown.append(f"string ({schema['format']})")
        else:
            shown.append(name)
    return " or ".join(shown)


def _constraints(schema: Mapping[str, Any]) -> list[str]:
    notes: list[str] = []
    if "enum" in schema:
        notes.append("one of " + ", ".join(code(v) for v in schema["enum"]))
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and high is not None:
        notes.append(f"{low}–{high}")
    elif low is not None:
        notes.append(f"≥ {low}")
    elif high is not None:
        notes.append(f"≤ {high}")
    short, long = schema.get("minLength"), schema.get("maxLength")
    if short is not None and long is not None:
        notes.append(f"length {short}–{long}")
    elif short is not None:
        notes.append(f"length ≥ {short}")
    elif long is not None:
        notes.append(f"length ≤ {long}")
    if "pattern" in schema:
        notes.append(f"pattern {code(schema['pattern'])}")
    if "default" in schema:
        notes.append(f"default {code(schema['default'])}")
    return notes


def type_of(schema: Mapping[str, Any]) -> str:
    """One line describing a schema: its type, a link for a $ref, and its constraints."""
    if "$ref" in schema:
        return schema_link(str(schema["$ref"]))
    alternatives = schema.get("oneOf") or schema.get("anyOf")
    if isinstance(alternatives, list) and "type" not in schema:
        return "one of: " + "; ".join(type_of(a) for a in alternatives)
    base = _base_type(schema) or "any"
    notes = _constraints(schema)
    return f"{base} ({', '.join(notes)})" if notes else base


def resolve(spec: Mapping[str, Any], schema: Mapping[str, Any]) -> Mapping[str, Any]:
    """A $ref followed to its component schema (one level: components are not chained)."""
    ref = schema.get("$ref")
    if isinstance(ref, str):
        found = spec.get("components", {}).get("schemas", {}).get(schema_name(ref))
        if isinstance(found, Mapping):
            return found
    return schema


def field_table(schema: Mapping[str, Any]) -> list[str]:
    """The members of an object schema as a table, plus the rules a table cannot show."""
    properties: Mapping[str, Any] = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    lines: list[str] = []
    if properties:
        lines += ["| field | type | required | description |", "|---|---|---|---|"]
        for name, prop in properties.items():
            lines.append(
                f"| `{name}` | {cell(type_of(prop))} | {'yes' if name in required else 'no'}"
                f" | {cell(prop.get('description', ''))} |"
            )
    else:
        lines.append(f"Type: {type_of(schema)}.")
    rules = _object_rules(schema)
    if rules:
        lines += ["", *rules]
    return lines


def _object_rules(schema: Mapping[str, Any]) -> list[str]:
    rules: list[str] = []
    if schema.get("additionalProperties") is False:
        rules.append("- Other members are refused.")
    variants = schema.get("oneOf")
    if isinstance(variants, list) and all(isinstance(v, Mapping) for v in variants):
        forms = [" + ".join(f"`{f}`" for f in v.get("required", [])) for v in variants]
        if all(forms):
            rules.append("- Exactly one of these member sets: " + "; ".join(forms) + ".")
    return rules


def _scopes(operation: Mapping[str, Any], requirement: Mapping[str, Any]) -> list[str]:
    scopes = [str(s) for values in requirement.values() for s in values]
    if not scopes:
        scopes = _SCOPE_IN_SUMMARY.findall(str(operation.get("summary", "")))
    return scopes


def auth_line(spec: Mapping[str, Any], operation: Mapping[str, Any]) -> str:
    security = operation.get("security", spec.get("security", []))
    if not security:
        signed = any(p.get("name") == "X-Twilio-Signature" for p in operation.get("parameters", []))
        return "Twilio signature (`X-Twilio-Signature`)" if signed else "none"
    schemes = spec.get("components", {}).get("securitySchemes", {})
    parts: list[str] = []
    for requirement in security:
        for name in requirement:
            scheme = schemes.get(name, {})
            kind = "Bearer API key" if scheme.get("scheme") == "bearer" else f"`{name}`"
            scopes = _scopes(operation, requirement)
            parts.append(
                kind + (f", scope {', '.join(f'`{s}`' for s in scopes)}" if scopes else "")
            )
    return " or ".join(parts)


def _parameters(parameters: Iterable[Mapping[str, Any]]) -> list[str]:
    lines = [
        "| name | in | type | required | description |",
        "|---|---|---|---|---|",
    ]
    for p in parameters:
        lines.append(
            f"| `{p['name']}` | {p['in']} | {cell(type_of(p.get('schema', {})))}"
            f" | {'yes' if p.get('required') else 'no'} | {cell(p.get('description', ''))} |"
        )
    return lines


def _request_body(spec: Mapping[str, Any], body: Mapping[str, Any]) -> list[str]:
    lines: list[str] = []
    for media, content in body.get("content", {}).items():
        schema = content.get("schema", {})
        required = " (required)" if body.get("required") else ""
        shown = f": {type_of(schema)}" if "$ref" in schema else ""
        lines += [f"`{media}`{required}{shown}", ""]
        lines += field_table(resolve(spec, schema))
        lines.append("")
    return lines


def _responses(responses: Mapping[str, Any]) -> list[str]:
    lines = ["| status | description | body |", "|---|---|---|"]
    # Numeric order (the document lists a route's own errors before the shared auth ones).
    for status, response in sorted(responses.items(), key=lambda kv: (not kv[0].isdigit(), kv[0])):
        bodies = [
            f"`{media}` {type_of(content.get('schema', {}))}"
            for media, content in response.get("content", {}).items()
        ]
        lines.append(
            f"| {status} | {cell(response.get('description', ''))}"
            f" | {cell('; '.join(bodies)) or '—'} |"
        )
    return lines


def operations(spec: Mapping[str, Any]) -> list[tuple[str, str, Mapping[str, Any]]]:
    """(METHOD, path, operation) in the document's order."""
    found: list[tuple[str, str, Mapping[str, Any]]] = []
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                found.append((method.upper(), path, item[method]))
    return found


def render(spec: Mapping[str, Any]) -> str:
    """The whole reference as Markdown."""
    info = spec.get("info", {})
    out: list[str] = [
        f"# REST API reference: {info.get('title', 'API')} {info.get('version', '')}".rstrip(),
        "",
        "<!-- Generated from the OpenAPI document (inbound/openapi.py) by"
        " `python -m inbound.openapi_docs > docs/rest-api-reference.md`. Do not edit by hand:"
        " tests/inbound/test_openapi_docs.py fails when this file and the document differ. -->",
        "",
    ]
    if info.get("description"):
        out += [str(info["description"]), ""]
    out.append(
        f"OpenAPI {spec.get('openapi', '')}; the service serves the same document at"
        " `GET /openapi.json`."
    )
    servers = [str(s.get("url", "")) for s in spec.get("servers", [])]
    if servers:
        out.append(
            "Server: "
            + ", ".join(f"`{s}`" for s in servers)
            + " (the served document names the site's `[inbound] public_url`)."
        )
    out.append("")
    schemes = spec.get("components", {}).get("securitySchemes", {})
    if schemes:
        out += ["## Authentication", ""]
        for name, scheme in schemes.items():
            kind = scheme.get("type", "")
            if scheme.get("scheme"):
                kind += f" {scheme['scheme']}"
            out.append(f"- `{name}` ({kind}): {scheme.get('description', '')}".rstrip(": "))
        out.append("")
    ops = operations(spec)
    out += ["## Operations", "", "| operation | summary | auth |", "|---|---|---|"]
    for method, path, operation in ops:
        title = f"{method} {path}"
        out.append(
            f"| [`{title}`](#{slug(title)}) | {cell(operation.get('summary', ''))}"
            f" | {cell(auth_line(spec, operation))} |"
        )
    out.append("")
    for method, path, operation in ops:
        out += [f"### {method} {path}", ""]
        if operation.get("summary"):
            out += [str(operation["summary"]), ""]
        if operation.get("description"):
            out += [str(operation["description"]), ""]
        out += [f"Auth: {auth_line(spec, operation)}.", ""]
        if operation.get("parameters"):
            out += ["Parameters:", "", *_parameters(operation["parameters"]), ""]
        if operation.get("requestBody"):
            out += ["Request body:", "", *_request_body(spec, operation["requestBody"])]
        out += ["Responses:", "", *_responses(operation.get("responses", {})), ""]
    components = spec.get("components", {}).get("schemas", {})
    if components:
        out += ["## Schemas", ""]
        for name, schema in components.items():
            out += [f"### Schema: {name}", ""]
            if schema.get("description"):
                out += [str(schema["description"]), ""]
            out += [*field_table(schema), ""]
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"


def main() -> int:
    sys.stdout.write(render(document()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
