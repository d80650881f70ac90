"""The Dapr resources in components/ have the fields Dapr documents, and the values the
gateway's design needs (design.md section 6, dapr-contract.md "Several replicas").

Comparisons with the binary's own settings (pubsub name, topics, routes) are in
test_gateway_contract.py.
"""

from __future__ import annotations

import re

import pytest

import manifests as m

COMPONENT_SPEC_KEYS = {"type", "version", "metadata", "initTimeout", "ignoreErrors"}
SUBSCRIPTION_SPEC_KEYS = {"pubsubname", "topic", "routes", "deadLetterTopic", "bulkSubscribe", "metadata"}
SECRET_LIKE = re.compile(r"(password|secret|token|clientKey|caCert|clientCert)$", re.IGNORECASE)


def production_pubsub() -> dict:
    return m.the(m.load_documents(m.COMPONENTS / "pubsub.yaml"), "Component")


def local_pubsub() -> dict:
    return m.the(m.load_documents(m.COMPONENTS / "local" / "pubsub.yaml"), "Component")


def check_component_shape(component: dict, origin: str) -> dict[str, dict]:
    assert component["apiVersion"] == "dapr.io/v1alpha1", origin
    assert component["kind"] == "Component", origin
    assert set(component) <= {"apiVersion", "kind", "metadata", "spec", "scopes", "auth"}, origin
    spec = component["spec"]
    assert set(spec) <= COMPONENT_SPEC_KEYS, f"{origin}: unknown spec keys {set(spec) - COMPONENT_SPEC_KEYS}"
    assert re.fullmatch(r"pubsub\.[a-z0-9.]+", spec["type"]), f"{origin}: type {spec['type']!r}"
    assert spec["version"] == "v1", origin
    items = m.component_metadata(component)
    for name, item in items.items():
        assert set(item) <= {"name", "value", "secretKeyRef"}, f"{origin}: metadata {name} has {set(item)}"
        assert ("value" in item) != ("secretKeyRef" in item), f"{origin}: {name} needs exactly one of value/secretKeyRef"
        if "value" in item:
            # Dapr reads component metadata as strings: quote numbers and booleans.
            assert isinstance(item["value"], str), f"{origin}: {name} value {item['value']!r} must be a quoted string"
        else:
            reference = item["secretKeyRef"]
            assert set(reference) == {"name", "key"}, f"{origin}: {name} secretKeyRef needs name and key"
            assert all(isinstance(v, str) and v for v in reference.values()), origin
    return items


def check_redis_settings(items: dict[str, dict], origin: str) -> None:
    assert "redisHost" in items and items["redisHost"].get("value"), f"{origin}: redisHost is required"
    # Serial delivery: the same per-topic order on every replica (Redis defaults to 10 workers).
    assert items.get("concurrency", {}).get("value") == "1", f"{origin}: concurrency must be \"1\""
    max_len = items.get("maxLenApprox", {}).get("value", "")
    assert max_len.isdigit() and int(max_len) > 0, f"{origin}: maxLenApprox must bound the streams"
    for name in ("processingTimeout", "redeliverInterval"):
        assert name in items, f"{origin}: {name} is not set"
        assert m.redis_duration_seconds(items[name]["value"]) > 0, f"{origin}: {name} 0 disables redelivery"
    if "queueDepth" in items:
        assert items["queueDepth"]["value"].isdigit(), origin


def test_redis_component_gives_every_replica_its_own_consumer_group():
    component = production_pubsub()
    items = check_component_shape(component, "components/pubsub.yaml")
    assert component["spec"]["type"] == "pubsub.redis"
    assert items["consumerID"] == {"name": "consumerID", "value": "{podName}"}
    check_redis_settings(items, "components/pubsub.yaml")


def test_redis_component_takes_secrets_from_secret_references():
    items = check_component_shape(production_pubsub(), "components/pubsub.yaml")
    assert "secretKeyRef" in items.get("redisPassword", {}), "redisPassword must come from a secretKeyRef"
    for name, item in items.items():
        if SECRET_LIKE.search(name):
            assert "secretKeyRef" in item, f"{name} is a secret: use secretKeyRef, not a value"


def test_redis_component_is_scoped_to_the_gateway():
    assert m.APP_ID in production_pubsub().get("scopes", [])


def test_redis_secret_reference_names_the_example_secret():
    items = m.component_metadata(production_pubsub())
    reference = items["redisPassword"]["secretKeyRef"]
    secrets = {s["metadata"]["name"]: s for s in m.find(m.load_documents(m.K8S / "secret.example.yaml"), "Secret")}
    assert reference["name"] in secrets, f"k8s/secret.example.yaml has no Secret {reference['name']}"
    assert reference["key"] in secrets[reference["name"]]["stringData"]


