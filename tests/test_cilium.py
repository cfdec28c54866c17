"""What the fabric gives Cilium, checked against Cilium's own published schemas
(tests/data/cilium/, see SOURCE.md there): the CiliumNode objects of CRD-backed
IPAM, with exactly each node's blocks, and Helm values that select that mode."""

from __future__ import annotations

import json
from ipaddress import IPv4Network
from pathlib import Path

import jsonschema
import pytest
import yaml
from conftest import EXAMPLE, ROOT

from fabric import pipeline

pytestmark = pytest.mark.unit

DATA = Path(__file__).parent / "data" / "cilium"
# Modes where something other than the fabric hands out pod CIDRs or addresses:
# the operator (cluster-pool, multi-pool, cloud ENI/Azure/AlibabaCloud) or
# Kubernetes' node podCIDR (kubernetes).
SELF_ALLOCATING = {"cluster-pool", "multi-pool", "kubernetes", "eni", "azure", "alibabacloud"}


def _crd_schema() -> dict:
    crd = yaml.safe_load((DATA / "ciliumnodes.yaml").read_text())
    assert crd["kind"] == "CustomResourceDefinition"
    [v2] = [v for v in crd["spec"]["versions"] if v["name"] == "v2"]
    assert v2["served"] and v2["storage"]
    return v2["schema"]["openAPIV3Schema"]


@pytest.fixture(scope="module")
def rendered() -> tuple[pipeline.Result, dict[str, str]]:
    result = pipeline.build(EXAMPLE)
    return result, pipeline.render(result)


def test_every_ciliumnode_validates_and_offers_exactly_its_blocks(rendered) -> None:
    result, files = rendered
    schema = _crd_schema()
    validator = jsonschema.Draft7Validator(schema)
    nodes = {n: f for n, f in files.items() if n.startswith("kubernetes/ciliumnodes/")}
    assert len(nodes) == len(result.intent.node_blocks) == 19
    for name, text in nodes.items():
        obj = yaml.safe_load(text)
        errors = [f"{'.'.join(map(str, e.path))}: {e.message}"
                  for e in validator.iter_errors(obj)]
        assert errors == [], name
        node = obj["metadata"]["name"]
        assert name == f"kubernetes/ciliumnodes/{node}.yaml"
        assert (obj["apiVersion"], obj["kind"]) == ("cilium.io/v2", "CiliumNode")
        blocks = result.intent.node_blocks[node]
        assert blocks
        want = {str(a) for b in blocks for a in b}
        assert set(obj["spec"]["ipam"]["pool"]) == want
        assert all(v == {} for v in obj["spec"]["ipam"]["pool"].values()), \
            "an owner would pin the address to one pod"
        # Nothing else of spec or metadata: the agent owns labels, addresses and
        # the rest, and podCIDRs would only mislead (unused in this mode).
        assert set(obj) == {"apiVersion", "kind", "metadata", "spec"}
        assert obj["metadata"] == {"name": node} and obj["spec"] == {"ipam": {"pool": obj[
            "spec"]["ipam"]["pool"]}}


def test_a_node_with_two_blocks_offers_both(rendered) -> None:
    _, files = rendered
    obj = yaml.safe_load(files["kubernetes/ciliumnodes/r01-n3.yaml"])
    pool = obj["spec"]["ipam"]["pool"]
    assert len(pool) == 128
    assert {str(IPv4Network(f"{a}/26", strict=False)) for a in pool} == {
        "172.16.0.128/26", "172.16.0.192/26"}


def test_the_schema_rejects_what_it_should() -> None:
    """The copy of the schema is the real one: a wrong shape fails it."""
    validator = jsonschema.Draft7Validator(_crd_schema())
    bad = {"apiVersion": "cilium.io/v2", "kind": "CiliumNode", "metadata": {"name": "n"},
           "spec": {"ipam": {"pool": {"10.0.0.1": {"owner": 5}}, "podCIDRs": "10.0.0.0/26"}}}
    assert {e.validator for e in validator.iter_errors(bad)} == {"type"}
    assert not validator.is_valid({"apiVersion": "cilium.io/v2", "kind": "CiliumNode"})


def test_helm_values_select_crd_ipam_and_validate_against_the_chart(rendered) -> None:
    result, files = rendered
    values = yaml.safe_load(files["kubernetes/cilium-values.yaml"])
    schema = json.loads((DATA / "values.schema.json").read_text())
    errors = [f"{'.'.join(map(str, e.path))}: {e.message}"
              for e in jsonschema.Draft7Validator(schema).iter_errors(values)]
    assert errors == []
    # The chart's schema allows unknown keys: check each rendered key is the chart's.
    unknown = [".".join(p) for p in _paths(values) if not _in_schema(schema, p)]
    assert unknown == []
    assert values["ipam"] == {"mode": "crd"}
    assert "crd" not in SELF_ALLOCATING
    assert values["k8s"]["requireIPv4PodCIDR"] is False
    assert values["routingMode"] == "native"
    assert values["ipv4NativeRoutingCIDR"] == str(result.intent.pools.pod)
    assert values["autoDirectNodeRoutes"] is False


def _paths(values: dict, at: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for k, v in values.items():
        out += _paths(v, (*at, k)) if isinstance(v, dict) else [(*at, k)]
    return out


def _in_schema(schema: dict, path: tuple[str, ...]) -> bool:
    for key in path:
        schema = schema.get("properties", {}).get(key)
        if schema is None:
            return False
    return True


def test_a_misspelt_helm_key_is_caught() -> None:
    schema = json.loads((DATA / "values.schema.json").read_text())
    assert _in_schema(schema, ("ipam", "mode")) and _in_schema(schema, ("k8s",
                                                                         "requireIPv4PodCIDR"))
    assert not _in_schema(schema, ("ipam", "modes"))
    assert not _in_schema(schema, ("routingmode",))


def test_no_rendered_object_lets_cilium_allocate_on_its_own(rendered) -> None:
    """No pool object for the operator (CiliumPodIPPool: multi-pool), no podCIDRs for
    the agent to take, no cluster-pool settings anywhere in the output."""
    _, files = rendered
    for name, text in files.items():
        if not name.startswith("kubernetes/"):
            continue
        for doc in yaml.safe_load_all(text):
            assert doc.get("kind") != "CiliumPodIPPool", name
            assert "podCIDRs" not in json.dumps(doc), name
            assert "clusterPool" not in json.dumps(doc), name


def test_example_vips_are_outside_kubeadms_service_range() -> None:
    """10.96.0.0/12 is kubeadm's default service CIDR (DefaultServicesSubnet, in
    cmd/kubeadm/app/apis/kubeadm/v1beta4/defaults.go); a VIP there would clash
    with a ClusterIP such as kube-dns's 10.96.0.10."""
    intent = pipeline.build(EXAMPLE).intent
    services = IPv4Network("10.96.0.0/12")
    assert not intent.pools.vip.overlaps(services)
    assert intent.vips and all(v.address not in services for v in intent.vips)
    assert "10.96." not in (ROOT / "inventory" / "fabric.yaml").read_text()
