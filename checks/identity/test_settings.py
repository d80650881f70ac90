"""The identity and cross-origin settings as `sse-gateway config --json` reports them, and
the settings the binary refuses to start with (a clear message, a non-zero exit)."""

from __future__ import annotations

import json
import subprocess

import pytest

from conftest import base_environment, gateway_binary
from providers import Keycloak


def config(settings: dict[str, str]) -> subprocess.CompletedProcess:
    environment = base_environment() | {"GATEWAY_JWT_HS256_SECRET": "x" * 32} | settings
    return subprocess.run(
        [str(gateway_binary()), "config", "--json"], env=environment, capture_output=True, text=True, timeout=60
    )


def effective(settings: dict[str, str]) -> dict:
    run = config(settings)
    assert run.returncode == 0, run.stderr + run.stdout
    return json.loads(run.stdout)


def test_the_effective_claim_mapping_is_shown():
    keycloak = Keycloak()
    keycloak.origin = "https://keycloak.example.com"
    shown = effective(keycloak.settings("https://keycloak.example.com" + keycloak.jwks_path))
    assert shown["jwt"]["claims"] == {
        "subject": "preferred_username",
        "roles": ["realm_access.roles", "resource_access.sse-gateway.roles"],
        "studentIds": "lms.student_ids",
        "courseIds": "lms.course_ids",
        "roleMap": {"lms-admin": ["admin"], "lms-instructor": ["instructor"], "lms-student": ["student"]},
    }
    # The built-in scope rules read the configured claims.
    rules = {rule["topic"]: rule for rule in shown["topicRules"]}
    assert rules["student.progress"]["scope"] == [
        {"field": "studentId", "grantedBy": ["preferred_username", "lms.student_ids"]}
    ]


def test_the_defaults_are_shown():
    shown = effective({})
    assert shown["jwt"]["claims"] == {
        "subject": "sub",
        "roles": ["roles"],
        "studentIds": "student_ids",
        "courseIds": "course_ids",
        "roleMap": None,
    }
    assert shown["corsOrigins"] == []
    assert shown["jwt"]["sessionCookieSameSite"] == "Strict"
    assert shown["jwt"]["sessionCookieDomain"] is None
    assert shown["jwt"]["sessionCookieSecure"] is True


def test_cors_origins_and_cookie_settings_are_shown_normalized():
    shown = effective(
        {
            "GATEWAY_CORS_ORIGINS": "https://App.Example.com/, http://localhost:5173",
            "GATEWAY_SESSION_COOKIE_SAMESITE": "none",
            "GATEWAY_SESSION_COOKIE_DOMAIN": "Example.com",
        }
    )
    assert shown["corsOrigins"] == ["https://app.example.com", "http://localhost:5173"]
    assert shown["jwt"]["sessionCookieSameSite"] == "None"
    assert shown["jwt"]["sessionCookieDomain"] == "example.com"
    assert shown["jwt"]["sessionCookieSecure"] is True


def test_dev_mode_drops_secure_except_for_same_site_none():
    environment = base_environment() | {"GATEWAY_JWT_HS256_SECRET": "x" * 32}
    for same_site, secure in (("Strict", False), ("None", True)):
        run = subprocess.run(
            [str(gateway_binary()), "config", "--json", "--dev"],
            env=environment | {"GATEWAY_SESSION_COOKIE_SAMESITE": same_site},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout)["jwt"]["sessionCookieSecure"] is secure, same_site


@pytest.mark.parametrize(
    "settings,message",
    [
        ({"GATEWAY_CORS_ORIGINS": "*"}, "wildcard"),
        ({"GATEWAY_CORS_ORIGINS": "https://*.example.com"}, "wildcard"),
        ({"GATEWAY_CORS_ORIGINS": "https://app.example.com/events"}, "without a path"),
        ({"GATEWAY_CORS_ORIGINS": "app.example.com"}, "https://"),
        ({"GATEWAY_SESSION_COOKIE_SAMESITE": "None", "GATEWAY_SESSION_COOKIE_SECURE": "false"}, "SameSite=None"),
        ({"GATEWAY_SESSION_COOKIE_SAMESITE": "relaxed"}, "Strict, Lax or None"),
        ({"GATEWAY_SESSION_COOKIE_DOMAIN": "https://example.com"}, "a host name"),
        ({"GATEWAY_JWT_ROLE_MAP": "lms-admin"}, "provider-role=gateway-role"),
        ({"GATEWAY_JWT_ALGORITHMS": "RS256,RS257"}, "RS257"),
        ({"GATEWAY_JWT_CLAIM_SUBJECT": " "}, "a claim name or path"),
    ],
)
def test_settings_that_cannot_work_refuse_to_start_with_the_reason(settings, message):
    run = config(settings)
    assert run.returncode != 0
    assert message in run.stderr + run.stdout, run.stderr + run.stdout
