"""A small client for the Pexip Infinity Management Node's configuration API.

`https://<manager>/api/admin/configuration/v1/<resource>/`, HTTP Basic auth, JSON. Lists answer
`{"meta": {limit, offset, next, previous, total_count}, "objects": [...]}` and are read page by
page following `meta.next`; POST answers 201 with the new object's URI in `Location`; an object
lives at `<resource>/<id>/` and is changed with PATCH and removed with DELETE.

Failures are typed so the reconciliation can act on them: `Unauthorized` (401, 403: stop the
gateway), `RateLimited` and `Unavailable` (429, 5xx, timeouts, dropped connections: retry later,
both `Transient`), `Rejected` (400 and other refusals, with the node's message and field errors),
`NotFound` (404), `TlsFailure` (the node's certificate does not verify), `ProtocolError` (an
answer that is not the API's).

The token value goes only into a request body. Nothing here logs a body, and every text that
comes back from the node is scrubbed of the secret values sent with the request before it is put
in an exception, so a node that echoes a value in an error cannot leak it.
"""

from __future__ import annotations

import enum
import logging
import os
import tempfile
import time
import weakref
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

logger = logging.getLogger(__name__)

API_PATH = "/api/admin/configuration/v1/"
DEFAULT_TIMEOUT = 10.0  # seconds, to connect and for each read
DEFAULT_PAGE_SIZE = 100
# Fields whose values are secrets: never logged, scrubbed from every error text.
SECRET_FIELDS = frozenset({"token"})
_REDACTED = "[redacted]"
_MAX_ERROR_TEXT = 500


class Resource(enum.StrEnum):
    GMS_ACCESS_TOKEN = "gms_access_token"  # noqa: S105 (a resource name, not a secret)
    GATEWAY_ROUTING_RULE = "gateway_routing_rule"


# Errors -------------------------------------------------------------------------------------------


class InfinityError(Exception):
    """Anything that kept a request from doing what it asked."""


class ConfigurationError(InfinityError, ValueError):
    """The gateway's settings are unusable (a non-https URL, a missing CA bundle)."""


class Transient(InfinityError):
    """Worth trying again later, with backoff."""


class Unavailable(Transient):
    """5xx, a timeout, a refused or dropped connection."""


class RateLimited(Transient):
    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unauthorized(InfinityError):
    """401 or 403: wrong credentials or too few rights; nothing works until they change."""


class NotFound(InfinityError):
    """404: the object is gone (drift, or already deleted)."""


class TlsFailure(InfinityError):
    """The node's certificate did not verify against the gateway's CA bundle."""


class ProtocolError(InfinityError):
    """An answer that is not the API's (not JSON, no Location, a redirect)."""


