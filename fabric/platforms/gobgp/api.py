"""GoBGP's gRPC API for Python, generated from the API definitions Debian ships.

The stubs are generated (grpcio-tools) into fabric/platforms/gobgp/_generated/ on first use or
by `python -m fabric.platforms.gobgp.api` (scripts/setup runs it); they are not committed.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import sys
from pathlib import Path
from types import ModuleType

from fabric.errors import OperationalError

PROTO_DIR = Path(os.environ.get("GOBGP_PROTO_DIR",
                                "/usr/share/gocode/src/github.com/osrg/gobgp/api"))
PROTOS = ("gobgp.proto", "attribute.proto", "capability.proto")
OUT = Path(__file__).resolve().parent / "_generated"


class ApiUnavailable(OperationalError):
    pass


def _digest() -> str:
    h = hashlib.sha256()
    for name in PROTOS:
        h.update((PROTO_DIR / name).read_bytes())
    return h.hexdigest()[:16]


def generate(force: bool = False) -> Path:
    """Generate the stubs if missing or made from other proto files; return their folder."""
    missing = [p for p in PROTOS if not (PROTO_DIR / p).exists()]
    if missing:
        raise ApiUnavailable(
            f"GoBGP API definitions not found in {PROTO_DIR} ({', '.join(missing)}): "
            "install the Debian package golang-github-osrg-gobgp-dev (scripts/setup does)")
    stamp = OUT / "SOURCE"
    digest = _digest()
    if not force and stamp.exists() and stamp.read_text() == digest:
        return OUT
    try:
        from grpc_tools import protoc
    except ImportError as exc:
        raise ApiUnavailable("grpcio-tools is not installed: pip install -e . "
                             "(scripts/setup does)") from exc
    OUT.mkdir(exist_ok=True)
    include = Path(protoc.__file__).parent / "_proto"
    args = ["protoc", f"-I{PROTO_DIR}", f"-I{include}", f"--python_out={OUT}",
            f"--grpc_python_out={OUT}", *PROTOS]
    if protoc.main(args) != 0:
        raise ApiUnavailable(f"protoc failed on {PROTO_DIR}")
    stamp.write_text(digest)
    return OUT


def modules() -> tuple[ModuleType, ModuleType, ModuleType, ModuleType]:
    """(gobgp_pb2, gobgp_pb2_grpc, attribute_pb2, capability_pb2)."""
    out = str(generate())
    if out not in sys.path:
        sys.path.insert(0, out)  # the generated code imports its siblings by bare name
    load = importlib.import_module
    return load("gobgp_pb2"), load("gobgp_pb2_grpc"), load("attribute_pb2"), load("capability_pb2")


if __name__ == "__main__":
    print(f"GoBGP API stubs in {generate(force='--force' in sys.argv)}")
