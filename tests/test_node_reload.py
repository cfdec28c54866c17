"""The node deployer against a real gobgpd (in a network namespace of this test's
own): it reloads with SIGHUP only where GoBGP applies the whole change.

GoBGP 3.10 applies only the first changed neighbor (and the first changed peer
group) of a SIGHUP reload: `updateNeighbors` returns inside its loop
(pkg/config/config.go). A key rotation or an add-path change touches every
neighbor at once, so those must restart gobgpd (with `-r`, graceful restart).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from fabric.deploy.nodes import install
from fabric.deploy.outcome import Status
from fabric.lab.speakers import GobgpService
from fabric.platforms.gobgp.client import GobgpClient

pytestmark = [pytest.mark.lab,
              pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root")]


def _config(descriptions: dict[str, str]) -> str:
    out = ['[global.config]\n  as = 65001\n  router-id = "10.9.0.1"\n  port = 179\n']
    for address, text in descriptions.items():
        out.append(f'[[neighbors]]\n  [neighbors.config]\n    neighbor-address = "{address}"\n'
                   f'    peer-as = 65001\n    description = "{text}"\n'
                   '  [neighbors.transport.config]\n    passive-mode = true\n')
    return "\n".join(out)


def _descriptions(service: GobgpService) -> dict[str, str]:
    with GobgpClient(service.socket) as c:
        return {r.peer.state.neighbor_address: r.peer.conf.description
                for r in c.stub.ListPeer(c.pb.ListPeerRequest(), timeout=5)}


@pytest.fixture
def service(tmp_path: Path):
    ns = f"bftest-reload-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
    svc = GobgpService(ns, tmp_path / "node")
    try:
        yield svc
    finally:
        svc.stop()
        subprocess.run(["ip", "netns", "del", ns], check=True)


def test_every_changed_neighbor_is_applied(service: GobgpService) -> None:
    peers = ("10.9.0.2", "10.9.0.3")
    assert install(service, _config(dict.fromkeys(peers, "first"))) == Status.INSTALLED
    assert _descriptions(service) == dict.fromkeys(peers, "first")

    # One neighbor changed: a reload applies it.
    pid = service.pid()
    one = {peers[0]: "second", peers[1]: "first"}
    assert install(service, _config(one)) == Status.RELOADED
    assert service.pid() == pid

    def applied() -> bool:
        return _descriptions(service) == one
    import time
    deadline = time.monotonic() + 10
    while not applied():
        assert time.monotonic() < deadline, _descriptions(service)
        time.sleep(0.1)

    # Both changed (a key rotation, add-path on every peer): a reload would apply
    # only the first, so the deployer restarts gobgpd gracefully instead.
    both = dict.fromkeys(peers, "third")
    assert install(service, _config(both)) == Status.RESTARTED
    assert _descriptions(service) == both
