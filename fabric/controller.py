"""`fabric ipam controller`: `fabric ipam rebalance` in a loop against a live cluster.

It lists and watches the CiliumNodes (official `kubernetes` client), decides with
the same pure function as `rebalance`, writes the IPAM state and the build when
they change, runs the operator's `--on-change` command (say `fabric apply`) so
that a grown block is announced before Cilium may use it, and then makes each
CiliumNode's `spec.ipam.pool` offer exactly its node's active blocks.

Patches are JSON merge patches of `spec.ipam.pool` alone (the agent owns the rest
of the object) carrying `metadata.resourceVersion`, so a change made meanwhile (the
agent's own update) is a 409: the object is read again and the patch recomputed.
A watch that ends is resumed from the last resourceVersion seen; a 410 Gone (that
version is compacted away) means a fresh list. Every `resync` seconds (the watch's
timeout) the decision runs again, for releases that are due by time alone.

A node of the model without a CiliumNode has no pods: it counts as empty (so its
blocks above pod_blocks are released in time), keeps its blocks, and gets its pool
as soon as its agent creates the object. A CiliumNode without `status.ipam` has
not reported yet and is left out of the decision.
"""

from __future__ import annotations

import logging
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path as FsPath
from typing import Any

from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from fabric import pipeline
from fabric.errors import InputError
from fabric.intent.types import Intent
from fabric.ipam.rebalance import Step
from fabric.ipam.state import STATE_FILE, write_state
from fabric.ipam.usage import Usage, usage_of
from fabric.render.incremental import render_tree
from fabric.render.kubernetes import pool_addresses

log = logging.getLogger("fabric.controller")
GROUP, VERSION, PLURAL = "cilium.io", "v2", "ciliumnodes"
MERGE_PATCH = "application/merge-patch+json"
CONFLICT_RETRIES = 5
REQUEST_TIMEOUT = 30            # seconds: a half-open connection must not hang a pass


@dataclass
class Pass:
    """What one decision did."""

    steps: list[Step] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    state_changed: bool = False
    build_changed: bool = False
    patched: list[str] = field(default_factory=list)
    conflicts: int = 0
    error: str | None = None


def _dict(answer: object) -> dict[str, Any]:
    """The client types custom objects as `object`; they are JSON objects."""
    if not isinstance(answer, dict):
        raise TypeError(f"expected a JSON object from the API server, found {type(answer)}")
    return answer


def _pools(intent: Intent) -> dict[str, set[str]]:
    """What each node's CiliumNode pool should hold: every address of its blocks."""
    return {n: set(pool_addresses(blocks)) for n, blocks in intent.node_blocks.items()}


