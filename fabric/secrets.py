"""Secret references → values, at deploy time only. Rendered files hold
placeholders; `substitute` fills them in right before a push, in memory or
in a 0600 file, and nothing here logs a value."""

from __future__ import annotations

import os
import re
import secrets as _random
from pathlib import Path

from .errors import OperationalError
from .model import Model, SecretRef


class SecretError(OperationalError):
    pass


def resolve(ref: SecretRef, fallback: dict[str, str] | None = None) -> str:
    if ref.env:
        value = os.environ.get(ref.env)
        if value:
            return value
    if ref.file:
        path = Path(ref.file).expanduser()
        try:
            return path.read_text().strip()
        except OSError as exc:
            raise SecretError(f"secret {ref.name}: cannot read {path}: {exc.strerror}") from None
    if fallback is not None and ref.name in fallback:
        return fallback[ref.name]
    where = f"environment variable {ref.env}" if ref.env else f"file {ref.file}"
    raise SecretError(f"secret {ref.name}: {where} is not set")


def values(model: Model, fallback: dict[str, str] | None = None) -> dict[str, str]:
    """placeholder → value for every secret the model names."""
    return {ref.placeholder: resolve(ref, fallback) for ref in model.secrets.values()}


def substitute(text: str, values: dict[str, str]) -> str:
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    return text


# A key on a config line that is not one of ours (an old value on the device, an
# encrypted form): `password [0|3|7|cipher|simple] VALUE`.
_OTHER_KEY = re.compile(r"(\bpassword\s+(?:(?:0|3|7|cipher|simple)\s+)?)(?!__secret_)"
                        r"(?![*]{6}(?:\s|$))(\S+)")


def mask(text: str, values: dict[str, str]) -> str:
    """The inverse of `substitute`, for anything shown or logged; a key that is not
    one of the model's current values (what a device still has) becomes ******."""
    for placeholder, value in values.items():
        text = text.replace(value, placeholder)
    return _OTHER_KEY.sub(r"\1******", text)


def lab_fallback(model: Model, store: Path) -> dict[str, str]:
    """Random per-lab values for secrets whose source is not set (kept 0600 in the lab).

    The store is written only when a secret is new, and replaced atomically: many
    processes read it at once (Ansible runs a module per switch in parallel), and one
    that saw a half-written file would invent a new key and break the lab's sessions."""
    out: dict[str, str] = {}
    if store.exists():
        for line in store.read_text().splitlines():
            name, _, value = line.partition("=")
            out[name] = value
    missing = [name for name in model.secrets if name not in out]
    if not missing:
        return out
    for name in missing:
        out[name] = _random.token_hex(12)
    store.parent.mkdir(parents=True, exist_ok=True)
    tmp = store.with_name(f".{store.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("".join(f"{k}={v}\n" for k, v in sorted(out.items())))
    os.replace(tmp, store)
    return out