class Rejected(InfinityError):
    """The node refused the request (400 and other 4xx): its message and field errors, e.g. a
    licence that holds no more tokens. Not retried until something changes."""

    def __init__(
        self, message: str, *, status: int, field_errors: Mapping[str, list[str]] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.field_errors = dict(field_errors or {})


# Answers ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Created:
    id: int
    uri: str  # the path form the API uses in references (`/api/admin/.../<id>/`)


@dataclass
class InfinityClient:
    """One Management Node. Use as a context manager (or call `close`)."""

    manager_url: str
    username: str
    password: str = field(repr=False)
    ca_bundle: str | None = field(default=None, repr=False)  # PEM text or a file path
    timeout: float = DEFAULT_TIMEOUT
    page_size: int = DEFAULT_PAGE_SIZE

    def __post_init__(self) -> None:
        parts = urlsplit(self.manager_url.strip())
        if parts.scheme != "https" or not parts.hostname:
            raise ConfigurationError(
                "The management URL must start with https:// and name the Management Node "
                f"(got {self.manager_url!r}): the password and tokens never travel unencrypted."
            )
        self.origin = f"https://{parts.netloc}"
        self.base_url = self.origin + API_PATH
        self._remove_ca_file: weakref.finalize | None = None
        self.verify: bool | str = self._verify_setting()
        self.session = requests.Session()
        # Without this, REQUESTS_CA_BUNDLE (and CURL_CA_BUNDLE, proxies, .netrc) from the
        # process environment would replace the gateway's CA bundle: requests lets them override
        # a Session's `verify` (Session.merge_environment_settings). `verify` is also passed on
        # every request, so the gateway's bundle wins either way.
        self.session.trust_env = False
        self.session.auth = (self.username, self.password)
        self.session.headers.update({"Accept": "application/json"})

    def _verify_setting(self) -> bool | str:
        if not self.ca_bundle:
            return True
        if "-----BEGIN" in self.ca_bundle:
            # requests wants a path: the PEM goes to a private file removed by close().
            handle, path = tempfile.mkstemp(prefix="infinity-ca-", suffix=".pem")
            with os.fdopen(handle, "w") as out:
                out.write(self.ca_bundle)
            self._remove_ca_file = weakref.finalize(self, os.unlink, path)
            return path
        if not os.path.isfile(self.ca_bundle):
            raise ConfigurationError(f"The CA bundle {self.ca_bundle!r} is not a readable file.")
        return self.ca_bundle

    def close(self) -> None:
        self.session.close()
        if self._remove_ca_file:
            self._remove_ca_file()  # once only, also if close() is never called

    def __enter__(self) -> InfinityClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Generic operations -----------------------------------------------------------------------

    def list_objects(self, resource: Resource, **filters: str) -> Iterator[dict[str, Any]]:
        """Every object of a resource, page by page (`page_size` a page), following `meta.next`.

        `filters` are the API's query filters (`name__startswith="meet-portal-"`).
        """
        url: str | None = self.base_url + f"{resource}/"
        params: dict[str, Any] | None = {"limit": self.page_size, **filters}
        while url:
            page = self._json(self._send("GET", url, params=params), url)
            if not isinstance(page, dict) or not isinstance(page.get("objects"), list):
                raise ProtocolError(f"The node's list of {resource} has no objects.")
            yield from page["objects"]
            next_url = (page.get("meta") or {}).get("next")
            url = self._same_node(next_url) if next_url else None
            params = None  # `next` carries limit, offset and the filters

    def get(self, resource: Resource, object_id: int) -> dict[str, Any]:
        url = self._object_url(resource, object_id)
        return self._json(self._send("GET", url), url)

    def create(self, resource: Resource, body: Mapping[str, Any]) -> Created:
        response = self._send("POST", self.base_url + f"{resource}/", body=body)
        if response.status_code != 201 or not response.headers.get("Location"):
            raise ProtocolError(
                f"Creating a {resource} answered {response.status_code} without a Location."
            )
        path = urlsplit(self._same_node(response.headers["Location"])).path
        last = path.rstrip("/").rsplit("/", 1)[-1]
        if not path.startswith(API_PATH + f"{resource}/") or not last.isdigit():
            raise ProtocolError(f"The new {resource}'s Location is not one of its objects.")
        return Created(id=int(last), uri=path if path.endswith("/") else path + "/")

    def patch(self, resource: Resource, object_id: int, body: Mapping[str, Any]) -> None:
        self._send("PATCH", self._object_url(resource, object_id), body=body)

    def delete(self, resource: Resource, object_id: int) -> None:
        self._send("DELETE", self._object_url(resource, object_id))

    # The two resources the portal writes ------------------------------------------------------

    def list_tokens(self, *, name_prefix: str = "") -> list[dict[str, Any]]:
        """gms_access_token objects whose name starts with `name_prefix` (filtered by the node,
        and again here in case a node ignores the filter). The node never returns a value."""
        filters = {"name__startswith": name_prefix} if name_prefix else {}
        objects = self.list_objects(Resource.GMS_ACCESS_TOKEN, **filters)
        return [o for o in objects if str(o.get("name") or "").startswith(name_prefix)]

    def list_rules(self, *, tag_prefix: str = "") -> list[dict[str, Any]]:
        filters = {"tag__startswith": tag_prefix} if tag_prefix else {}
        objects = self.list_objects(Resource.GATEWAY_ROUTING_RULE, **filters)
        return [o for o in objects if str(o.get("tag") or "").startswith(tag_prefix)]

    def create_token(self, *, name: str, token: str) -> Created:
        return self.create(Resource.GMS_ACCESS_TOKEN, {"name": name, "token": token})

    def update_token(self, object_id: int, *, name: str, token: str) -> None:
        self.patch(Resource.GMS_ACCESS_TOKEN, object_id, {"name": name, "token": token})

    # Plumbing ---------------------------------------------------------------------------------

    def _object_url(self, resource: Resource, object_id: int) -> str:
        return self.base_url + f"{resource}/{int(object_id)}/"

    def _same_node(self, url: str) -> str:
        """`next` and `Location` resolved against the node; refused if they lead elsewhere (the
        credentials go with every request)."""
        absolute = urljoin(self.origin + "/", url)
        if f"{urlsplit(absolute).scheme}://{urlsplit(absolute).netloc}" != self.origin:
            raise ProtocolError("The node pointed to another address; not followed.")
        return absolute

    def _send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> requests.Response:
        secrets = [str(body[name]) for name in SECRET_FIELDS if body and body.get(name)]
        path = urlsplit(url).path
        started = time.monotonic()
        try:
            response = self.session.request(
                method,
                url,
                params=params,
                json=body,
                timeout=self.timeout,
                verify=self.verify,
                allow_redirects=False,
            )
        except requests.exceptions.SSLError:
            raise TlsFailure(
                f"The Management Node's certificate did not verify ({method} {path}): check the "
                "gateway's CA bundle and the node's hostname."
            ) from None
        except requests.exceptions.Timeout:
            raise Unavailable(
                f"The Management Node did not answer within {self.timeout:g} s ({method} {path})."
            ) from None
        except requests.exceptions.ConnectionError:
            raise Unavailable(
                f"Could not reach the Management Node, or it dropped the connection "
                f"({method} {path})."
            ) from None
        logger.debug(
            "Infinity %s %s -> %s in %.0f ms",
            method,
            path,
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        if response.status_code >= 300:
            raise self._error(response, method, path, secrets)
        return response

    def _error(
        self, response: requests.Response, method: str, path: str, secrets: list[str]
    ) -> InfinityError:
        status = response.status_code
        what = f"{method} {path} answered {status}"
        if status in (401, 403):
            return Unauthorized(
                f"{what}: the node refused the management account (check its username, "
                "password and rights)."
            )
        if status == 404:
            return NotFound(f"{what}: no such object.")
        if status == 429:
            return RateLimited(f"{what}: too many requests.", retry_after=_retry_after(response))
        if status >= 500:
            return Unavailable(f"{what}: the node had a problem.")
        if status < 400:
            return ProtocolError(f"{what}: a redirect, not followed.")
        message, field_errors = _node_errors(response, secrets)
        return Rejected(f"{what}: {message}", status=status, field_errors=field_errors)

    def _json(self, response: requests.Response, url: str) -> Any:
        try:
            return response.json()
        except ValueError:
            raise ProtocolError(f"{urlsplit(url).path} did not answer JSON.") from None


def _retry_after(response: requests.Response) -> float | None:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return None


def _scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, _REDACTED)
    return text


def _node_errors(
    response: requests.Response, secrets: list[str]
) -> tuple[str, dict[str, list[str]]]:
    """The node's message and field errors from a refusal, scrubbed of the request's secrets.

    The API answers validation errors as `{"<resource>": {"<field>": ["..."]}}` (sometimes
    without the resource level) and other refusals as `{"error": "..."}` or plain text.
    """
    try:
        payload = response.json()
    except ValueError:
        text = _scrub(response.text.strip(), secrets)[:_MAX_ERROR_TEXT]
        return text or response.reason or "refused", {}
    field_errors: dict[str, list[str]] = {}
    messages: list[str] = []

    def walk(value: Any, key: str | None) -> None:
        if isinstance(value, dict):
            for child_key, child in value.items():
                walk(child, str(child_key))
        elif isinstance(value, list):
            for item in value:
                walk(item, key)
        elif value is not None:
            text = _scrub(str(value), secrets)[:_MAX_ERROR_TEXT]
            if key is None or key in ("error", "error_message", "__all__", "non_field_errors"):
                messages.append(text)
            else:
                field_errors.setdefault(key, []).append(text)

    # A validation error nests the fields under the resource's name: lift them out.
    if isinstance(payload, dict) and len(payload) == 1:
        ((only_key, only_value),) = payload.items()
        if only_key in set(Resource) and isinstance(only_value, dict):
            payload = only_value
    walk(payload, None)
    parts = messages + [f"{name}: {' '.join(texts)}" for name, texts in field_errors.items()]
    return "; ".join(parts) or response.reason or "refused", field_errors
