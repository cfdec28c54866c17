"""`fabric ipam controller` against a faithful double of the Kubernetes API
(tests/k8s_double.py: real HTTP, list/watch/patch semantics, 409 and 410), driven
by the official client: pools offered, growth, a conflict, a watch restart, a
410 Gone, a node deleted while it holds blocks, and an --on-change that fails."""

from __future__ import annotations

import json
import shutil
import sys
import threading
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Network
from pathlib import Path

import pytest
import yaml
from conftest import EXAMPLE
from k8s_double import ApiDouble

from fabric.cli.main import main
from fabric.controller import Controller, Pass
from fabric.ipam.state import LIFE, load_state

pytestmark = pytest.mark.unit

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def fabric(tmp_path: Path) -> Path:
    (tmp_path / "state").mkdir()
    shutil.copy(EXAMPLE, tmp_path / "fabric.yaml")
    shutil.copy(EXAMPLE.parent / "state" / "ipam.yaml", tmp_path / "state" / "ipam.yaml")
    model = tmp_path / "fabric.yaml"
    assert main(["render", str(model), "--out", str(tmp_path / "build"), "-q"]) == 0
    return model


def blocks_of(model: Path, node: str) -> list[str]:
    return load_state(model.parent / "state")["node_blocks"][node]


def addresses(*blocks: str) -> set[str]:
    return {str(a) for b in blocks for a in IPv4Network(b)}


def agent_object(node: str, used: set[str] | None) -> dict:
    """A CiliumNode as the agent leaves it: labels and addresses of its own, no pool
    yet, and (once it reported) the addresses its pods use."""
    obj = {"apiVersion": "cilium.io/v2", "kind": "CiliumNode",
           "metadata": {"name": node, "labels": {"kubernetes.io/hostname": node}},
           "spec": {"addresses": [{"type": "InternalIP", "ip": "10.2.1.11"}]}}
    if used is not None:
        obj["status"] = {"ipam": {"used": {a: {"owner": f"default/pod-{i}"}
                                           for i, a in enumerate(sorted(used))}}}
    return obj


def first(block: str, n: int) -> set[str]:
    return {str(a) for a in list(IPv4Network(block))[:n]}


def pool(api: ApiDouble, node: str) -> set[str]:
    obj = api.get_object(node)
    assert obj is not None
    return set(obj["spec"].get("ipam", {}).get("pool", {}))


def controller(api: ApiDouble, model: Path, clock: Clock, **kw) -> Controller:
    return Controller(api.client(), model, model.parent / "state", model.parent / "build",
                      clock=clock, interval=0, **kw)


def test_pools_offer_each_nodes_blocks_and_a_full_node_grows(fabric: Path) -> None:
    clock = Clock()
    with ApiDouble() as api:
        api.put_object(agent_object("r01-n1", set()))
        api.put_object(agent_object("r01-n2", first(blocks_of(fabric, "r01-n2")[0], 5)))
        ctl = controller(api, fabric, clock)
        ctl.sync()
        done = ctl.reconcile()
        # Nothing to grow or release; the state records which blocks are empty since
        # when (nodes without a CiliumNode have no pods), and no file of the build changes.
        assert done.steps == [] and done.state_changed and not done.build_changed
        assert sorted(done.patched) == ["r01-n1", "r01-n2"]
        assert pool(api, "r01-n1") == addresses(*blocks_of(fabric, "r01-n1"))
        obj = api.get_object("r01-n1")
        assert obj["metadata"]["labels"] == {"kubernetes.io/hostname": "r01-n1"}, \
            "the agent's labels survive"
        assert obj["spec"]["addresses"], "the agent's spec survives"
        patches = [r for r in api.requests if r.method == "PATCH"]
        assert all(r.body["metadata"]["resourceVersion"] for r in patches)

        # r01-n1's pods take 60 of 64: it grows, the build is rendered, the pool follows.
        [block] = blocks_of(fabric, "r01-n1")
        api.patch_status("r01-n1", {"ipam": {"used": {a: {"owner": "default/p"}
                                                      for a in first(block, 60)}}})
        ctl.sync()
        done = ctl.reconcile()
        assert [(s.node, s.action) for s in done.steps] == [("r01-n1", "grow")]
        grown = done.steps[0].block
        assert blocks_of(fabric, "r01-n1") == [block, grown]
        assert pool(api, "r01-n1") == addresses(block, grown)
        rendered = yaml.safe_load((fabric.parent / "build" / "kubernetes" / "ciliumnodes" /
                                   "r01-n1.yaml").read_text())
        assert set(rendered["spec"]["ipam"]["pool"]) == addresses(block, grown)
        # The same usage again: nothing to do, nothing patched.
        again = ctl.reconcile()
        assert again.steps == [] and again.patched == [] and not again.state_changed


