"""Fixtures for the browser tests (checks/browser): a real gateway, a real Chromium.

Run from the repository root:

    SSE_GATEWAY_BIN=$(swift build --sanitize=thread --show-bin-path)/sse-gateway \
        python3 -m pytest -q -p no:cacheprovider checks/browser

SSE_GATEWAY_BIN is required (as for checks/deploy). Chromium and its driver come from
Debian (`chromium`, `chromium-driver`); Selenium 4 from PyPI (scripts/test installs them).
Screenshots go to TEST_OUTPUT_DIR, default `test-output/` at the repository root.

The pieces a browser test combines:
- `GatewayProcess`: `sse-gateway serve --dev` as a subprocess on a fixed port, with a
  fixed HS256 secret so the page's session cookie stays valid when the process is
  replaced by a new one.
- `Broker`: plays Dapr pub/sub. It keeps every event it was given, in order (a Redis
  stream), and delivers them as daprd does: first `GET /dapr/subscribe` (once per
  sidecar start), then `POST /dapr/topics/{topic}` with the whole CloudEvent as
  `application/cloudevents+json`. A new gateway process is a new consumer group that
  starts at stream ID 0, so it gets the whole retained stream again.
- `GatedProxy`: a TCP proxy between the browser and the gateway, standing in for the
  Kubernetes Service, which routes to a pod only while it is ready (`open_when_ready`
  follows `/readyz` as the kubelet's readiness probe does). While the gate is closed
  every new connection is accepted and reset at once (the browser sees a network error
  and its EventSource retries); open connections are left alone unless dropped.
  Its upstream can be switched to another gateway (another pod behind the Service).
- `mint_token`: an HS256 JWT signed with the fixed secret, for tests that need tokens of
  their own (short lifetimes, other subjects) without the page's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# ≥ 32 bytes (HS256); fixed so tokens minted by one process verify in the next.
HS256_SECRET = "browser-check-secret-0123456789abcdef-not-for-production"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
JWT_PATTERN = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


def gateway_binary() -> Path:
    value = os.environ.get("SSE_GATEWAY_BIN", "").strip()
    if not value:
        pytest.fail(
            "SSE_GATEWAY_BIN is not set: build the gateway and run e.g. "
            "`SSE_GATEWAY_BIN=$(swift build --sanitize=thread --show-bin-path)/sse-gateway "
            "python3 -m pytest -q checks/browser`.",
            pytrace=False,
        )
    path = Path(value)
    if not path.is_absolute() and not path.exists():
        path = REPO / value
    if not path.is_file() or not os.access(path, os.X_OK):
        pytest.fail(f"SSE_GATEWAY_BIN={value!r} is not an executable file", pytrace=False)
    return path


def mint_token(subject: str, roles: list[str], lifetime: int = 3600, **claims) -> str:
    """An HS256 JWT as the gateway's own `token` command makes one (`sub`, `roles`, `iat`, `exp`)."""

    def encode(value: dict) -> bytes:
        return base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).rstrip(b"=")

    now = int(time.time())
    payload = {"sub": subject, "roles": roles, "iat": now, "exp": now + lifetime, **claims}
    signing_input = encode({"alg": "HS256", "typ": "JWT"}) + b"." + encode(payload)
    signature = hmac.new(HS256_SECRET.encode(), signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + base64.urlsafe_b64encode(signature).rstrip(b"=")).decode()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def http(method: str, url: str, body: bytes | None = None, headers: dict | None = None, timeout: float = 10):
    """(status, headers, body bytes) of one request; HTTP errors are answers, not exceptions."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


class GatewayProcess:
    """One `sse-gateway serve` process on `port`; its output goes to `log_path`."""

    def __init__(self, port: int, log_path: Path, dev: bool = True, environment: dict | None = None):
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self.dev = dev
        self.environment = environment or {}
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30) -> "GatewayProcess":
        environment = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),
            "LANG": "C.UTF-8",
            "GATEWAY_HOST": "127.0.0.1",
            "GATEWAY_PORT": str(self.port),
            "GATEWAY_JWT_HS256_SECRET": HS256_SECRET,
            # Reconnect within half a second and without the shutdown jitter, so the
            # restart test does not wait the production 3 + 0..10 s.
            "GATEWAY_RETRY_MILLISECONDS": "500",
            "GATEWAY_RECONNECT_JITTER_SECONDS": "0",
            "GATEWAY_DRAIN_SECONDS": "5",
            # Ready one second after the subscription when a topic receives nothing (the
            # production default is 3 s).
            "GATEWAY_READY_QUIET_SECONDS": "1",
            "GATEWAY_LOG_LEVEL": "debug",
        }
        if "TSAN_OPTIONS" in os.environ:
            environment["TSAN_OPTIONS"] = os.environ["TSAN_OPTIONS"]
        environment.update(self.environment)
        arguments = [str(gateway_binary()), "serve"] + (["--dev"] if self.dev else [])
        log = open(self.log_path, "ab")
        try:
            self.process = subprocess.Popen(arguments, env=environment, stdout=log, stderr=subprocess.STDOUT)
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the gateway exited with {self.process.returncode} at start:\n{self.log_tail()}")
            try:
                status, _, _ = http("GET", self.base + "/healthz", timeout=1)
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        pytest.fail(f"the gateway did not answer /healthz within {timeout} s:\n{self.log_tail()}")

    def begin_stop(self) -> None:
        """SIGTERM without waiting: the gateway drains while the test goes on."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM (the gateway drains: `shutting_down` to every stream), then wait for the exit."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
            pytest.fail(f"the gateway did not exit within {timeout} s of SIGTERM:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        """The end of the process output, tokens blanked (the dev banner prints some)."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return JWT_PATTERN.sub("<token>", "\n".join(text.splitlines()[-lines:]))


class Broker:
    """Dapr pub/sub as the gateway sees it: a retained, ordered stream per topic,
    delivered as daprd delivers (`POST /dapr/topics/{topic}`, a whole CloudEvent)."""

    def __init__(self):
        self.retained: list[tuple[str, dict]] = []

    def publish(self, topic: str, event_type: str, data: dict, deliver_to) -> str:
        """Keeps the event; delivers it at once to `deliver_to` (a gateway, a list of them, or None)."""
        event = {
            "specversion": "1.0",
            "id": f"broker-{len(self.retained) + 1}-{os.urandom(4).hex()}",
            "source": "checks/browser",
            "type": event_type,
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "datacontenttype": "application/json",
            "data": data,
        }
        self.retained.append((topic, event))
        for gateway in deliver_to if isinstance(deliver_to, list) else [deliver_to]:
            if gateway is not None:
                self.deliver(topic, event, gateway)
        return event["id"]

    @staticmethod
    def subscribe(gateway: GatewayProcess) -> list[dict]:
        """What daprd does first, once per sidecar start: fetch the subscriptions."""
        status, _, body = http("GET", f"{gateway.base}/dapr/subscribe")
        assert status == 200, (status, body)
        return json.loads(body)

    def redeliver_all(self, gateway: GatewayProcess) -> None:
        """What a new consumer group reads first: the whole retained stream, in order."""
        for topic, event in self.retained:
            self.deliver(topic, event, gateway)

    @staticmethod
    def deliver(topic: str, event: dict, gateway: GatewayProcess) -> None:
        status, _, body = http(
            "POST",
            f"{gateway.base}/dapr/topics/{topic}",
            body=json.dumps(event).encode(),
            headers={"Content-Type": "application/cloudevents+json"},
        )
        assert status == 200 and json.loads(body) == {"status": "SUCCESS"}, (status, body)


class GatedProxy:
    """A TCP proxy to `127.0.0.1:upstream_port` that forwards only while its gate is open."""

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.gate = threading.Event()
        self.stopping = threading.Event()
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.refused = 0
        self.lock = threading.Lock()
        self.sockets: set[socket.socket] = set()
        self.thread = threading.Thread(target=self.accept_loop, name="gated-proxy", daemon=True)

    def start(self) -> "GatedProxy":
        self.thread.start()
        return self

    def open_gate(self) -> None:
        self.gate.set()

    def close_gate(self) -> None:
        self.gate.clear()

    def switch_upstream(self, port: int) -> None:
        """New connections go to `port` from now on (the Service's endpoints changed)."""
        self.upstream_port = port

    def drop_connections(self) -> None:
        """Ends every forwarded connection at once, as a network outage would."""
        with self.lock:
            connections = list(self.sockets)
        for connection in connections:
            self.close_quietly(connection)

    def open_when_ready(self, gateway: GatewayProcess, timeout: float = 30) -> None:
        """Opens the gate once `/readyz` answers 200, probing it as the kubelet does."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if http("GET", gateway.base + "/readyz", timeout=1)[0] == 200:
                self.open_gate()
                return
            time.sleep(0.2)  # the probe's period
        pytest.fail(f"{gateway.base}/readyz did not answer 200 within {timeout} s:\n{gateway.log_tail()}")

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)
        self.listener.close()
        with self.lock:
            for connection in list(self.sockets):
                self.close_quietly(connection)
            self.sockets.clear()

    def accept_loop(self) -> None:
        while not self.stopping.is_set():
            try:
                client, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            if not self.gate.is_set():
                # No ready endpoint: reset (SO_LINGER 0), so the browser sees a network error
                # at once and retries, rather than an HTTP answer that would end its EventSource.
                self.refused += 1
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets.update((client, upstream))
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self.pump, args=(source, target), daemon=True).start()

    def pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while True:
                chunk = source.recv(65536)
                if not chunk:
                    break
                target.sendall(chunk)
        except OSError:
            pass
        finally:
            # One side ended: end both, as a connection through a Service ends with its pod.
            for connection in (source, target):
                self.close_quietly(connection)
            with self.lock:
                self.sockets.discard(source)
                self.sockets.discard(target)

    @staticmethod
    def close_quietly(connection: socket.socket) -> None:
        try:
            connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        connection.close()


@pytest.fixture(scope="session")
def output_dir() -> Path:
    directory = Path(os.environ.get("TEST_OUTPUT_DIR") or REPO / "test-output")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def start_chromium(preferences: dict | None = None):
    """A headless Chromium under WebDriver; `preferences` are profile preferences."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    options.add_argument("--headless=new")
    options.add_argument("--window-size=1400,1100")
    options.add_argument("--disable-dev-shm-usage")
    options.add_argument("--disable-gpu")
    if os.geteuid() == 0:
        options.add_argument("--no-sandbox")
    if preferences:
        options.add_experimental_option("prefs", preferences)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    return driver


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session (each test loads the page afresh)."""
    driver = start_chromium()
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def gateway_port() -> int:
    return free_port()


@pytest.fixture
def gateways(gateway_port, tmp_path):
    """Starts gateway processes on one port, one after the other; stops whatever still runs."""
    started: list[GatewayProcess] = []

    def start(dev: bool = True, port: int | None = None, environment: dict | None = None) -> GatewayProcess:
        log_path = tmp_path / f"gateway-{len(started) + 1}.log"
        gateway = GatewayProcess(port or gateway_port, log_path, dev=dev, environment=environment)
        started.append(gateway)
        return gateway.start()

    try:
        yield start
    finally:
        for gateway in started:
            if gateway.process is not None and gateway.process.poll() is None:
                gateway.process.kill()
                gateway.process.wait(timeout=10)


@pytest.fixture
def proxy(gateway_port):
    gated = GatedProxy(gateway_port).start()
    try:
        yield gated
    finally:
        gated.stop()


@pytest.fixture
def broker() -> Broker:
    return Broker()
