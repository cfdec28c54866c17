"""The pipeline in one place: model → IPAM → intent → rendered files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path as FsPath

from .intent import Intent, build_intent
from .ipam import Allocation, allocate, dump_state, load_state
from .model import Model, load_model
from .render import render_all


@dataclass
class Result:
    model: Model
    alloc: Allocation
    intent: Intent
    state_text: str


def state_dir_for(model_file: FsPath) -> FsPath:
    return model_file.parent / "state"


def build(model_file: FsPath, state_dir: FsPath | None = None, prune: bool = False,
          renumber: bool = False) -> Result:
    """`renumber`: a change that moves stored allocations is carried out (and listed
    in `alloc.renumbered`) instead of refused."""
    model = load_model(model_file)
    state_dir = state_dir or state_dir_for(model_file)
    alloc = allocate(model, load_state(state_dir), prune=prune, renumber=renumber)
    intent = build_intent(model, alloc)
    return Result(model, alloc, intent, dump_state(model, alloc.state))


def render(result: Result) -> dict[str, str]:
    return render_all(result.intent)