def test_a_conflict_is_read_again_and_retried(fabric: Path) -> None:
    clock = Clock()
    with ApiDouble() as api:
        api.put_object(agent_object("r02-n1", set()))
        ctl = controller(api, fabric, clock)
        ctl.sync()
        # The agent updates its object after the controller's list: the cached
        # resourceVersion is stale, so the patch is refused with 409 Conflict.
        router = sorted(first(blocks_of(fabric, "r02-n1")[0], 1))[0]
        api.patch_status("r02-n1", {"ipam": {"used": {router: {"owner": "router"}}}})
        done = ctl.reconcile()
        assert done.conflicts == 1 and done.patched == ["r02-n1"]
        assert pool(api, "r02-n1") == addresses(*blocks_of(fabric, "r02-n1"))
        codes = [r.method for r in api.requests]
        assert codes.count("PATCH") == 2 and "GET" in codes
        # And an injected 409 on a correct version is retried the same way.
        obj = api.get_object("r02-n1")
        obj["spec"]["ipam"]["pool"] = {}
        api.put_object(obj)
        ctl.sync()
        api.fail_next("PATCH", "/ciliumnodes/r02-n1", 409, "Conflict")
        done = ctl.reconcile()
        assert done.conflicts == 1 and pool(api, "r02-n1") == addresses(
            *blocks_of(fabric, "r02-n1"))


def _run(ctl: Controller) -> tuple[threading.Thread, threading.Event, list[Pass]]:
    stop, passes = threading.Event(), []
    t = threading.Thread(target=ctl.run, args=(stop, passes.append), daemon=True)
    t.start()
    return t, stop, passes


def _until(check, timeout: float = 10) -> None:
    end = datetime.now() + timedelta(seconds=timeout)
    while datetime.now() < end:
        if check():
            return
        threading.Event().wait(0.05)
    raise AssertionError("condition not reached")


def test_watch_restarts_and_a_410_relists(fabric: Path) -> None:
    clock = Clock()
    with ApiDouble() as api:
        api.put_object(agent_object("r03-n1", set()))
        ctl = controller(api, fabric, clock, resync=30)
        t, stop, passes = _run(ctl)
        try:
            api.wait_for_watches(1)
            lists_before = sum(1 for r in api.requests if r.method == "GET"
                               and "watch" not in r.query)
            # The stream ends (an API server restart, a load balancer): the watch
            # resumes from the last version seen, without a new list.
            api.drop_watches()
            api.wait_for_watches(1)
            assert sum(1 for r in api.requests if r.method == "GET"
                       and "watch" not in r.query) == lists_before, "a resumed watch, no list"
            # History compacted past that version, and the stream cut: the next watch
            # gets 410 Gone and the controller lists again.
            api.put_object(agent_object("r03-n2", set()))
            api.compact()
            # Had the controller already seen r03-n2, its version is not too old: the
            # server's 410 for the next watch is then injected, so the test is sure.
            api.fail_next("GET", "/ciliumnodes", 410, "Expired", watch=True)
            api.drop_watches()
            _until(lambda: sum(1 for r in api.requests if r.method == "GET"
                               and "watch" not in r.query) > lists_before)
            api.wait_for_watches(1)
            # After the relist it still acts on events: r03-n2 gets its pool.
            _until(lambda: pool(api, "r03-n2") == addresses(*blocks_of(fabric, "r03-n2")))
            [block] = blocks_of(fabric, "r03-n1")
            api.patch_status("r03-n1", {"ipam": {"used": {a: {} for a in first(block, 64)}}})
            _until(lambda: len(blocks_of(fabric, "r03-n1")) == 2)
            _until(lambda: pool(api, "r03-n1") == addresses(*blocks_of(fabric, "r03-n1")))
        finally:
            stop.set()
            api.drop_watches()
            t.join(10)
        assert not t.is_alive()
        assert passes and all(p.error is None for p in passes)
        watches = [r for r in api.requests if r.query.get("watch") in ("true", "1", "True")]
        assert len(watches) >= 3
        assert all(r.query.get("resourceVersion") for r in watches)


def test_a_node_deleted_while_it_holds_blocks(fabric: Path) -> None:
    """Its CiliumNode goes: no pods, so its grown block is withdrawn after the grace
    and returned after another; its own block stays, and comes back in its pool
    when the agent creates the object again."""
    clock = Clock()
    with ApiDouble() as api:
        [block] = blocks_of(fabric, "r04-n1")
        api.put_object(agent_object("r04-n1", first(block, 62)))
        ctl = controller(api, fabric, clock)
        ctl.sync()
        grown = ctl.reconcile().steps[0].block
        assert blocks_of(fabric, "r04-n1") == [block, grown]
        api.delete_object("r04-n1")
        ctl.sync()
        assert ctl.reconcile().steps == []         # empty since now
        clock.now += timedelta(minutes=15)
        done = ctl.reconcile()
        assert [(s.action, s.block) for s in done.steps] == [("withdraw", grown)]
        state = load_state(fabric.parent / "state")
        assert "withdrawn" in state[LIFE][grown]
        assert state["node_blocks"]["r04-n1"] == [block, grown]     # still held
        clock.now += timedelta(minutes=15)
        done = ctl.reconcile()
        assert [(s.action, s.block) for s in done.steps] == [("return", grown)]
        assert blocks_of(fabric, "r04-n1") == [block]
        assert grown not in load_state(fabric.parent / "state")[LIFE]
        # The node joins again: a fresh object, no pool; the controller fills it.
        api.put_object(agent_object("r04-n1", None))
        ctl.sync()
        done = ctl.reconcile()
        assert done.patched == ["r04-n1"] and pool(api, "r04-n1") == addresses(block)


