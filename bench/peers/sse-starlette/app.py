"""FastAPI + sse-starlette peer for the sse-gateway benchmarks (bench/peers/README.md).

The endpoint a platform engineer would write for the same job, kept straightforward:

* ``GET /events/stream?topics=a,b`` with ``Authorization: Bearer <HS256 JWT>`` signed with
  ``BENCH_JWT_SECRET``; claims as the gateway reads them by default: ``sub``, ``roles``,
  ``student_ids`` (``exp`` required, 30 s leeway).
* One bounded ``asyncio.Queue`` per connection; in-process fan-out. A connection whose
  queue is full is closed (the gateway evicts slow consumers the same way).
* Who sees what, as the gateway's defaults: ``student.progress`` when ``data.studentId``
  is the token's ``sub`` or in ``student_ids``, or for role ``admin``;
  ``system.notifications`` for everyone (narrowed by ``data.audience`` roles when set).
  Per-student streams are indexed by student id, so an event touches only its student's
  streams (no scan of every connection).
* Frames ``id:`` / ``event:`` / ``data:`` with the gateway's envelope
  ``{"id","topic","type","source","time","data"}``, encoded once per event; a
  ``: heartbeat`` comment every 30 s (sse-starlette's ping).
* ``POST /dapr/topics/{topic}`` takes one CloudEvent (JSON) and answers
  ``{"status":"SUCCESS"}`` (``DROP`` for a malformed event, 404 for an unknown topic).

Not here (handicaps for the gateway, not for this peer): replay log / Last-Event-ID
resume, duplicate-id suppression, bulk delivery, client filters, cookies, JWKS, drain.

One process only: the fan-out state lives in this process's memory, so a second uvicorn
worker would see neither the other worker's subscribers nor its events; several workers
would need a broker (Redis pub/sub, or Dapr delivering to each worker) between them.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections import defaultdict
from dataclasses import dataclass, field

import jwt
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from sse_starlette import EventSourceResponse, ServerSentEvent

SECRET = os.environ.get("BENCH_JWT_SECRET", "")
QUEUE_SIZE = int(os.environ.get("BENCH_QUEUE_SIZE", "1024"))
HEARTBEAT_SECONDS = float(os.environ.get("BENCH_HEARTBEAT_SECONDS", "30"))
MAX_EVENT_BYTES = 256 * 1024

TOPICS = ("student.progress", "system.notifications")

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@dataclass(eq=False)
class Connection:
    """One open stream: who it is and its bounded queue of (event id, topic, envelope)."""

    subject: str
    roles: frozenset[str]
    students: frozenset[str]
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(maxsize=QUEUE_SIZE))
    evicted: bool = False

    def offer(self, item: tuple[str, str, str]) -> None:
        if self.evicted:
            return
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            # Slow consumer: drop it (it would reconnect); the queue never grows past QUEUE_SIZE.
            self.evicted = True
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(None)


class Fanout:
    """Subscribers filed by topic: per-student lists plus a see-everything list."""

    def __init__(self) -> None:
        self.progress_by_student: dict[str, set[Connection]] = defaultdict(set)
        self.progress_all: set[Connection] = set()
        self.notifications: set[Connection] = set()

    def add(self, conn: Connection, topics: list[str]) -> None:
        if "student.progress" in topics:
            if "admin" in conn.roles:
                self.progress_all.add(conn)
            else:
                for student in conn.students | {conn.subject}:
                    self.progress_by_student[student].add(conn)
        if "system.notifications" in topics:
            self.notifications.add(conn)

    def remove(self, conn: Connection) -> None:
        self.progress_all.discard(conn)
        self.notifications.discard(conn)
        for student in conn.students | {conn.subject}:
            followers = self.progress_by_student.get(student)
            if followers is not None:
                followers.discard(conn)
                if not followers:
                    del self.progress_by_student[student]

    def publish(self, topic: str, event_id: str, data: object, envelope: str) -> int:
        item = (event_id, topic, envelope)
        if topic == "student.progress":
            student = data.get("studentId") if isinstance(data, dict) else None
            targets = set(self.progress_all)
            if student is not None:
                targets |= self.progress_by_student.get(str(student), set())
        else:
            audience = data.get("audience") if isinstance(data, dict) else None
            if audience:
                wanted = set(audience if isinstance(audience, list) else [audience]) | {"admin"}
                targets = {c for c in self.notifications if c.roles & wanted}
            else:
                targets = self.notifications
        for conn in targets:
            conn.offer(item)
        return len(targets)


fanout = Fanout()


def authenticate(request: Request) -> Connection:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(401, "missing bearer token", {"WWW-Authenticate": 'Bearer error="invalid_token"'})
    try:
        claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"require": ["exp", "sub"]}, leeway=30)
    except jwt.PyJWTError:
        raise HTTPException(401, "invalid token", {"WWW-Authenticate": 'Bearer error="invalid_token"'})
    roles = claims.get("roles") or []
    students = claims.get("student_ids") or []
    return Connection(
        subject=str(claims["sub"]),
        roles=frozenset([roles] if isinstance(roles, str) else map(str, roles)),
        students=frozenset([students] if isinstance(students, str) else map(str, students)),
    )


@app.get("/events/stream")
async def stream(request: Request, topics: str | None = None) -> EventSourceResponse:
    conn = authenticate(request)
    wanted = [t for t in topics.split(",") if t] if topics else list(TOPICS)
    for topic in wanted:
        if topic not in TOPICS:
            raise HTTPException(400, f"unknown topic {topic}")
    fanout.add(conn, wanted)

    async def frames():
        try:
            yield ServerSentEvent(event="ready", data=json.dumps({"topics": wanted}, separators=(",", ":")))
            while True:
                item = await conn.queue.get()
                if item is None:
                    yield ServerSentEvent(event="error", data='{"code":"slow_consumer"}')
                    return
                event_id, topic, envelope = item
                yield ServerSentEvent(id=event_id, event=topic, data=envelope)
        finally:
            fanout.remove(conn)

    return EventSourceResponse(
        frames(),
        ping=HEARTBEAT_SECONDS,
        ping_message_factory=lambda: ServerSentEvent(comment="heartbeat"),
    )


@app.get("/dapr/subscribe")
async def subscribe() -> list[dict]:
    return [{"pubsubname": "pubsub", "topic": t, "route": f"/dapr/topics/{t}"} for t in TOPICS]


@app.post("/dapr/topics/{topic}")
async def deliver(topic: str, request: Request) -> JSONResponse:
    if topic not in TOPICS:
        return JSONResponse({"status": "DROP"}, status_code=404)
    body = await request.body()
    if len(body) > MAX_EVENT_BYTES:
        return JSONResponse({"status": "DROP"})
    try:
        event = json.loads(body)
        event_id, source, kind = event["id"], event["source"], event["type"]
        if not all(isinstance(v, str) and v for v in (event_id, source, kind)):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        return JSONResponse({"status": "DROP"})
    data = event.get("data")
    if isinstance(data, str) and data.startswith("{"):  # Dapr wraps non-JSON publishes as a string
        try:
            data = json.loads(data)
        except ValueError:
            pass
    envelope = {"id": event_id, "topic": topic, "type": kind, "source": source}
    if event.get("time") is not None:
        envelope["time"] = event["time"]
    envelope["data"] = data
    fanout.publish(topic, event_id, data, json.dumps(envelope, separators=(",", ":"), ensure_ascii=False))
    return JSONResponse({"status": "SUCCESS"})


@app.get("/healthz")
async def healthz() -> dict:
    return {"status": "ok"}
