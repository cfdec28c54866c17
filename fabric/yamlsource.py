"""Load YAML into plain Python values plus a map from YAML path to (line, column).

PyYAML silently keeps the last of two equal keys; a fabric file with a rack
defined twice must be an error, so duplicates are reported here.
"""

from __future__ import annotations

from pathlib import Path as FsPath
from typing import Any

import yaml

from .errors import Diagnostics, InputError, Path, Problem

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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
    # libyaml's composer is ~10x faster and still gives marks for every node.
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        reason = f"invalid YAML: {exc.problem or exc.context}"
        raise InputError([Problem(name, line, col, "(document)", reason)]) from None
    finally:
        loader.dispose()
    diag = Diagnostics(name, {})
    if root is None:
        return None, diag
    data = _convert(root, (), diag, loader)
    diag.raise_if_errors()
    return data, diag


def _convert(node: yaml.Node, path: Path, diag: Diagnostics, loader: Any) -> Any:
    diag.positions.setdefault(path, _pos(node))
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        loader.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                key = str(key)
            child = (*path, key)
            if key in out:
                first = diag.positions[child][0]
                diag.add(child, f"duplicate key '{key}' (first defined at line {first})",
                         at=_pos(key_node))
                continue
            diag.positions[child] = _pos(value_node)
            out[key] = _convert(value_node, child, diag, loader)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*path, i), diag, loader) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)
