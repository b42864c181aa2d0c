"""Derive tests/data/twilio_message_schema.json from Twilio's published API description.

Run by hand when the reference changes (tests never read ../shared at run time):

    .venv/bin/python tests/data/make_twilio_schema.py [path/to/twilio_api_v2010.json]

The output is a small JSON Schema (draft 2020-12 subset) of the Message resource: every property
the reference lists (all required, none extra), its JSON type(s) with null where the reference says
nullable, and the enum/pattern constraints the reference gives, with $refs resolved.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_SOURCE = HERE.parents[2] / "shared" / "reference" / "twilio_api_v2010.json"
TARGET = HERE / "twilio_message_schema.json"
SCHEMA_NAME = "api.v2010.account.message"


def resolve(spec: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in spec:
        return schemas[spec["$ref"].rsplit("/", 1)[-1]]
    return spec


def derive(reference: dict[str, Any]) -> dict[str, Any]:
    schemas = reference["components"]["schemas"]
    message = schemas[SCHEMA_NAME]
    properties: dict[str, Any] = {}
    for name, raw in sorted(message["properties"].items()):
        spec = resolve(raw, schemas)
        types = [spec["type"]]
        if spec.get("nullable") or raw.get("nullable"):
            types.append("null")
        out: dict[str, Any] = {"type": types}
        for key in ("enum", "pattern", "format"):
            if key in spec:
                out[key] = spec[key]
        properties[name] = out
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": SCHEMA_NAME,
        "description": f"Derived from {DEFAULT_SOURCE.name} ({reference['info'].get('version')})"
        " by tests/data/make_twilio_schema.py; do not edit by hand.",
        "type": "object",
        "required": sorted(properties),
        "additionalProperties": False,
        "properties": properties,
    }


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_SOURCE
    reference = json.loads(source.read_text(encoding="utf-8"))
    TARGET.write_text(json.dumps(derive(reference), indent=2) + "\n", encoding="utf-8")
    print(f"wrote {TARGET} from {source}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
