"""Structural validation against the shipped JSON Schema, with messages a person can act on."""

from __future__ import annotations

import difflib
import json
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

from .errors import Diagnostics, Path

_JSON_TYPES = {
    dict: "a mapping",
    list: "a list",
    str: "a string",
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    type(None): "nothing (null)",
}


@cache
def schema() -> dict[str, Any]:
    text = resources.files("fabric").joinpath("schema/fabric.schema.json").read_text()
    return json.loads(text)


@cache
def _validator() -> jsonschema.protocols.Validator:
    cls = jsonschema.Draft202012Validator
    return cls(schema(), format_checker=cls.FORMAT_CHECKER)


def _found(value: Any) -> str:
    kind = _JSON_TYPES.get(type(value), type(value).__name__)
    if isinstance(value, dict | list):
        return kind
    return f"{kind} {value!r}" if value is not None else kind


def _expected(sub: dict[str, Any]) -> str:
    if "description" in sub:
        return sub["description"]
    if "enum" in sub:
        return "one of " + ", ".join(map(str, sub["enum"]))
    t = sub.get("type")
    return {"object": "a mapping", "array": "a list", "integer": "an integer",
            "string": "a string", "boolean": "a boolean"}.get(t, str(t))


def check_structure(data: Any, diag: Diagnostics) -> None:
    """Add one problem per structural error; unknown keys get a did-you-mean."""
    for err in sorted(_validator().iter_errors(data), key=lambda e: list(map(str, e.path))):
        _report(err, diag)


def _report(err: jsonschema.ValidationError, diag: Diagnostics) -> None:
    path: Path = tuple(err.absolute_path)
    kind = err.validator
    if kind == "additionalProperties":
        allowed = sorted(err.schema.get("properties", {}))
        for key in sorted(set(err.instance) - set(allowed)):
            hint = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            tail = (f"; did you mean '{hint[0]}'?" if hint
                    else f"; expected one of: {', '.join(allowed)}")
            diag.add((*path, key), f"unknown key '{key}'{tail}")
    elif kind == "required":
        missing = [k for k in err.validator_value if k not in err.instance]
        for key in missing:
            sub = err.schema.get("properties", {}).get(key, {})
            diag.add(path, f"missing required key '{key}' (expected {_expected(sub)})")
    elif kind == "anyOf":
        # Report the branch that matches the value's type, else a summary.
        for sub in err.context or []:
            if sub.validator != "type" and len(sub.relative_schema_path) > 0:
                _report(sub, diag)
                return
        wanted = " or ".join(_expected(s) for s in err.validator_value)
        diag.add(path, f"expected {wanted}, found {_found(err.instance)}")
    elif kind in ("type", "pattern", "format", "enum"):
        diag.add(path, f"expected {_expected(err.schema)}, found {_found(err.instance)}")
    elif kind in ("minimum", "maximum"):
        lo, hi = err.schema.get("minimum"), err.schema.get("maximum")
        rng = f"between {lo} and {hi}" if lo is not None and hi is not None else err.message
        diag.add(path, f"expected an integer {rng}, found {err.instance!r}")
    elif kind == "minItems":
        n = len(err.instance)
        diag.add(path, f"expected at least {err.validator_value} item(s), found {n}")
    elif kind == "maxItems":
        n = len(err.instance)
        diag.add(path, f"expected at most {err.validator_value} item(s), found {n}")
    elif kind == "uniqueItems":
        diag.add(path, "expected each item once, found a repeated item")
    elif kind in ("minProperties", "maxProperties"):
        diag.add(path, "expected exactly one of 'env' or 'file'")
    elif kind == "propertyNames":
        diag.add(path, f"expected {_expected(err.schema.get('propertyNames', {}))} as key, found "
                       f"{err.instance!r}")
    else:
        diag.add(path, err.message)