def test_pools_wait_while_on_change_fails(fabric: Path, tmp_path: Path) -> None:
    flag = tmp_path / "ok"
    cmd = f"{sys.executable} -c \"import pathlib,sys; sys.exit(0 if pathlib.Path('{flag}')" \
          f".exists() else 3)\""
    clock = Clock()
    with ApiDouble() as api:
        [block] = blocks_of(fabric, "r05-n1")
        api.put_object(agent_object("r05-n1", first(block, 64)))
        ctl = controller(api, fabric, clock, on_change=cmd)
        ctl.sync()
        done = ctl.reconcile()
        assert done.build_changed and done.error and "exited 3" in done.error
        assert done.patched == [] and pool(api, "r05-n1") == set()
        flag.touch()
        # The state is written already: the next pass finds no change in it, and
        # still runs the command first, since the last build was never carried out.
        done = ctl.reconcile()
        assert not done.build_changed and done.error is None
        assert done.patched == ["r05-n1"]
        assert pool(api, "r05-n1") == addresses(*blocks_of(fabric, "r05-n1"))
        assert len(blocks_of(fabric, "r05-n1")) == 2


def test_an_api_server_error_is_retried_from_a_fresh_list(fabric: Path) -> None:
    """A 500 on the watch, then one on the list: logged, a pause, a fresh list; the
    controller goes on and still acts on events."""
    clock = Clock()
    with ApiDouble() as api:
        api.put_object(agent_object("r06-n1", set()))
        ctl = controller(api, fabric, clock, resync=30)
        api.fail_next("GET", "/ciliumnodes", 500, "InternalError", watch=True)
        api.fail_next("GET", "/ciliumnodes", 500, "InternalError", watch=False)
        t, stop, passes = _run(ctl)
        try:
            _until(lambda: pool(api, "r06-n1") == addresses(*blocks_of(fabric, "r06-n1")))
            api.wait_for_watches(1)
            [block] = blocks_of(fabric, "r06-n1")
            api.patch_status("r06-n1", {"ipam": {"used": {a: {} for a in first(block, 64)}}})
            _until(lambda: len(blocks_of(fabric, "r06-n1")) == 2)
        finally:
            stop.set()
            api.drop_watches()
            t.join(10)
        assert not t.is_alive()
        assert any(p.steps for p in passes)
        lists = [r for r in api.requests if r.method == "GET" and "watch" not in r.query
                 and r.path.endswith("/ciliumnodes")]
        assert len(lists) >= 3      # the first, the failed one, and the one that worked


def test_pools_change_in_the_order_that_keeps_pods_routable(fabric: Path, tmp_path: Path) -> None:
    """--on-change (the announcing step) sees the pool as it is at that moment: for a
    grow, still without the new block (offered only once announced); for a withdraw,
    already without the withdrawn one (no pod can take it while its route goes)."""
    seen = tmp_path / "seen.jsonl"
    clock = Clock()
    with ApiDouble() as api:
        url = f"{api.url}/apis/cilium.io/v2/ciliumnodes/r02-n2"
        cmd = (f"{sys.executable} -c \"import json, urllib.request; "
               f"o = json.load(urllib.request.urlopen('{url}')); "
               f"open('{seen}', 'a').write(json.dumps(sorted(o['spec'].get('ipam', {{}})"
               f".get('pool', {{}}))) + chr(10))\"")
        [block] = blocks_of(fabric, "r02-n2")
        api.put_object(agent_object("r02-n2", first(block, 60)))
        ctl = controller(api, fabric, clock, on_change=cmd)
        ctl.sync()
        ctl.reconcile()
        grown = blocks_of(fabric, "r02-n2")[1]
        # One run: the start's (the last build may not have been carried out) and the grow's.
        [at_grow] = [set(json.loads(x)) for x in seen.read_text().splitlines()]
        assert at_grow == set(), "offered before it was announced"
        assert pool(api, "r02-n2") == addresses(block, grown)

        # 50 pods go (a merge patch: null deletes), 10 stay.
        gone = first(block, 60) - first(block, 10)
        api.patch_status("r02-n2", {"ipam": {"used": {a: None for a in gone}}})
        ctl.sync()
        ctl.reconcile()
        clock.now += timedelta(minutes=15)
        done = ctl.reconcile()
        assert [(s.action, s.block) for s in done.steps] == [("withdraw", grown)]
        at_withdraw = set(json.loads(seen.read_text().splitlines()[-1]))
        assert at_withdraw == addresses(block), "the withdrawn block was still offered"
        assert pool(api, "r02-n2") == addresses(block)
