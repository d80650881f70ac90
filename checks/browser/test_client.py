"""The browser client (`clients/js/sse-gateway-client.js`) in a real headless Chromium,
against the real gateway binary, through real proxies (issue 18, item 4).

Each test loads a page of the gateway's origin (`/demo`, through the proxy in front of
the gateway), imports the module from `GET /client/sse-gateway-client.js` as a page
would, and connects with the options under test. What the client reports (states,
errors, events, resets) is collected in `window.record` and read back with WebDriver.
Where the issue asks to show what a bare `EventSource` does in the same situation, one
runs beside the client in the same page, on the same session cookie.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.support.ui import WebDriverWait

from conftest import free_port, http, mint_token

WAIT_SECONDS = 40
TOPIC = "student.progress"

# Imports the module and connects; `arguments[0]` holds the options (JSON) and how to get
# tokens. Every callback appends to `window.record`, with `performance.now()` times.
HARNESS = """
const [setup, done] = [arguments[0], arguments[arguments.length - 1]];
import("./client/sse-gateway-client.js").then(({ connect }) => {
  const now = () => Math.round(performance.now());
  const record = window.record = { states: [], errors: [], events: [], log: [], tokens: 0 };
  const options = { ...setup.options, topics: [setup.topic] };
  if (setup.noEventSource) options.EventSource = null;
  if (setup.token) options.getToken = () => { record.tokens += 1; return setup.token; };
  if (setup.tokenURL) options.getToken = async () => {
    record.tokens += 1;
    return (await (await fetch(setup.tokenURL, { cache: "no-store" })).json()).token;
  };
  options.onStateChange = (state) => {
    record.states.push({ state, at: now(), transport: window.client.transport });
    record.log.push("state " + state);
  };
  options.onError = (error) => { record.errors.push({ ...error, at: now() }); record.log.push("error " + error.kind); };
  if (setup.holdResets) options.onReset = (reset) => {
    record.log.push("reset-start " + reset.reason);
    return new Promise((release) => { window.releaseReset = () => { record.log.push("reset-end"); release(); }; });
  };
  window.client = connect(options);
  window.client.on(setup.topic, (event) => { record.events.push(event.id); record.log.push("event " + event.id); });
  done("connected");
}, (error) => done("import failed: " + error));
"""

# A bare EventSource beside the client, on the same cookie: what a page without the client gets.
BARE = """
const bare = window.bare = new EventSource("./events/stream?topics=" + arguments[0], { withCredentials: true });
bare.record = { events: [], errors: [], ready: 0 };
bare.addEventListener("ready", () => { bare.record.ready += 1; });
bare.addEventListener(arguments[0], (message) => bare.record.events.push(JSON.parse(message.data).id));
bare.addEventListener("error", (event) => bare.record.errors.push({ data: event.data ?? null, readyState: bare.readyState }));
"""


def open_bare(driver) -> None:
    """Opens the bare EventSource and waits for its `ready` (it is subscribed from then on)."""
    driver.execute_script(BARE, TOPIC)
    wait_until(driver, lambda d: d.execute_script("return window.bare.record.ready") == 1, "bare never opened")


def wait_until(driver, condition, message: str, timeout: float = WAIT_SECONDS):
    """Waits for `condition`; on time-out the failure shows what the client recorded."""
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.1).until(condition, message)
    except TimeoutException:
        seen = driver.execute_script("return window.record || null")
        raise AssertionError(f"{message}\nclient record: {json.dumps(seen, indent=1)}") from None


def record(driver) -> dict:
    return driver.execute_script("return window.record")


def start_client(driver, base: str, **setup) -> None:
    """Loads a page of the gateway's origin and connects the client with `setup`."""
    driver.get(base + "/demo")
    setup.setdefault("topic", TOPIC)
    setup.setdefault("options", {})
    answer = driver.execute_async_script(HARNESS, setup)
    assert answer == "connected", answer


def wait_for_state(driver, state: str, message: str, timeout: float = WAIT_SECONDS) -> None:
    wait_until(driver, lambda d: d.execute_script("return window.client.state") == state, message, timeout)


def wait_for_events(driver, ids: list[str], message: str) -> None:
    wait_until(driver, lambda d: all(event in record(d)["events"] for event in ids), message)