class Controller:
    def __init__(self, api: client.ApiClient, model: FsPath, state_dir: FsPath, out: FsPath,
                 on_change: str | None = None, resync: int = 60, interval: float = 5,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.api = client.CustomObjectsApi(api)
        self.model, self.state_dir, self.out = model, state_dir, out
        self.on_change, self.resync, self.clock = on_change, resync, clock
        self.interval = interval        # seconds between decisions while events stream
        self._last = float("-inf")
        # A build --on-change has not carried out yet: at start, perhaps the last one.
        self._unannounced = on_change is not None
        self.objects: dict[str, dict[str, Any]] = {}
        self.version = ""
        self.intent: Intent | None = None

    # --- the cluster's view ------------------------------------------------
    def sync(self) -> None:
        """A fresh list: the objects and the version to watch from."""
        listed = _dict(self.api.list_cluster_custom_object(GROUP, VERSION, PLURAL,
                                                           _request_timeout=REQUEST_TIMEOUT))
        self.objects = {o["metadata"]["name"]: o for o in listed.get("items", [])}
        self.version = listed["metadata"]["resourceVersion"]

    def observe(self, event: dict[str, Any]) -> None:
        obj = event["object"]
        name = obj["metadata"]["name"]
        if event["type"] == "DELETED":
            self.objects.pop(name, None)
        elif event["type"] in ("ADDED", "MODIFIED"):
            self.objects[name] = obj
        self.version = obj["metadata"].get("resourceVersion", self.version)

    def usage(self, nodes: list[str]) -> Usage:
        problems: list[tuple[Any, str]] = []
        present = usage_of({"kind": "List", "items": list(self.objects.values())}, problems)
        for path, message in problems:
            log.warning("CiliumNode %s: %s", ".".join(map(str, path)), message)
        reported = {n for n, o in self.objects.items()
                    if (o.get("status") or {}).get("ipam") is not None}
        return {**{n: frozenset() for n in nodes if n not in self.objects},
                **{n: u for n, u in present.items() if n in reported}}

    # --- one decision ------------------------------------------------------
    def reconcile(self) -> Pass:
        """One decision, carried out in the order that keeps every pod routable:
        withdrawn addresses leave the pools first (no pod takes one while its route
        goes), then the build is written and the state after it, then `--on-change`
        announces, and only then do pools gain addresses."""
        self._last = time.monotonic()
        done = Pass()
        if self.intent is None:
            self.intent = pipeline.build(self.model, self.state_dir).intent
        plan, result = pipeline.rebalance(self.model, self.state_dir,
                                          self.usage(sorted(self.intent.node_blocks)),
                                          self.clock())
        done.steps, done.notes = plan.steps, plan.notes
        wanted = _pools(result.intent)
        file = self.state_dir / STATE_FILE
        if not file.exists() or file.read_text() != result.state_text:
            for name in sorted(self.objects):
                self._offer(name, wanted.get(name), done, only_remove=True)
            rep = render_tree(self.out, result.intent).report
            write_state(self.state_dir, result.state_text)
            done.state_changed = True
            self.intent = result.intent
            for s in plan.steps:
                log.info("%s", s.line())
            # Only when is the build new: a block's empty_since changes no file.
            done.build_changed = bool(rep.written or rep.removed)
            self._unannounced |= done.build_changed
        if self._unannounced and self.on_change and not self._run_on_change(done):
            return done              # pools wait: a grown block must be announced first
        self._unannounced = False
        for name in sorted(self.objects):
            self._offer(name, wanted.get(name), done)
        return done

    def _run_on_change(self, done: Pass) -> bool:
        run = subprocess.run(self.on_change or "", shell=True, capture_output=True, text=True)
        if run.returncode != 0:
            done.error = (f"--on-change exited {run.returncode}: "
                          f"{(run.stderr or run.stdout).strip()[-500:]}")
            log.error("%s; pools not changed, retried on the next pass", done.error)
        return run.returncode == 0

    def _offer(self, name: str, wanted: set[str] | None, done: Pass,
               only_remove: bool = False) -> None:
        """Make the node's pool `wanted` (or, `only_remove`, drop what it should not
        hold), retrying on a conflict with a fresh read. A node that fails is logged
        in `done.error` and the others go on."""
        if wanted is None:
            return                   # not a node of the model
        for _ in range(CONFLICT_RETRIES):
            obj = self.objects.get(name)
            if obj is None:
                return
            pool = ((obj.get("spec") or {}).get("ipam") or {}).get("pool") or {}
            change: dict[str, Any] = {a: None for a in sorted(set(pool) - wanted)}  # deletes
            if not only_remove:
                change |= {a: {} for a in sorted(wanted - set(pool))}
            if not change:
                return
            body = {"metadata": {"resourceVersion": obj["metadata"]["resourceVersion"]},
                    "spec": {"ipam": {"pool": change}}}
            try:
                self.objects[name] = _dict(self.api.patch_cluster_custom_object(
                    GROUP, VERSION, PLURAL, name, body, _content_type=MERGE_PATCH,
                    _request_timeout=REQUEST_TIMEOUT))
                done.patched.append(name)
                log.info("CiliumNode %s: pool +%d −%d", name,
                         sum(v is not None for v in change.values()),
                         sum(v is None for v in change.values()))
                return
            except ApiException as exc:
                if exc.status == 404:
                    self.objects.pop(name, None)
                    return
                if exc.status != 409:
                    self._failed(done, f"CiliumNode {name}: {exc.status} {exc.reason}")
                    return
                done.conflicts += 1
                try:
                    self.objects[name] = _dict(self.api.get_cluster_custom_object(
                        GROUP, VERSION, PLURAL, name, _request_timeout=REQUEST_TIMEOUT))
                except ApiException as again:
                    if again.status != 404:
                        self._failed(done, f"CiliumNode {name}: {again.status} "
                                           f"{again.reason}")
                        return
                    self.objects.pop(name, None)
                    return
        self._failed(done, f"CiliumNode {name}: still conflicting after {CONFLICT_RETRIES} "
                           "tries")

    @staticmethod
    def _failed(done: Pass, why: str) -> None:
        log.error("%s; retried on the next pass", why)
        done.error = why if done.error is None else f"{done.error}; {why}"

    # --- the loop ----------------------------------------------------------
    def run(self, stop: threading.Event, passes: Callable[[Pass], None] = lambda p: None) -> None:
        """Until `stop`: watch, decide, act. An API server that fails (5xx, a broken
        connection, a refused patch) or a model that no longer loads is logged and
        retried after a growing pause (1 s doubling to 60 s), from a fresh list."""
        backoff = 0.0
        fresh = True
        while not stop.is_set():
            try:
                if fresh:
                    self.sync()
                    fresh = False
                passes(self.reconcile())     # time-driven releases, and after a (re)list
                self._watch(stop, passes)
                backoff = 0.0
            except ApiException as exc:
                if exc.status == 410:
                    log.info("watch from %s expired (410 Gone): listing again", self.version)
                    fresh = True
                    continue
                backoff = self._pause(stop, backoff, f"API server: {exc.status} {exc.reason}")
                fresh = True
            except InputError as exc:
                backoff = self._pause(stop, backoff, f"the model or state does not load: "
                                      f"{exc.problems[0] if exc.problems else exc}")
            except (OSError, HTTPError) as exc:
                backoff = self._pause(stop, backoff, f"{type(exc).__name__}: {exc}")
                fresh = True
            except Exception:        # a controller must not die of one bad answer
                log.exception("unexpected error")
                backoff = self._pause(stop, backoff, "unexpected error (above)")
                fresh = True

    def _watch(self, stop: threading.Event, passes: Callable[[Pass], None]) -> None:
        w = watch.Watch()
        for event in w.stream(self.api.list_cluster_custom_object, GROUP, VERSION, PLURAL,
                              resource_version=self.version, timeout_seconds=self.resync,
                              _request_timeout=self.resync + REQUEST_TIMEOUT):
            self.observe(event)
            # Agents update their status every 15 s: fold events together (what is
            # folded is decided at the next event or when the watch times out).
            if time.monotonic() - self._last >= self.interval:
                passes(self.reconcile())
            if stop.is_set():
                w.stop()
                return

    @staticmethod
    def _pause(stop: threading.Event, backoff: float, why: str) -> float:
        backoff = min(60.0, backoff * 2 or 1.0)
        log.error("%s; retrying in %.0f s", why, backoff)
        stop.wait(backoff)
        return backoff
