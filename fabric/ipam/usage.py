"""What Cilium reports in use: `kubectl get ciliumnodes -o json`, read into node →
IPv4 addresses (as integers) in `status.ipam.used`, which the agent writes in
CRD-backed IPAM.

A node whose CiliumNode has no `status.ipam` yet (its agent has not reported) is
left out: unknown is not empty. IPv6 addresses are not the fabric's and are
skipped. The file is parsed as JSON (fast: it lists every node); only when it is
not what is expected is it read again as YAML, to say where."""

from __future__ import annotations

import json
import socket
from pathlib import Path as FsPath
from typing import Any

from fabric.errors import InputError, Path, Problem
from fabric.model.schema import describe
from fabric.model.source import load_yaml

Usage = dict[str, frozenset[int]]      # node → IPv4 addresses in use, as integers


def read_usage(file: FsPath) -> Usage:
    try:
        text = file.read_text()
    except OSError as exc:
        raise InputError([Problem(str(file), 1, 1, "(document)",
                                  f"cannot read the usage file: {exc.strerror}")]) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError([Problem(str(file), exc.lineno, exc.colno, "(document)",
                                  f"expected the JSON of `kubectl get ciliumnodes -o json`: "
                                  f"{exc.msg}")]) from None
    problems: list[tuple[Path, str]] = []
    usage = usage_of(data, problems)
    if problems:
        _, diag = load_yaml(file, text)       # positions, for the report only
        for path, message in problems:
            diag.add(path, message)
        diag.raise_if_errors()
    return usage


def usage_of(data: Any, problems: list[tuple[Path, str]]) -> Usage:
    """Usage from a List of CiliumNodes (or one); what is wrong goes to `problems`."""
    if not isinstance(data, dict) or data.get("kind") not in ("List", "CiliumNodeList",
                                                               "CiliumNode"):
        problems.append(((), "expected a List of CiliumNode objects (`kubectl get ciliumnodes "
                             f"-o json`), found {describe(data)}"))
        return {}
    one = data["kind"] == "CiliumNode"
    items = [data] if one else data.get("items")
    if not isinstance(items, list):
        problems.append((("items",), f"expected a list of CiliumNode objects, found "
                                     f"{describe(items)}"))
        return {}
    out: Usage = {}
    for i, item in enumerate(items):
        at: Path = () if one else ("items", i)
        if not isinstance(item, dict) or item.get("kind", "CiliumNode") != "CiliumNode":
            problems.append((at, f"expected a CiliumNode object, found {describe(item)}"))
            continue
        meta, status = item.get("metadata"), item.get("status") or {}
        name = meta.get("name") if isinstance(meta, dict) else None
        if not isinstance(name, str) or not name:
            problems.append(((*at, "metadata", "name"), f"expected the node's name, found "
                                                        f"{describe(name)}"))
            continue
        if not isinstance(status, dict):
            problems.append(((*at, "status"), f"expected a mapping, found {describe(status)}"))
            continue
        ipam = status.get("ipam")
        if ipam is None:
            continue
        used = ipam.get("used") if isinstance(ipam, dict) else ipam
        if used is not None and not isinstance(used, dict):
            problems.append(((*at, "status", "ipam", "used"), "expected a mapping of addresses "
                             f"to owners, found {describe(used)}"))
            continue
        out[name] = frozenset(_addresses(used or {}, (*at, "status", "ipam", "used"), problems))
    return out


def _addresses(used: dict[str, Any], at: Path, problems: list[tuple[Path, str]]) -> list[int]:
    out = []
    for key in used:
        family = socket.AF_INET6 if ":" in key else socket.AF_INET
        try:
            packed = socket.inet_pton(family, key)
        except (OSError, TypeError):
            problems.append(((*at, key), f"expected an IP address, found {describe(key)}"))
            continue
        if family == socket.AF_INET:
            out.append(int.from_bytes(packed, "big"))
    return out
