"""docs/nginx.conf in front of gunicorn: slow clients wait on nginx, the client address is nginx's.

nginx runs the documented file with only its addresses and certificate paths swapped, as a child
process (not a daemon) with its own pid, log and temporary files; gunicorn is started as in
tests/servers.py, with COMMENTS_PROXY_COUNT=1.
"""
from __future__ import annotations

import gzip
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from .servers import START_TIMEOUT, Reply, Server, gunicorn, migrated_database, server_env

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "docs" / "nginx.conf"
NAME = "comments.example.org"
# Every answer through nginx comes well within this; a worker held by a slow client takes 30 s.
TIMEOUT = 10.0
SECRET = f"proxy-{secrets.token_hex(16)}"


def nginx_binary() -> str:
    """Debian's nginx (`make nginx` installs it); outside CI its absence is a skip."""
    found = shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("nginx is not installed (make nginx)")
    pytest.skip("nginx is not installed (make nginx; CI makes this a failure)")


def free_port() -> int:
    """A port nobody listens on just now (nginx cannot report one the kernel picked)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def swapped(text: str, old: str, new: str) -> str:
    """`text` with the one line `old` (stripped) replaced by `new`, or a failure naming it."""
    lines = text.splitlines()
    found = [i for i, line in enumerate(lines) if line.strip() == old]
    assert len(found) == 1, f"docs/nginx.conf should have exactly one line `{old}`"
    indent = lines[found[0]][:len(lines[found[0]]) - len(lines[found[0]].lstrip())]
    lines[found[0]] = indent + new if new else ""
    return "\n".join(lines) + "\n"


@dataclass
class Certificate:
    """A self-signed certificate for NAME: the server's files and the client's trust."""

    cert: Path
    key: Path

    def client(self) -> ssl.SSLContext:
        """A client context that trusts this certificate alone."""
        return ssl.create_default_context(cafile=str(self.cert))


def certificate(directory: Path) -> Certificate:
    """Make the certificate with openssl."""
    cert, key = directory / "fullchain.pem", directory / "privkey.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", f"/CN={NAME}",
                    "-addext", f"subjectAltName=DNS:{NAME}", "-keyout", str(key),
                    "-out", str(cert)], check=True, capture_output=True)
    return Certificate(cert, key)


def site_config(upstream: str, http_port: int, https_port: int, tls: Certificate) -> str:
    """docs/nginx.conf with loopback ports, the test's upstream and certificate: nothing else."""
    text = TEMPLATE.read_text()
    for old, new in [("server 127.0.0.1:8000;", f"server {upstream};"),
                     ("listen 80;", f"listen 127.0.0.1:{http_port};"), ("listen [::]:80;", ""),
                     ("listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;"),
                     ("listen [::]:443 ssl;", ""),
                     (f"ssl_certificate /etc/letsencrypt/live/{NAME}/fullchain.pem;",
                      f"ssl_certificate {tls.cert};"),
                     (f"ssl_certificate_key /etc/letsencrypt/live/{NAME}/privkey.pem;",
                      f"ssl_certificate_key {tls.key};")]:
        text = swapped(text, old, new)
    return text


@dataclass
class Nginx:
    """A running nginx: its two ports, the certificate clients trust, its error log."""

    http_port: int
    https_port: int
    tls: Certificate
    error_log: Path

    def connect(self, source: str | None = None) -> ssl.SSLSocket:
        """A TLS connection for NAME, from a loopback `source` address if given."""
        sock = socket.create_connection(("127.0.0.1", self.https_port), timeout=TIMEOUT,
                                        source_address=(source, 0) if source else None)
        return self.tls.client().wrap_socket(sock, server_hostname=NAME)

    def fetch(self, path: str, headers: Mapping[str, str] | None = None,
              source: str | None = None) -> Reply:
        """GET `path` over HTTPS on a new connection."""
        with self.connect(source) as sock:
            return exchange(sock, path, headers)


def exchange(sock: socket.socket, path: str, headers: Mapping[str, str] | None = None) -> Reply:
    """Send a GET for NAME on `sock` and read the answer whole."""
    lines = [f"GET {path} HTTP/1.1", f"Host: {NAME}", "Connection: close",
             *(f"{key}: {value}" for key, value in (headers or {}).items())]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    response = http.client.HTTPResponse(sock, method="GET")
    response.begin()
    return Reply(response.status, response.headers, response.read())


