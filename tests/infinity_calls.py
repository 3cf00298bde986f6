"""Requests to the Infinity double in its own tests: the standard library over HTTPS, verified
against the test run's CA (the portal's own client is what the provisioning tests use)."""

from __future__ import annotations

import base64
import http.client
import json
import ssl

from tests.infinity_resources import API_PREFIX

TOKENS = "gms_access_token/"
RULES = "gateway_routing_rule/"
SECRET = "meet-interop-token-value-0123456789"


def connect(node, host="127.0.0.1", *, context=None) -> http.client.HTTPSConnection:
    """A connection that verifies the node against the test run's CA (or `context`)."""
    context = context or ssl.create_default_context(cafile=str(node.ca_bundle))
    return http.client.HTTPSConnection(host, node.port, context=context, timeout=10)


def call(node, method, path, body=None, *, password=None, auth=True):
    """(status, headers, decoded JSON or None) for one request; `path` is relative to the
    management URL unless it starts with "/"."""
    credentials = f"{node.username}:{node.password if password is None else password}"
    headers = {"Content-Type": "application/json"}
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(credentials.encode()).decode()
    connection = connect(node)
    try:
        connection.request(
            method,
            path if path.startswith("/") else API_PREFIX + path,
            body=None if body is None else json.dumps(body),
            headers=headers,
        )
        response = connection.getresponse()
        raw = response.read()
        return response.status, response.headers, json.loads(raw) if raw else None
    finally:
        connection.close()


def add_token(node, name="portal-acme", token=SECRET):
    status, headers, _ = call(node, "POST", TOKENS, {"name": name, "token": token})
    assert status == 201
    return headers["Location"].removeprefix(f"https://127.0.0.1:{node.port}")


def add_rule(node, name="portal-acme-1", **fields):
    body = {"name": name, "priority": 50, "match_string": r"^acme\.(\d{10})@.*$", **fields}
    status, headers, answer = call(node, "POST", RULES, body)
    assert status == 201, answer
    return headers["Location"].removeprefix(f"https://127.0.0.1:{node.port}")


def detail(node, uri):
    return call(node, "GET", uri)
