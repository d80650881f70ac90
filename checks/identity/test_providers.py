"""Each provider's tokens, verified by the real binary with the settings a user writes for
that provider (README, "Identity providers"), grant exactly what design.md section 5's
table says.

The grants are read through `GET /events/poll`, which takes the same token, scope and
filters as the stream (one code path, `BrowserRequest`): the first poll marks the head,
the events below are delivered as daprd delivers them, the second poll returns exactly
the events the person may see, whatever the order they arrived in.
"""

from __future__ import annotations

import pytest

from conftest import http
from providers import ADMIN, INSTRUCTOR, PEOPLE, PROVIDERS, STUDENT_A, STUDENT_B, Okta

ALL_TOPICS = ["student.progress", "learning.events", "system.notifications"]


@pytest.fixture(params=PROVIDERS, ids=[provider.name for provider in PROVIDERS])
def provider_gateway(request, key_server, start_gateway):
    """(provider, its key server, a gateway configured for it)."""
    provider = request.param()
    server = key_server(provider.jwks_path, {"keys": []})
    provider.origin = server.url[: -len(provider.jwks_path)]
    server.publish(provider.jwks())
    gateway = start_gateway(provider.settings(server.url))
    return provider, server, gateway


def deliver_the_design_table(gateway, ids: dict[str, str]) -> dict[str, set[str]]:
    """Delivers one event per row and case of the table; returns who must see which."""
    a, b = ids["a"], ids["b"]
    expected: dict[str, set[str]] = {person.key: set() for person in PEOPLE}

    def event(topic: str, data: dict, *seen_by: str) -> None:
        event_id = gateway.deliver(topic, data)
        for key in seen_by + ("admin",):
            expected[key].add(event_id)

    # student.progress: data.studentId == sub, or in student_ids, or admin.
    event("student.progress", {"studentId": a, "progress": 0.4}, "a", "i")
    event("student.progress", {"studentId": b, "progress": 0.9}, "b")
    # learning.events: data.courseId in course_ids, or the student rule, or admin; neither: admin.
    event("learning.events", {"courseId": "c-1", "lessonId": "l-1"}, "i")
    event("learning.events", {"courseId": "c-2", "studentId": a}, "a", "i")
    event("learning.events", {"lessonId": "l-9"})
    # system.notifications: everyone; with an audience, those roles (and admin).
    event("system.notifications", {"message": "maintenance at 22:00"}, "a", "b", "i")
    event("system.notifications", {"message": "grades due", "audience": ["instructor"]}, "i")
    return expected


def test_each_person_sees_exactly_what_the_design_table_grants(provider_gateway):
    provider, _, gateway = provider_gateway
    tokens = {person.key: provider.token(person) for person in PEOPLE}
    heads = {}
    for key, token in tokens.items():
        status, body = gateway.poll(token)
        assert status == 200, (provider.name, key, body, gateway.log_tail())
        heads[key] = body["lastEventId"]
    expected = deliver_the_design_table(gateway, provider.ids)
    for key, token in tokens.items():
        status, body = gateway.poll(token, heads[key])
        assert status == 200, (provider.name, key, body)
        seen = {event["id"] for event in body["events"]}
        assert seen == expected[key], f"{provider.name}: {key} saw the wrong events"


def test_every_person_gets_a_stream_with_the_topics_their_token_grants(provider_gateway):
    provider, _, gateway = provider_gateway
    for person in (STUDENT_A, INSTRUCTOR, ADMIN):
        ready = gateway.ready_frame(provider.token(person))
        assert ready["topics"] == ALL_TOPICS, (provider.name, person.key, ready)


def test_a_student_cannot_ask_for_another_students_events(provider_gateway):
    provider, _, gateway = provider_gateway
    token = provider.token(STUDENT_A)
    status, _, body = http(
        "GET",
        f"{gateway.base}/events/poll?studentId={provider.ids['b']}",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert status == 403, body
    admin = provider.token(ADMIN)
    status, _, _ = http(
        "GET", f"{gateway.base}/events/poll?studentId={provider.ids['b']}", headers={"Authorization": f"Bearer {admin}"}
    )
    assert status == 200


def test_a_key_the_provider_never_published_is_an_unknown_key(provider_gateway):
    provider, server, gateway = provider_gateway
    assert gateway.poll(provider.token(STUDENT_B))[0] == 200
    fetches = server.fetches
    status, body = gateway.poll(provider.foreign_token(STUDENT_B))
    assert status == 401 and body["code"] == "unknown_key", body
    # An unknown kid may make the gateway fetch the key set again (the provider may have
    # rotated a key in), at most once per GATEWAY_JWKS_MIN_REFRESH_SECONDS (30 s).
    assert server.fetches <= fetches + 1


def test_tokens_for_another_audience_or_issuer_are_refused(provider_gateway):
    provider, _, gateway = provider_gateway
    wrong_audience = provider.token(STUDENT_A, aud="https://another-api.example.com")
    status, body = gateway.poll(wrong_audience)
    assert status == 401 and body["code"] == "wrong_audience", body
    wrong_issuer = provider.token(STUDENT_A, iss="https://impostor.example.com/")
    status, body = gateway.poll(wrong_issuer)
    assert status == 401 and body["code"] == "wrong_issuer", body


@pytest.mark.parametrize("typ", ["at+jwt", "application/at+jwt"])
def test_rfc_9068_access_tokens_are_accepted(key_server, start_gateway, typ):
    okta = Okta()
    server = key_server(okta.jwks_path, okta.jwks())
    gateway = start_gateway(okta.settings(server.url))
    token = okta.token(STUDENT_A, typ=typ)
    assert gateway.ready_frame(token)["topics"] == ALL_TOPICS
