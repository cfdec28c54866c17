"""A test double of the Kubernetes API server for one custom resource: CiliumNode
(cilium.io/v2, plural ciliumnodes, cluster-scoped, status subresource enabled),
served over real HTTP on 127.0.0.1 for the official `kubernetes` Python client.

TEST-ONLY. It follows the API concepts documentation,
https://kubernetes.io/docs/reference/using-api/api-concepts/ :
- "Resource versions": one global, monotonically increasing counter (as etcd's
  revision) stamps every write; an update whose metadata.resourceVersion differs
  from the stored one fails 409 Conflict; an update that changes nothing is a no-op
  (no new resourceVersion, no event).
- "Efficient detection of changes": list answers the collection's resourceVersion;
  watch from it streams ADDED/MODIFIED/DELETED (newline-delimited JSON, chunked)
  after it; a watch without resourceVersion (or "0") first sends the current state
  as synthetic ADDED events; timeoutSeconds ends the stream cleanly; with
  allowWatchBookmarks, `bookmark()` sends BOOKMARK events; label/field selectors
  filter the stream the way the watch cache does (an object leaving the selection
  is a DELETED, one entering it an ADDED).
- "410 Gone": a watch from a resourceVersion older than the retained history
  (`history` window, `compact()`) gets one ERROR event (Status, reason Expired,
  code 410, "too old resource version: X (Y)") and the stream ends.
- Retrieving large results in chunks: limit/continue, pages served from the first
  page's snapshot, 410 once that snapshot is compacted.
Patches as in
https://kubernetes.io/docs/tasks/manage-kubernetes-objects/update-api-object-kubectl-patch/ :
JSON merge patch (RFC 7386) and JSON patch (RFC 6902); a strategic merge patch is
415 UnsupportedMediaType, as for every custom resource. The CRD strategy (the
apiextensions-apiserver's): create drops .status; an update of the main resource
keeps the stored .status; /status changes only .status; metadata.generation moves on
any change outside metadata and status; PUT needs metadata.resourceVersion (422
without, 409 on a stale one); DELETE answers a Status, or, with finalizers, marks
the object deleting (deletionTimestamp) until an update removes the last one.

Test hooks act as another client (e.g. the Cilium agent): `put_object`,
`patch_status`, `delete_object`; `fail_next` injects one error response; `requests`
records what the client sent; `drop_watches` ends every open watch.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import queue
import re
import secrets
import select
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

import kubernetes.client

GROUP, VERSION, PLURAL, KIND = "cilium.io", "v2", "ciliumnodes", "CiliumNode"
API_VERSION = f"{GROUP}/{VERSION}"
BASE = f"/apis/{GROUP}/{VERSION}/{PLURAL}"
QUALIFIED = f"{PLURAL}.{GROUP}"  # how the server names the resource in messages

MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
# What the apiextensions-apiserver accepts for a custom resource (it lists apply
# patches too, which this double does not implement).
ACCEPTED_PATCHES = (JSON_PATCH, MERGE_PATCH, "application/apply-patch+yaml")
OPTIMISTIC_LOCK = ("the object has been modified; please apply your changes to the "
                   "latest version and try again")
_TRUE = ("1", "t", "T", "true", "TRUE", "True")  # Go's strconv.ParseBool


class Request(NamedTuple):
    """One request as the double received it: body is the parsed JSON (or the raw
    text when it is not JSON, None when empty)."""

    method: str
    path: str
    query: dict[str, str]
    body: Any


class Event(NamedTuple):
    """One write in the history: the object as written (resourceVersion is the
    event's), and the object before it (None for ADDED)."""

    type: str
    object: dict[str, Any]
    resource_version: int
    previous: dict[str, Any] | None


class ApiError(Exception):
    """An error answer: a `kind: Status` body as the API server writes it."""

    def __init__(self, code: int, reason: str | None, message: str,
                 details: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message
        self.details, self.headers = details, headers or {}

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                "status": "Failure", "message": self.message}
        if self.reason:  # a plain (non-Status) Go error answers 500 with no reason
            body["reason"] = self.reason
        if self.details is not None:
            body["details"] = self.details
        body["code"] = self.code
        return body


def _details(name: str, kind: str = PLURAL, **more: Any) -> dict[str, Any]:
    return {"name": name, "group": GROUP, "kind": kind, **more}


def not_found(name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{QUALIFIED} "{name}" not found', _details(name))


def already_exists(name: str) -> ApiError:
    return ApiError(409, "AlreadyExists", f'{QUALIFIED} "{name}" already exists',
                    _details(name))


def conflict(name: str, why: str = OPTIMISTIC_LOCK) -> ApiError:
    return ApiError(409, "Conflict", f'Operation cannot be fulfilled on {QUALIFIED} '
                    f'"{name}": {why}', _details(name))


def invalid(name: str, field: str, detail: str,
            cause: str = "FieldValueInvalid") -> ApiError:
    return ApiError(422, "Invalid", f'{KIND}.{GROUP} "{name}" is invalid: {field}: {detail}',
                    _details(name, KIND, causes=[{"reason": cause, "message": detail,
                                                  "field": field}]))


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def expired(message: str) -> ApiError:
    return ApiError(410, "Expired", message)


def _patch_failed(name: str, why: str) -> ApiError:
    # apimachinery's NewGenericServerResponse(422, ...): generic message, the patch
    # library's error as the cause.
    return ApiError(422, "Invalid",
                    "the server rejected our request due to an error in our request",
                    _details(name, causes=[{"message": why}]))


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _canon(value: Any) -> str:
    """The comparison the storage layer makes: serialized bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _without(obj: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in keys}


# -- patches --------------------------------------------------------------------------


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: objects merge recursively, null deletes a key,
    anything else (arrays included) replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


class PatchError(Exception):
    """A JSON patch that does not apply to the document."""


def _pointer(path: Any) -> list[str]:
    if not isinstance(path, str) or (path and not path.startswith("/")):
        raise PatchError(f"invalid JSON pointer: {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]


def _index(key: str, size: int, *, append: bool = False) -> int:
    if append and key == "-":
        return size
    if not re.fullmatch(r"0|[1-9][0-9]*", key) or int(key) > size - (not append):
        raise PatchError(f"index out of range: {key}")
    return int(key)


def _walk(doc: Any, parts: list[str]) -> Any:
    for key in parts:
        if isinstance(doc, dict) and key in doc:
            doc = doc[key]
        elif isinstance(doc, list):
            doc = doc[_index(key, len(doc))]
        else:
            raise PatchError(f"missing path: /{'/'.join(parts)}")
    return doc


def _json_equal(a: Any, b: Any) -> bool:
    return _canon(a) == _canon(b)


def json_patch(doc: Any, ops: list[Any]) -> Any:
    """RFC 6902 JSON patch (add, remove, replace, move, copy, test) on a copy of doc."""
    doc = copy.deepcopy(doc)

    def add(parts: list[str], value: Any) -> None:
        nonlocal doc
        if not parts:
            doc = value
            return
        parent = _walk(doc, parts[:-1])
        if isinstance(parent, dict):
            parent[parts[-1]] = value
        elif isinstance(parent, list):
            parent.insert(_index(parts[-1], len(parent), append=True), value)
        else:
            raise PatchError(f"cannot add to a scalar at /{'/'.join(parts[:-1])}")

    def remove(parts: list[str]) -> Any:
        if not parts:
            raise PatchError("cannot remove the whole document")
        parent = _walk(doc, parts[:-1])
        if isinstance(parent, dict) and parts[-1] in parent:
            return parent.pop(parts[-1])
        if isinstance(parent, list):
            return parent.pop(_index(parts[-1], len(parent)))
        raise PatchError(f"remove operation does not apply: missing path: /{'/'.join(parts)}")

    for op in ops:
        if not isinstance(op, dict) or "op" not in op:
            raise PatchError(f"unexpected operation: {op!r}")
        kind, parts = op["op"], _pointer(op.get("path"))
        if kind in ("add", "replace", "test") and "value" not in op:
            raise PatchError(f"{kind} operation has no value")
        if kind == "add":
            add(parts, copy.deepcopy(op["value"]))
        elif kind == "remove":
            remove(parts)
        elif kind == "replace":
            _walk(doc, parts)  # must exist
            if parts:
                remove(parts)
            add(parts, copy.deepcopy(op["value"]))
        elif kind in ("move", "copy"):
            source = _pointer(op.get("from"))
            value = copy.deepcopy(_walk(doc, source))
            if kind == "move":
                remove(source)
            add(parts, value)
        elif kind == "test":
            if not _json_equal(_walk(doc, parts), op["value"]):
                raise PatchError(f"testing value {op['path']} failed: test failed")
        else:
            raise PatchError(f"Unexpected kind: {kind}")
    return doc


# -- selectors ------------------------------------------------------------------------

_KEY = r"[A-Za-z0-9][-A-Za-z0-9_./]*"
_SET_RE = re.compile(rf"^\s*({_KEY})\s+(in|notin)\s+\(([^)]*)\)\s*$")
_EQ_RE = re.compile(rf"^\s*({_KEY})\s*(==|!=|=)\s*([-A-Za-z0-9_.]*)\s*$")
_EXISTS_RE = re.compile(rf"^\s*(!?)\s*({_KEY})\s*$")
Requirement = tuple[str, str, frozenset[str]]  # key, op (in notin exists !), values


def _requirements(selector: str) -> list[Requirement]:
    parts, depth, cur = [], 0, ""
    for ch in selector:
        depth += (ch == "(") - (ch == ")")
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    reqs: list[Requirement] = []
    for part in (p for p in parts if p.strip()):
        if m := _SET_RE.match(part):
            values = frozenset(v.strip() for v in m[3].split(",") if v.strip())
            reqs.append((m[1], m[2], values))
        elif m := _EQ_RE.match(part):
            reqs.append((m[1], "notin" if m[2] == "!=" else "in", frozenset([m[3]])))
        elif m := _EXISTS_RE.match(part):
            reqs.append((m[2], "!" if m[1] else "exists", frozenset()))
        else:
            raise bad_request(f"unable to parse requirement: {part.strip()!r}")
    return reqs


def _satisfied(reqs: list[Requirement], values: dict[str, str]) -> bool:
    for key, op, wanted in reqs:
        have = key in values
        if op == "in" and (not have or values[key] not in wanted):
            return False
        if op == "notin" and have and values[key] in wanted:
            return False
        if (op == "exists") != have and op in ("exists", "!"):
            return False
    return True


class Selection:
    """labelSelector and fieldSelector (metadata.name only, as for a cluster-scoped
    custom resource) of a list or watch."""

    def __init__(self, query: dict[str, str]) -> None:
        self.labels = _requirements(query.get("labelSelector", ""))
        self.fields = _requirements(query.get("fieldSelector", ""))
        for key, op, _ in self.fields:
            if key != "metadata.name" or op not in ("in", "notin"):
                raise bad_request(f'"{key}" is not a known field selector: only '
                                  '"metadata.name", "metadata.namespace"')

    def __call__(self, obj: dict[str, Any] | None) -> bool:
        if obj is None:
            return False
        meta = obj.get("metadata") or {}
        return (_satisfied(self.labels, meta.get("labels") or {})
                and _satisfied(self.fields, {"metadata.name": meta.get("name", "")}))


# -- watches --------------------------------------------------------------------------

_END, _ABORT = object(), object()


class _Watch:
    def __init__(self, selection: Selection, bookmarks: bool) -> None:
        self.selection, self.bookmarks = selection, bookmarks
        self.queue: queue.Queue[Any] = queue.Queue()

    def offer(self, event: Event) -> None:
        if (sent := self.filtered(event)) is not None:
            self.queue.put(sent)

    def filtered(self, event: Event) -> dict[str, Any] | None:
        """The event as this watch's selection sees it (the watch cache's rules)."""
        now, before = self.selection(event.object), self.selection(event.previous)
        if event.type != "MODIFIED" or (now and before):
            return {"type": event.type, "object": event.object} if now else None
        if now:
            return {"type": "ADDED", "object": event.object}
        if before and event.previous is not None:
            gone = copy.deepcopy(event.previous)
            gone["metadata"]["resourceVersion"] = str(event.resource_version)
            return {"type": "DELETED", "object": gone}
        return None


def _peer_closed(sock: socket.socket) -> bool:
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


class _Failure(NamedTuple):
    method: str
    path_suffix: str
    error: ApiError
    watch: bool | None


# -- the double -----------------------------------------------------------------------


class ApiDouble:
    """`with ApiDouble() as api:` serves CiliumNodes on `api.url` until the block ends.

    history: how many events are kept for watches from a past resourceVersion (as
    the watch cache's window); older resourceVersions are then "too old" (410).
    """

    def __init__(self, history: int = 1000) -> None:
        self.history_size = history
        self.requests: list[Request] = []
        self._lock = threading.RLock()
        self._objects: dict[str, dict[str, Any]] = {}
        self._history: list[Event] = []
        self._rv = 0
        self._floor = 0  # a watch from a resourceVersion below this is too old
        self._snapshots: dict[int, list[dict[str, Any]]] = {}  # paged lists' states
        self._watches: list[_Watch] = []
        self._failures: list[_Failure] = []
        self._conns: set[socket.socket] = set()
        self._clients: list[kubernetes.client.ApiClient] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------

    def __enter__(self) -> ApiDouble:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.api = self
        # a short poll interval: shutdown() waits for it on every test's exit
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,),
                                        name="k8s-double", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None and self._thread is not None
        self.drop_watches()
        self._server.shutdown()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:  # idle keep-alive connections would hold their threads
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._server.server_close()
        self._thread.join(timeout=5)
        for client in self._clients:
            client.close()

    @property
    def url(self) -> str:
        assert self._server is not None, "use ApiDouble as a context manager"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def client(self) -> kubernetes.client.ApiClient:
        """An ApiClient for this server (no auth, no proxy); closed on exit."""
        config = kubernetes.client.Configuration(host=self.url)
        config.proxy = None  # the client takes HTTP(S)_PROXY from the environment
        client = kubernetes.client.ApiClient(config)
        self._clients.append(client)
        return client

    # -- state, for assertions ----------------------------------------------------

    @property
    def resource_version(self) -> str:
        """The latest resourceVersion (what a list now answers)."""
        with self._lock:
            return str(self._rv)

    @property
    def history(self) -> list[Event]:
        with self._lock:
            return list(self._history)

    @property
    def watch_count(self) -> int:
        with self._lock:
            return len(self._watches)

    def get_object(self, name: str) -> dict[str, Any] | None:
        with self._lock:
            obj = self._objects.get(name)
            return copy.deepcopy(obj) if obj is not None else None

    def wait_for_watches(self, count: int = 1, timeout: float = 5.0) -> None:
        """Block until `count` watches are open (events after this reach them)."""
        deadline = time.monotonic() + timeout
        while self.watch_count < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.watch_count} of {count} watches open")
            time.sleep(0.01)

    # -- test hooks: another actor ------------------------------------------------

    def put_object(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Create or replace `obj` whole (status included), unconditionally."""
        obj = copy.deepcopy(obj)
        obj.setdefault("apiVersion", API_VERSION)
        obj.setdefault("kind", KIND)
        meta = obj.setdefault("metadata", {})
        name = meta.get("name")
        if not name:
            raise ValueError("put_object needs metadata.name")
        with self._lock:
            cur = self._objects.get(name)
            if cur is None:
                meta.update(uid=str(uuid.uuid4()), creationTimestamp=_now(), generation=1)
                for key in ("namespace", "deletionTimestamp", "deletionGracePeriodSeconds"):
                    meta.pop(key, None)
                return copy.deepcopy(self._commit(obj, None))
            self._keep_server_meta(obj, cur, bump_on=("metadata", "status"))
            return copy.deepcopy(self._commit(obj, cur))

    def patch_status(self, name: str, status: dict[str, Any]) -> dict[str, Any]:
        """Merge-patch (RFC 7386) `status` into the object's .status."""
        with self._lock:
            cur = self._objects.get(name)
            if cur is None:
                raise KeyError(name)
            new = copy.deepcopy(cur)
            new["status"] = merge_patch(cur.get("status"), status)
            return copy.deepcopy(self._commit(new, cur))

    def delete_object(self, name: str) -> None:
        """Delete as a client would: with finalizers the object is only marked."""
        with self._lock:
            if name not in self._objects:
                raise KeyError(name)
            self._delete(name, {}, dry_run=False)

    def fail_next(self, method: str, path_suffix: str, code: int, reason: str,
                  message: str | None = None, *, watch: bool | None = None,
                  retry_after: int | None = None) -> None:
        """Answer the next request of `method` whose path ends with `path_suffix`
        with this error instead (once). watch: only watch requests (True), only
        plain ones (False), either (None). retry_after sets Retry-After."""
        name = path_suffix.removesuffix("/status").rsplit("/", 1)[-1]
        if reason == "Conflict" and message is None:
            error = conflict(name)
        elif reason == "NotFound" and message is None:
            error = not_found(name)
        else:
            error = ApiError(code, reason, message or f"injected {code} {reason}",
                             _details(name) if name and name != PLURAL else None)
        error.code, error.reason = code, reason
        if retry_after is not None:
            error.headers["Retry-After"] = str(retry_after)
            error.details = {**(error.details or {}), "retryAfterSeconds": retry_after}
        with self._lock:
            self._failures.append(_Failure(method.upper(), path_suffix, error, watch))

    def drop_watches(self, abort: bool = False) -> None:
        """End every open watch: cleanly (the client sees the stream end and watches
        again from its last resourceVersion), or abort=True: the connection is cut."""
        with self._lock:
            for w in self._watches:
                w.queue.put(_ABORT if abort else _END)

    def bookmark(self) -> None:
        """Send a BOOKMARK at the latest resourceVersion to watches that allow them."""
        with self._lock:
            event = {"type": "BOOKMARK", "object": self._bookmark_object()}
            for w in self._watches:
                if w.bookmarks:
                    w.queue.put(event)

    def compact(self, resource_version: int | str | None = None) -> None:
        """Forget history up to `resource_version` (default: all of it), as an etcd
        compaction: watches and continue tokens from before it are then 410."""
        with self._lock:
            upto = self._rv if resource_version is None else int(resource_version)
            self._history = [e for e in self._history if e.resource_version > upto]
            self._set_floor(max(self._floor, upto))

    # -- storage ------------------------------------------------------------------

    def _set_floor(self, floor: int) -> None:
        self._floor = floor
        self._snapshots = {rv: s for rv, s in self._snapshots.items() if rv >= floor}

    def _emit(self, type_: str, obj: dict[str, Any], prev: dict[str, Any] | None) -> None:
        event = Event(type_, copy.deepcopy(obj), self._rv, copy.deepcopy(prev))
        self._history.append(event)
        if len(self._history) > self.history_size:
            del self._history[:len(self._history) - self.history_size]
            oldest = self._history[0].resource_version if self._history else self._rv + 1
            self._set_floor(max(self._floor, oldest - 1))  # the watch cache's oldest-1
        for w in self._watches:
            w.offer(event)

    def _commit(self, new: dict[str, Any], cur: dict[str, Any] | None,
                dry_run: bool = False) -> dict[str, Any]:
        """Store `new` over `cur` (None: create) with a new resourceVersion; a write
        that changes nothing keeps `cur`, as the storage layer does."""
        if cur is not None:
            new["metadata"]["resourceVersion"] = cur["metadata"]["resourceVersion"]
            if _canon(new) == _canon(cur):
                return cur
        if dry_run:
            return new
        name = new["metadata"]["name"]
        meta = new["metadata"]
        if cur is not None and meta.get("deletionTimestamp") and not meta.get("finalizers"):
            # the last finalizer went: the update deletes the object (no MODIFIED)
            self._rv += 1
            gone = copy.deepcopy(cur)
            gone["metadata"]["resourceVersion"] = str(self._rv)
            del self._objects[name]
            self._emit("DELETED", gone, cur)
            return gone
        self._rv += 1
        meta["resourceVersion"] = str(self._rv)
        self._objects[name] = new
        self._emit("MODIFIED" if cur is not None else "ADDED", new, cur)
        return new

    @staticmethod
    def _keep_server_meta(new: dict[str, Any], cur: dict[str, Any],
                          bump_on: tuple[str, ...] = ("metadata",)) -> None:
        """What an update cannot set (rest.BeforeUpdate): uid, creationTimestamp,
        deletion marks, generation (moved by the server on a change outside
        `bump_on`)."""
        meta, old = new.setdefault("metadata", {}), cur["metadata"]
        for key in ("uid", "creationTimestamp", "deletionTimestamp",
                    "deletionGracePeriodSeconds"):
            if key in old:
                meta[key] = old[key]
            else:
                meta.pop(key, None)
        meta.pop("namespace", None)
        changed = _canon(_without(new, *bump_on)) != _canon(_without(cur, *bump_on))
        meta["generation"] = old.get("generation", 1) + changed

    def _create(self, body: Any, dry_run: bool) -> dict[str, Any]:
        obj = self._typed(body)
        meta = obj.setdefault("metadata", {})
        if meta.get("resourceVersion"):
            raise ApiError(500, None, "resourceVersion should not be set on objects "
                           "to be created")
        if not meta.get("name"):
            if not meta.get("generateName"):
                raise invalid("", "metadata.name",
                              "Required value: name or generateName is required",
                              "FieldValueRequired")
            alphabet = "bcdfghjklmnpqrstvwxz2456789"  # names.SimpleNameGenerator's
            meta["name"] = meta["generateName"] + "".join(
                secrets.choice(alphabet) for _ in range(5))
        name = meta["name"]
        if name in self._objects:
            raise already_exists(name)
        obj.pop("status", None)  # the status subresource owns it
        for key in ("namespace", "deletionTimestamp", "deletionGracePeriodSeconds"):
            meta.pop(key, None)
        meta.update(uid=str(uuid.uuid4()), creationTimestamp=_now(), generation=1)
        return self._commit(obj, None, dry_run)

    def _update(self, name: str, body: Any, status: bool, dry_run: bool) -> dict[str, Any]:
        cur = self._objects.get(name)
        if cur is None:
            raise not_found(name)  # a custom resource is never created by an update
        new = self._typed(body)
        meta = new.setdefault("metadata", {})
        if meta.get("name") != name:
            raise bad_request(f"the name of the object ({meta.get('name', '')}) does not "
                              f"match the name on the URL ({name})")
        rv = meta.get("resourceVersion")
        if not rv:
            raise invalid(name, "metadata.resourceVersion",
                          "Invalid value: 0x0: must be specified for an update")
        if str(rv) != cur["metadata"]["resourceVersion"]:
            raise conflict(name)
        if meta.get("uid") and meta["uid"] != cur["metadata"]["uid"]:
            raise invalid(name, "metadata.uid",
                          f'Invalid value: "{meta["uid"]}": field is immutable')
        if status:  # /status: everything but .status stays as stored
            wanted = new.get("status")
            new = copy.deepcopy(cur)
            if wanted is None:
                new.pop("status", None)
            else:
                new["status"] = wanted
        else:  # the main resource cannot change .status
            new.pop("status", None)
            if "status" in cur:
                new["status"] = copy.deepcopy(cur["status"])
            self._keep_server_meta(new, cur)
        return self._commit(new, cur, dry_run)

    def _patch(self, name: str, content_type: str, body: Any, status: bool,
               dry_run: bool) -> dict[str, Any]:
        kind = content_type.split(";")[0].strip().lower()
        if kind not in (MERGE_PATCH, JSON_PATCH):
            raise ApiError(415, "UnsupportedMediaType",
                           "the body of the request was in an unknown format - accepted "
                           f"media types include: {', '.join(ACCEPTED_PATCHES)}")
        cur = self._objects.get(name)
        if cur is None:
            raise not_found(name)
        if kind == MERGE_PATCH:
            if not isinstance(body, dict):
                raise bad_request("error decoding patch: a merge patch must be a JSON object")
            patched = merge_patch(cur, body)
        else:
            if not isinstance(body, list):
                raise bad_request("json: cannot unmarshal object into Go value of type "
                                  "jsonpatch.Patch")
            try:
                patched = json_patch(cur, body)
            except PatchError as e:
                raise _patch_failed(name, str(e)) from None
        if not isinstance(patched, dict):
            raise _patch_failed(name, "the patch did not leave an object")
        # The patched object carries the patch's resourceVersion if it set one, else
        # the stored one: the optimistic-concurrency check of the update that follows.
        return self._update(name, patched, status, dry_run)

    def _delete(self, name: str, options: dict[str, Any], dry_run: bool) -> dict[str, Any]:
        cur = self._objects.get(name)
        if cur is None:
            raise not_found(name)
        pre = options.get("preconditions") or {}
        meta = cur["metadata"]
        if pre.get("uid") and pre["uid"] != meta["uid"]:
            raise conflict(name, f"Precondition failed: UID in precondition: {pre['uid']}, "
                           f"UID in object meta: {meta['uid']}")
        if pre.get("resourceVersion") and pre["resourceVersion"] != meta["resourceVersion"]:
            raise conflict(name, "Precondition failed: ResourceVersion in precondition: "
                           f"{pre['resourceVersion']}, ResourceVersion in object meta: "
                           f"{meta['resourceVersion']}")
        if meta.get("finalizers"):  # marked; deleted when an update drops the last one
            if meta.get("deletionTimestamp"):
                return cur
            new = copy.deepcopy(cur)
            new["metadata"].update(deletionTimestamp=_now(), deletionGracePeriodSeconds=0,
                                   generation=meta.get("generation", 1) + 1)
            return self._commit(new, cur, dry_run)
        status = {"kind": "Status", "apiVersion": "v1", "metadata": {},
                  "status": "Success", "details": _details(name, uid=meta["uid"])}
        if not dry_run:
            self._rv += 1
            gone = copy.deepcopy(cur)
            gone["metadata"]["resourceVersion"] = str(self._rv)
            del self._objects[name]
            self._emit("DELETED", gone, cur)
        return status

    @staticmethod
    def _typed(body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise bad_request("the body of the request must be a JSON object")
        for key, label in (("kind", "Kind"), ("apiVersion", "apiVersion")):
            if not body.get(key):
                raise bad_request(f"Object '{label}' is missing in '{json.dumps(body)}'")
        if body["apiVersion"] != API_VERSION or body["kind"] != KIND:
            raise bad_request(f"the API version in the data ({body['apiVersion']}) does "
                              f"not match the expected API version ({API_VERSION})"
                              if body["apiVersion"] != API_VERSION else
                              f"the kind in the data ({body['kind']}) does not match the "
                              f"expected kind ({KIND})")
        return copy.deepcopy(body)

    def _list(self, query: dict[str, str]) -> dict[str, Any]:
        selection = Selection(query)
        limit = int(query.get("limit") or 0)
        start = ""
        if token := query.get("continue"):
            try:
                decoded = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
                rv, start = int(decoded["rv"]), str(decoded["start"])
            except (ValueError, KeyError, TypeError):
                raise bad_request(f"continue key is not valid: {token}") from None
            if rv < self._floor or rv not in self._snapshots:
                raise expired(
                    "The provided continue parameter is too old to display a consistent "
                    "list result. You can start a new list without the continue "
                    "parameter.")
            items = self._snapshots[rv]
        else:
            rv = self._rv
            items = [copy.deepcopy(self._objects[n]) for n in sorted(self._objects)]
        selected = [o for o in items if o["metadata"]["name"] >= start and selection(o)]
        meta: dict[str, Any] = {"resourceVersion": str(rv)}
        if limit and len(selected) > limit:
            # later pages come from this state, as etcd serves them at the first's rv
            self._snapshots.setdefault(rv, items)
            last = selected[limit - 1]["metadata"]["name"]
            token = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": last + "\x00"})
            meta["continue"] = base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")
            if not query.get("labelSelector") and not query.get("fieldSelector"):
                meta["remainingItemCount"] = len(selected) - limit
            selected = selected[:limit]
        return {"apiVersion": API_VERSION, "kind": f"{KIND}List", "metadata": meta,
                "items": selected}

    def _bookmark_object(self, initial_end: bool = False) -> dict[str, Any]:
        meta: dict[str, Any] = {"resourceVersion": str(self._rv)}
        if initial_end:
            meta["annotations"] = {"k8s.io/initial-events-end": "true"}
        return {"kind": KIND, "apiVersion": API_VERSION, "metadata": meta}

    def _open_watch(self, query: dict[str, str]) -> _Watch:
        """Register a watch, its first events already queued (under the lock, so no
        write falls between them and the live stream)."""
        selection = Selection(query)
        w = _Watch(selection, query.get("allowWatchBookmarks") in _TRUE)
        rv = query.get("resourceVersion", "")
        initial = query.get("sendInitialEvents") in _TRUE
        if rv in ("", "0") or initial:  # "Get State and Start at Most Recent"
            for name in sorted(self._objects):
                if selection(self._objects[name]):
                    w.queue.put({"type": "ADDED", "object": copy.deepcopy(self._objects[name])})
            if initial and w.bookmarks:
                w.queue.put({"type": "BOOKMARK", "object": self._bookmark_object(True)})
        else:
            if not rv.isdigit():
                raise bad_request(f"invalid resource version: {rv!r}")
            if int(rv) < self._floor:
                w.queue.put({"type": "ERROR", "object": expired(
                    f"too old resource version: {rv} ({self._floor})").status()})
                w.queue.put(_END)
                return w
            for event in self._history:
                if event.resource_version > int(rv) and (sent := w.filtered(event)):
                    w.queue.put(sent)
        self._watches.append(w)
        return w

    # -- HTTP ---------------------------------------------------------------------

    def _take_failure(self, method: str, path: str, watch: bool) -> ApiError | None:
        for i, f in enumerate(self._failures):
            if (f.method == method and path.endswith(f.path_suffix)
                    and f.watch in (None, watch)):
                del self._failures[i]
                return f.error
        return None

    def _handle(self, h: _Handler) -> None:
        url = urlsplit(h.path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length).decode("utf-8", "replace") if length else ""
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw
        method, path = h.command, url.path
        watch = method == "GET" and query.get("watch") in _TRUE
        with self._lock:
            self.requests.append(Request(method, path, query, body))
            failure = self._take_failure(method, path, watch)
        try:
            if failure is not None:
                raise failure
            if isinstance(body, str):
                raise bad_request(f"couldn't get version/kind; json parse error: {raw[:80]}")
            if watch and path == BASE:
                timeout = query.get("timeoutSeconds") or None
                if timeout is not None and not timeout.isdigit():
                    raise bad_request(f"invalid timeoutSeconds: {timeout!r}")
                with self._lock:
                    w = self._open_watch(query)
                self._stream(h, w, float(timeout) if timeout else None)
                return
            code, answer = self._route(method, path, query, body,
                                       h.headers.get("Content-Type", ""))
        except ApiError as e:
            self._send(h, e.code, e.status(), e.headers)
            return
        except Exception as e:  # a bug here: say so to the test, not with a reset
            self._send(h, 500, ApiError(500, "InternalError", f"k8s double: {e!r}").status())
            return
        self._send(h, code, answer)

    def _route(self, method: str, path: str, query: dict[str, str], body: Any,
               content_type: str) -> tuple[int, dict[str, Any]]:
        dry_run = query.get("dryRun") == "All" or (
            isinstance(body, dict) and "All" in (body.get("dryRun") or []))
        parts = path[len(BASE) + 1:].split("/") if path.startswith(BASE + "/") else []
        with self._lock:
            if path == BASE:
                if method == "GET":
                    return 200, self._list(query)
                if method == "POST":
                    return 201, self._create(body, dry_run)
                if method == "DELETE":
                    listing = self._list(_without(query, "limit", "continue"))
                    for obj in listing["items"]:
                        self._delete(obj["metadata"]["name"], {}, dry_run)
                    listing["metadata"]["resourceVersion"] = str(self._rv)
                    return 200, listing
            elif len(parts) in (1, 2) and parts[0] and parts[1:] in ([], ["status"]):
                name, status = parts[0], len(parts) == 2
                if method == "GET":
                    obj = self._objects.get(name)
                    if obj is None:
                        raise not_found(name)
                    return 200, copy.deepcopy(obj)
                if method == "PUT":
                    return 200, copy.deepcopy(self._update(name, body, status, dry_run))
                if method == "PATCH":
                    return 200, copy.deepcopy(
                        self._patch(name, content_type, body, status, dry_run))
                if method == "DELETE" and not status:
                    options = body if isinstance(body, dict) else {}
                    return 200, copy.deepcopy(self._delete(name, options, dry_run))
            else:
                raise ApiError(404, "NotFound", "the server could not find the requested "
                               "resource", {})
        verb = {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "patch",
                "DELETE": "delete"}.get(method, method.lower())
        raise ApiError(405, "MethodNotAllowed", f'{verb} is not supported on resources of '
                       f'kind "{QUALIFIED}"', {"group": GROUP, "kind": PLURAL})

    @staticmethod
    def _send(h: _Handler, code: int, body: dict[str, Any],
              headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        try:
            h.send_response(code)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                h.send_header(key, value)
            h.end_headers()
            h.wfile.write(data)
        except OSError:
            h.close_connection = True

    def _stream(self, h: _Handler, w: _Watch, timeout: float | None) -> None:
        deadline = time.monotonic() + timeout if timeout is not None else None
        try:
            h.send_response(200)
            h.send_header("Content-Type", "application/json")
            h.send_header("Transfer-Encoding", "chunked")
            h.end_headers()
            for item in self._items(h, w, deadline):
                line = json.dumps(item).encode() + b"\n"
                h.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
            h.wfile.write(b"0\r\n\r\n")
        except OSError:
            h.close_connection = True
        finally:
            with self._lock:
                if w in self._watches:
                    self._watches.remove(w)

    @staticmethod
    def _items(h: _Handler, w: _Watch, deadline: float | None) -> Iterator[dict[str, Any]]:
        while True:
            wait = 0.1  # how often a quiet watch checks that its client is still there
            if deadline is not None:
                wait = min(wait, deadline - time.monotonic())
                if wait <= 0:
                    return
            try:
                item = w.queue.get(timeout=wait)
            except queue.Empty:
                if _peer_closed(h.connection):
                    raise ConnectionResetError("watch client went away") from None
                continue
            if item is _END:
                return
            if item is _ABORT:
                h.connection.shutdown(socket.SHUT_RDWR)
                raise ConnectionAbortedError("watch aborted")
            yield item


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    api: ApiDouble


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked watch streams
    server: _Server

    def setup(self) -> None:
        super().setup()
        # headers and body go out in two writes: without this, Nagle's algorithm and
        # the client's delayed ACK cost every request 40 ms
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.api._lock:
            self.server.api._conns.add(self.connection)

    def finish(self) -> None:
        with self.server.api._lock:
            self.server.api._conns.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def do_GET(self) -> None:
        self.server.api._handle(self)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET
