"""Render the intent into every file under build/: device configs, node bundles,
Kubernetes manifests and review documents. Returns {relative path: text};
writing is `output.py`'s job, so a failure here leaves nothing half-written."""

from __future__ import annotations

from functools import cache
from pathlib import Path as FsPath

import jinja2

from . import platforms
from .intent import Device, Intent

# Installed from a wheel, the templates are the package `fabric.templates`; in a
# checkout (an editable install too) they are the top-level templates/.
_HERE = FsPath(__file__).resolve().parent
TEMPLATES = next((d for d in (_HERE / "templates", _HERE.parent / "templates") if d.is_dir()),
                 _HERE / "templates")


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


def device_files(device: Device, intent: Intent) -> dict[str, str]:
    """Every file of one device, by path under build/; the first is its config."""
    env = environment()
    ctx = platforms.structured(device, intent)
    return {pattern.format(name=device.name): env.get_template(template).render(ctx)
            for pattern, template in platforms.module(device.platform).FILES.items()}


def device_config(device: Device, intent: Intent) -> str:
    """The config a deploy pushes: a switch's config, a node's gobgpd.toml."""
    return next(iter(device_files(device, intent).values()))


def render_devices(intent: Intent) -> dict[str, str]:
    files: dict[str, str] = {}
    for device in intent.devices.values():
        files.update(device_files(device, intent))
    return files


def render_all(intent: Intent) -> dict[str, str]:
    from .outputs import documents, kubernetes

    files = render_devices(intent)
    files.update(kubernetes.render(intent, environment()))
    files.update(documents.render(intent, environment()))
    return dict(sorted(files.items()))