def test_kafka_alternative_keeps_one_group_per_pod():
    (component,) = m.kafka_alternative()
    items = check_component_shape(component, "Kafka alternative")
    assert component["spec"]["type"] == "pubsub.kafka"
    assert component["metadata"]["name"] == production_pubsub()["metadata"]["name"]
    assert items["consumerID"]["value"] == "{podName}"
    # consumerGroup overrides consumerID: it would put all replicas into one group again.
    assert "consumerGroup" not in items
    assert "brokers" in items
    assert m.APP_ID in component.get("scopes", [])
    for name, item in items.items():
        if SECRET_LIKE.search(name):
            assert "secretKeyRef" in item, f"Kafka alternative: {name} must use secretKeyRef"


def test_local_component_works_without_kubernetes():
    component = local_pubsub()
    items = check_component_shape(component, "components/local/pubsub.yaml")
    assert component["metadata"]["name"] == production_pubsub()["metadata"]["name"]
    assert component["spec"]["type"] == "pubsub.redis"
    # {podName} makes a self-hosted daprd refuse to start; {uuid} still gives a group per daprd.
    assert "{uuid}" in items["consumerID"]["value"]
    assert not any("secretKeyRef" in item for item in items.values()), "self-hosted: no secret store"
    assert "auth" not in component
    check_redis_settings(items, "components/local/pubsub.yaml")
    scopes = component.get("scopes")
    assert scopes is None or m.APP_ID in scopes


def subscriptions() -> list[dict]:
    return m.load_documents(m.COMPONENTS / "subscription.yaml")


def test_declarative_subscriptions_have_the_documented_fields():
    documents = subscriptions()
    assert documents
    topics = [d["spec"]["topic"] for d in documents]
    assert len(topics) == len(set(topics)), "one Subscription per topic"
    for document in documents:
        origin = f"components/subscription.yaml {m.object_id(document)}"
        assert document["apiVersion"] == "dapr.io/v2alpha1", origin
        assert document["kind"] == "Subscription", origin
        assert set(document) <= {"apiVersion", "kind", "metadata", "spec", "scopes"}, origin
        spec = document["spec"]
        assert set(spec) <= SUBSCRIPTION_SPEC_KEYS, f"{origin}: unknown keys {set(spec) - SUBSCRIPTION_SPEC_KEYS}"
        for key in ("pubsubname", "topic", "routes", "deadLetterTopic"):
            assert isinstance(spec.get(key), (str, dict)) and spec[key], f"{origin}: {key} is required here"
        assert set(spec["routes"]) <= {"default", "rules"}, origin
        assert spec["routes"]["default"].startswith("/"), origin
        for rule in spec["routes"].get("rules", []):
            assert set(rule) == {"match", "path"}, origin
        assert spec["deadLetterTopic"] not in topics, f"{origin}: the dead-letter topic must not be a gateway topic"
        assert m.APP_ID in document.get("scopes", []), f"{origin}: scope it to {m.APP_ID}"
        assert spec["pubsubname"] == production_pubsub()["metadata"]["name"], origin


def resiliency(path) -> dict:
    return m.the(m.load_documents(path), "Resiliency")


def retry_budget_seconds(policies: dict, inbound: dict) -> float:
    """Worst-case time daprd spends on one delivery: every attempt times out."""
    retry = policies["retries"][inbound["retry"]]
    attempts = retry["maxRetries"] + 1
    timeout = m.go_duration_seconds(policies["timeouts"][inbound["timeout"]]) if "timeout" in inbound else 0.0
    if retry["policy"] == "constant":
        wait = m.go_duration_seconds(retry.get("duration", "5s"))
    else:
        wait = m.go_duration_seconds(retry.get("maxInterval", "60s"))
    return attempts * timeout + retry["maxRetries"] * wait


