"""A test double of Pexip Infinity's Management Node: a real HTTPS server on loopback that
speaks the part of the management REST API the portal uses, `gms_access_token` and
`gateway_routing_rule` under `/api/admin/configuration/v1/`.

What it does, and where the behaviour comes from (learned from, never copied):
- HTTP Basic auth; 401 with `WWW-Authenticate` without or with wrong credentials.
- Lists answer `{"meta": {limit, offset, next, previous, total_count}, "objects": [...]}`
  (go-infinity-sdk `*ListResponse`). `limit` defaults to 20 (the node's default in recorded
  answers); a larger `limit`, or `limit=0`, is capped at `max_limit`, which the double enforces;
  `next` and `previous` are paths with the query (Tastypie's paginator) or null.
- `?name=`, `?tag=` and Tastypie lookups such as `?name__startswith=`; a lookup on a field that
  does not allow filtering answers 400. Parameters that name no field are ignored, as Tastypie does.
- POST answers 201 with an empty body and the new object's URI in `Location` (the SDK reads only
  that header); PATCH answers 202 and PUT 204, both empty (Tastypie's defaults); DELETE 204;
  unknown ids 404; field errors 400 as `{"<resource>": {"<field>": ["..."]}}`.
- The token value is write-only: never in any answer, never in the request log.
- Deleting a token a rule still references answers 400 with `{"gms_access_token": {"__all__":
  [...]}}`. What Infinity answers is not documented anywhere we found; 400 is our choice.

Chosen where no source settled it: unknown fields are refused (`["Unknown field."]`); the
page-size cap (`max_limit`, 500 by default); `Location` absolute (`location_absolute = False`
gives the path); the licence message's wording; ids never reused, even across `reset()`.

Fault switches (each counts requests as they arrive, before authentication, as a proxy or an
overloaded node would): `fail_next`, `throttle_next` (429 + Retry-After), `slow`, `drop_next`,
`licence_full`, and edits "by hand" (`add_by_hand`, `edit_by_hand`, `delete_by_hand`).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hmac
import json
import secrets
import socket
import ssl
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.infinity_lists import BadQuery, list_page
from tests.infinity_resources import (
    API_PREFIX,
    FIELDS,
    GMS_ACCESS_TOKEN,
    ReferencedObject,
    Store,
    ValidationFailed,
    public,
    uri,
)
from tests.infinity_tls import run_tls_files

DEFAULT_MAX_LIMIT = 500  # our cap; the real node's cap is not documented where we looked
# Our wording: Infinity's own message for a full Google Meet (ghm) licence was not found.
LICENCE_FULL_MESSAGE = (
    "Cannot add another Google Meet access token: the Google Meet (ghm) licence allows {limit}."
)


@dataclass(frozen=True)
class RequestRecord:
    """One request as the double saw it. Bodies are never kept; `token_in_body` says whether
    the request carried a token value."""

    method: str
    path: str
    query: str
    status: int | None  # None when the connection was dropped without an answer
    token_in_body: bool


class _Response(Exception):
    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


class InfinityDouble:
    def __init__(self, *, username: str = "portal-provisioner", max_limit: int = DEFAULT_MAX_LIMIT):
        self.username = username
        self.password = secrets.token_urlsafe(16)
        self.default_max_limit = max_limit
        self.store = Store()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.reset()

    # Life --------------------------------------------------------------------------------------

    def start(self) -> InfinityDouble:
        tls = run_tls_files()
        self.ca_bundle: Path = tls.ca_bundle
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls.cert_chain, tls.key)
        server = _Server(("127.0.0.1", 0), _Handler)
        server.double = self
        # The handshake runs in each request's thread (`_Handler.setup`), not in the accept loop.
        server.socket = context.wrap_socket(
            server.socket, server_side=True, do_handshake_on_connect=False
        )
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def reset(self) -> None:
        """Empty store, log and counters; every fault off; credentials and page size back."""
        self.store.clear()
        with self._lock:
            self.log: list[RequestRecord] = []
            self.connections = 0  # TLS connections accepted
            self.max_limit = self.default_max_limit
            self.location_absolute = True
            self.licence_limit: int | None = None
            self._fail: list[tuple[int, dict[str, str]]] = []
            self._drop = 0
            self._delay = 0.0
            self._delay_count: int | None = None

    @property
    def base_url(self) -> str:
        """`https://127.0.0.1:<port>/api/admin/configuration/v1/`: the management URL to give
        the portal."""
        return f"https://127.0.0.1:{self.port}{API_PREFIX}"

    def uri(self, resource: str, object_id: int) -> str:
        return uri(resource, object_id)

    # Fault switches ----------------------------------------------------------------------------

    def fail_next(self, count: int = 1, *, status: int = 503) -> None:
        """Answer the next `count` requests with `status` (5xx, 403, ...) and no change."""
        with self._lock:
            self._fail += [(status, {})] * count

    def throttle_next(self, count: int = 1, *, retry_after: int = 1) -> None:
        """Answer the next `count` requests 429 Too Many Requests with `Retry-After`."""
        with self._lock:
            self._fail += [(429, {"Retry-After": str(retry_after)})] * count

    def slow(self, seconds: float, *, count: int | None = None) -> None:
        """Wait `seconds` before answering: the next `count` requests, or all until reset."""
        with self._lock:
            self._delay, self._delay_count = seconds, count

    def drop_next(self, count: int = 1) -> None:
        """Read the next `count` requests, then close the connection without answering."""
        with self._lock:
            self._drop += count

    def licence_full(self, *, tokens: int | None = None) -> None:
        """Let the node hold `tokens` access tokens (default: as many as it holds now); a POST
        of one more answers 400 with the licence message."""
        with self._lock:
            self.licence_limit = (
                len(self.store.objects[GMS_ACCESS_TOKEN]) if tokens is None else tokens
            )

    # Edits by hand (straight into the store: no request, no log line) -------------------------

    def add_by_hand(self, resource: str, **fields: Any) -> str:
        """An object staff made on the node; returns its URI."""
        return self.store.create(resource, fields)["resource_uri"]

    def edit_by_hand(self, resource: str, reference: str | int, **fields: Any) -> None:
        obj = self._existing(resource, reference)
        self.store.update(resource, obj["id"], fields, partial=True)

    def delete_by_hand(self, resource: str, reference: str | int, *, force: bool = False) -> None:
        """Delete as staff would; `force` also deletes a referenced token and clears the rules'
        references (a state the node's own checks may not allow)."""
        self.store.delete(resource, self._existing(resource, reference)["id"], force=force)

    # Observability -----------------------------------------------------------------------------

    def counts(self) -> Counter[str]:
        """Requests per method (dropped ones included)."""
        with self._lock:
            return Counter(record.method for record in self.log)

    def requests(
        self, method: str | None = None, resource: str | None = None
    ) -> list[RequestRecord]:
        with self._lock:
            return [
                r
                for r in self.log
                if (method is None or r.method == method)
                and (resource is None or r.path.startswith(API_PREFIX + resource + "/"))
            ]

    def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        """Everything the node holds, as it would show it: no token values."""
        with self.store.lock:
            return {
                resource: [public(resource, dict(obj)) for _, obj in sorted(objects.items())]
                for resource, objects in self.store.objects.items()
            }

    def objects(self, resource: str) -> list[dict[str, Any]]:
        return self.snapshot()[resource]

    def token_matches(self, reference: str | int, value: str) -> bool:
        """Whether the token object (id or URI) holds exactly `value`."""
        with self.store.lock:
            obj = self.store.resolve(reference, GMS_ACCESS_TOKEN)
            stored = "" if obj is None else obj["token"]
        return obj is not None and hmac.compare_digest(stored.encode(), value.encode())

    # Serving -----------------------------------------------------------------------------------

    def _existing(self, resource: str, reference: str | int) -> dict[str, Any]:
        obj = self.store.resolve(reference, resource)
        if obj is None:
            raise KeyError(f"no {resource} {reference!r} on the node")
        return obj

    def _take_faults(self) -> tuple[float, bool, tuple[int, dict[str, str]] | None]:
        with self._lock:
            delay = self._delay
            if self._delay_count is not None:
                self._delay_count -= 1
                if self._delay_count <= 0:
                    self._delay, self._delay_count = 0.0, None
            if self._drop:
                self._drop -= 1
                return delay, True, None
            return delay, False, self._fail.pop(0) if self._fail else None

    def serve(self, handler: _Handler) -> None:
        split = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = ValueError
        token_in_body = isinstance(body, dict) and bool(body.get("token"))
        del raw  # the body, token included, goes no further than this request
        answer = self._answer_for(handler, split.path, split.query, body)
        # Logged before the client hears anything, so a test that reads the log (or resets the
        # double) right after its request returns always finds that request there.
        record = RequestRecord(
            handler.command, split.path, split.query, answer and answer.status, token_in_body
        )
        with self._lock:
            self.log.append(record)
        if answer is None:
            handler.drop()
        else:
            handler.answer(answer, location_host=f"https://127.0.0.1:{self.port}")

    def _answer_for(self, handler: _Handler, path: str, query: str, body: Any) -> _Response | None:
        """The answer to send, or None to drop the connection without one."""
        delay, drop, fail = self._take_faults()
        if delay:
            time.sleep(delay)
        if drop:
            return None
        if fail is not None:
            return _Response(fail[0], {"error": "fault switched on in the test"}, fail[1])
        try:
            self._authenticate(handler.headers.get("Authorization", ""))
        except _Response as refused:
            return refused
        return self._route(handler.command, path, query, body)

    def _authenticate(self, header: str) -> None:
        scheme, _, encoded = header.partition(" ")
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user = password = ""
        ok = scheme.lower() == "basic" and hmac.compare_digest(
            f"{user}:{password}".encode(), f"{self.username}:{self.password}".encode()
        )
        if not ok:
            raise _Response(401, None, {"WWW-Authenticate": 'Basic realm="Pexip Infinity"'})

    def _route(self, method: str, path: str, query: str, body: Any) -> _Response:
        if not path.startswith(API_PREFIX):
            return _Response(404, {"error": "Not found."})
        parts = path[len(API_PREFIX) :].split("/")
        if parts == [""]:
            if method != "GET":
                return _Response(405)
            return _Response(
                200, {name: {"list_endpoint": API_PREFIX + name + "/"} for name in FIELDS}
            )
        # Strict about the trailing slash (Django would redirect a GET, and a POST would fail).
        if parts[0] not in FIELDS or parts[-1] != "" or len(parts) not in (2, 3):
            return _Response(404, {"error": "Not found."})
        resource = parts[0]
        if body is ValueError:
            return _Response(400, {"error": "The request body could not be parsed as JSON."})
        if len(parts) == 2:
            if method == "GET":
                with self.store.lock:
                    held = [o for _, o in sorted(self.store.objects[resource].items())]
                    try:
                        page = list_page(resource, held, path, query, self.max_limit)
                    except BadQuery as bad:
                        return _Response(400, {"error": str(bad)})
                    # Only the page's objects are copied as the node shows them (no token
                    # value): copying every object first made each list read O(all objects).
                    page["objects"] = [public(resource, dict(o)) for o in page["objects"]]
                return _Response(200, page)
            if method == "POST":
                return self._create(resource, body)
            return _Response(405)
        if not parts[1].isdigit():
            return _Response(404, {"error": "Not found."})
        object_id = int(parts[1])
        with self.store.lock:
            obj = self.store.find(resource, object_id)
            if obj is None:
                return _Response(404)
            try:
                if method == "GET":
                    return _Response(200, public(resource, dict(obj)))
                if method in ("PATCH", "PUT"):
                    self.store.update(resource, object_id, body, partial=method == "PATCH")
                    return _Response(202 if method == "PATCH" else 204)
                if method == "DELETE":
                    self.store.delete(resource, object_id)
                    return _Response(204)
            except ValidationFailed as failed:
                return _Response(400, failed.body)
            except ReferencedObject as refused:
                return _Response(400, {resource: {"__all__": [str(refused)]}})
        return _Response(405)

    def _create(self, resource: str, body: Any) -> _Response:
        with self.store.lock:
            held = len(self.store.objects[resource])
            limit = self.licence_limit
            if resource == GMS_ACCESS_TOKEN and limit is not None and held >= limit:
                message = LICENCE_FULL_MESSAGE.format(limit=self.licence_limit)
                return _Response(400, {resource: {"__all__": [message]}})
            try:
                obj = self.store.create(resource, body)
            except ValidationFailed as failed:
                return _Response(400, failed.body)
        return _Response(201, None, {"Location": obj["resource_uri"]})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog of 5 makes a burst of connections wait for SYN retries
    # (a second or more): workers provisioning in parallel must not see that.
    request_queue_size = 128
    double: InfinityDouble

    def handle_error(self, request, client_address) -> None:
        pass  # a client that hangs up mid-answer is not the double's problem to print


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30  # seconds an idle keep-alive connection may hold its thread
    # The status line and headers go out before the body, in two writes: with Nagle's algorithm
    # the body then waits for the client's delayed ACK, 40 ms on every answer with a body.
    disable_nagle_algorithm = True
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.request.do_handshake()
        with self.server.double._lock:
            self.server.double.connections += 1

    def do_GET(self) -> None:
        self.server.double.serve(self)

    do_POST = do_PATCH = do_PUT = do_DELETE = do_GET

    def answer(self, response: _Response, *, location_host: str) -> None:
        payload = b"" if response.body is None else json.dumps(response.body).encode()
        self.send_response(response.status)
        for name, value in response.headers.items():
            if name == "Location" and self.server.double.location_absolute:
                value = location_host + value
            self.send_header(name, value)
        if payload:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        if response.status != 204:
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the request log is `InfinityDouble.log`; stderr stays quiet
