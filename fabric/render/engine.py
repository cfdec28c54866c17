"""Render the intent into every file under build/: device configs, node bundles,
Kubernetes manifests and review documents. Returns {relative path: text};
writing is `write.py`'s job, so a failure here leaves nothing half-written."""

from __future__ import annotations

from collections.abc import Callable
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


def render_devices(intent: Intent) -> dict[str, str]:
    files: dict[str, str] = {}
    for device in intent.devices.values():
        files.update(device_files(device, intent))
    return files


def render_all(intent: Intent) -> dict[str, str]:

    files = render_devices(intent)
    files.update(kubernetes.render(intent, environment()))
    files.update(documents.render(intent, environment()))
    return dict(sorted(files.items()))
