"""The manifests agree with the settings the gateway binary really uses.

`gateway_config` is `$SSE_GATEWAY_BIN config --json`, run with the environment the
ConfigMap, Secret example and Deployment give the container. A default that changes in
the code without the manifests following makes these tests fail.
"""

from __future__ import annotations

import re

import manifests as m

HEADROOM_SECONDS = 5  # process exit, last log lines, kubelet bookkeeping


def annotations(deployment: dict) -> dict:
    return deployment["spec"]["template"]["metadata"]["annotations"]


def pod_labels(deployment: dict) -> dict:
    return deployment["spec"]["template"]["metadata"]["labels"]


def graceful_shutdown_seconds(deployment: dict) -> int:
    return int(annotations(deployment)["dapr.io/graceful-shutdown-seconds"])


def pre_stop_seconds(container: dict) -> int:
    sleep = ((container.get("lifecycle") or {}).get("preStop") or {}).get("sleep") or {}
    return int(sleep.get("seconds", 0))


# --------------------------------------------------------------------------- port


def test_container_listens_on_the_gateway_port(container, gateway_config):
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports.get("http") == gateway_config["port"], (
        f"containerPort {ports.get('http')} != the gateway's port {gateway_config['port']}"
    )


def test_dapr_app_port_is_the_gateway_port(deployment, gateway_config):
    assert annotations(deployment)["dapr.io/app-port"] == str(gateway_config["port"])


def test_service_targets_the_gateway_port(assembled, deployment, container, gateway_config):
    service = m.the(assembled, "Service", "sse-gateway")
    assert m.selector_matches(service["spec"]["selector"], pod_labels(deployment))
    (http,) = [p for p in service["spec"]["ports"] if p["name"] == "http"]
    assert m.resolve_container_port(container, http["targetPort"]) == gateway_config["port"]


def test_dockerfile_exposes_the_gateway_port(gateway_config):
    exposed = [arguments for keyword, arguments in m.dockerfile_instructions() if keyword == "EXPOSE"]
    assert exposed == [str(gateway_config["port"])], f"EXPOSE {exposed}"


# --------------------------------------------------------------------------- probes, app health


def test_liveness_and_startup_probes_use_the_health_path(container, gateway_config):
    for probe in ("livenessProbe", "startupProbe"):
        if probe not in container and probe == "startupProbe":
            continue
        http = container[probe]["httpGet"]
        assert http["path"] == gateway_config["paths"]["health"], probe
        assert m.resolve_container_port(container, http["port"]) == gateway_config["port"], probe


def test_readiness_probe_uses_the_ready_path(container, gateway_config):
    http = container["readinessProbe"]["httpGet"]
    assert http["path"] == gateway_config["paths"]["ready"]
    assert m.resolve_container_port(container, http["port"]) == gateway_config["port"]


def test_dapr_app_health_check_uses_liveness_never_readiness(deployment, gateway_config):
    notes = annotations(deployment)
    assert notes["dapr.io/enable-app-health-check"] == "true"
    assert notes["dapr.io/app-health-check-path"] == gateway_config["paths"]["health"]
    assert notes["dapr.io/app-health-check-path"] != gateway_config["paths"]["ready"], (
        "daprd stops all subscriptions while its health check fails: /readyz would unsubscribe a draining pod"
    )


def test_dockerfile_healthcheck_uses_the_health_path_and_port(gateway_config):
    (healthcheck,) = [a for k, a in m.dockerfile_instructions() if k == "HEALTHCHECK"]
    assert gateway_config["paths"]["health"] in healthcheck
    assert f":-{gateway_config['port']}}}" in healthcheck or f":{gateway_config['port']}/" in healthcheck


# --------------------------------------------------------------------------- Dapr wiring


