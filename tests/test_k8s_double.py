"""The Kubernetes API double (k8s_double) as the official client sees it: CRUD,
patches, optimistic concurrency, the status subresource, watches (resume, 410,
timeout, restart), paging and injected failures."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from k8s_double import ApiDouble
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

pytestmark = pytest.mark.unit

G = ("cilium.io", "v2", "ciliumnodes")


def node(name: str, labels: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "cilium.io/v2", "kind": "CiliumNode", "metadata": meta,
            "spec": spec}


def status_of(e: ApiException) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(e.body)
    assert body["kind"] == "Status" and body["code"] == e.status
    return body


@pytest.fixture
def api() -> Iterator[ApiDouble]:
    with ApiDouble() as double:
        yield double


@pytest.fixture
def crd(api: ApiDouble) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(api.client())


def test_create_get_list(api: ApiDouble, crd: client.CustomObjectsApi) -> None:
    body = node("n1", {"role": "leaf"}, bgp={"asn": 65001})
    body["status"] = {"ignored": True}
    made = crd.create_cluster_custom_object(*G, body)
    meta = made["metadata"]
    assert meta["resourceVersion"] == "1" and meta["generation"] == 1
    assert meta["uid"] and meta["creationTimestamp"].endswith("Z")
    assert "status" not in made  # the status subresource owns it
    crd.create_cluster_custom_object(*G, node("n2", {"role": "spine"}))

    assert crd.get_cluster_custom_object(*G, "n1") == made
    with pytest.raises(ApiException) as e:
        crd.get_cluster_custom_object(*G, "nope")
    assert e.value.status == 404 and status_of(e.value)["reason"] == "NotFound"
    with pytest.raises(ApiException) as e:
        crd.create_cluster_custom_object(*G, node("n1"))
    assert e.value.status == 409 and status_of(e.value)["reason"] == "AlreadyExists"

    listed = crd.list_cluster_custom_object(*G)
    assert listed["kind"] == "CiliumNodeList" and listed["apiVersion"] == "cilium.io/v2"
    assert listed["metadata"]["resourceVersion"] == "2" == api.resource_version
    assert [o["metadata"]["name"] for o in listed["items"]] == ["n1", "n2"]
    leaves = crd.list_cluster_custom_object(*G, label_selector="role=leaf")
    assert [o["metadata"]["name"] for o in leaves["items"]] == ["n1"]
    not_leaves = crd.list_cluster_custom_object(*G, label_selector="role!=leaf")
    assert [o["metadata"]["name"] for o in not_leaves["items"]] == ["n2"]


def test_paging_serves_the_first_pages_snapshot(api: ApiDouble,
                                                crd: client.CustomObjectsApi) -> None:
    for name in ("a", "b", "c"):
        api.put_object(node(name))
    first = crd.list_cluster_custom_object(*G, limit=2)
    assert [o["metadata"]["name"] for o in first["items"]] == ["a", "b"]
    assert first["metadata"]["remainingItemCount"] == 1
    api.delete_object("c")
    rest = crd.list_cluster_custom_object(*G, limit=2, _continue=first["metadata"]["continue"])
    assert [o["metadata"]["name"] for o in rest["items"]] == ["c"]
    assert rest["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
    assert "continue" not in rest["metadata"]
    api.compact()
    with pytest.raises(ApiException) as e:
        crd.list_cluster_custom_object(*G, limit=2, _continue=first["metadata"]["continue"])
    assert e.value.status == 410 and status_of(e.value)["reason"] == "Expired"


def test_merge_patch_and_json_patch(crd: client.CustomObjectsApi) -> None:
    crd.create_cluster_custom_object(*G, node("n1", asn=65001, peers=["a"], drop="me"))
    merged = crd.patch_cluster_custom_object(*G, "n1", {"spec": {"drop": None, "peers": ["b"]},
                                                        "metadata": {"labels": {"x": "y"}}})
    assert merged["spec"] == {"asn": 65001, "peers": ["b"]}  # null deletes, lists replace
    assert merged["metadata"]["labels"] == {"x": "y"}
    assert merged["metadata"]["resourceVersion"] == "2"
    assert merged["metadata"]["generation"] == 2

    ops = [{"op": "test", "path": "/spec/asn", "value": 65001},
           {"op": "replace", "path": "/spec/asn", "value": 65002},
           {"op": "add", "path": "/spec/peers/-", "value": "c"},
           {"op": "remove", "path": "/metadata/labels/x"}]
    patched = crd.patch_cluster_custom_object(*G, "n1", ops,
                                              _content_type="application/json-patch+json")
    assert patched["spec"] == {"asn": 65002, "peers": ["b", "c"]}
    assert patched["metadata"]["labels"] == {}
    assert patched["metadata"]["resourceVersion"] == "3"

    with pytest.raises(ApiException) as e:  # a failed test op rejects the whole patch
        crd.patch_cluster_custom_object(*G, "n1", [{"op": "test", "path": "/spec/asn",
                                                    "value": 1}],
                                        _content_type="application/json-patch+json")
    assert e.value.status == 422
    unchanged = crd.patch_cluster_custom_object(*G, "n1", {"spec": {"asn": 65002}})
    assert unchanged["metadata"]["resourceVersion"] == "3"  # a no-op write is no write


def test_stale_resource_version_conflicts(crd: client.CustomObjectsApi) -> None:
    old = crd.create_cluster_custom_object(*G, node("n1", asn=1))
    crd.patch_cluster_custom_object(*G, "n1", {"spec": {"asn": 2}})
    stale = {"metadata": {"resourceVersion": old["metadata"]["resourceVersion"]},
             "spec": {"asn": 3}}
    with pytest.raises(ApiException) as e:
        crd.patch_cluster_custom_object(*G, "n1", stale)
    body = status_of(e.value)
    assert e.value.status == 409 and body["reason"] == "Conflict"
    assert body["message"] == (
        'Operation cannot be fulfilled on ciliumnodes.cilium.io "n1": the object has been '
        "modified; please apply your changes to the latest version and try again")
    with pytest.raises(ApiException) as e:
        crd.replace_cluster_custom_object(*G, "n1", {**old, "spec": {"asn": 3}})
    assert e.value.status == 409
    current = crd.get_cluster_custom_object(*G, "n1")
    assert current["spec"] == {"asn": 2}
    replaced = crd.replace_cluster_custom_object(*G, "n1", {**current, "spec": {"asn": 3}})
    assert int(replaced["metadata"]["resourceVersion"]) > int(
        current["metadata"]["resourceVersion"])
    unversioned = {**replaced, "metadata": {"name": "n1"}}
    with pytest.raises(ApiException) as e:  # custom resources need a versioned PUT
        crd.replace_cluster_custom_object(*G, "n1", unversioned)
    assert e.value.status == 422


def test_strategic_merge_patch_is_unsupported(crd: client.CustomObjectsApi) -> None:
    crd.create_cluster_custom_object(*G, node("n1"))
    with pytest.raises(ApiException) as e:
        crd.patch_cluster_custom_object(
            *G, "n1", {"spec": {"a": 1}},
            _content_type="application/strategic-merge-patch+json")
    assert e.value.status == 415
    assert status_of(e.value)["reason"] == "UnsupportedMediaType"


def test_status_subresource_is_separate(api: ApiDouble, crd: client.CustomObjectsApi) -> None:
    crd.create_cluster_custom_object(*G, node("n1", asn=1))
    via_main = crd.patch_cluster_custom_object(*G, "n1", {"status": {"up": True}})
    assert "status" not in via_main and via_main["metadata"]["resourceVersion"] == "1"

    via_status = crd.patch_cluster_custom_object_status(
        *G, "n1", {"status": {"up": True}, "spec": {"asn": 9}})
    assert via_status["status"] == {"up": True} and via_status["spec"] == {"asn": 1}
    assert via_status["metadata"]["generation"] == 1  # status is not the spec
    assert via_status["metadata"]["resourceVersion"] == "2"

    spec = crd.patch_cluster_custom_object(*G, "n1", {"spec": {"asn": 2}, "status": None})
    assert spec["status"] == {"up": True} and spec["metadata"]["generation"] == 2
    api.patch_status("n1", {"up": False})
    assert crd.get_cluster_custom_object_status(*G, "n1")["status"] == {"up": False}
    assert [e.type for e in api.history] == ["ADDED", "MODIFIED", "MODIFIED", "MODIFIED"]


def test_watch_from_a_lists_resource_version(api: ApiDouble,
                                             crd: client.CustomObjectsApi) -> None:
    api.put_object(node("before"))
    since = crd.list_cluster_custom_object(*G)["metadata"]["resourceVersion"]
    crd.create_cluster_custom_object(*G, node("n1"))  # between the list and the watch

    def another_actor() -> None:
        api.wait_for_watches(1)
        api.put_object(node("n1", asn=7))
        api.delete_object("n1")

    actor = threading.Thread(target=another_actor)
    actor.start()
    w = watch.Watch()
    seen = []
    for event in w.stream(crd.list_cluster_custom_object, *G, resource_version=since,
                          timeout_seconds=3):
        obj = event["object"]
        seen.append((event["type"], obj["metadata"]["name"], obj.get("spec")))
        if len(seen) == 3:
            w.stop()
    actor.join(timeout=5)
    assert seen == [("ADDED", "n1", {}), ("MODIFIED", "n1", {"asn": 7}),
                    ("DELETED", "n1", {"asn": 7})]
    assert w.resource_version == api.resource_version  # the DELETED carries the delete's


def test_watch_without_resource_version_starts_with_the_state(
        api: ApiDouble, crd: client.CustomObjectsApi) -> None:
    api.put_object(node("a", {"role": "spine"}))
    api.put_object(node("b", {"role": "leaf"}))
    w = watch.Watch()
    for event in w.stream(crd.list_cluster_custom_object, *G, label_selector="role=leaf",
                          timeout_seconds=3):
        assert (event["type"], event["object"]["metadata"]["name"]) == ("ADDED", "b")
        w.stop()  # the state comes in name order: "a" was filtered out


def test_an_object_leaving_the_selection_is_deleted_for_the_watch(
        api: ApiDouble, crd: client.CustomObjectsApi) -> None:
    since = api.put_object(node("other"))["metadata"]["resourceVersion"]
    api.put_object(node("a", {"role": "leaf"}))
    api.put_object(node("a", {"role": "spine"}))
    w = watch.Watch()
    events = []
    for event in w.stream(crd.list_cluster_custom_object, *G, label_selector="role=leaf",
                          resource_version=since, timeout_seconds=3):
        events.append(event)
        if len(events) == 2:
            w.stop()
    assert [e["type"] for e in events] == ["ADDED", "DELETED"]
    assert events[1]["object"]["metadata"]["labels"] == {"role": "leaf"}


def test_too_old_resource_version_is_410(api: ApiDouble,
                                         crd: client.CustomObjectsApi) -> None:
    api.put_object(node("n1"))
    api.put_object(node("n1", asn=2))
    api.compact()
    # The official Watch turns the ERROR event into ApiException(410); without a
    # timeout it first retries once from the same resourceVersion.
    with pytest.raises(ApiException) as e:
        list(watch.Watch().stream(crd.list_cluster_custom_object, *G, resource_version="1"))
    assert e.value.status == 410
    assert e.value.reason == "Expired: too old resource version: 1 (2)"
    assert sum(r.query.get("watch") == "true" for r in api.requests) == 2
    with pytest.raises(ApiException) as e:
        list(watch.Watch().stream(crd.list_cluster_custom_object, *G, resource_version="1",
                                  timeout_seconds=1))
    assert e.value.status == 410
    assert sum(r.query.get("watch") == "true" for r in api.requests) == 3  # no retry
    compacted_at = api.resource_version  # from the compaction point on is fine
    api.put_object(node("n2"))
    w = watch.Watch()
    for event in w.stream(crd.list_cluster_custom_object, *G,
                          resource_version=compacted_at, timeout_seconds=3):
        assert (event["type"], event["object"]["metadata"]["name"]) == ("ADDED", "n2")
        w.stop()


def test_timeout_seconds_ends_the_stream(api: ApiDouble,
                                         crd: client.CustomObjectsApi) -> None:
    started = time.monotonic()
    assert list(watch.Watch().stream(crd.list_cluster_custom_object, *G,
                                     timeout_seconds=1)) == []
    assert 0.9 <= time.monotonic() - started < 3
    assert api.watch_count == 0


def test_a_dropped_watch_resumes_from_its_last_resource_version(
        api: ApiDouble, crd: client.CustomObjectsApi) -> None:
    api.put_object(node("n1"))
    w = watch.Watch()
    seen: list[tuple[str, str]] = []

    def consume() -> None:
        for event in w.stream(crd.list_cluster_custom_object, *G):
            seen.append((event["type"], event["object"]["metadata"]["resourceVersion"]))
            if len(seen) == 2:
                w.stop()

    consumer = threading.Thread(target=consume)
    consumer.start()
    api.wait_for_watches(1)
    api.drop_watches()
    api.put_object(node("n1", asn=2))  # while the client is away: from the history
    consumer.join(timeout=5)
    assert not consumer.is_alive()
    assert seen == [("ADDED", "1"), ("MODIFIED", "2")]
    watches = [r.query for r in api.requests if r.query.get("watch") == "true"]
    assert len(watches) == 2 and watches[1]["resourceVersion"] == "1"


def test_fail_next_injects_one_error(api: ApiDouble, crd: client.CustomObjectsApi) -> None:
    crd.create_cluster_custom_object(*G, node("n1"))
    api.fail_next("GET", "/ciliumnodes/n1", 500, "InternalError", "etcd is down")
    with pytest.raises(ApiException) as e:
        crd.get_cluster_custom_object(*G, "n1")
    assert e.value.status == 500 and status_of(e.value)["message"] == "etcd is down"
    assert crd.get_cluster_custom_object(*G, "n1")["metadata"]["name"] == "n1"

    api.fail_next("PATCH", "/ciliumnodes/n1/status", 409, "Conflict")
    with pytest.raises(ApiException) as e:
        crd.patch_cluster_custom_object_status(*G, "n1", {"status": {"up": True}})
    assert e.value.status == 409 and "the object has been modified" in status_of(e.value)[
        "message"]
    crd.patch_cluster_custom_object_status(*G, "n1", {"status": {"up": True}})

    api.fail_next("GET", "/ciliumnodes", 503, "ServiceUnavailable", watch=True)
    assert crd.list_cluster_custom_object(*G)["items"]  # not a watch: not matched
    with pytest.raises(ApiException) as e:
        list(watch.Watch().stream(crd.list_cluster_custom_object, *G, timeout_seconds=1))
    assert e.value.status == 503

    patches = [r for r in api.requests if r.method == "PATCH"]
    assert [(r.path, r.body) for r in patches] == [
        ("/apis/cilium.io/v2/ciliumnodes/n1/status", {"status": {"up": True}})] * 2


def test_delete_and_finalizers(api: ApiDouble, crd: client.CustomObjectsApi) -> None:
    crd.create_cluster_custom_object(*G, node("n1"))
    gone = crd.delete_cluster_custom_object(*G, "n1")
    assert gone["kind"] == "Status" and gone["status"] == "Success"
    assert api.history[-1].type == "DELETED" and api.get_object("n1") is None

    held = node("n2")
    held["metadata"]["finalizers"] = ["cilium.io/keep"]
    crd.create_cluster_custom_object(*G, held)
    marked = crd.delete_cluster_custom_object(*G, "n2")
    assert marked["metadata"]["deletionTimestamp"] and marked["metadata"]["generation"] == 2
    crd.patch_cluster_custom_object(*G, "n2", {"metadata": {"finalizers": None}})
    assert api.get_object("n2") is None
    assert [e.type for e in api.history][-2:] == ["MODIFIED", "DELETED"]
