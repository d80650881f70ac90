"""Workload hygiene of the kustomize base: replicas, disruption, scheduling, security,
network access, configuration sources."""

from __future__ import annotations

import manifests as m


def pod_labels(deployment: dict) -> dict:
    return deployment["spec"]["template"]["metadata"]["labels"]


def test_deployment_runs_at_least_two_replicas_and_rolls_without_losing_capacity(deployment):
    assert deployment["spec"]["replicas"] >= 2
    assert m.selector_matches(deployment["spec"]["selector"], pod_labels(deployment))
    rolling = deployment["spec"]["strategy"]["rollingUpdate"]
    assert rolling["maxUnavailable"] in (0, "0", "0%")


def test_autoscaler_scales_the_deployment_and_never_below_two(assembled, deployment):
    hpa = m.the(assembled, "HorizontalPodAutoscaler", "sse-gateway")
    assert hpa["apiVersion"] == "autoscaling/v2"
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["apiVersion"], target["kind"], target["name"]) == ("apps/v1", "Deployment", "sse-gateway")
    assert hpa["spec"]["minReplicas"] >= 2
    assert hpa["spec"]["maxReplicas"] >= hpa["spec"]["minReplicas"]
    container_names = {c["name"] for c in m.pod_spec(deployment)["containers"]}
    for metric in hpa["spec"]["metrics"]:
        if metric["type"] == "ContainerResource":
            assert metric["containerResource"]["container"] in container_names


def test_disruption_budget_covers_the_pods(assembled, deployment):
    pdb = m.the(assembled, "PodDisruptionBudget", "sse-gateway")
    assert m.selector_matches(pdb["spec"]["selector"], pod_labels(deployment))
    assert "maxUnavailable" in pdb["spec"] or "minAvailable" in pdb["spec"]


def test_pods_spread_over_nodes_and_zones(deployment):
    spec = m.pod_spec(deployment)
    anti = spec["affinity"]["podAntiAffinity"]
    terms = anti.get("preferredDuringSchedulingIgnoredDuringExecution", []) + [
        {"podAffinityTerm": t} for t in anti.get("requiredDuringSchedulingIgnoredDuringExecution", [])
    ]
    assert any(
        t["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
        and m.selector_matches(t["podAffinityTerm"]["labelSelector"], pod_labels(deployment))
        for t in terms
    )
    spreads = spec["topologySpreadConstraints"]
    assert any(
        s["topologyKey"] == "topology.kubernetes.io/zone" and m.selector_matches(s["labelSelector"], pod_labels(deployment))
        for s in spreads
    )


def dockerfile_user() -> tuple[int, int]:
    (user,) = [a for k, a in m.dockerfile_instructions() if k == "USER"]
    uid, _, gid = user.partition(":")
    return int(uid), int(gid or uid)


def test_pod_runs_as_the_images_non_root_user(deployment, container):
    pod = m.pod_spec(deployment)["securityContext"]
    uid, gid = dockerfile_user()
    assert uid != 0
    assert pod["runAsNonRoot"] is True
    assert (pod["runAsUser"], pod["runAsGroup"]) == (uid, gid), "k8s/deployment.yaml and the Dockerfile's USER differ"
    assert pod["seccompProfile"]["type"] == "RuntimeDefault"


def test_container_is_locked_down(container):
    context = container["securityContext"]
    assert context["allowPrivilegeEscalation"] is False
    assert context["readOnlyRootFilesystem"] is True
    assert context["capabilities"]["drop"] == ["ALL"]
    assert "add" not in context["capabilities"]
    assert context.get("privileged") in (None, False)


def test_container_has_requests_and_limits(container):
    resources = container["resources"]
    for section in ("requests", "limits"):
        for resource in ("cpu", "memory"):
            assert m.is_quantity(str(resources[section][resource])), f"{section}.{resource}"


def test_container_runs_the_serve_subcommand(container):
    assert container.get("args") == ["serve"]
    assert "command" not in container, "keep the image's ENTRYPOINT"


def test_prestop_sleeps_so_the_endpoint_is_gone_before_the_drain(container):
    # Endpoint removal after a pod deletion is asynchronous. A stream request that still
    # reaches a draining gateway gets 503, and EventSource gives up for good on any non-200
    # answer; so the pod keeps serving, unchanged, until the Service and the ingress
    # stopped sending it new connections, and only then gets SIGTERM.
    pre_stop = (container.get("lifecycle") or {}).get("preStop") or {}
    assert set(pre_stop) == {"sleep"}, "the kubelet's own sleep: the image needs no shell or sleep binary"
    seconds = pre_stop["sleep"]["seconds"]
    assert 3 <= seconds <= 15, f"preStop sleep {seconds}s: long enough for endpoint propagation, short for rollouts"


def test_a_new_pod_stays_ready_a_while_before_an_old_one_goes(deployment, container):
    # Ready means caught up with the broker's backlog; minReadySeconds adds the time the
    # endpoints need to carry the new pod before the rollout terminates an old one.
    minimum = deployment["spec"].get("minReadySeconds", 0)
    probe = container["readinessProbe"]
    assert minimum >= 2 * probe.get("periodSeconds", 10), "minReadySeconds must span a few readiness probes"


def test_environment_comes_from_the_configmap_and_secrets(container, assembled, secret_examples):
    config_maps = {o["metadata"]["name"] for o in m.find(assembled, "ConfigMap")}
    secrets = {o["metadata"]["name"]: o for o in m.find(secret_examples, "Secret")}
    sources = container["envFrom"]
    assert any("configMapRef" in s for s in sources) and any("secretRef" in s for s in sources)
    for source in sources:
        if "configMapRef" in source:
            assert source["configMapRef"]["name"] in config_maps
        if "secretRef" in source:
            assert source["secretRef"]["name"] in secrets, "the Secret example must show every Secret used"
    for variable in container.get("env", []):
        reference = (variable.get("valueFrom") or {}).get("secretKeyRef")
        if reference:
            assert reference["key"] in secrets[reference["name"]]["stringData"], variable["name"]


def test_secret_example_holds_placeholders_only(secret_examples):
    for secret in m.find(secret_examples, "Secret"):
        assert "data" not in secret, "use stringData with visible placeholders"
        for key, value in secret["stringData"].items():
            assert "example" in value or "REPLACE" in value, f"{secret['metadata']['name']}.{key} looks like a real value"


def test_network_policy_admits_ingress_controller_and_monitoring_to_the_port_only(assembled, deployment, container):
    policy = m.the(assembled, "NetworkPolicy", "sse-gateway")
    assert m.selector_matches(policy["spec"]["podSelector"], pod_labels(deployment))
    assert "Ingress" in policy["spec"]["policyTypes"]
    gateway_port = m.resolve_container_port(container, "http")
    sources = set()
    for rule in policy["spec"]["ingress"]:
        ports = [m.resolve_container_port(container, p["port"]) if p["port"] == "http" else p["port"] for p in rule["ports"]]
        assert gateway_port in ports, "every rule names the gateway port explicitly"
        for peer in rule["from"]:
            assert set(peer) == {"namespaceSelector"}, "admit whole namespaces, never ipBlock 0.0.0.0/0"
            sources.add(peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"])
    assert {"ingress-nginx", "monitoring"} <= sources


def test_service_account_is_used(assembled, deployment):
    account = m.the(assembled, "ServiceAccount", "sse-gateway")
    assert m.pod_spec(deployment)["serviceAccountName"] == account["metadata"]["name"]
