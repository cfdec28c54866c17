"""Render the intent into every file under build/: device configs, node bundles,
Kubernetes manifests and review documents. Returns {relative path: text};
writing is `write.py`'s job, so a failure here leaves nothing half-written."""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from functools import cache
from pathlib import Path as FsPath
from typing import Any

import jinja2

from fabric import platforms
from fabric.intent.dump import plain
from fabric.intent.types import Device, Intent
from fabric.render import documents, kubernetes
from fabric.render.context import context

# Installed from a wheel, the templates are the package `fabric.templates`; in a
# checkout (an editable install too) they are the top-level templates/.
_PACKAGE = FsPath(__file__).resolve().parent.parent
TEMPLATES = next((d for d in (_PACKAGE / "templates", _PACKAGE.parent / "templates")
                  if d.is_dir()), _PACKAGE / "templates")


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
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


def render_devices(intent: Intent, devices: Iterable[Device] | None = None) -> dict[str, str]:
    """The files of `devices` (every device by default) and their CiliumNodes."""
    chosen = list(intent.devices.values()) if devices is None else list(devices)
    files: dict[str, str] = {}
    for device in chosen:
        files.update(device_files(device, intent))
    files.update(kubernetes.node_files(intent, environment(), chosen))
    return files


# Devices from which rendering is spread over the machine's cores: below, a fork
# costs more than it saves. Each worker renders a share of the devices; the
# parent renders what the whole fabric shares (documents, Helm values) meanwhile.
PARALLEL_FROM = 4_000
_SHARE = 2_000          # devices per task: small enough to balance two cores
_forked: Intent | None = None   # the intent a forked worker renders from


def render_all(intent: Intent, workers: int | None = None) -> dict[str, str]:
    """Every file, by path; the same whether rendered in one process or several."""
    workers = workers or os.cpu_count() or 1
    names = list(intent.devices)
    if workers < 2 or len(names) < PARALLEL_FROM or "fork" not in mp.get_all_start_methods():
        files = render_devices(intent)
        files.update(_fabric_files(intent))
        return dict(sorted(files.items()))
    global _forked
    _forked = intent
    try:
        shares = [names[i:i + _SHARE] for i in range(0, len(names), _SHARE)]
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("fork")) as pool:
            done = pool.map(_render_share, shares)
            files = _fabric_files(intent)
            for part in done:
                files.update(part)
    finally:
        _forked = None
    return dict(sorted(files.items()))


def _render_share(names: list[str]) -> dict[str, str]:
    intent = _forked
    if intent is None:
        raise RuntimeError("a render worker started without the intent")
    return render_devices(intent, (intent.devices[n] for n in names))


def _fabric_files(intent: Intent) -> dict[str, str]:
    return {**kubernetes.fabric_files(intent, environment()),
            **documents.render(intent, environment())}
