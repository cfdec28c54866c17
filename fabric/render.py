"""Render the intent into every file under build/: device configs, node bundles,
Kubernetes manifests and review documents. Returns {relative path: text};
writing is `output.py`'s job, so a failure here leaves nothing half-written."""

from __future__ import annotations

from functools import cache
from pathlib import Path as FsPath

import jinja2

from . import platforms
from .intent import Intent

TEMPLATES = FsPath(__file__).resolve().parent.parent / "templates"


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


def render_devices(intent: Intent) -> dict[str, str]:
    env = environment()
    files: dict[str, str] = {}
    for device in intent.devices.values():
        mod = platforms.module(device.platform)
        ctx = platforms.structured(device, intent)
        for pattern, template in mod.FILES.items():
            files[pattern.format(name=device.name)] = env.get_template(template).render(ctx)
    return files


def render_all(intent: Intent) -> dict[str, str]:
    from .outputs import documents, kubernetes

    files = render_devices(intent)
    files.update(kubernetes.render(intent, environment()))
    files.update(documents.render(intent, environment()))
    return dict(sorted(files.items()))