def test_dapr_annotations_of_an_http_subscriber(deployment, container, secret_examples):
    notes = annotations(deployment)
    assert notes["dapr.io/enabled"] == "true"
    assert notes["dapr.io/app-id"] == m.APP_ID
    assert notes["dapr.io/app-protocol"] == "http"
    for key in ("cpu-request", "cpu-limit", "memory-request", "memory-limit"):
        value = notes.get(f"dapr.io/sidecar-{key}")
        assert value and m.is_quantity(value), f"dapr.io/sidecar-{key} = {value!r}"
    # The app token: daprd reads key "token" of the named Secret; the gateway must get the same.
    secret_name = notes["dapr.io/app-token-secret"]
    (variable,) = [e for e in container["env"] if e["name"] == "APP_API_TOKEN"]
    assert variable["valueFrom"]["secretKeyRef"] == {"name": secret_name, "key": "token"}
    secrets = {s["metadata"]["name"]: s for s in m.find(secret_examples, "Secret")}
    assert "token" in secrets[secret_name]["stringData"]


def test_pubsub_component_name_is_the_gateways(gateway_config):
    component = m.the(m.load_documents(m.COMPONENTS / "pubsub.yaml"), "Component")
    assert component["metadata"]["name"] == gateway_config["pubsubName"]
    (kafka,) = m.kafka_alternative()
    assert kafka["metadata"]["name"] == gateway_config["pubsubName"]
    local = m.the(m.load_documents(m.COMPONENTS / "local" / "pubsub.yaml"), "Component")
    assert local["metadata"]["name"] == gateway_config["pubsubName"]


def test_resiliency_targets_the_gateways_pubsub(gateway_config):
    for path in (m.COMPONENTS / "resiliency.yaml", m.COMPONENTS / "local" / "resiliency.yaml"):
        document = m.the(m.load_documents(path), "Resiliency")
        assert gateway_config["pubsubName"] in document["spec"]["targets"]["components"], path.name


def test_declarative_subscriptions_match_dapr_subscribe(gateway_config):
    documents = m.load_documents(m.COMPONENTS / "subscription.yaml")
    by_topic = {d["spec"]["topic"]: d["spec"] for d in documents}
    assert sorted(by_topic) == sorted(gateway_config["topics"]), "one Subscription per gateway topic"
    prefix = gateway_config["paths"]["deliveryPrefix"]
    for topic, spec in by_topic.items():
        assert spec["pubsubname"] == gateway_config["pubsubName"], topic
        assert spec["routes"]["default"] == prefix + topic, topic
        if isinstance(gateway_config.get("deadLetterTopic"), str):
            assert spec["deadLetterTopic"] == gateway_config["deadLetterTopic"], topic


# --------------------------------------------------------------------------- shutdown


def test_dapr_graceful_shutdown_fits_the_drain(deployment, gateway_config):
    graceful = graceful_shutdown_seconds(deployment)
    termination = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert graceful >= gateway_config["drainSeconds"], (
        f"dapr.io/graceful-shutdown-seconds {graceful} < drainSeconds {gateway_config['drainSeconds']}"
    )
    assert graceful + HEADROOM_SECONDS <= termination, (
        f"daprd's graceful shutdown {graceful}s must end before the kubelet kills the pod ({termination}s)"
    )


def test_termination_grace_period_covers_prestop_drain_jitter_and_sidecar(deployment, container, gateway_config):
    # The preStop sleep counts against the grace period: SIGTERM comes only after it.
    termination = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    needed = (
        pre_stop_seconds(container)
        + gateway_config["drainSeconds"]
        + gateway_config["reconnectJitterSeconds"]
        + graceful_shutdown_seconds(deployment)
        + HEADROOM_SECONDS
    )
    assert termination >= needed, (
        f"terminationGracePeriodSeconds {termination} < preStop {pre_stop_seconds(container)} + drain "
        f"{gateway_config['drainSeconds']} + jitter {gateway_config['reconnectJitterSeconds']} + dapr graceful "
        f"{graceful_shutdown_seconds(deployment)} + {HEADROOM_SECONDS}"
    )
    assert termination > pre_stop_seconds(container) + gateway_config["drainSeconds"]


def test_a_rollout_outlasts_the_readiness_wait(deployment, container, gateway_config):
    """A new pod is ready at most `ready.timeoutSeconds` after it started (with a warning when
    it had to give up waiting for the backlog); the rollout must not be declared stuck first."""
    if "ready" not in gateway_config:
        return  # an older binary without the readiness rule
    startup = container["startupProbe"]
    started_within = startup.get("periodSeconds", 10) * startup.get("failureThreshold", 3)
    progress_deadline = deployment["spec"].get("progressDeadlineSeconds", 600)
    worst = started_within + gateway_config["ready"]["timeoutSeconds"] + deployment["spec"].get("minReadySeconds", 0)
    assert worst < progress_deadline, f"start {started_within} + readiness wait + minReadySeconds = {worst}s"


