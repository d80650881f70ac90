"""A page on another origin, in a real headless Chromium, against the real gateway.

The page is served by a small HTTP server on one port, the gateway listens on another:
two origins on one machine. The page does what a single-page app on `app.example.com`
does with the gateway on `events.example.com`: `POST /events/session` with its bearer
token and `credentials: "include"` (the answer sets the HttpOnly cookie), then
`new EventSource(url, {withCredentials: true})`, which can only authenticate with that
cookie, and shows what arrives.

Hosts, and why they are honest stand-ins:
- `http://localhost:<page>` and `http://localhost:<gateway>` are different origins on the
  same site (a site ignores the port), like `app.example.com` and `events.example.com`:
  CORS must allow the page's origin, and the default `SameSite=Strict` cookie is sent.
- `http://127.0.0.1:<page>` against `http://localhost:<gateway>` is cross-site (two
  different hosts, no shared registrable domain), like `app.example.net` and
  `events.example.com`: only a `SameSite=None; Secure` cookie crosses.
- Chromium treats `http://localhost` as a secure context, so it stores and sends `Secure`
  cookies from it over plain HTTP (no other plain-HTTP host gets that), which lets the
  gateway keep `Secure` as it does in production behind TLS.

A `SameSite=None` cookie on a cross-site request is a third-party cookie. Debian's
Chromium 156 blocks those by default (DevTools gives the reason `UserPreferences`), as
Safari and Firefox's strict mode do; the cross-site test runs a Chromium whose user allows
them (`profile.cookie_controls_mode: 0`), the only case in which that set-up can work.
"""

from __future__ import annotations

import http.server
import os
import subprocess
import threading

import pytest
from selenium.webdriver.support.ui import WebDriverWait

from conftest import HS256_SECRET, gateway_binary, start_chromium

WAIT_SECONDS = 30

# The page a third-party app would have: nothing gateway-specific but the base URL.
PAGE = """<!doctype html>
<meta charset="utf-8">
<title>app on another origin</title>
<script>
window.received = [];
window.errors = [];
window.readyTopics = null;
window.connect = async function (gateway, token) {
  let session;
  try {
    const answer = await fetch(gateway + "/events/session", {
      method: "POST", credentials: "include", headers: { Authorization: "Bearer " + token } });
    session = "status " + answer.status;
  } catch (error) {
    session = "blocked: " + error.name;  // the browser refused (CORS), no answer readable
  }
  const source = new EventSource(gateway + "/events/stream?topics=student.progress", { withCredentials: true });
  window.source = source;
  source.addEventListener("ready", (e) => { window.readyTopics = JSON.parse(e.data).topics; });
  source.addEventListener("student.progress", (e) => { window.received.push(JSON.parse(e.data).id); });
  source.addEventListener("error", (e) => {
    // A MessageEvent with data is the gateway's own `event: error` frame; a plain Event
    // is the browser's: a failed or refused connection.
    window.errors.push(e instanceof MessageEvent ? "frame " + e.data : "transport " + source.readyState);
  });
  return session;
};
</script>
<p>app</p>
"""


class PageServer:
    """Serves `PAGE` at `/` on its own port: the app's origin."""

    def __init__(self):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (the http.server API)
                body = PAGE.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, name="page-server", daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def page_server():
    server = PageServer()
    try:
        yield server
    finally:
        server.stop()


def without_cookies(driver):
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
    return driver


@pytest.fixture
def fresh_browser(browser):
    """The session's Chromium without cookies from earlier tests."""
    return without_cookies(browser)


@pytest.fixture
def third_party_cookie_browser():
    """A Chromium whose user allows third-party cookies."""
    driver = start_chromium({"profile.cookie_controls_mode": 0})
    try:
        yield without_cookies(driver)
    finally:
        driver.quit()


def token(subject: str) -> str:
    """A student token from the binary's own `token` command (the gateway's HS256 secret)."""
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GATEWAY_JWT_HS256_SECRET": HS256_SECRET}
    if "TSAN_OPTIONS" in os.environ:
        environment["TSAN_OPTIONS"] = os.environ["TSAN_OPTIONS"]
    run = subprocess.run(
        [str(gateway_binary()), "token", "--sub", subject, "--roles", "student"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return run.stdout.strip()


def connect(driver, page: str, gateway: str, subject: str) -> str:
    """Loads the page at `page`, runs its connect(); the session answer as the page saw it."""
    driver.get(page + "/")
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1]; window.connect(arguments[0], arguments[1]).then(done);",
        gateway,
        token(subject),
    )