def test_resiliency_retries_deliveries_to_the_gateway():
    document = resiliency(m.COMPONENTS / "resiliency.yaml")
    assert document["apiVersion"] == "dapr.io/v1alpha1"
    assert set(document) <= {"apiVersion", "kind", "metadata", "spec", "scopes"}
    assert m.APP_ID in document.get("scopes", [])
    spec = document["spec"]
    policies = spec["policies"]
    assert set(policies) <= {"timeouts", "retries", "circuitBreakers"}
    for name, value in policies.get("timeouts", {}).items():
        m.go_duration_seconds(value)
    for name, retry in policies["retries"].items():
        assert retry["policy"] in ("constant", "exponential"), name
        assert isinstance(retry["maxRetries"], int) and retry["maxRetries"] >= 1, (
            f"retry {name}: a bounded number of retries (-1 would retry forever and, with concurrency 1, "
            "block every topic)"
        )
        for key in ("duration", "maxInterval"):
            if key in retry:
                m.go_duration_seconds(retry[key])
    pubsub_name = production_pubsub()["metadata"]["name"]
    inbound = spec["targets"]["components"][pubsub_name]["inbound"]
    assert inbound["retry"] in policies["retries"]
    if "timeout" in inbound:
        assert inbound["timeout"] in policies["timeouts"]
    if "circuitBreaker" in inbound:
        assert inbound["circuitBreaker"] in policies.get("circuitBreakers", {})


def test_retry_budget_ends_before_redis_redelivers():
    """Redis redelivers what is still unacknowledged after processingTimeout: daprd must have
    given up by then, or an event is delivered twice and out of order."""
    document = resiliency(m.COMPONENTS / "resiliency.yaml")
    policies = document["spec"]["policies"]
    pubsub_name = production_pubsub()["metadata"]["name"]
    inbound = document["spec"]["targets"]["components"][pubsub_name]["inbound"]
    budget = retry_budget_seconds(policies, inbound)
    for component in (production_pubsub(), local_pubsub()):
        timeout = m.redis_duration_seconds(m.component_metadata(component)["processingTimeout"]["value"])
        assert budget < timeout, f"retry budget {budget}s must stay below processingTimeout {timeout}s"


def test_local_resiliency_matches_production():
    production = resiliency(m.COMPONENTS / "resiliency.yaml")
    local = resiliency(m.COMPONENTS / "local" / "resiliency.yaml")
    assert local["spec"] == production["spec"]
    assert local["metadata"]["name"] == production["metadata"]["name"]


@pytest.mark.parametrize("path", sorted(m.COMPONENTS.glob("*.yaml")), ids=lambda p: p.name)
def test_components_carry_no_namespace(path):
    """They are applied with `kubectl apply -n <namespace>` into the gateway's namespace."""
    for document in m.load_documents(path):
        assert "namespace" not in document["metadata"], f"{path.name}: {m.object_id(document)}"


def configuration() -> dict:
    return m.the(m.load_documents(m.COMPONENTS / "configuration.yaml"), "Configuration")


def test_configuration_denies_service_invocation_to_the_gateway():
    """Only pub/sub deliveries may reach the app (docs/threat-model.md "Service invocation")."""
    document = configuration()
    assert document["apiVersion"] == "dapr.io/v1alpha1"
    assert set(document) <= {"apiVersion", "kind", "metadata", "spec", "scopes"}
    spec = document["spec"]
    known = {"accessControl", "tracing", "metrics", "metric", "mtls", "features", "api", "appHttpPipeline",
             "httpPipeline", "secrets", "components", "logging", "nameResolution", "wasm", "workflow"}  # fmt: skip
    assert set(spec) <= known, f"unknown Configuration keys {set(spec) - known}"
    access = spec["accessControl"]
    assert set(access) <= {"defaultAction", "trustDomain", "policies"}
    assert access["defaultAction"] == "deny"
    for policy in access.get("policies", []):
        # An app-wide allow would reopen /dapr/* to that caller.
        assert policy.get("defaultAction") == "deny", f"policy for {policy.get('appId')} must deny by default"
        for operation in policy.get("operations", []):
            assert not operation["name"].startswith("/dapr"), f"{policy.get('appId')} may invoke {operation['name']}"


def test_configuration_traces_with_a_sampling_rate_and_an_otlp_collector():
    tracing = configuration()["spec"]["tracing"]
    assert set(tracing) <= {"samplingRate", "stdout", "otel", "zipkin"}
    # daprd parses samplingRate from a string.
    assert isinstance(tracing["samplingRate"], str) and 0 < float(tracing["samplingRate"]) <= 1
    otel = tracing["otel"]
    assert set(otel) <= {"endpointAddress", "isSecure", "protocol", "headers", "timeout"}
    assert otel["protocol"] in ("grpc", "http")
    assert isinstance(otel["isSecure"], bool)
    # host:port, no scheme: daprd adds it from protocol and isSecure.
    assert re.fullmatch(r"[A-Za-z0-9.-]+:\d+", otel["endpointAddress"]), otel["endpointAddress"]


def test_the_deployment_names_the_configuration(deployment):
    notes = deployment["spec"]["template"]["metadata"]["annotations"]
    assert notes["dapr.io/config"] == configuration()["metadata"]["name"]
