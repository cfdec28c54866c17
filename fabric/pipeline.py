"""The pipeline in one place: model → IPAM → intent → rendered files.

`build` is the last point that sees the model and the allocation: it hands on
the intent, the state text to store, and what the user should be told."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path as FsPath

from fabric.errors import Problem
from fabric.intent.build import build_intent
from fabric.intent.types import Intent
from fabric.ipam.allocate import Allocation, allocate
from fabric.ipam.rebalance import Rebalanced
from fabric.ipam.rebalance import rebalance as decide
from fabric.ipam.state import dump_state, load_state
from fabric.ipam.usage import Usage
from fabric.model.load import load_model
from fabric.model.source import decode
from fabric.model.types import Model
from fabric.render.engine import render_all


@dataclass
class Result:
    intent: Intent
    state_text: str
    warnings: list[Problem]
    changes: list[str]         # what this build allocated, freed or moved
    renumbered: list[str]      # moves carried out because `renumber` was given


def state_dir_for(model_file: FsPath) -> FsPath:
    return model_file.parent / "state"


def build(model_file: FsPath, state_dir: FsPath | None = None, prune: bool = False,
          renumber: bool = False, data: bytes | None = None) -> Result:
    """`renumber`: a change that moves stored allocations is carried out (and listed
    in `renumbered`) instead of refused. `data`: the model file's bytes, if the
    caller read them."""
    text = None if data is None else decode(str(model_file), data)
    model = load_model(model_file, text)
    state_dir = state_dir or state_dir_for(model_file)
    return _result(model, allocate(model, load_state(state_dir), prune=prune,
                                   renumber=renumber))


def rebalance(model_file: FsPath, state_dir: FsPath, usage: Usage,
              now: datetime) -> tuple[Rebalanced, Result]:
    """Blocks grown and released for `usage` at `now`, and the build that holds them
    (its state text allocated like `render` does, so nothing else moves). Nothing
    is written: the caller writes the build first and the state last, so a build
    that fails to write leaves the state as it was, and the next run decides again."""
    model = load_model(model_file)
    plan = decide(model, load_state(state_dir), usage, now)
    return plan, _result(model, allocate(model, plan.stored))


def _result(model: Model, alloc: Allocation) -> Result:
    # What the user is told and the state to store come from the model and the
    # allocation before the intent: after it, nothing reads either.
    state_text, warnings = dump_state(model, alloc.state), model.diag.warnings
    return Result(build_intent(model, alloc), state_text, warnings, alloc.changes,
                  alloc.renumbered)


def render(result: Result) -> dict[str, str]:
    return render_all(result.intent)
