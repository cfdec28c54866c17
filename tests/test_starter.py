"""`fabric init` writes a valid starter at every size up to its limits: the pools
are chosen to fit (room for twice the nodes per rack where the starter supernet
holds it, else for the nodes given)."""

from __future__ import annotations

from ipaddress import IPv4Network

import pytest

from fabric.model.load import load_model
from fabric.model.starter import starter_model

pytestmark = pytest.mark.unit


def _pools(text: str) -> tuple[IPv4Network, int]:
    model = load_model("starter.yaml", text)
    return model.pools.pod, model.pools.rack_prefix_length


@pytest.mark.parametrize(("racks", "nodes", "rack_len", "room"), [
    (4, 8, 22, 16),         # room for twice the nodes: 16 /26 blocks in a /22
    (100, 240, 17, 512),    # the most nodes a rack may have
    (2048, 32, 20, 64),     # twice the nodes still fit
    (2048, 33, 20, 64),     # twice would not: room for the 33 given (a /20 holds 64)
    (4096, 32, 21, 32),     # twice would not: exactly the nodes given
])
def test_the_starter_fits_its_pools(racks: int, nodes: int, rack_len: int, room: int) -> None:
    pod, got = _pools(starter_model(racks, nodes))
    assert (got, 2 ** (26 - got)) == (rack_len, room)
    assert pod.prefixlen >= 9 and pod.subnet_of(IPv4Network("10.128.0.0/9"))
    assert racks <= 2 ** (rack_len - pod.prefixlen)      # every rack pool fits


@pytest.mark.slow
def test_the_2000_by_40_starter_is_valid() -> None:
    """The size the scale issue asks for: 2,000 racks × 40 nodes, validated whole."""
    model = load_model("starter.yaml", starter_model(2000, 40, "mixed"))
    assert len(model.racks) == 2000 and sum(len(r.nodes) for r in model.racks) == 80000
    assert model.pools.rack_prefix_length == 20         # room for the 40, not for 80


def test_a_starter_that_cannot_fit_is_refused() -> None:
    with pytest.raises(ValueError, match="starter pod supernet"):
        starter_model(4096, 33)
