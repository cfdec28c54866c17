"""Render the intent into every file under build/: device configs, node bundles,
Kubernetes manifests and review documents. Returns {relative path: text}, by
unit, or a share of the units at a time; writing is `write.py`'s job."""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from functools import cache
from typing import Any

import jinja2

from fabric import platforms
from fabric.intent.dump import plain
from fabric.intent.parts import rack_parts
from fabric.intent.types import Device, Intent
from fabric.render import TEMPLATES, documents, kubernetes
from fabric.render.context import context


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
        auto_reload=False,   # the templates of this process's code version (render/cache.py)
    )
    env.filters["netmask"] = lambda net: str(net.netmask)
    env.filters["wildcard"] = lambda net: str(net.hostmask)
    env.filters["toml"] = _toml_string
    return env


def _toml_string(value: object) -> str:
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


@cache
def _step(platform: str) -> Callable[[Device, Intent], dict[str, Any]]:
    return platforms.structured_step(platform) or context


def structured(device: Device, intent: Intent) -> dict[str, Any]:
    """The device's structured config: what its platform's templates walk over."""
    return _step(device.platform)(device, intent)


def structured_data(device: Device, intent: Intent) -> dict[str, Any]:
    """`structured()` as plain data, for the golden snapshots (tests/golden/*/structured/)."""
    return plain(structured(device, intent))


def device_files(device: Device, intent: Intent) -> dict[str, str]:
    """Every file of one device, by path under build/; the first is its config."""
    env = environment()
    ctx = structured(device, intent)
    return {pattern.format(name=device.name): env.get_template(template).render(ctx)
            for pattern, template in platforms.get(device.platform).files.items()}


def device_config(device: Device, intent: Intent) -> str:
    """The config a deploy pushes: a switch's config, a node's gobgpd.toml."""
    return next(iter(device_files(device, intent).values()))


# The render is cut into units, each rendered on its own from what its digest
# covers: a rack (its devices, CiliumNodes and page, from its part of the intent),
# a core, and what the whole fabric shares (documents, Helm values). A core and
# the fabric's files depend on every rack: their digest, `Intent.digest`, is that
# of everything the intent was built from.
FABRIC_UNIT = "fabric"


def units(intent: Intent) -> dict[str, str]:
    """Every unit's name and the digest of what it is rendered from."""
    return {**{f"racks/{r}": intent.rack_digests[r] for r in intent.racks},
            **{f"cores/{c}": intent.digest for c in intent.cores},
            FABRIC_UNIT: intent.digest}


def _unit_files(intent: Intent, unit: str, parts: dict[str, Intent]) -> dict[str, str]:
    kind, _, name = unit.partition("/")
    if kind == "racks":
        part = parts[name]
        files: dict[str, str] = {}
        for device in part.devices.values():
            files.update(device_files(device, part))
        return {**files, **kubernetes.node_files(part, environment(), part.devices.values()),
                **documents.rack_page(part, environment())}
    if kind == "cores":
        return device_files(intent.devices[name], intent)
    return {**kubernetes.fabric_files(intent, environment()),
            **documents.render(intent, environment())}


def _weight(intent: Intent, unit: str) -> int:
    kind, _, name = unit.partition("/")
    return len(intent.racks[name].nodes) + 1 if kind == "racks" else 1


# Devices from which rendering is spread over the machine's cores: below, a fork
# costs more than it saves. Each worker renders a share of the units; the parent
# renders what the whole fabric shares meanwhile.
PARALLEL_FROM = 4_000
_SHARE = 2_000          # devices per task: small enough to balance two cores
_forked: tuple[Intent, dict[str, Intent]] | None = None   # what a forked worker renders


def render_units(intent: Intent, chosen: Iterable[str] | None = None,
                 workers: int | None = None) -> dict[str, dict[str, str]]:
    """The files of each unit `chosen` (every one by default), by unit; the same
    whether rendered in one process or several."""
    out: dict[str, dict[str, str]] = {}
    for share in render_shares(intent, chosen, workers):
        out.update(share)
    return dict(sorted(out.items()))


def render_shares(intent: Intent, chosen: Iterable[str] | None = None,
                  workers: int | None = None) -> Iterator[dict[str, dict[str, str]]]:
    """`render_units`, a share of the units at a time as each is done: a caller
    that writes them as they come holds one share's text, not the fabric's."""
    todo = sorted(units(intent) if chosen is None else chosen)
    workers = workers or os.cpu_count() or 1
    shares = _shares(intent, [u for u in todo if u != FABRIC_UNIT])
    fabric = [FABRIC_UNIT] if FABRIC_UNIT in todo else []
    # One pass over the devices and sessions for every rack, not one per share.
    parts = rack_parts(intent, (u.partition("/")[2] for u in todo if u.startswith("racks/")))
    if workers < 2 or len(shares) < 2 or "fork" not in mp.get_all_start_methods():
        for share in [*shares, fabric]:
            yield _render_share(share, (intent, parts))
        return
    global _forked
    _forked = intent, parts
    try:
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("fork")) as pool:
            done = pool.map(_render_share, shares)
            yield _render_share(fabric, (intent, parts))   # while the workers render
            yield from done
    finally:
        _forked = None


def _shares(intent: Intent, todo: list[str]) -> list[list[str]]:
    """`todo` cut into shares of about _SHARE devices; one share below PARALLEL_FROM."""
    if sum(_weight(intent, u) for u in todo) < PARALLEL_FROM:
        return [todo] if todo else []
    shares: list[list[str]] = [[]]
    weight = 0
    for unit in todo:
        if weight >= _SHARE:
            shares.append([])
            weight = 0
        shares[-1].append(unit)
        weight += _weight(intent, unit)
    return shares


def _render_share(share: list[str], given: tuple[Intent, dict[str, Intent]] | None = None
                  ) -> dict[str, dict[str, str]]:
    given = given or _forked
    if given is None:
        raise RuntimeError("a render worker started without the intent")
    intent, parts = given
    return {unit: _unit_files(intent, unit, parts) for unit in share}


def render_all(intent: Intent, workers: int | None = None) -> dict[str, str]:
    """Every file, by path."""
    files: dict[str, str] = {}
    for unit_files in render_units(intent, workers=workers).values():
        files.update(unit_files)
    return dict(sorted(files.items()))
