"""One digest for every stage that says what something was made from."""

from __future__ import annotations

from hashlib import blake2b


def digest(*texts: str | bytes) -> str:
    h = blake2b(digest_size=16)
    for text in texts:
        h.update(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()