def wait_until(driver, condition, message: str):
    return WebDriverWait(driver, WAIT_SECONDS, poll_frequency=0.1).until(condition, message)


def page_value(driver, name: str):
    return driver.execute_script(f"return window.{name};")


def session_cookie(driver) -> dict | None:
    cookies = driver.execute_cdp_cmd("Network.getAllCookies", {})["cookies"]
    return next((cookie for cookie in cookies if cookie["name"] == "sse_session"), None)


def receives_its_own_events(driver, gateway, broker) -> None:
    """The stream opened (ready) and shows s-1's event, never s-2's (published first)."""
    wait_until(driver, lambda d: page_value(d, "readyTopics") == ["student.progress"], "no ready frame")
    other = broker.publish("student.progress", "progress.updated", {"studentId": "s-2"}, gateway)
    own = broker.publish("student.progress", "progress.updated", {"studentId": "s-1"}, gateway)
    wait_until(driver, lambda d: own in page_value(d, "received"), "the page never got its own event")
    assert other not in page_value(driver, "received")
    assert page_value(driver, "errors") == []


def test_an_allowed_origin_on_the_same_site_streams_with_the_session_cookie(
    fresh_browser, gateways, page_server, broker
):
    page = f"http://localhost:{page_server.port}"
    gateway = gateways(dev=False, environment={"GATEWAY_CORS_ORIGINS": page})
    answer = connect(fresh_browser, page, f"http://localhost:{gateway.port}", "s-1")
    assert answer == "status 204", answer
    cookie = session_cookie(fresh_browser)
    assert cookie and cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict", cookie
    receives_its_own_events(fresh_browser, gateway, broker)


def test_a_page_on_another_site_needs_same_site_none(third_party_cookie_browser, gateways, page_server, broker):
    driver = third_party_cookie_browser
    page = f"http://127.0.0.1:{page_server.port}"
    gateway = gateways(
        dev=False, environment={"GATEWAY_CORS_ORIGINS": page, "GATEWAY_SESSION_COOKIE_SAMESITE": "None"}
    )
    answer = connect(driver, page, f"http://localhost:{gateway.port}", "s-1")
    assert answer == "status 204", answer
    cookie = session_cookie(driver)
    assert cookie and cookie["sameSite"] == "None" and cookie["secure"], cookie
    receives_its_own_events(driver, gateway, broker)


def test_a_strict_cookie_does_not_cross_sites(third_party_cookie_browser, gateways, page_server):
    """The same cross-site page with the default SameSite=Strict: the session answer is
    readable (CORS allows it) but the browser does not keep the cookie, so the stream,
    which can only authenticate with it, is refused (401) and the EventSource gives up."""
    driver = third_party_cookie_browser
    page = f"http://127.0.0.1:{page_server.port}"
    gateway = gateways(dev=False, environment={"GATEWAY_CORS_ORIGINS": page})
    answer = connect(driver, page, f"http://localhost:{gateway.port}", "s-1")
    assert answer == "status 204", answer
    assert session_cookie(driver) is None
    wait_until(driver, lambda d: page_value(d, "errors"), "the EventSource never failed")
    assert page_value(driver, "errors") == ["transport 2"]  # CLOSED: no retry after a 401
    assert page_value(driver, "readyTopics") is None


def test_an_origin_not_allowed_is_blocked_by_the_browser(fresh_browser, gateways, page_server):
    """The cookie is in the browser (from an allowed page on the same site) and is sent,
    and the gateway answers, but without CORS headers for this origin: Chromium keeps the
    answer from the page. The preflight of the session POST is refused (403) first."""
    allowed = f"http://localhost:{page_server.port}"
    gateway = gateways(dev=False, environment={"GATEWAY_CORS_ORIGINS": allowed})
    base = f"http://localhost:{gateway.port}"
    assert connect(fresh_browser, allowed, base, "s-1") == "status 204"
    wait_until(fresh_browser, lambda d: page_value(d, "readyTopics"), "the allowed page did not connect")
    assert session_cookie(fresh_browser) is not None

    stranger = PageServer()
    try:
        answer = connect(fresh_browser, f"http://localhost:{stranger.port}", base, "s-1")
        assert answer == "blocked: TypeError", answer
        wait_until(fresh_browser, lambda d: page_value(d, "errors"), "the EventSource was not blocked")
        assert page_value(fresh_browser, "errors") == ["transport 2"]
        assert page_value(fresh_browser, "readyTopics") is None
        assert page_value(fresh_browser, "received") == []
    finally:
        stranger.stop()