@contextmanager
def nginx(directory: Path, upstream: str, tls: Certificate) -> Iterator[Nginx]:
    """nginx in the foreground over the documented site; stopped (and waited for) on the way out."""
    directory.mkdir(parents=True)
    http_port, https_port = free_port(), free_port()
    (directory / "comments.conf").write_text(site_config(upstream, http_port, https_port, tls))
    error_log = directory / "error.log"
    # As root, nginx hands requests to workers running as `nobody` unless told otherwise: they
    # could not write to the temporary directories here.
    user = "user root;\n" if os.geteuid() == 0 else ""
    (directory / "nginx.conf").write_text(
        f"{user}daemon off;\nworker_processes 1;\npid {directory / 'nginx.pid'};\n"
        f"error_log {error_log} warn;\nevents {{ worker_connections 64; }}\n"
        f"http {{\n  access_log {directory / 'access.log'};\n"
        + "".join(f"  {kind}_temp_path {directory / kind};\n"
                  for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        + f"  include {directory / 'comments.conf'};\n}}\n")
    process = subprocess.Popen([nginx_binary(), "-p", str(directory), "-c",
                                str(directory / "nginx.conf"), "-e", str(error_log)],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        _listening(process, error_log, http_port, https_port)
        yield Nginx(http_port, https_port, tls, error_log)
    finally:
        process.send_signal(signal.SIGQUIT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _listening(process: subprocess.Popen[bytes], error_log: Path, *ports: int) -> None:
    """Wait until nginx accepts connections on every port, or fail with its error log."""
    deadline = time.monotonic() + START_TIMEOUT
    waiting = list(ports)
    while waiting and time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", waiting[0]), timeout=1).close()
            waiting.pop(0)
        except OSError:
            time.sleep(0.05)
    if waiting:
        log = error_log.read_text() if error_log.exists() else ""
        raise RuntimeError(f"nginx did not start listening:\n{log}")


@dataclass
class Stack:
    """nginx in front of gunicorn."""

    proxy: Nginx
    app: Server


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """gunicorn (two sync workers, COMMENTS_PROXY_COUNT=1) behind docs/nginx.conf."""
    root = tmp_path_factory.mktemp("proxy")
    tls = certificate(root)
    with migrated_database(root) as app:
        env = server_env(DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
                         COMMENTS_SECRET_KEY=SECRET, COMMENTS_PROXY_COUNT="1")
        with gunicorn(env, root / "gunicorn", workers=2) as server:
            server.wait_for_workers(2)
            with nginx(root / "nginx", f"{server.host}:{server.port}", tls) as proxy:
                yield Stack(proxy, server)


def logged(server: Server, request_id: str) -> list[dict[str, Any]]:
    """The app's JSON log lines of one request."""
    lines = [json.loads(line) for line in server.log.read_text().splitlines()
             if line.startswith("{")]
    return [line for line in lines if line.get("request_id") == request_id]


def test_half_sent_requests_wait_on_nginx_not_on_the_workers(stack: Stack) -> None:
    """Twice as many stalled requests as there are workers (headers cut short, a body cut short):
    readers are still answered, and a stalled request still goes through when it ends."""
    stalled = [stack.proxy.connect() for _ in range(4)]
    try:
        for i, sock in enumerate(stalled):
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: comm" if i % 2 == 0 else
                         b"POST /api/v1/comments HTTP/1.1\r\nHost: " + NAME.encode()
                         + b"\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
                         + b'{"site": "')
        for _ in range(4):
            reply = stack.proxy.fetch("/healthz")
            assert (reply.status, reply.json()["status"]) == (200, "ok")
        stalled[0].sendall(b"ents.example.org\r\nConnection: close\r\n\r\n")
        response = http.client.HTTPResponse(stalled[0], method="GET")
        response.begin()
        assert response.status == 200 and json.loads(response.read())["database"] == "ok"
    finally:
        for sock in stalled:
            sock.close()


def test_the_app_sees_the_address_nginx_saw_not_the_clients_claim(stack: Stack) -> None:
    reply = stack.proxy.fetch("/healthz", {"X-Forwarded-For": "203.0.113.7"}, source="127.0.0.3")
    assert reply.status == 200
    [line] = logged(stack.app, reply.headers["X-Request-ID"])
    assert line["ip"] == "127.0.0.3"


def test_the_widget_keeps_its_caching_headers_through_nginx(stack: Stack) -> None:
    direct = stack.app.request("GET", "/widget.js")
    assert direct.status == 200 and direct.headers["ETag"]
    plain = stack.proxy.fetch("/widget.js")
    assert plain.status == 200 and plain.body == direct.body
    for header in ("Cache-Control", "ETag", "Last-Modified", "Access-Control-Allow-Origin",
                   "Cross-Origin-Resource-Policy", "Content-Type"):
        assert plain.headers[header] == direct.headers[header], header
    assert stack.proxy.fetch("/widget.js", {"If-None-Match": direct.headers["ETag"]}).status == 304
    packed = stack.proxy.fetch("/widget.js", {"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.body) == direct.body
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert packed.headers["Cache-Control"] == direct.headers["Cache-Control"]
    assert packed.headers["ETag"] == f"W/{direct.headers['ETag']}"
    again = stack.proxy.fetch("/widget.js", {"Accept-Encoding": "gzip",
                                             "If-None-Match": packed.headers["ETag"]})
    assert again.status == 304


def test_plain_http_is_sent_to_https_and_metrics_stay_inside(stack: Stack) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", stack.proxy.http_port, timeout=TIMEOUT)
    try:
        conn.request("GET", "/widget.js?v=1", headers={"Host": NAME})
        response = conn.getresponse()
        assert (response.status, response.headers["Location"]) == \
            (301, f"https://{NAME}/widget.js?v=1")
    finally:
        conn.close()
    assert stack.proxy.fetch("/metrics").status == 404
    assert stack.app.request("GET", "/metrics").status == 200


class Recorder:
    """An upstream that records the headers nginx sends it, and answers 200."""

    def __init__(self) -> None:
        self.headers: list[dict[str, str]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (the http.server API)
                recorder.headers.append(dict(self.headers))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


def test_nginx_replaces_the_forwarding_headers_a_client_sends(tmp_path: Path) -> None:
    """X-Forwarded-For is set to the client's address, not appended to: with more than one proxy
    counted, an appended claim would be believed."""
    recorder = Recorder()
    try:
        with nginx(tmp_path / "nginx", recorder.address, certificate(tmp_path)) as proxy:
            reply = proxy.fetch("/", {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "http",
                                      "X-Request-ID": "chosen-by-client"}, source="127.0.0.3")
        assert reply.status == 200
        [seen] = recorder.headers
        assert seen["X-Forwarded-For"] == "127.0.0.3" and seen["X-Forwarded-Proto"] == "https"
        assert seen["Host"] == NAME and seen["X-Request-ID"] != "chosen-by-client"
    finally:
        recorder.close()
