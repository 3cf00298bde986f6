"""The Management API client (infinity_client.py) over real HTTPS on loopback.

A tiny server of this module's own, with a CA made for the test run, answers whatever each test
scripts; it records every request it receives.
"""

import datetime
import ipaddress
import json
import logging
import pathlib
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from onboarding.gateways import infinity_client as infinity
from onboarding.gateways.infinity_client import InfinityClient, Resource

API = "/api/admin/configuration/v1/"
TOKEN_VALUE = "s3cret-Token-Value-0123456789"


# A throwaway CA and a server certificate for 127.0.0.1 ------------------------------------------


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def make_ca(common_name):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), True
        )
        .sign(key, hashes.SHA256())
    )
    return key, cert


def make_server_cert(ca_key, ca_cert):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("management node"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return key_pem, _pem(cert)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pki")
    ca_key, ca_cert = make_ca("test run CA")
    key_pem, cert_pem = make_server_cert(ca_key, ca_cert)
    (folder / "server.pem").write_text(cert_pem + key_pem)
    (folder / "ca.pem").write_text(_pem(ca_cert))
    (folder / "other-ca.pem").write_text(_pem(make_ca("some other CA")[1]))
    return folder


# The server -------------------------------------------------------------------------------------


class Node:
    """Answers with `respond(request) -> (status, headers, body)`; records every request."""

    def __init__(self, pki):
        self.requests = []
        self.respond = lambda request: (200, {}, {"meta": {"next": None}, "objects": []})
        node = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                request = {
                    "method": self.command,
                    "path": parts.path,
                    "query": {k: v[0] for k, v in parse_qs(parts.query).items()},
                    "headers": dict(self.headers),
                    "body": self.rfile.read(length).decode() if length else "",
                }
                node.requests.append(request)
                answer = node.respond(request)
                if answer == "drop":
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                status, headers, body = answer
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(pki / "server.pem")
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def node(pki):
    node = Node(pki)
    yield node
    node.close()


@pytest.fixture
def client(node, pki):
    with InfinityClient(
        node.url, "portal", "node-password", ca_bundle=(pki / "ca.pem").read_text(), timeout=2
    ) as client:
        yield client


def answer(status, body=None, **headers):
    return lambda request: (status, headers, {} if body is None else body)


# Configuration ----------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["http://node.example", "node.example", "ftp://node.example", ""])
def test_it_refuses_a_management_url_that_is_not_https(url):
    with pytest.raises(infinity.ConfigurationError, match="https://"):
        InfinityClient(url, "portal", "pw")


def test_it_refuses_a_ca_bundle_path_that_does_not_exist(tmp_path):
    with pytest.raises(infinity.ConfigurationError, match="CA bundle"):
        InfinityClient("https://node.example", "portal", "pw", ca_bundle=str(tmp_path / "x"))


def test_a_pem_ca_bundle_is_kept_in_a_file_only_while_the_client_is_open(pki):
    pem = (pki / "ca.pem").read_text()
    client = InfinityClient("https://node.example", "u", "p", ca_bundle=pem)
    path = pathlib.Path(client.verify)
    assert path.read_text() == pem
    client.close()
    assert not path.exists()
    client.close()  # twice is harmless


def test_its_repr_shows_no_password_and_no_ca_bundle(client):
    assert "node-password" not in repr(client)


# TLS: the gateway's CA bundle, whatever the environment says -----------------------------------


def test_the_gateways_ca_bundle_wins_over_requests_ca_bundle(node, pki, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(pki / "other-ca.pem"))
    monkeypatch.setenv("CURL_CA_BUNDLE", str(pki / "other-ca.pem"))
    with InfinityClient(node.url, "u", "p", ca_bundle=str(pki / "ca.pem")) as client:
        assert client.list_tokens() == []


def test_a_session_verify_alone_would_lose_to_requests_ca_bundle(node, pki, monkeypatch):
    """Why the client sets trust_env off: requests prefers the environment's bundle."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(pki / "other-ca.pem"))
    session = requests.Session()
    session.verify = str(pki / "ca.pem")
    with pytest.raises(requests.exceptions.SSLError):
        session.get(node.url + API + "gms_access_token/", timeout=2)


def test_a_node_whose_certificate_does_not_verify_is_a_tls_failure(node, pki, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(pki / "ca.pem"))  # not a way around it either
    other = InfinityClient(node.url, "u", "p", ca_bundle=str(pki / "other-ca.pem"))
    with other, pytest.raises(infinity.TlsFailure, match="CA bundle"):
        other.list_tokens()
    public = InfinityClient(node.url, "u", "p")  # the public CAs do not know it
    with public, pytest.raises(infinity.TlsFailure):
        public.list_tokens()
    assert node.requests == []


# Lists, page by page ------------------------------------------------------------------------------


def paged(objects):
    def respond(request):
        limit, offset = int(request["query"]["limit"]), int(request["query"].get("offset", 0))
        prefix = request["query"].get("name__startswith", "")
        chosen = [o for o in objects if o["name"].startswith(prefix)]
        following = offset + limit < len(chosen)
        meta = {
            "limit": limit,
            "offset": offset,
            "total_count": len(chosen),
            "previous": None,
            "next": f"{API}gms_access_token/?limit={limit}&offset={offset + limit}"
            f"&name__startswith={prefix}"
            if following
            else None,
        }
        return 200, {}, {"meta": meta, "objects": chosen[offset : offset + limit]}

    return respond


def test_a_list_follows_meta_next_page_by_page_at_the_page_size(node, client):
    tokens = [{"id": i, "name": f"meet-portal-{i}"} for i in range(1, 6)]
    node.respond = paged([*tokens, {"id": 9, "name": "hand-made"}])
    client.page_size = 2
    assert client.list_tokens(name_prefix="meet-portal-") == tokens
    assert [r["query"].get("offset", "0") for r in node.requests] == ["0", "2", "4"]
    assert {r["query"]["limit"] for r in node.requests} == {"2"}
    assert {r["query"]["name__startswith"] for r in node.requests} == {"meet-portal-"}


def test_a_list_is_filtered_again_when_a_node_ignores_the_filter(node, client):
    node.respond = answer(200, {"meta": {"next": None}, "objects": [{"tag": "x"}, {"tag": "mp-1"}]})
    assert client.list_rules(tag_prefix="mp-") == [{"tag": "mp-1"}]
    assert node.requests[0]["query"]["tag__startswith"] == "mp-"


def test_a_list_never_follows_next_to_another_address(node, client):
    page = {
        "meta": {"next": "https://elsewhere.example/api/x/?offset=2"},
        "objects": [{"name": ""}],
    }
    node.respond = answer(200, page)
    with pytest.raises(infinity.ProtocolError, match="another address"):
        client.list_tokens()
    assert len(node.requests) == 1


def test_a_list_that_is_not_json_is_a_protocol_error(node, client):
    node.respond = lambda request: (200, {"Content-Type": "text/html"}, "<html>login</html>")
    with pytest.raises(infinity.ProtocolError):
        client.list_rules()


# Create, get, patch, delete ---------------------------------------------------------------------


def test_create_answers_the_new_objects_id_and_uri_from_location(node, client):
    location = f"{node.url}{API}gms_access_token/12/"
    node.respond = answer(201, Location=location)
    created = client.create_token(name="meet-portal-7", token=TOKEN_VALUE)
    assert created == infinity.Created(id=12, uri=f"{API}gms_access_token/12/")
    sent = node.requests[0]
    assert (sent["method"], sent["path"]) == ("POST", f"{API}gms_access_token/")
    assert json.loads(sent["body"]) == {"name": "meet-portal-7", "token": TOKEN_VALUE}
    assert sent["headers"]["Content-Type"] == "application/json"
    assert sent["headers"]["Authorization"].startswith("Basic ")


def test_create_without_location_is_a_protocol_error(node, client):
    node.respond = answer(201)
    with pytest.raises(infinity.ProtocolError, match="Location"):
        client.create(Resource.GATEWAY_ROUTING_RULE, {"name": "r"})


def test_get_patch_and_delete_address_the_object(node, client):
    node.respond = answer(200, {"id": 4, "tag": "meet-portal-7-3"})
    assert client.get(Resource.GATEWAY_ROUTING_RULE, 4) == {"id": 4, "tag": "meet-portal-7-3"}
    node.respond = answer(202)
    client.patch(Resource.GATEWAY_ROUTING_RULE, 4, {"enable": False})
    node.respond = answer(204)
    client.delete(Resource.GMS_ACCESS_TOKEN, 12)
    assert [(r["method"], r["path"]) for r in node.requests] == [
        ("GET", f"{API}gateway_routing_rule/4/"),
        ("PATCH", f"{API}gateway_routing_rule/4/"),
        ("DELETE", f"{API}gms_access_token/12/"),
    ]
    assert json.loads(node.requests[1]["body"]) == {"enable": False}


# Failures, typed ----------------------------------------------------------------------------------


def test_a_400_with_field_errors_is_rejected_with_the_nodes_message(node, client):
    errors = {"gateway_routing_rule": {"match_string": ["Invalid regular expression."]}}
    node.respond = answer(400, errors)
    with pytest.raises(infinity.Rejected) as caught:
        client.create(Resource.GATEWAY_ROUTING_RULE, {"match_string": "("})
    assert caught.value.status == 400
    assert caught.value.field_errors == {"match_string": ["Invalid regular expression."]}
    assert "match_string: Invalid regular expression." in str(caught.value)


def test_a_400_with_a_plain_error_is_rejected_with_its_message(node, client):
    node.respond = answer(400, {"error": "Licence limit reached: no more Google Meet tokens"})
    with pytest.raises(infinity.Rejected, match="Licence limit reached") as caught:
        client.create_token(name="meet-portal-7", token=TOKEN_VALUE)
    assert caught.value.field_errors == {}


@pytest.mark.parametrize("status", [401, 403])
def test_401_and_403_are_unauthorized(node, client, status):
    node.respond = answer(status, {"detail": "nope"})
    with pytest.raises(infinity.Unauthorized, match="management account"):
        client.list_tokens()


def test_404_on_a_change_is_not_found(node, client):
    node.respond = answer(404)
    with pytest.raises(infinity.NotFound):
        client.patch(Resource.GATEWAY_ROUTING_RULE, 4, {"enable": True})


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_unavailable_and_transient(node, client, status):
    node.respond = answer(status, "<html>oops</html>")
    with pytest.raises(infinity.Unavailable) as caught:
        client.list_rules()
    assert isinstance(caught.value, infinity.Transient)


def test_429_is_rate_limited_with_retry_after(node, client):
    node.respond = answer(429, {}, **{"Retry-After": "30"})
    with pytest.raises(infinity.RateLimited) as caught:
        client.list_tokens()
    assert isinstance(caught.value, infinity.Transient)
    assert caught.value.retry_after == 30


def test_a_slow_node_times_out_as_unavailable(node, client):
    def slow(request):
        time.sleep(1)
        return 200, {}, {"meta": {}, "objects": []}

    node.respond = slow
    client.timeout = 0.2
    with pytest.raises(infinity.Unavailable, match=r"did not answer within 0\.2 s"):
        client.list_tokens()


def test_a_dropped_connection_is_unavailable(node, client):
    node.respond = lambda request: "drop"
    with pytest.raises(infinity.Unavailable, match="dropped"):
        client.create_token(name="meet-portal-7", token=TOKEN_VALUE)


def test_a_refused_connection_is_unavailable(pki):
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        port = spare.getsockname()[1]
    client = InfinityClient(f"https://127.0.0.1:{port}", "u", "p", ca_bundle=str(pki / "ca.pem"))
    with client, pytest.raises(infinity.Unavailable):
        client.list_tokens()


def test_a_redirect_is_not_followed(node, client):
    node.respond = answer(302, Location="https://elsewhere.example/")
    with pytest.raises(infinity.ProtocolError, match="redirect"):
        client.list_tokens()
    assert len(node.requests) == 1


# The token travels only in a request body ---------------------------------------------------------


def test_the_token_is_in_no_log_line_url_or_error(node, client, caplog):
    caplog.set_level(logging.DEBUG)  # the root logger: urllib3's connection lines included
    logging.getLogger("urllib3").setLevel(logging.DEBUG)
    echo = {"gms_access_token": {"token": [f"'{TOKEN_VALUE}' is not a valid token"]}}
    node.respond = answer(400, echo)
    with pytest.raises(infinity.Rejected) as rejected:
        client.create_token(name="meet-portal-7", token=TOKEN_VALUE)
    node.respond = lambda request: (500, {}, f"Internal error while saving {TOKEN_VALUE}")
    with pytest.raises(infinity.Unavailable) as unavailable:
        client.update_token(12, name="meet-portal-7", token=TOKEN_VALUE)
    node.respond = lambda request: (409, {"Content-Type": "text/plain"}, f"dup {TOKEN_VALUE}")
    with pytest.raises(infinity.Rejected) as conflict:
        client.update_token(12, name="meet-portal-7", token=TOKEN_VALUE)

    assert "gms_access_token/" in caplog.text  # the requests were logged ...
    assert TOKEN_VALUE not in caplog.text  # ... without the token
    for caught in (rejected, unavailable, conflict):
        assert TOKEN_VALUE not in str(caught.value) + repr(caught.value)
    assert rejected.value.field_errors == {"token": ["'[redacted]' is not a valid token"]}
    for request in node.requests:  # it went in the body, and only there
        assert TOKEN_VALUE in request["body"]
        assert TOKEN_VALUE not in request["path"] + json.dumps(request["query"])
        assert TOKEN_VALUE not in json.dumps(request["headers"])
