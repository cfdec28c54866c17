"""Render into a tree, or check it, rendering only what changed: each unit
(engine.units) whose digest and files the cache (cache.py) finds as it left
them is reused; every other unit is rendered and compared file by file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fabric.intent.types import Intent
from fabric.render import write as output
from fabric.render.cache import Cache
from fabric.render.engine import render_shares, units


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
    tree = output.Tree(out, check)
    tree.keep(name for names in reused.values() for name in names)
    done: dict[str, tuple[str, list[str]]] = {}
    # Each share written as it is rendered, then dropped: 244,000 files at 2,000
    # racks are 500 MB of text. A render that fails partway leaves whole files of
    # the shares before it, with the manifest and the cache as they were, so the
    # next run compares them and finishes.
    for share in render_shares(intent, [u for u in wanted if u not in reused], workers):
        for unit, files in share.items():
            tree.add(files)
            done[unit] = (wanted[unit], sorted(files))
    report = tree.finish()
    if not check:
        cache.record({**done, output.MANIFEST: ("", [output.MANIFEST])}, set(reused),
                     report.stats)
        cache.save(inputs, said)
    count = sum(len(f) for _, f in done.values()) + sum(map(len, reused.values()))
    return Rendered(report, count, len(done), len(reused))