def test_liveness_outlasts_a_connection_cap_held_by_idle_clients(container, gateway_config):
    """At its connection cap the gateway stops accepting; a probe waits in the listen backlog
    until a connection closes, at the latest after the idle timeout (docs/threat-model.md)."""
    if "idleTimeoutSeconds" not in gateway_config:
        return
    probe = container["livenessProbe"]
    tolerance = probe.get("periodSeconds", 10) * probe.get("failureThreshold", 3)
    assert tolerance > gateway_config["idleTimeoutSeconds"], (
        f"liveness gives up after {tolerance}s, before an idle connection ({gateway_config['idleTimeoutSeconds']}s) "
        "frees a slot at the connection cap: the kubelet would restart a pod that is only full"
    )


def test_readiness_notices_draining_quickly(container, gateway_config):
    probe = container["readinessProbe"]
    detection = probe.get("periodSeconds", 10) * probe.get("failureThreshold", 3)
    assert detection < gateway_config["drainSeconds"], (
        f"readiness needs {detection}s to fail, longer than the {gateway_config['drainSeconds']}s drain"
    )


# --------------------------------------------------------------------------- ingress


def covered(path: str, ingress_paths: list[tuple[str, str]]) -> bool:
    for prefix, kind in ingress_paths:
        if kind == "Exact" and path == prefix:
            return True
        if kind in ("Prefix", "ImplementationSpecific"):
            stripped = prefix.rstrip("/")
            if path == stripped or path.startswith(stripped + "/") or stripped == "":
                return True
    return False


def ingress_paths(ingress: dict) -> list[tuple[str, str]]:
    return [
        (p["path"], p["pathType"]) for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]
    ]


def ingresses() -> list[tuple[str, dict]]:
    """Each file's Ingresses (ingress-kong.yaml has two: /events with the JWT plugin, /client without)."""
    return [
        (name, document)
        for name in ("ingress.yaml", "ingress-kong.yaml")
        for document in m.find(m.load_documents(m.K8S / name), "Ingress")
    ]


def test_ingresses_expose_the_browser_routes_only(gateway_config, assembled):
    paths = gateway_config["paths"]
    public = [paths["stream"], paths["poll"], paths["session"], paths["client"]]
    private = [paths["subscribe"], paths["health"], paths["ready"], paths["metrics"]]
    private += [paths["deliveryPrefix"] + topic for topic in gateway_config["topics"]]
    service = m.the(assembled, "Service", "sse-gateway")
    service_ports = {p["name"] for p in service["spec"]["ports"]} | {p["port"] for p in service["spec"]["ports"]}
    routes_by_file: dict[str, list] = {}
    for name, ingress in ingresses():
        routes_by_file.setdefault(name, []).extend(ingress_paths(ingress))
    for name, routes in routes_by_file.items():
        for path in public:
            assert covered(path, routes), f"{name} does not route {path}"
        for path in private:
            assert not covered(path, routes), f"{name} exposes {path}"
    for name, ingress in ingresses():
        for rule in ingress["spec"]["rules"]:
            for entry in rule["http"]["paths"]:
                backend = entry["backend"]["service"]
                assert backend["name"] == service["metadata"]["name"], name
                port = backend["port"].get("name", backend["port"].get("number"))
                assert port in service_ports, f"{name}: backend port {port} is not a Service port"


def test_nginx_ingress_streams_without_buffering_or_timeouts(gateway_config):
    notes = m.the(m.load_documents(m.K8S / "ingress.yaml"), "Ingress")["metadata"]["annotations"]
    prefix = "nginx.ingress.kubernetes.io/"
    assert notes[prefix + "proxy-buffering"] == "off"
    heartbeat = gateway_config["heartbeatSeconds"]
    for key in ("proxy-read-timeout", "proxy-send-timeout"):
        assert int(notes[prefix + key]) > 2 * heartbeat, f"{key} must be far above the {heartbeat}s heartbeat"


