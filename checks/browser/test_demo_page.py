"""The dev demo page (`GET /demo`) in a real headless Chromium, against a real gateway.

The browser talks only to the `GatedProxy` (conftest), never to the gateway's own port;
the Python `Broker` plays Dapr and delivers to the gateway directly, as a sidecar does.
"""

from __future__ import annotations

import json

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from conftest import http

WAIT_SECONDS = 30


def wait_until(driver, condition, message: str):
    return WebDriverWait(driver, WAIT_SECONDS, poll_frequency=0.1).until(condition, message)


def state(driver) -> str:
    return driver.find_element(By.ID, "state").get_attribute("data-state")


def event_ids(driver, topic: str) -> list[str]:
    """CloudEvent ids shown in a topic's list, oldest first (the page prepends)."""
    items = driver.find_elements(By.CSS_SELECTOR, f"#events-{topic.replace('.', '-')} li")
    return [item.get_attribute("data-event-id") for item in reversed(items)]


def wait_for_event(driver, topic: str, event_id: str) -> None:
    wait_until(driver, lambda d: event_id in event_ids(d, topic), f"event {event_id} never shown on {topic}")


def log_lines(driver, list_id: str) -> list[str]:
    return [item.text for item in driver.find_elements(By.CSS_SELECTOR, f"#{list_id} li")]


def open_page_as(driver, base: str, identity: str) -> None:
    driver.get(base + "/demo")
    driver.find_element(By.ID, f"identity-{identity}").click()
    driver.find_element(By.ID, "connect").click()
    wait_until(driver, lambda d: state(d) == "open", "the stream never opened")
    wait_until(driver, lambda d: d.find_element(By.ID, "ready-count").text == "1", "no ready event")
    assert driver.find_element(By.ID, "transport").text == "sse"


def publish_with_form(driver, topic: str) -> str:
    """Publishes the form's sample event for `topic`; the CloudEvent id the gateway gave it."""
    result = driver.find_element(By.ID, "publish-result")
    before = result.get_attribute("data-event-id")
    Select(driver.find_element(By.ID, "publish-topic")).select_by_value(topic)
    driver.find_element(By.ID, "publish").click()
    wait_until(
        driver,
        lambda d: result.get_attribute("data-event-id") not in (None, "", before),
        f"the form's publish on {topic} got no answer: {result.text}",
    )
    assert result.text.startswith("SUCCESS "), result.text
    return result.get_attribute("data-event-id")


def test_student_sees_own_progress_only_and_form_publishes(browser, gateways, proxy, broker):
    """Student s-1, by session cookie: sees its own progress, not s-2's, and the form works.

    The negative is proven by order: the s-2 event is published before a later s-1 event,
    and the gateway delivers one stream's frames in order, so once the later one is shown
    the s-2 one would have been shown already.
    """
    gateway = gateways()
    proxy.open_gate()
    open_page_as(browser, proxy.base, "s-1")
    # The cookie, not a header, authenticated the stream: EventSource cannot send one.
    # (Path=/events hides it from WebDriver's cookie list for /demo; ask the browser itself.)
    cookies = browser.execute_cdp_cmd("Network.getAllCookies", {})["cookies"]
    session = [c for c in cookies if c["name"] == "sse_session" and c["httpOnly"] and c["path"] == "/events"]
    assert session, [c["name"] for c in cookies]  # names only: the value is a token

    first = broker.publish("student.progress", "progress.updated", {"studentId": "s-1", "score": 70}, gateway)
    wait_for_event(browser, "student.progress", first)
    other = broker.publish("student.progress", "progress.updated", {"studentId": "s-2", "score": 99}, gateway)
    later = broker.publish("student.progress", "progress.updated", {"studentId": "s-1", "score": 75}, gateway)
    wait_for_event(browser, "student.progress", later)
    assert other not in event_ids(browser, "student.progress")
    assert event_ids(browser, "student.progress") == [first, later]

    # The page's own form: POST /demo/publish with its sample data (s-1), then a notification.
    progress = publish_with_form(browser, "student.progress")
    wait_for_event(browser, "student.progress", progress)
    notice = publish_with_form(browser, "system.notifications")
    wait_for_event(browser, "system.notifications", notice)
    assert browser.find_element(By.ID, "last-event-id").text.startswith("0:" + progress)

    assert browser.find_element(By.ID, "reconnects").text == "0"
    assert log_lines(browser, "resets") == [] and log_lines(browser, "errors") == []
    assert log_lines(browser, "transport-errors") == []


def test_every_sample_identity_opens_the_stream(browser, gateways, proxy):
    """The tokens minted into the page verify and grant every carried topic: each identity
    gets its session cookie and an open stream (a 401 or 403 would close the EventSource)."""
    gateways()
    proxy.open_gate()
    for identity in ("s-2", "i-1", "admin", "s-1"):
        open_page_as(browser, proxy.base, identity)
        assert browser.find_element(By.ID, "session").get_attribute("data-identity") == identity
        ready = json.loads(browser.find_element(By.ID, "ready").text)
        assert ready["topics"] == ["student.progress", "learning.events", "system.notifications"]


