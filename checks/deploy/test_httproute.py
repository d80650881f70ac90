"""The Gateway API route (k8s/httproute.yaml): the browser routes only, the Service's port,
and no request timeout that would cut a stream.

kubernetes-validate carries no Gateway API schema and none is packaged offline, so the
fields are checked here against gateway.networking.k8s.io/v1 HTTPRoute by hand.
"""

from __future__ import annotations

import manifests as m

ROUTE_SPEC_KEYS = {"parentRefs", "hostnames", "rules"}
RULE_KEYS = {"name", "matches", "filters", "backendRefs", "timeouts", "retry", "sessionPersistence"}
BACKEND_KEYS = {"group", "kind", "name", "namespace", "port", "weight", "filters"}


def route() -> dict:
    return m.the(m.load_documents(m.K8S / "httproute.yaml"), "HTTPRoute")


def go_duration_or_zero(value: str) -> float:
    return 0.0 if value in ("0", "0s") else m.go_duration_seconds(value)


def test_route_has_the_gateway_api_v1_shape():
    document = route()
    assert document["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert set(document) <= {"apiVersion", "kind", "metadata", "spec"}
    assert "namespace" not in document["metadata"]
    spec = document["spec"]
    assert set(spec) <= ROUTE_SPEC_KEYS, set(spec) - ROUTE_SPEC_KEYS
    for parent in spec["parentRefs"]:
        assert set(parent) <= {"group", "kind", "name", "namespace", "sectionName", "port"}
        assert parent["name"]
    for rule in spec["rules"]:
        assert set(rule) <= RULE_KEYS, set(rule) - RULE_KEYS
        for match in rule["matches"]:
            assert set(match) <= {"path", "headers", "queryParams", "method"}
            assert match["path"]["type"] in ("Exact", "PathPrefix", "RegularExpression")
        for backend in rule["backendRefs"]:
            assert set(backend) <= BACKEND_KEYS
            assert isinstance(backend["port"], int), "Gateway API backendRefs take a port number, not a name"


def test_route_exposes_the_browser_routes_only(gateway_config, assembled):
    paths = gateway_config["paths"]
    public = [paths["stream"], paths["poll"], paths["session"]]
    private = [paths["subscribe"], paths["health"], paths["ready"], paths["metrics"]]
    private += [paths["deliveryPrefix"] + topic for topic in gateway_config["topics"]]
    prefixes = [
        match["path"]["value"] for rule in route()["spec"]["rules"] for match in rule["matches"]
    ]
    assert all(
        match["path"]["type"] == "PathPrefix" for rule in route()["spec"]["rules"] for match in rule["matches"]
    )

    def covered(path: str) -> bool:
        return any(path == prefix or path.startswith(prefix.rstrip("/") + "/") for prefix in prefixes)

    for path in public:
        assert covered(path), f"httproute.yaml does not route {path}"
    for path in private:
        assert not covered(path), f"httproute.yaml exposes {path}"
    service = m.the(assembled, "Service", "sse-gateway")
    ports = {p["port"] for p in service["spec"]["ports"]}
    for rule in route()["spec"]["rules"]:
        for backend in rule["backendRefs"]:
            assert backend["name"] == service["metadata"]["name"]
            assert backend["port"] in ports, f"backend port {backend['port']} is not a Service port"


def test_route_never_times_a_stream_out(gateway_config):
    """A request timeout is a limit on the whole response: zero (none), or far above the
    heartbeat for an implementation that needs a value."""
    heartbeat = gateway_config["heartbeatSeconds"]
    for rule in route()["spec"]["rules"]:
        timeouts = rule.get("timeouts")
        assert timeouts is not None, "set timeouts.request: streams outlive every default request timeout"
        for key in ("request", "backendRequest"):
            if key in timeouts:
                seconds = go_duration_or_zero(timeouts[key])
                assert seconds == 0 or seconds > 100 * heartbeat, f"timeouts.{key} {timeouts[key]} cuts streams"
