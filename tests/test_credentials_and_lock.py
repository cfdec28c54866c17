"""Credentials come from the environment or an owner-only file and never show;
one apply at a time, and a stale lock is reported, not broken."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest

from fabric.deploy.credentials import CredentialError, load
from fabric.deploy.lock import ApplyLock, LockHeld

pytestmark = pytest.mark.unit

SECRET = "pw-Zq81-never-shown"


def test_environment_credentials(monkeypatch) -> None:
    monkeypatch.setenv("FABRIC_USERNAME", "netops")
    monkeypatch.setenv("FABRIC_PASSWORD", SECRET)
    monkeypatch.delenv("FABRIC_CREDENTIALS", raising=False)
    creds = load().for_device("r01-tor")
    assert creds.username == "netops" and creds.password == SECRET
    assert SECRET not in repr(creds)


def test_file_must_be_owner_only(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("FABRIC_USERNAME", raising=False)
    monkeypatch.delenv("FABRIC_PASSWORD", raising=False)
    f = tmp_path / "creds.yaml"
    f.write_text(f"default: {{username: netops, password: {SECRET}}}\n"
                 f"devices: {{core1: {{username: core-admin, password: other-{SECRET}}}}}\n")
    f.chmod(0o644)
    with pytest.raises(CredentialError, match="chmod 600") as exc:
        load(f)
    assert SECRET not in str(exc.value)
    f.chmod(0o600)
    store = load(f)
    assert store.for_device("r01-tor").username == "netops"
    assert store.for_device("core1").username == "core-admin"


def test_missing_and_malformed_credentials_say_where_not_what(tmp_path: Path,
                                                              monkeypatch) -> None:
    monkeypatch.delenv("FABRIC_USERNAME", raising=False)
    monkeypatch.delenv("FABRIC_PASSWORD", raising=False)
    monkeypatch.delenv("FABRIC_CREDENTIALS", raising=False)
    with pytest.raises(CredentialError, match="FABRIC_USERNAME"):
        load().for_device("r01-tor")
    f = tmp_path / "creds.yaml"
    f.write_text(f"default: {{username: netops, passwd: {SECRET}}}\n")
    f.chmod(0o600)
    with pytest.raises(CredentialError, match="expected username and password") as exc:
        load(f)
    assert SECRET not in str(exc.value)


def test_second_apply_is_refused_and_stale_lock_reported(tmp_path: Path) -> None:
    path = tmp_path / "apply.lock"
    with ApplyLock(path):
        with pytest.raises(LockHeld, match="another apply is running") as exc, ApplyLock(path):
            pass
        assert f"pid {os.getpid()}" in str(exc.value)
    assert not path.exists()
    # A lock left by a process that is gone on this host: reported as stale, kept.
    path.write_text(json.dumps({"owner": f"someone@{socket.gethostname()}", "pid": 2 ** 22 + 7,
                                "since": "2026-11-26T04:00:00+0000"}))
    with pytest.raises(LockHeld, match="stale apply lock") as exc, ApplyLock(path):
        pass
    assert "someone@" in str(exc.value) and path.exists()


def test_mask_hides_current_and_unknown_keys() -> None:
    from fabric.deploy.secrets import mask

    values = {"__secret_core__": "Cur-K3y-1"}
    shown = mask("- neighbor 10.0.0.1 password Old-K3y-0\n"
                 "+ neighbor 10.0.0.1 password Cur-K3y-1\n"
                 "  peer 10.0.0.2 password cipher $c$3$QUJDRA==\n"
                 "  neighbor 10.0.0.3 password 3 9125d59c18a9b015\n", values)
    assert shown == ("- neighbor 10.0.0.1 password ******\n"
                     "+ neighbor 10.0.0.1 password __secret_core__\n"
                     "  peer 10.0.0.2 password cipher ******\n"
                     "  neighbor 10.0.0.3 password 3 ******\n")
    # A node's gobgpd.toml, as a plan of it shows the old and the new key.
    toml = mask('-    auth-password = "Old-K3y-0"\n+    auth-password = "Cur-K3y-1"\n', values)
    assert toml == ('-    auth-password = "******"\n'
                    '+    auth-password = "__secret_core__"\n')


def test_lab_secret_store_is_only_written_for_a_new_secret(tmp_path: Path) -> None:
    from fabric.deploy.secrets import lab_fallback
    from fabric.intent.types import SecretRef

    class Intent:
        secrets = {"core": SecretRef("core", env="UNSET_FABRIC_VAR")}

    store = tmp_path / "secrets"
    first = lab_fallback(Intent(), store)
    assert store.stat().st_mode & 0o777 == 0o600 and len(first["core"]) == 24
    inode = store.stat().st_ino
    assert lab_fallback(Intent(), store) == first and store.stat().st_ino == inode
    Intent.secrets["extra"] = SecretRef("extra", env="UNSET_FABRIC_VAR")
    second = lab_fallback(Intent(), store)
    assert second["core"] == first["core"] and "extra" in second
    assert [p.name for p in tmp_path.iterdir()] == ["secrets"]