def test_kong_ingress_streams_without_buffering_or_timeouts(gateway_config):
    document = m.the(m.load_documents(m.K8S / "ingress-kong.yaml"), "Ingress", "sse-gateway-kong")
    notes = document["metadata"]["annotations"]
    assert notes["konghq.com/response-buffering"] == "false"
    assert notes["konghq.com/strip-path"] == "false"
    text = (m.K8S / "ingress-kong.yaml").read_text()
    heartbeat_ms = gateway_config["heartbeatSeconds"] * 1000
    for key in ("read-timeout", "write-timeout"):
        match = re.search(rf"konghq\.com/{key}=(\d+)", text)
        assert match, f"ingress-kong.yaml does not say how to set konghq.com/{key} on the Service"
        assert int(match.group(1)) > 2 * heartbeat_ms, key


# Fields of Kong's KongPlugin (configuration.konghq.com/v1) and of its jwt plugin's config.
KONG_PLUGIN_KEYS = {
    "apiVersion", "kind", "metadata", "plugin", "config", "configFrom", "disabled", "protocols",
    "ordering", "consumerRef", "instance_name", "run_on",
}
KONG_JWT_CONFIG_KEYS = {
    "uri_param_names", "cookie_names", "header_names", "key_claim_name", "secret_is_base64",
    "claims_to_verify", "anonymous", "run_on_preflight", "maximum_expiration", "realm",
}


def test_kong_jwt_plugin_reads_the_session_cookie_never_the_query_and_skips_preflights(gateway_config):
    documents = m.load_documents(m.K8S / "ingress-kong.yaml")
    plugin = m.the(documents, "KongPlugin")
    assert plugin["apiVersion"] == "configuration.konghq.com/v1"
    assert set(plugin) <= KONG_PLUGIN_KEYS, f"unknown KongPlugin fields {set(plugin) - KONG_PLUGIN_KEYS}"
    assert plugin["plugin"] == "jwt"
    config = plugin["config"]
    assert set(config) <= KONG_JWT_CONFIG_KEYS, f"unknown jwt plugin fields {set(config) - KONG_JWT_CONFIG_KEYS}"
    assert config["cookie_names"] == [gateway_config["jwt"]["sessionCookie"]]
    assert config["uri_param_names"] == []
    assert config["run_on_preflight"] is False
    assert "exp" in config.get("claims_to_verify", [])
    for ingress in m.find(documents, "Ingress"):
        attached = ingress["metadata"]["annotations"].get("konghq.com/plugins", "").split(",")
        routes = ingress_paths(ingress)
        if covered(gateway_config["paths"]["stream"], routes):
            assert plugin["metadata"]["name"] in [name.strip() for name in attached], "the /events Ingress lacks it"
        if covered(gateway_config["paths"]["client"], routes):
            # The module is public: a page imports it without credentials.
            assert plugin["metadata"]["name"] not in [name.strip() for name in attached], "it applies to /client"


def test_ingresses_leave_cors_to_the_gateway():
    """Two Access-Control-Allow-Origin headers (the proxy's and the gateway's) break CORS."""
    nginx = m.the(m.load_documents(m.K8S / "ingress.yaml"), "Ingress")["metadata"]["annotations"]
    assert nginx.get("nginx.ingress.kubernetes.io/enable-cors", "false") == "false"
    for document in m.load_documents(m.K8S / "ingress-kong.yaml"):
        assert document.get("plugin") != "cors", "Kong's cors plugin would answer CORS a second time"


def test_the_configured_cors_origins_reach_the_gateway(assembled, gateway_config):
    data = m.the(assembled, "ConfigMap", "sse-gateway-env")["data"]
    if "GATEWAY_CORS_ORIGINS" in data:
        configured = [origin.strip() for origin in data["GATEWAY_CORS_ORIGINS"].split(",") if origin.strip()]
        assert gateway_config["corsOrigins"] == configured
        assert "*" not in data["GATEWAY_CORS_ORIGINS"]


# --------------------------------------------------------------------------- config file