def refusals(driver, status: int) -> list[dict]:
    return [error for error in record(driver)["errors"] if error["kind"] == "refused" and error["status"] == status]


def progress(broker, student: str, score: int, deliver_to) -> str:
    return broker.publish(TOPIC, "progress.updated", {"studentId": student, "score": score}, deliver_to)


class TokenServer:
    """The application's token endpoint: each GET /token mints a fresh short-lived s-1 token
    (CORS-enabled, since it lives on another origin than the page)."""

    def __init__(self, lifetime: int):
        self.lifetime = lifetime
        self.issued: list[float] = []  # expiry times
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                token = mint_token("s-1", ["student"], lifetime=server.lifetime)
                server.issued.append(time.time() + server.lifetime)
                body = json.dumps({"token": token}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Access-Control-Allow-Origin", "*")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *arguments):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/token"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class RawStream:
    """A stream held by another client of the same gateway, over a plain socket."""

    def __init__(self, port: int, token: str, query: str, receive_buffer: int | None = None, headers: str = ""):
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if receive_buffer is not None:
            # Set before connecting, so the advertised window stays this small.
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.socket.settimeout(10)
        self.socket.connect(("127.0.0.1", port))
        self.socket.sendall(
            f"GET /events/stream?{query} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n{headers}\r\n".encode()
        )

    def read_until(self, marker: bytes, limit: float = 10) -> bytes:
        received = b""
        deadline = time.monotonic() + limit
        while marker not in received and time.monotonic() < deadline:
            chunk = self.socket.recv(65536)
            if not chunk:
                break
            received += chunk
        return received

    def close(self):
        try:
            self.socket.close()
        except OSError:
            pass


class BufferingNginx:
    """Debian's nginx in front of the gateway, configured as a proxy that breaks event
    streams: it buffers (`proxy_buffering on`, the gateway's `X-Accel-Buffering: no`
    ignored) and compresses `text/event-stream` for browsers that accept gzip. Buffering
    alone does not hold the frames (nginx passes on what it reads); the compressor does:
    it sends nothing, not even the headers, until its deflate buffers fill, which a few
    small frames never do. Poll answers (`application/json`) pass uncompressed."""

    def __init__(self, upstream_port: int, directory: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.upstream_port = upstream_port
        self.directory = directory
        self.configuration = directory / "nginx.conf"
        self.access_log = directory / "access.log"
        self.write_configuration(compress=True)
        self.process = subprocess.Popen(
            ["nginx", "-p", str(directory), "-c", str(self.configuration)],
            stdout=subprocess.DEVNULL,
            stderr=open(directory / "stderr.log", "wb"),
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"nginx exited: {(directory / 'stderr.log').read_text()}")
            try:
                if http("GET", self.base + "/healthz", timeout=1)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        pytest.fail("nginx did not answer within 10 s")

    def write_configuration(self, compress: bool) -> None:
        directory = self.directory
        user = "user root;" if os.geteuid() == 0 else ""  # workers must reach the temp paths
        compression = "gzip on; gzip_types text/event-stream; gzip_min_length 0; gzip_proxied any;"
        self.configuration.write_text(
            f"""
{user}
worker_processes 1;
daemon off;
pid {directory}/nginx.pid;
error_log {directory}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {self.access_log};
    client_body_temp_path {directory}/body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    server {{
        listen 127.0.0.1:{self.port};
        location / {{
            proxy_pass http://127.0.0.1:{self.upstream_port};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering on;
            proxy_ignore_headers X-Accel-Buffering;
            {compression if compress else ""}
        }}
    }}
}}
"""
        )

    def stop_buffering(self) -> None:
        """The proxy is fixed: nginx reloads its configuration without the compression."""
        self.write_configuration(compress=False)
        command = ["nginx", "-p", str(self.directory), "-c", str(self.configuration), "-s", "reload"]
        subprocess.run(command, check=True, capture_output=True)

    def stream_requests(self) -> int:
        return sum(1 for line in self.access_log.read_text().splitlines() if "GET /events/stream" in line)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def token_server():
    servers: list[TokenServer] = []

    def start(lifetime: int) -> TokenServer:
        servers.append(TokenServer(lifetime))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def test_a_drained_stream_reconnects_after_the_servers_retry_and_resumes_on_another_pod(
    browser, gateways, proxy, broker
):
    """Two pods behind the Service; the one the browser uses drains. Its `shutting_down`
    frame comes after `retry: 1500`; the browser reconnects no sooner, reaches the other
    pod, and resumes from its position there (the token means the same on every replica)."""
    settings = {"GATEWAY_RETRY_MILLISECONDS": "1500", "GATEWAY_RECONNECT_JITTER_SECONDS": "0"}
    first = gateways(environment=settings)
    second = gateways(port=free_port(), environment=settings)
    proxy.open_gate()
    start_client(browser, proxy.base, token=mint_token("s-1", ["student"]))
    wait_for_state(browser, "open", "the client never opened its stream")
    e1 = progress(broker, "s-1", 10, [first, second])
    wait_for_events(browser, [e1], "e1 never arrived")

    proxy.switch_upstream(second.port)  # the draining pod leaves the Service's endpoints
    assert first.stop() == 0, first.log_tail()
    e2 = progress(broker, "s-1", 20, second)
    wait_for_events(browser, [e2], "the client never resumed on the second pod")
    wait_for_state(browser, "open", "the stream did not reopen")

    seen = record(browser)
    assert seen["events"] == [e1, e2]
    frames = [error for error in seen["errors"] if error["kind"] == "server"]
    assert [frame["code"] for frame in frames] == ["shutting_down"], seen["errors"]
    assert not any(error["kind"] == "refused" for error in seen["errors"]), seen["errors"]
    reopened = [state["at"] for state in seen["states"] if state["state"] == "open"][-1]
    assert reopened - frames[0]["at"] >= 1500, (frames[0], seen["states"])
    assert [state["state"] for state in seen["states"]] == ["open", "connecting", "open"]


def test_a_503_from_a_draining_pod_is_retried_with_backoff_where_a_bare_eventsource_stays_closed(
    browser, gateways, proxy, broker
):
    """The pod drains while the Service still routes to it (endpoints lag): new streams get
    `503 shutting_down` with `Retry-After: 1`. The pod keeps draining because one of its
    clients (a phone on a bad network) does not read, so its stream cannot finish. The
    client learns the status from a poll and backs off (at least Retry-After, growing).
    Then the Service routes to the next pod and the old one is killed at the end of its
    grace period (the browser's kept-alive connections to it would otherwise keep
    reaching it until it exits); the client resumes there. The bare EventSource stays
    closed."""
    first = gateways(environment={"GATEWAY_DRAIN_SECONDS": "20"})
    second = gateways(port=free_port())
    proxy.open_gate()
    start_client(browser, proxy.base, token=mint_token("s-1", ["student"]))
    wait_for_state(browser, "open", "the client never opened its stream")
    open_bare(browser)
    e1 = progress(broker, "s-1", 10, [first, second])
    wait_for_events(browser, [e1], "e1 never arrived")
    wait_until(browser, lambda d: d.execute_script("return window.bare.record.events") == [e1], "bare missed e1")

    stalled = RawStream(first.port, mint_token("admin-1", ["admin"]), "topics=learning.events", receive_buffer=4096)
    try:
        # ~10 MB for a reader that takes 4 KB: its stream blocks in a write, and stays open.
        padding = "x" * 200_000
        for number in range(50):
            broker.publish("learning.events", "bulk.note", {"courseId": "c-9", "n": number, "pad": padding}, first)
        first.begin_stop()
        wait_until(browser, lambda d: len(refusals(d, 503)) >= 2, "the client was never refused with 503 twice")
        wait_until(browser, lambda d: d.execute_script("return window.bare.readyState") == 2, "bare did not close")
        proxy.switch_upstream(second.port)
        first.process.kill()
        e2 = progress(broker, "s-1", 20, second)
        wait_for_events(browser, [e2], "the client never reached the second pod")
        e3 = progress(broker, "s-1", 30, second)
        wait_for_events(browser, [e3], "no live event on the second pod")
    finally:
        stalled.close()

    seen = record(browser)
    assert seen["events"] == [e1, e2, e3]
    refused = refusals(browser, 503)
    assert all(error["code"] == "shutting_down" and error["retryAfterMs"] == 1000 for error in refused), refused
    delays = [error["retryInMs"] for error in refused]
    assert all(delay >= 1000 for delay in delays) and delays == sorted(delays) and delays[0] < delays[-1], delays
    bare = browser.execute_script("return { readyState: window.bare.readyState, record: window.bare.record }")
    assert bare["readyState"] == 2 and bare["record"]["events"] == [e1], bare
    # What the bare page saw: the close frame (a MessageEvent with data), then plain Events
    # until the browser gave up on it for good.
    frames = [json.loads(error["data"]) for error in bare["record"]["errors"] if error["data"] is not None]
    assert [frame["code"] for frame in frames] == ["shutting_down"], bare
    assert bare["record"]["errors"][-1] == {"data": None, "readyState": 2}, bare


def test_a_429_is_retried_after_retry_after_where_a_bare_eventsource_stays_closed(browser, gateways, proxy, broker):
    """One stream per user; another tab holds it. The client's stream is refused with 429,
    the poll tells it `too_many_streams` and `Retry-After: 10`; it waits that long and
    connects once the other tab is gone. A bare EventSource refused the same way never
    comes back. (Heartbeats every second: the gateway notices the other tab's closed
    connection at its next write.)"""
    gateway = gateways(environment={"GATEWAY_MAX_STREAMS_PER_USER": "1", "GATEWAY_HEARTBEAT_SECONDS": "1"})
    proxy.open_gate()
    token = mint_token("s-1", ["student"])
    other_tab = RawStream(gateway.port, token, f"topics={TOPIC}")
    try:
        assert b"event: ready" in other_tab.read_until(b"event: ready")
        start_client(browser, proxy.base, token=token)
        wait_until(browser, lambda d: refusals(d, 429), "the client was never refused with 429")
        browser.execute_script(BARE, TOPIC)
        wait_until(browser, lambda d: d.execute_script("return window.bare.readyState") == 2, "bare did not close")
    finally:
        other_tab.close()
    wait_for_state(browser, "open", "the client never connected after the other tab left")
    e1 = progress(broker, "s-1", 10, gateway)
    wait_for_events(browser, [e1], "e1 never arrived")

    seen = record(browser)
    refused = refusals(browser, 429)[0]
    assert refused["code"] == "too_many_streams" and refused["retryAfterMs"] == 10_000, refused
    assert refused["retryInMs"] >= 10_000 and refused["fatal"] is False, refused
    opened = [state["at"] for state in seen["states"] if state["state"] == "open"][0]
    assert opened - refused["at"] >= 10_000, (refused, seen["states"])
    assert seen["events"] == [e1]
    bare = browser.execute_script("return { readyState: window.bare.readyState, record: window.bare.record }")
    assert bare["readyState"] == 2 and bare["record"]["events"] == [], bare


def test_an_expiring_token_is_renewed_through_getToken_without_losing_an_event(
    browser, gateways, proxy, broker, token_server
):
    """Tokens live 3 s (no clock leeway). At each `exp` the gateway ends the stream with
    `token_expired`; the client calls getToken (the app's token endpoint), renews the
    session cookie and resumes. Events published all along arrive once each, in order."""
    gateway = gateways(environment={"GATEWAY_JWT_LEEWAY_SECONDS": "0"})
    proxy.open_gate()
    tokens = token_server(lifetime=3)
    start_client(browser, proxy.base, tokenURL=tokens.url)
    wait_for_state(browser, "open", "the client never opened its stream")

    published = []
    deadline = time.monotonic() + 60
    expired = lambda: [e for e in record(browser)["errors"] if e["kind"] == "server" and e["code"] == "token_expired"]
    while len(expired()) < 2 and time.monotonic() < deadline:
        published.append(progress(broker, "s-1", len(published), gateway))
        time.sleep(0.2)  # pacing the publisher, not waiting for a condition
    assert len(expired()) >= 2, record(browser)["errors"]
    wait_for_state(browser, "open", "the stream did not reopen after the last renewal")
    published.append(progress(broker, "s-1", len(published), gateway))
    wait_for_events(browser, published, "events were lost across token renewals")

    seen = record(browser)
    assert seen["events"] == published, (len(seen["events"]), len(published))
    assert seen["tokens"] >= 3 and len(tokens.issued) == seen["tokens"]
    assert not any(error["kind"] == "refused" for error in seen["errors"]), seen["errors"]


def test_a_401_after_an_outage_renews_through_getToken(browser, gateways, proxy, broker, token_server):
    """The network goes away for longer than the token lives (a laptop asleep): the stream
    drops without a close frame, the cookie expires. When the network is back the stream
    is refused (the client learns 401 from a poll), getToken is called, and the client
    resumes where it stopped."""
    gateway = gateways(environment={"GATEWAY_JWT_LEEWAY_SECONDS": "0"})
    proxy.open_gate()
    tokens = token_server(lifetime=4)
    start_client(browser, proxy.base, tokenURL=tokens.url, options={"minRetryMs": 500, "maxRetryMs": 2000})
    wait_for_state(browser, "open", "the client never opened its stream")
    e1 = progress(broker, "s-1", 10, gateway)
    wait_for_events(browser, [e1], "e1 never arrived")

    proxy.close_gate()
    proxy.drop_connections()
    wait_for_state(browser, "connecting", "the client never noticed the outage")
    e2 = progress(broker, "s-1", 20, gateway)
    time.sleep(max(0.0, tokens.issued[-1] + 1.5 - time.time()))  # until the cookie's token has expired
    proxy.open_gate()
    wait_for_events(browser, [e2], "the client never resumed after the outage")

    seen = record(browser)
    assert seen["events"] == [e1, e2]
    unauthorized = refusals(browser, 401)
    assert unauthorized and unauthorized[0]["during"] == "poll" and unauthorized[0]["retryInMs"] == 0, seen["errors"]
    assert seen["tokens"] == 2
    assert not any(error["kind"] == "server" for error in seen["errors"]), seen["errors"]


def test_a_reset_after_a_restart_is_handed_to_onReset_before_later_events(browser, gateways, proxy, broker):
    """The new pod's replay log (2 events) no longer reaches back to the browser's position:
    the stream starts with `reset`. The page's onReset refetches (a promise the test holds
    open); events that arrive meanwhile are delivered only after it settles. More of them
    than `maxQueuedEvents` pause the stream, which resumes from the last one held: none is
    lost or repeated."""
    first = gateways()
    proxy.open_gate()
    # One event held at most: the second pauses the stream, which resumes from it while the
    # 2-event log still holds it.
    options = {"minRetryMs": 300, "maxRetryMs": 2000, "maxQueuedEvents": 1}
    start_client(browser, proxy.base, token=mint_token("s-1", ["student"]), holdResets=True, options=options)
    wait_for_state(browser, "open", "the client never opened its stream")
    open_bare(browser)
    e1 = progress(broker, "s-1", 10, first)
    wait_for_events(browser, [e1], "e1 never arrived")

    proxy.close_gate()
    assert first.stop() == 0, first.log_tail()
    missed = [progress(broker, "s-1", score, None) for score in (20, 30, 40)]
    second = gateways(environment={"GATEWAY_REPLAY_EVENTS": "2"})
    broker.redeliver_all(second)
    proxy.open_gate()
    wait_until(browser, lambda d: "reset-start history_gap" in record(d)["log"], "no reset reached onReset")
    # The bare EventSource, reconnected (its own `ready`), shows when the live event is on the wire.
    bare_ready = "return window.bare.record.ready"
    wait_until(browser, lambda d: d.execute_script(bare_ready) == 2, "bare never reconnected")
    live = [progress(broker, "s-1", score, second) for score in range(50, 53)]
    bare_events = "return window.bare.record.events"
    wait_until(browser, lambda d: set(live) <= set(d.execute_script(bare_events)), "live events not sent")
    assert not set(live) & set(record(browser)["events"]), "an event was delivered while onReset was pending"
    wait_for_state(browser, "connecting", "more than maxQueuedEvents held did not pause the stream")
    browser.execute_script("window.releaseReset()")
    wait_for_events(browser, live, "the held events never arrived")
    wait_for_state(browser, "open", "the stream did not resume after the pause")

    log = record(browser)["log"]
    assert record(browser)["events"] == [e1] + live
    assert log.index("reset-start history_gap") < log.index("reset-end") < log.index("event " + live[0]), log
    assert not set(missed) & set(record(browser)["events"])


def test_behind_a_buffering_proxy_the_client_polls_and_gets_every_event_once_in_order(
    browser, gateways, broker, tmp_path
):
    """nginx holds the stream (see `BufferingNginx`): not even its `ready` frame arrives.
    After two streams without `ready` the client polls through the same proxy, tries a
    stream again later, stays on polls; once the proxy is fixed, the next try opens a
    stream. Every event arrives exactly once, in order, across all of it.

    The events start once the client has a position: its first poll (after the first
    stream timed out) gives it one; what was published before belongs to no connection."""
    gateway = gateways()
    nginx = BufferingNginx(gateway.port, tmp_path)
    try:
        # The proxy holds the stream as it holds a browser's (which accepts gzip): for 3 s
        # nothing arrives, where the gateway itself answers `ready` at once.
        token = mint_token("s-1", ["student"])
        for port, held in ((gateway.port, False), (nginx.port, True)):
            stream = RawStream(port, token, f"topics={TOPIC}", headers="Accept-Encoding: gzip\r\n")
            stream.socket.settimeout(3)
            try:
                received = stream.read_until(b"event: ready", limit=3)
            except socket.timeout:
                received = b""
            stream.close()
            assert (received == b"") if held else (b"event: ready" in received), (port, received)

        options = {"readyTimeoutMs": 1500, "pollAfterFailures": 2, "minRetryMs": 200, "sseProbeMs": 3000}
        start_client(browser, nginx.base, token=token, options=options)
        wait_until(browser, lambda d: record(d)["errors"], "the first stream did not time out")
        published = [progress(broker, "s-1", score, gateway) for score in range(3)]
        wait_for_state(browser, "polling", "the client never fell back to polling")
        published += [progress(broker, "s-1", score, gateway) for score in range(3, 6)]
        wait_for_events(browser, published, "events missing while polling")
        streams_before = nginx.stream_requests()
        wait_until(browser, lambda d: nginx.stream_requests() > streams_before, "no stream was tried again")
        assert browser.execute_script("return window.client.transport") == "poll"
        published += [progress(broker, "s-1", score, gateway) for score in range(6, 9)]
        wait_for_events(browser, published, "events missing after the second stream attempt")
        assert "open" not in [state["state"] for state in record(browser)["states"]]

        nginx.stop_buffering()
        wait_for_state(browser, "open", "no stream opened once the proxy passed it")
        published += [progress(broker, "s-1", score, gateway) for score in range(9, 12)]
        wait_for_events(browser, published, "events missing on the stream")
    finally:
        nginx.stop()

    seen = record(browser)
    assert seen["events"] == published
    assert [error["kind"] for error in seen["errors"]].count("fallback") == 1, seen["errors"]
    assert browser.execute_script("return window.client.transport") == "sse"


def test_without_eventsource_the_client_long_polls_from_the_start(browser, gateways, proxy, broker):
    gateway = gateways()
    proxy.open_gate()
    start_client(browser, proxy.base, token=mint_token("s-1", ["student"]), noEventSource=True)
    wait_for_state(browser, "polling", "the client never polled")
    published = [progress(broker, "s-1", score, gateway) for score in range(5)]
    wait_for_events(browser, published, "events missing")
    assert record(browser)["events"] == published
    assert browser.execute_script("return window.client.transport") == "poll"


def test_a_403_stops_the_client_and_says_why(browser, gateways, proxy):
    """A student asking for another student's events made a mistake no retry fixes."""
    gateways()
    proxy.open_gate()
    start_client(browser, proxy.base, token=mint_token("s-1", ["student"]), options={"filters": {"studentId": "s-2"}})
    wait_for_state(browser, "closed", "the client did not stop")
    errors = record(browser)["errors"]
    assert errors[-1]["status"] == 403 and errors[-1]["code"] == "student_not_granted" and errors[-1]["fatal"], errors