def test_demo_publish_rejects_bad_bodies(gateways):
    gateway = gateways()
    json_type = {"Content-Type": "application/json"}
    status, headers, body = http("POST", gateway.base + "/demo/publish", b"{not json", json_type)
    assert status == 400 and headers["Content-Type"] == "application/problem+json"
    assert json.loads(body)["code"] == "malformed_body"
    unknown = json.dumps({"topic": "no.such.topic", "type": "x", "data": {}}).encode()
    status, headers, body = http("POST", gateway.base + "/demo/publish", unknown, {"Content-Type": "application/json"})
    assert status == 404 and json.loads(body)["code"] == "unknown_topic"
    good = json.dumps({"topic": "student.progress", "type": "progress.updated", "data": {"studentId": "s-1"}}).encode()
    status, _, body = http("POST", gateway.base + "/demo/publish", good, {"Content-Type": "application/json"})
    answer = json.loads(body)
    assert status == 200 and answer["status"] == "SUCCESS" and len(answer["id"]) == 36


def test_demo_routes_do_not_exist_without_dev(gateways):
    gateway = gateways(dev=False)
    assert http("GET", gateway.base + "/demo")[0] == 404
    body = json.dumps({"topic": "student.progress", "type": "x", "data": {}}).encode()
    assert http("POST", gateway.base + "/demo/publish", body, {"Content-Type": "application/json"})[0] == 404


def test_browser_resumes_across_a_gateway_restart_without_loss_or_duplicates(
    browser, gateways, proxy, broker, output_dir
):
    """A restart: the new process's log is refilled by the broker, the browser resumes.

    The broker keeps every event (a Redis stream). e1 and e2 reach the first process and
    the browser. The gate of the proxy closes (the pod is no longer ready, so the Service
    stops routing to it) and the process gets SIGTERM: it ends the stream with
    `shutting_down` and exits. While it is down the broker takes e3 and e4 and can deliver
    them to no one. A new process starts on the same port; it is not ready (`/readyz` 503
    `not_subscribed`) until, like daprd, the broker fetched `/dapr/subscribe`; like a new
    pod's consumer group, it then gets the broker's whole retained stream, e1..e4. The
    gate opens when `/readyz` says so (the pod is ready): the browser's own EventSource,
    retrying all along, reconnects with its Last-Event-ID and must show e3 and e4 once
    each, with no `reset` and no duplicate of e1 or e2.
    """
    first = gateways()
    broker.subscribe(first)
    proxy.open_when_ready(first)
    open_page_as(browser, proxy.base, "s-1")
    e1 = broker.publish("student.progress", "progress.updated", {"studentId": "s-1", "score": 10}, first)
    e2 = broker.publish("student.progress", "progress.updated", {"studentId": "s-1", "score": 20}, first)
    wait_for_event(browser, "student.progress", e2)
    assert event_ids(browser, "student.progress") == [e1, e2]
    resume_from = browser.find_element(By.ID, "last-event-id").text
    assert resume_from.startswith("0:" + e2), resume_from

    proxy.close_gate()
    assert first.stop() == 0, first.log_tail()
    wait_until(
        browser,
        lambda d: any("shutting_down" in line for line in log_lines(d, "errors")),
        "no shutting_down error event before the exit",
    )
    wait_until(browser, lambda d: state(d) == "connecting", "the page never noticed the gateway going away")

    e3 = broker.publish("student.progress", "progress.updated", {"studentId": "s-1", "score": 30}, None)
    e4 = broker.publish("student.progress", "progress.updated", {"studentId": "s-1", "score": 40}, None)
    # The browser keeps retrying against the closed gate; make sure it really tried.
    wait_until(browser, lambda d: proxy.refused > 0, "the browser never retried while the gateway was down")

    second = gateways()
    status, _, body = http("GET", second.base + "/readyz")
    assert status == 503 and json.loads(body)["code"] == "not_subscribed", (status, body)
    broker.subscribe(second)
    broker.redeliver_all(second)
    proxy.open_when_ready(second)
    wait_for_event(browser, "student.progress", e4)
    wait_until(browser, lambda d: state(d) == "open", "the stream did not reopen")

    assert event_ids(browser, "student.progress") == [e1, e2, e3, e4]
    assert log_lines(browser, "resets") == []
    assert int(browser.find_element(By.ID, "reconnects").text) >= 1
    assert browser.find_element(By.ID, "ready-count").text == "2"
    assert browser.find_element(By.ID, "last-event-id").text.startswith("0:" + e4)
    # Issue 14 item 6: the page keeps the gateway's `event: error` frame (a MessageEvent with
    # data) apart from the browser's own error events (plain Events) while it was away.
    server_frames = [json.loads(line.split(" ", 1)[1]) for line in log_lines(browser, "errors")]
    assert [frame["code"] for frame in server_frames] == ["shutting_down"], server_frames
    assert all(set(frame) == {"code", "message"} for frame in server_frames)
    transport = log_lines(browser, "transport-errors")
    assert transport and not any("shutting_down" in line for line in transport), transport

    screenshot = output_dir / "demo-page-after-restart.png"
    assert browser.save_screenshot(str(screenshot)), screenshot
    assert screenshot.stat().st_size > 10_000
