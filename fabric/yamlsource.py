"""Load YAML into plain Python values plus a map from YAML path to (line, column).

PyYAML silently keeps the last of two equal keys; a fabric file with a rack
defined twice must be an error, so duplicates are reported here.
"""

from __future__ import annotations

import re
from pathlib import Path as FsPath
from typing import Any

import yaml

from .errors import Diagnostics, InputError, Path, Problem


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """libyaml (when present: ~10x faster, still marks every node), read the way
    YAML 1.2 and editors' language servers read it: `no`, `on`, `2024-01-01`
    are strings, only true/false are booleans."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers
            if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool",
                              re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                              list("tTfF"))


def _pos(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def load_yaml(file: str | FsPath, text: str | None = None) -> tuple[Any, Diagnostics]:
    """Parse `file` and return (data, diagnostics bound to its positions)."""
    name = str(file)
    if text is None:
        try:
            text = FsPath(file).read_text(encoding="utf-8")
        except OSError as exc:
            problem = Problem(name, 1, 1, "(document)", f"cannot read: {exc.strerror}")
            raise InputError([problem]) from None
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        raise InputError([_syntax_problem(name, text, exc)]) from None
    finally:
        loader.dispose()
    diag = Diagnostics(name, {})
    if root is None:
        return None, diag
    data = _convert(root, (), diag, loader)
    diag.raise_if_errors()
    return data, diag


def _syntax_problem(name: str, text: str, exc: yaml.MarkedYAMLError) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    reason = f"invalid YAML: {exc.problem or exc.context}"
    if mark and text[mark.index:mark.index + 1] == "\t":
        reason += " (a tab: YAML indents with spaces only)"
    ctx = exc.context_mark
    if exc.context and ctx and (ctx.line, ctx.column) != (line - 1, col - 1):
        reason += f" ({exc.context} at line {ctx.line + 1}, column {ctx.column + 1})"
    return Problem(name, line, col, "(document)", reason)


def _scalar(node: yaml.Node, path: Path, diag: Diagnostics, loader: Any) -> Any:
    try:
        return loader.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError:
        diag.add(path, f"expected a plain value, found the YAML tag '{node.tag}' "
                       "(tags are not supported)", at=_pos(node))
    except ValueError as exc:
        diag.add(path, f"expected a value YAML can read, found {node.value!r}: {exc}",
                 at=_pos(node))
    return None


def _convert(node: yaml.Node, path: Path, diag: Diagnostics, loader: Any) -> Any:
    diag.positions.setdefault(path, _pos(node))
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        loader.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = _scalar(key_node, path, diag, loader)
            if not isinstance(key, str):
                key = str(key)
            child = (*path, key)
            if key in out:
                first = diag.positions[child][0]
                diag.add(child, f"duplicate key '{key}' (first defined at line {first})",
                         at=_pos(key_node))
                continue
            diag.positions[child] = _pos(value_node)
            diag.key_positions[child] = _pos(key_node)
            out[key] = _convert(value_node, child, diag, loader)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*path, i), diag, loader) for i, item in enumerate(node.value)]
    return _scalar(node, path, diag, loader)
