"""Secret references → values, at deploy time only. Rendered files hold
placeholders; `substitute` fills them in right before a push, in memory or
in a 0600 file, and nothing here logs a value.

A secret that cannot be loaded (its variable unset, its file unreadable) or is
shorter than `MIN_LENGTH` is bad input: `SecretError` is an `InputError`
(exit 2), located at the secret's definition in the model."""

from __future__ import annotations

import os
import re
import secrets as _random
from pathlib import Path

from fabric.errors import Diagnostics, InputError, Problem, format_path
from fabric.intent.types import Intent, SecretRef

# A value is masked only where it stands as a token of its own (see `replace_tokens`);
# a short one would also be a plausible piece of ordinary text, so it is refused.
MIN_LENGTH = 8


class SecretError(InputError):
    """A secret the model names cannot be used; never carries the value."""


def _refuse(ref: SecretRef, key: str | None, message: str,
            diag: Diagnostics | None) -> SecretError:
    """`message` located at `secrets.<name>.<key>` in the model (when `diag` knows it)."""
    path = ("secrets", ref.name, key) if key else ("secrets", ref.name)
    line, col = diag.locate(path) if diag else (1, 1)
    file = diag.file if diag else "(secrets)"
    return SecretError([Problem(str(file), line, col, format_path(path), message)])


def _load(ref: SecretRef, fallback: dict[str, str] | None,
          diag: Diagnostics | None) -> tuple[str, str, str]:
    """(value, where it came from, the model key that named the source)."""
    if ref.env:
        value = os.environ.get(ref.env)
        if value:
            return value, f"environment variable {ref.env}", "env"
    if ref.file:
        path = Path(ref.file).expanduser()
        try:
            return path.read_text().strip(), f"file {path}", "file"
        except OSError as exc:
            also = f" (environment variable {ref.env} is not set either)" if ref.env else ""
            raise _refuse(ref, "file", f"secret {ref.name}: cannot read file {path}: "
                                       f"{exc.strerror}{also}", diag) from None
    if fallback is not None and ref.name in fallback:
        return fallback[ref.name], "the lab's secret store", "env" if ref.env else "file"
    if ref.env:
        raise _refuse(ref, "env", f"secret {ref.name}: environment variable {ref.env} is not "
                                  "set", diag)
    raise _refuse(ref, None, f"secret {ref.name}: no source (env or file) is given", diag)


def resolve(ref: SecretRef, fallback: dict[str, str] | None = None,
            diag: Diagnostics | None = None) -> str:
    """The value of `ref`; `SecretError` (located through `diag`) when it cannot be
    read or is too short to be masked safely."""
    value, source, key = _load(ref, fallback, diag)
    if len(value) < MIN_LENGTH:
        raise _refuse(ref, key, f"secret {ref.name} ({source}) is {len(value)} characters; "
                                f"at least {MIN_LENGTH} are needed: a shorter one could not "
                                "be masked in output without also masking ordinary words", diag)
    return value


def values(intent: Intent, fallback: dict[str, str] | None = None) -> dict[str, str]:
    """placeholder → value for every secret the model names; every secret that
    cannot be used is reported at once, located in the model file."""
    diag = intent.source
    out: dict[str, str] = {}
    problems: list[Problem] = []
    for ref in intent.secrets.values():
        try:
            out[ref.placeholder] = resolve(ref, fallback, diag)
        except SecretError as exc:
            problems += exc.problems
    if problems:
        raise SecretError(problems)
    return out


def substitute(text: str, values: dict[str, str]) -> str:
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    return text


# What may stand on either side of a secret for it to be a token of its own:
# the text's ends, whitespace, quotes and the usual config and URL delimiters.
_EDGE = r"""\s'"`=:,;()\[\]{}<>@/\\|"""


def replace_tokens(text: str, replacements: dict[str, str]) -> str:
    """Replace each key of `replacements` by its value where the key stands as a
    token of its own, never inside a longer word (`port 22` keeps its `22` whatever
    a secret is). One pass, longest key first, so a replacement is never re-read."""
    keys = sorted((k for k in replacements if k), key=len, reverse=True)
    if not keys:
        return text
    token = re.compile(f"(?<![^{_EDGE}])(?:{'|'.join(map(re.escape, keys))})(?![^{_EDGE}])")
    return token.sub(lambda m: replacements[m.group(0)], text)


# A key on a config line that is not one of ours (an old value on the device, an
# encrypted form): `password [0|3|7|cipher|simple] VALUE`.
_OTHER_KEY = re.compile(r"((?<!-)\bpassword\s+(?:(?:0|3|7|cipher|simple)\s+)?)(?!__secret_)"
                        r"(?![*]{6}(?:\s|$))(\S+)")
# The same in a TOML file (gobgpd.toml): `auth-password = "VALUE"`.
_OTHER_TOML_KEY = re.compile(r'(\bauth-password\s*=\s*)"(?!__secret_)(?![*]{6}")[^"\n]*"')


def mask(text: str, values: dict[str, str]) -> str:
    """The inverse of `substitute`, for anything shown or logged; a key that is not
    one of the model's current values (what a device still has) becomes ******."""
    text = replace_tokens(text, {value: placeholder for placeholder, value in values.items()})
    text = _OTHER_TOML_KEY.sub(r'\1"******"', text)
    return _OTHER_KEY.sub(r"\1******", text)


def lab_fallback(intent: Intent, store: Path) -> dict[str, str]:
    """Random per-lab values for secrets whose source is not set (kept 0600 in the lab).

    The store is written only when a secret is new, and replaced atomically: many
    processes read it at once (Ansible runs a module per switch in parallel), and one
    that saw a half-written file would invent a new key and break the lab's sessions."""
    out: dict[str, str] = {}
    if store.exists():
        for line in store.read_text().splitlines():
            name, _, value = line.partition("=")
            out[name] = value
    missing = [name for name in intent.secrets if name not in out]
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