def test_config_file_points_at_the_mounted_scope_rules(container, deployment, assembled):
    (variable,) = [e for e in container["env"] if e["name"] == "GATEWAY_CONFIG_FILE"]
    path = variable["value"]
    volumes = {v["name"]: v for v in m.pod_spec(deployment)["volumes"]}
    for mount in container["volumeMounts"]:
        prefix = mount["mountPath"].rstrip("/") + "/"
        if path.startswith(prefix) and "configMap" in volumes[mount["name"]]:
            assert mount.get("readOnly") is True
            config_map = m.the(assembled, "ConfigMap", volumes[mount["name"]]["configMap"]["name"])
            assert "gateway.yaml" in config_map["data"]
            assert path.endswith("/gateway.yaml")
            return
    raise AssertionError(f"GATEWAY_CONFIG_FILE={path} is not inside a ConfigMap volume mount")


def test_the_binary_accepts_the_deployment_environment(gateway_config, gateway_environment):
    """`config --json` ran with the ConfigMap's scope rules file and env (the fixture)."""
    assert "GATEWAY_CONFIG_FILE" in gateway_environment
    assert gateway_config["port"] > 0


def test_contract_values_are_left_to_the_binarys_defaults(assembled):
    """Pinning one of these in the ConfigMap would hide a changed default from these tests."""
    data = m.the(assembled, "ConfigMap", "sse-gateway-env")["data"]
    for key in (
        "GATEWAY_PORT",
        "GATEWAY_PUBSUB_NAME",
        "GATEWAY_TOPICS",
        "GATEWAY_DRAIN_SECONDS",
        "GATEWAY_RECONNECT_JITTER_SECONDS",
        "GATEWAY_HEARTBEAT_SECONDS",
    ):
        assert key not in data, f"{key} is pinned in the ConfigMap; see the comment at the top of k8s/configmap.yaml"


# --------------------------------------------------------------------------- values the binary reports


def test_the_binary_applies_the_scope_rules_file(assembled, gateway_config):
    """The ConfigMap's gateway.yaml is read, with the meaning it is written with."""
    if "topicRules" not in gateway_config:
        return  # an older binary that does not report its rules
    document = m.load_text(m.the(assembled, "ConfigMap", "sse-gateway-config")["data"]["gateway.yaml"], "gateway.yaml")
    (rules,) = document
    reported = {rule["topic"]: rule for rule in gateway_config["topicRules"]}
    for topic, rule in rules["topicRules"].items():
        assert topic in reported, f"gateway.yaml has rules for {topic}, which the gateway does not carry"
        if "scope" in rule:
            assert [s["field"] for s in reported[topic]["scope"]] == rule["scope"], topic
            for scope in reported[topic]["scope"]:
                assert scope["grantedBy"] == rule.get("grantedBy", {}).get(scope["field"], []), topic
        if "seeAllRoles" in rule:
            assert reported[topic]["seeAllRoles"] == rule["seeAllRoles"], topic
        if "audienceField" in rule:
            assert reported[topic]["audienceField"] == rule["audienceField"], topic


def test_the_binary_applies_the_configmap_environment(assembled, gateway_config):
    data = m.the(assembled, "ConfigMap", "sse-gateway-env")["data"]
    expected = {"GATEWAY_REPLAY_EVENTS": "replayEvents", "GATEWAY_MAX_CONNECTIONS": "maxConnections"}
    for variable, key in expected.items():
        if variable in data and key in gateway_config:
            assert str(gateway_config[key]) == data[variable], f"{variable} did not reach the gateway ({key})"
    jwt = gateway_config.get("jwt") or {}
    if "GATEWAY_JWT_ISSUER" in data and "issuer" in jwt:
        assert jwt["issuer"] == data["GATEWAY_JWT_ISSUER"]


def test_streams_retain_at_least_the_replay_log(gateway_config):
    """A new pod reads what the streams retain: per topic, at least a full replay log."""
    if "replayEvents" not in gateway_config:
        return
    items = m.component_metadata(m.the(m.load_documents(m.COMPONENTS / "pubsub.yaml"), "Component"))
    assert int(items["maxLenApprox"]["value"]) >= int(gateway_config["replayEvents"])
