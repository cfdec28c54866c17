"""Render into a tree, or check it, rendering only what changed: each unit
(engine.units) whose digest and files the cache (cache.py) finds as it left
them is reused; every other unit is rendered and compared file by file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fabric.intent.types import Intent
from fabric.render import write as output
from fabric.render.cache import Cache
from fabric.render.engine import render_units, units


@dataclass
class Rendered:
    report: output.Report
    files: int              # in the tree, reused ones included
    units_rendered: int
    units_reused: int


def render_tree(out: Path, intent: Intent, check: bool = False, inputs: str | None = None,
                said: dict[str, object] | None = None, cache: Cache | None = None,
                workers: int | None = None) -> Rendered:
    """`out` brought up to date with `intent` (with `check`: compared, nothing
    written). `inputs` and `said`: what the cache keeps for `fabric render`'s
    check of unchanged inputs (cli/render.py), once the tree is written; `cache`:
    the tree's, if the caller loaded it."""
    cache = cache or Cache.load(out)
    wanted = units(intent)
    reused = cache.current(wanted)
    rendered = render_units(intent, [u for u in wanted if u not in reused], workers)
    files = {name: text for unit_files in rendered.values() for name, text in unit_files.items()}
    kept = [name for names in reused.values() for name in names]
    report = (output.check if check else output.write)(out, files, kept)
    if not check:
        done = {u: (wanted[u], sorted(f)) for u, f in rendered.items()}
        done[output.MANIFEST] = ("", [output.MANIFEST])
        cache.record(done, set(reused), report.stats)
        cache.save(inputs, said)
    return Rendered(report, len(files) + len(kept), len(rendered), len(reused))
