"""Fixtures for the identity-provider checks (checks/identity): the real gateway binary,
tokens and key sets made by third-party JOSE libraries, a JWKS served over HTTP.

Run from the repository root:

    SSE_GATEWAY_BIN=$(swift build --sanitize=thread --show-bin-path)/sse-gateway \
        python3 -m pytest -q -p no:cacheprovider checks/identity

SSE_GATEWAY_BIN is required (as for checks/deploy and checks/browser). The libraries come
from PyPI (scripts/test installs them): PyJWT, joserfc, authlib, python-jose, cryptography.

The pieces:
- `KeyServer`: an identity provider's key endpoint, a real HTTP server on loopback that
  serves a JWKS document at the path the provider uses and counts the fetches.
- `Gateway`: `sse-gateway serve` (not --dev) as a subprocess with the environment a user
  would set for that provider, reached over real HTTP.
- `deliver`: a CloudEvent POSTed to `/dapr/topics/{topic}` exactly as daprd does.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
JWT_PATTERN = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


def gateway_binary() -> Path:
    value = os.environ.get("SSE_GATEWAY_BIN", "").strip()
    if not value:
        pytest.fail(
            "SSE_GATEWAY_BIN is not set: build the gateway and run e.g. "
            "`SSE_GATEWAY_BIN=$(swift build --sanitize=thread --show-bin-path)/sse-gateway "
            "python3 -m pytest -q checks/identity`.",
            pytrace=False,
        )
    path = Path(value)
    if not path.is_absolute() and not path.exists():
        path = REPO / value
    if not path.is_file() or not os.access(path, os.X_OK):
        pytest.fail(f"SSE_GATEWAY_BIN={value!r} is not an executable file", pytrace=False)
    return path


def base_environment() -> dict[str, str]:
    """The process environment minus anything gateway- or Dapr-related a shell may hold."""
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
    }
    if "TSAN_OPTIONS" in os.environ:
        environment["TSAN_OPTIONS"] = os.environ["TSAN_OPTIONS"]
    return environment


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def http(method: str, url: str, body: bytes | None = None, headers: dict | None = None, timeout: float = 15):
    """(status, headers, body bytes) of one request; HTTP errors are answers, not exceptions."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


class KeyServer:
    """An identity provider's JWKS endpoint on loopback."""

    def __init__(self, path: str, document: dict):
        self.path = path
        self.document = document
        self.fetches = 0
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (the http.server API)
                if urllib.parse.urlsplit(self.path).path != server.path:
                    self.send_error(404)
                    return
                with server.lock:
                    server.fetches += 1
                    body = json.dumps(server.document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="key-server", daemon=True)

    def start(self) -> "KeyServer":
        self.thread.start()
        return self

    def publish(self, document: dict) -> None:
        with self.lock:
            self.document = document

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class Gateway:
    """One `sse-gateway serve` process with `settings` (environment variables)."""

    def __init__(self, settings: dict[str, str], log_path: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.settings = settings
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> "Gateway":
        environment = base_environment() | {
            "GATEWAY_HOST": "127.0.0.1",
            "GATEWAY_PORT": str(self.port),
            "GATEWAY_LOG_LEVEL": "debug",
        }
        environment |= self.settings
        log = open(self.log_path, "ab")
        try:
            self.process = subprocess.Popen(
                [str(gateway_binary()), "serve"], env=environment, stdout=log, stderr=subprocess.STDOUT
            )
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the gateway exited with {self.process.returncode} at start:\n{self.log_tail()}")
            try:
                if http("GET", self.base + "/healthz", timeout=1)[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        pytest.fail(f"the gateway did not answer /healthz within {timeout} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return JWT_PATTERN.sub("<token>", "\n".join(text.splitlines()[-lines:]))

    def deliver(self, topic: str, data: dict) -> str:
        """Delivers one CloudEvent as daprd does; returns its id."""
        event_id = str(uuid.uuid4())
        event = {
            "specversion": "1.0",
            "id": event_id,
            "source": "checks/identity",
            "type": "test.event",
            "datacontenttype": "application/json",
            "data": data,
        }
        status, _, body = http(
            "POST",
            f"{self.base}/dapr/topics/{topic}",
            json.dumps(event).encode(),
            {"Content-Type": "application/cloudevents+json"},
        )
        assert status == 200 and json.loads(body) == {"status": "SUCCESS"}, (status, body)
        return event_id

    def poll(self, token: str, last_event_id: str | None = None) -> tuple[int, dict]:
        """`GET /events/poll` (every granted topic) with a bearer token: (status, JSON body)."""
        query = "" if last_event_id is None else "?lastEventId=" + urllib.parse.quote(last_event_id, safe="")
        status, _, body = http("GET", f"{self.base}/events/poll{query}", headers={"Authorization": f"Bearer {token}"})
        return status, json.loads(body)

    def ready_frame(self, token: str) -> dict:
        """Opens `GET /events/stream` and returns the data of its `ready` frame."""
        request = urllib.request.Request(
            f"{self.base}/events/stream", headers={"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        )
        with urllib.request.urlopen(request, timeout=15) as response:
            assert response.status == 200
            event = None
            for raw in response:
                line = raw.decode().rstrip("\n")
                if line.startswith("event: "):
                    event = line[len("event: ") :]
                elif line.startswith("data: ") and event == "ready":
                    return json.loads(line[len("data: ") :])
        raise AssertionError("the stream ended before its ready frame")


@pytest.fixture
def start_gateway(tmp_path):
    """Starts gateways with the given settings; stops them after the test."""
    started: list[Gateway] = []

    def start(settings: dict[str, str]) -> Gateway:
        gateway = Gateway(settings, tmp_path / f"gateway-{len(started) + 1}.log")
        started.append(gateway)
        return gateway.start()

    try:
        yield start
    finally:
        for gateway in started:
            gateway.stop()


@pytest.fixture
def key_server():
    """Serves JWKS documents; stops the servers after the test."""
    servers: list[KeyServer] = []

    def serve(path: str, document: dict) -> KeyServer:
        server = KeyServer(path, document).start()
        servers.append(server)
        return server

    try:
        yield serve
    finally:
        for server in servers:
            server.stop()



def pytest_configure(config):
    # joserfc's note to its own users about RFC 9864's name for EdDSA, not a finding.
    config.addinivalue_line("filterwarnings", "ignore:EdDSA is deprecated")
    # authlib.jose warns once, on import, that joserfc (also used here) succeeds it.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import authlib.jose  # noqa: F401
