"""Structural validation against the shipped JSON Schema, with messages a person can act on."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Mapping
from functools import cache
from importlib import resources
from typing import Any

import fastjsonschema
import jsonschema
from jsonschema._utils import Unset  # the sentinel of a field an error was made without

from fabric.errors import Diagnostics, Path, format_path
from fabric.platforms import SWITCH_PLATFORMS

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
    """The model's JSON Schema; its switch platform list is the platform folders'
    (the file keeps a copy for editors, which tests/test_platform_lists.py checks)."""
    text = resources.files("fabric").joinpath("schema/fabric.schema.json").read_text()
    data = json.loads(text)
    data["$defs"]["switch_platform"]["enum"] = list(SWITCH_PLATFORMS)
    return data


def _is_integer(_checker: Any, instance: Any) -> bool:
    # JSON Schema counts 8.0 as an integer; a config would then say `remote-as 65001.0`.
    return type(instance) is int


@cache
def _validator() -> jsonschema.protocols.Validator:
    base = jsonschema.Draft202012Validator
    types = base.TYPE_CHECKER.redefine("integer", _is_integer)
    cls = jsonschema.validators.extend(base, type_checker=types)
    return cls(schema(), format_checker=base.FORMAT_CHECKER)


def describe(value: Any) -> str:
    """A value as an error message names it: `a string '10.2.1'`, `a list`."""
    return _found(value)


def _found(value: Any) -> str:
    if isinstance(value, str) and value.isdigit():
        return f"a string {_repr(value)} (quoted, so not a number)"
    kind = _JSON_TYPES.get(type(value), type(value).__name__)
    if isinstance(value, dict | list):
        return kind
    if isinstance(value, float) and value.is_integer():
        return f"{kind} {value!r} (write it without the '.0')"
    return f"{kind} {_repr(value)}" if value is not None else kind


def _repr(value: Any, limit: int = 60) -> str:
    """repr(value), cut short with its length when longer than `limit`."""
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text)} characters)"


# What a pattern or format asks for, in words (schema descriptions say what a
# value is for, not what shape it has).
_SHAPES = {
    r"^\d{1,3}(\.\d{1,3}){3}/\d{1,2}$": "an IPv4 prefix such as 10.0.0.0/24",
    r"^[A-Za-z][A-Za-z0-9_.-]{0,62}$": "a name (a letter, then letters, digits, '-', '_', '.')",
    r"^\d{1,10}-\d{1,10}$": "a range such as 65101-65199",
    r"^[A-Za-z_][A-Za-z0-9_]*$": "an environment variable name",
    "ipv4": "an IPv4 address such as 10.0.0.1",
}
_TYPES = {"object": "a mapping", "array": "a list", "integer": "an integer",
          "string": "a string", "boolean": "a boolean"}


def _expected(sub: Mapping[str, Any]) -> str:
    """The constraint first, then what the value is for when the schema says."""
    if "enum" in sub:
        shape = "one of " + ", ".join(map(str, sub["enum"]))
    elif sub.get("pattern") in _SHAPES or sub.get("format") in _SHAPES:
        shape = _SHAPES.get(sub.get("pattern", ""), _SHAPES.get(sub.get("format", ""), ""))
    elif sub.get("type") == "integer" and "minimum" in sub and "maximum" in sub:
        shape = f"an integer between {sub['minimum']} and {sub['maximum']}"
    else:
        shape = _TYPES.get(sub.get("type", ""), "a value")
    desc = sub.get("description")
    return f"{shape} ({desc})" if desc and desc not in shape else shape


def _resolved(sub: Mapping[str, Any]) -> Mapping[str, Any]:
    """`sub`, or the definition its local `$ref` ("#/$defs/NAME") names."""
    ref = sub.get("$ref")
    return schema()["$defs"][ref.removeprefix("#/$defs/")] if ref else sub


# Dotted-quad IPv4, no leading zeros: what `ipaddress.IPv4Address` (jsonschema's
# "ipv4" check) accepts, without parsing 80,000 addresses into objects.
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
IPV4 = rf"{_OCTET}(?:\.{_OCTET}){{3}}"        # a pattern, for others to build on
_IPV4 = re.compile(rf"{IPV4}\Z")


@cache
def _compiled() -> Callable[[Any], Any]:
    """The schema compiled to Python (fastjsonschema: ~20x jsonschema's speed). It
    only says whether a document is valid; jsonschema words what is wrong."""
    draft7 = {**json.loads(json.dumps(schema())),  # a copy: compiling rewrites its $refs
              "$schema": "http://json-schema.org/draft-07/schema#"}
    return fastjsonschema.compile(draft7, formats={"ipv4": _is_ipv4})


def _is_ipv4(text: str) -> bool:
    return _IPV4.match(text) is not None


def _valid(data: Any) -> bool:
    """The compiled schema's yes, trusted only for data without floats: it counts
    8.0 as an integer, which the model must not."""
    try:
        _compiled()(data)
    except fastjsonschema.JsonSchemaException:
        return False
    return not _has_float(data)


def _has_float(data: Any) -> bool:
    stack = [data]
    while stack:
        value = stack.pop()
        kind = type(value)
        if kind is dict:
            stack.extend(value.values())
        elif kind is list:
            stack.extend(value)
        elif kind is float:
            return True
    return False


def check_structure(data: Any, diag: Diagnostics) -> None:
    """Add one problem per structural error; unknown keys get a did-you-mean."""
    if _valid(data):
        return
    for err in sorted(_validator().iter_errors(data), key=lambda e: list(map(str, e.path))):
        _report(err, diag)


def _subschema(err: jsonschema.ValidationError) -> Mapping[str, Any]:
    """The schema object that failed; the shipped schema has no boolean subschemas."""
    if not isinstance(err.schema, Mapping):
        raise TypeError(f"schema error without a schema object: {err.message}")
    return err.schema


def _given(field: Any | Unset) -> Any:
    """A field every error from iter_errors carries, though jsonschema types it as optional."""
    if isinstance(field, Unset):
        raise TypeError("schema error without its instance or validator value")
    return field


def _report(err: jsonschema.ValidationError, diag: Diagnostics) -> None:
    path: Path = tuple(err.absolute_path)
    kind = err.validator
    sub_schema, instance, value = _subschema(err), _given(err.instance), _given(err.validator_value)
    if kind == "additionalProperties":
        allowed = sorted(sub_schema.get("properties", {}))
        for key in sorted(set(instance) - set(allowed)):
            hint = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            tail = (f"; did you mean '{hint[0]}'?" if hint
                    else f"; expected one of: {', '.join(allowed)}")
            diag.add((*path, key), f"unknown key '{key}'{tail}",
                     at=diag.key_positions.get((*path, key)))
    elif kind == "required":
        # One error per missing key, each carrying the whole list: report its own key.
        missing = [k for k in value if k not in instance
                   and err.message == f"{k!r} is a required property"]
        for key in missing:
            prop = _resolved(sub_schema.get("properties", {}).get(key, {}))
            diag.add(path, f"missing required key '{key}' (expected {_expected(prop)})")
    elif kind == "anyOf":
        # Report the branch that matches the value's type (all of its errors), else a summary.
        subs = err.context or []
        branch = next((sub.relative_schema_path[0] for sub in subs
                       if sub.validator != "type" and len(sub.relative_schema_path) > 0), None)
        if branch is not None:
            for sub in subs:
                if sub.relative_schema_path[0] == branch:
                    _report(sub, diag)
            return
        wanted = " or ".join(_expected(s) for s in value)
        diag.add(path, f"expected {wanted}, found {_found(instance)}")
    elif kind in ("type", "pattern", "format", "enum"):
        diag.add(path, f"expected {_expected(sub_schema)}, found {_found(instance)}")
    elif kind in ("minimum", "maximum"):
        lo, hi = sub_schema.get("minimum"), sub_schema.get("maximum")
        rng = f"between {lo} and {hi}" if lo is not None and hi is not None else err.message
        diag.add(path, f"expected an integer {rng}, found {_repr(instance)}")
    elif kind == "minItems":
        n = len(instance)
        diag.add(path, f"expected at least {value} item(s), found {n}")
    elif kind == "maxItems":
        n = len(instance)
        diag.add(path, f"expected at most {value} item(s), found {n}")
    elif kind == "uniqueItems":
        items = instance
        j = next(j for j in range(len(items)) if items[j] in items[:j])
        first = items.index(items[j])
        diag.add((*path, j), f"expected each item once, found {items[j]!r} again "
                             f"(first at {format_path((*path, first))})")
    elif kind == "minLength":
        diag.add(path, f"expected a non-empty string, found {_repr(instance)}")
    elif kind in ("minProperties", "maxProperties"):
        found = "both" if len(instance) > 1 else "neither"
        diag.add(path, f"expected exactly one of 'env' or 'file', found {found}")
    elif kind == "propertyNames":
        diag.add(path, f"expected {_expected(sub_schema.get('propertyNames', {}))} as key, found "
                       f"{instance!r}")
    else:
        diag.add(path, err.message)
