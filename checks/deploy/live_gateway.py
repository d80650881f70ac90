"""A real gateway process for the checks that need a live /metrics (test_monitoring.py).

Runs $SSE_GATEWAY_BIN on a free loopback port with a test secret, drives it the way
daprd and browsers do (a stream, deliveries, a poison event, a refused token) so every
label set has moved, and returns the text of GET /metrics.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

SECRET = "monitoring-check-secret-0123456789abcdef"
STARTUP_SECONDS = 60


class LiveGateway:
    def __init__(self, binary: Path):
        self.binary = binary
        self.output = tempfile.TemporaryFile(mode="w+")
        environment = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),
            "LANG": "C.UTF-8",
            "GATEWAY_JWT_HS256_SECRET": SECRET,
            "GATEWAY_LOG_FORMAT": "text",
            "TSAN_OPTIONS": os.environ.get("TSAN_OPTIONS", ""),
        }
        self.environment = environment
        self.process = subprocess.Popen(
            [str(binary), "serve", "--host", "127.0.0.1", "--port", "0"],
            stdout=self.output,
            stderr=subprocess.STDOUT,
            env=environment,
        )
        self.port = self._await_port()

    def _await_port(self) -> int:
        # Polled with a bound: the log line that names the port the kernel picked.
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            self.output.seek(0)
            match = re.search(r"listening on 127\.0\.0\.1:(\d+)", self.output.read())
            if match:
                return int(match.group(1))
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        self.output.seek(0)
        raise RuntimeError(f"the gateway did not start:\n{self.output.read()[-4000:]}")

    def token(self, subject: str, roles: str) -> str:
        result = subprocess.run(
            [str(self.binary), "token", "--sub", subject, "--roles", roles],
            capture_output=True,
            text=True,
            env=self.environment,
            timeout=60,
            check=True,
        )
        return result.stdout.strip().splitlines()[-1]

    def request(self, method: str, path: str, body: str | None = None, headers: dict | None = None) -> tuple[int, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.read().decode()
        finally:
            connection.close()

    def deliver(self, topic: str, body: str) -> str:
        status, text = self.request(
            "POST", f"/dapr/topics/{topic}", body, {"Content-Type": "application/cloudevents+json"}
        )
        assert status == 200, f"delivery answered {status}: {text}"
        return text

    def open_stream(self, token: str, query: str) -> http.client.HTTPConnection:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.request("GET", f"/events/stream?{query}", headers={"Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        assert response.status == 200, response.read(2000)
        while True:  # up to the ready frame's blank line
            line = response.fp.readline()
            if not line:
                raise AssertionError("the stream closed before its ready frame")
            if line.startswith(b"event: ready"):
                response.fp.readline()
                response.fp.readline()
                return connection

    def scrape(self) -> str:
        status, text = self.request("GET", "/metrics")
        assert status == 200
        return text

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def exercised_metrics(binary: Path) -> str:
    """GET /metrics after one of everything the metrics count."""
    gateway = LiveGateway(binary)
    try:
        token = gateway.token("s-1", "student")
        stream = gateway.open_stream(token, "topics=student.progress")
        event = {"specversion": "1.0", "id": "m-1", "source": "check", "type": "t", "data": {"studentId": "s-1"}}
        assert "SUCCESS" in gateway.deliver("student.progress", json.dumps(event))
        assert "SUCCESS" in gateway.deliver("student.progress", json.dumps(event))  # duplicate
        assert "DROP" in gateway.deliver("student.progress", "not json")
        status, _ = gateway.request(
            "GET", "/events/stream?topics=student.progress", headers={"Authorization": f"Bearer {token}x"}
        )
        assert status == 401
        text = gateway.scrape()
        stream.close()
        return text
    finally:
        gateway.stop()
