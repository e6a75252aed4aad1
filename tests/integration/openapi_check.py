# SPDX-License-Identifier: GPL-2.0-or-later
"""The schemas of docs/hook-api.yaml and docs/bar-api.yaml, and a validator for the JSON
Schema subset they use.

python3-jsonschema is not part of Debian's default install here, so keep our own;
test_hook_api.py's test_validator_knows_every_keyword fails if the document starts
using more than KNOWN.
"""
import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
API = yaml.safe_load((REPO / "docs" / "hook-api.yaml").read_text())
SCHEMAS = API["components"]["schemas"]
BAR_API = yaml.safe_load((REPO / "docs" / "bar-api.yaml").read_text())
BAR_SCHEMAS = BAR_API["components"]["schemas"]

KNOWN = {"type", "properties", "required", "enum", "additionalProperties", "minimum",
         "maximum", "minLength", "minItems", "items", "description", "$ref", "pattern",
         "format"}
TYPES = {"object": dict, "array": list, "string": str, "integer": int, "boolean": bool}


def schema_errors(inst, schema, where="$", schemas=None):
    schemas = SCHEMAS if schemas is None else schemas
    if "$ref" in schema:
        return schema_errors(inst, schemas[schema["$ref"].rsplit("/", 1)[1]], where, schemas)
    t = schema.get("type")
    # JSON true is not an integer, though Python's bool is an int
    if t and (not isinstance(inst, TYPES[t]) or (t != "boolean" and isinstance(inst, bool))):
        return [f"{where}: expected {t}, got {type(inst).__name__}"]
    errs = []
    if "enum" in schema and inst not in schema["enum"]:
        errs.append(f"{where}: {inst!r} not in {schema['enum']}")
    if "minimum" in schema and inst < schema["minimum"]:
        errs.append(f"{where}: {inst} < {schema['minimum']}")
    if "maximum" in schema and inst > schema["maximum"]:
        errs.append(f"{where}: {inst} > {schema['maximum']}")
    if "minLength" in schema and len(inst) < schema["minLength"]:
        errs.append(f"{where}: shorter than {schema['minLength']}")
    if "pattern" in schema and not re.search(schema["pattern"], inst):
        errs.append(f"{where}: {inst!r} does not match {schema['pattern']}")
    if "minItems" in schema and len(inst) < schema["minItems"]:
        errs.append(f"{where}: fewer than {schema['minItems']} items")
    if "items" in schema:
        for i, v in enumerate(inst):
            errs += schema_errors(v, schema["items"], f"{where}[{i}]", schemas)
    if t == "object":
        props = schema.get("properties", {})
        errs += [f"{where}: missing {k}" for k in schema.get("required", []) if k not in inst]
        for k, v in inst.items():
            if k in props:
                errs += schema_errors(v, props[k], f"{where}.{k}", schemas)
            elif schema.get("additionalProperties", True) is False:
                errs.append(f"{where}: unexpected {k}")
    return errs


def assert_valid(inst, name, schemas=None):
    schemas = SCHEMAS if schemas is None else schemas
    errs = schema_errors(inst, schemas[name], schemas=schemas)
    assert not errs, errs
