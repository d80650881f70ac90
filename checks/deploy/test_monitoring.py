"""The monitoring kit (k8s/monitoring/) against a live gateway and Prometheus' own tools.

- `promtool check metrics` passes on a live GET /metrics (HELP and TYPE on every family,
  naming conventions);
- the PrometheusRule's groups pass `promtool check rules`, and the alert cases in
  alert_rules.test.yaml pass `promtool test rules`;
- every metric the rules and the Grafana dashboard query is one the live gateway exports
  (Prometheus' own `up` aside), and every dashboard query parses;
- the PodMonitor and PrometheusRule have the shapes their CRDs define. No Kubernetes
  schema package carries the Prometheus Operator's CRDs; schemas/monitoring.coreos.com-v1.json
  holds their OpenAPI schemas as the pydantic models of `cloudcoil-models-prometheus-operator`
  0.80.1.0 (generated from the operator's v0.80.1 CRDs) export them:
      python3 -m venv /tmp/cc && /tmp/cc/bin/pip install cloudcoil-models-prometheus-operator==0.80.1.0
      /tmp/cc/bin/python -c 'from cloudcoil.models.prometheus_operator import v1; import json; print(json.dumps({"schemas": {k: getattr(v1, k).model_json_schema(by_alias=True) for k in ("PodMonitor", "PrometheusRule")}}))'
  (the package is not installed by the tests: it registers a pytest plugin). They are made
  strict here (no unknown field), so a misspelt key fails. Dapr publishes no CRD schema
  package; test_dapr_resources.py checks the Configuration's fields by hand.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
import yaml

import manifests as m
from conftest import gateway_binary
from live_gateway import exercised_metrics

MONITORING = m.K8S / "monitoring"
DASHBOARD = MONITORING / "dashboard.json"
RULES_TEST = m.REPO / "checks" / "deploy" / "alert_rules.test.yaml"
CRD_SCHEMAS = m.REPO / "checks" / "deploy" / "schemas" / "monitoring.coreos.com-v1.json"
# Series Prometheus writes itself for every target; no exporter serves them.
PROMETHEUS_SERIES = {"up"}
PROMQL_WORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
    "bool", "offset", "inf", "nan",
}  # fmt: skip
# Old names the docs mention only to say what replaced them.
RENAMED = {"sse_gateway_seconds_since_last_dapr_delivery"}
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$namespace": "sse", "$pod": ".*"}


def promtool() -> str:
    tool = shutil.which("promtool")
    if tool is None:  # a required test dependency (Debian's prometheus package): fail, do not skip
        pytest.fail("promtool is not installed: apt-get install prometheus", pytrace=False)
    return tool


@pytest.fixture(scope="module")
def scrape() -> str:
    return exercised_metrics(gateway_binary())


@pytest.fixture(scope="module")
def exported(scrape) -> set[str]:
    """Names of every sample the gateway exported (with _bucket/_sum/_count)."""
    return {re.split(r"[{ ]", line, maxsplit=1)[0] for line in scrape.splitlines() if line and not line.startswith("#")}


def prometheus_rule() -> dict:
    return m.the(m.load_documents(MONITORING / "prometheusrule.yaml"), "PrometheusRule")


def pod_monitor() -> dict:
    return m.the(m.load_documents(MONITORING / "podmonitor.yaml"), "PodMonitor")


def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def dashboard_queries() -> list[tuple[str, str]]:
    queries = []
    for panel in dashboard()["panels"]:
        for target in panel.get("targets", []):
            queries.append((panel["title"], target["expr"]))
    for variable in dashboard()["templating"]["list"]:
        if variable["type"] == "query":
            inner = re.fullmatch(r"label_values\((.*),\s*\w+\)", variable["definition"])
            assert inner, f"variable {variable['name']}: {variable['definition']}"
            queries.append((f"variable {variable['name']}", inner.group(1)))
    return queries


def with_grafana_variables(expr: str) -> str:
    for name, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(name, value)
    assert "$" not in expr, f"an unknown Grafana variable in {expr}"
    return expr


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (its identifiers that are no function,
    keyword, label or grouping)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # strings
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # ranges
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        word = match.group(0)
        following = text[match.end() :].lstrip()
        if word.lower() in PROMQL_WORDS or following.startswith("("):
            continue
        if re.fullmatch(r"\d+[smhdwy]", word):
            continue
        names.add(word)
    return names


def run(arguments: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(arguments, input=stdin, capture_output=True, text=True, timeout=120, check=False)


# --------------------------------------------------------------------------- /metrics


def test_live_metrics_pass_promtool_check_metrics(scrape):
    result = run([promtool(), "check", "metrics"], stdin=scrape)
    assert result.returncode == 0 and not result.stdout.strip() and not result.stderr.strip(), (
        f"promtool check metrics (exit {result.returncode}):\n{result.stdout}{result.stderr}"
    )


def test_live_metrics_carry_the_build_and_process_figures(scrape, exported):
    assert re.search(r'^sse_gateway_build_info\{version="[^"]+",swift_version="[^"]+"\} 1(\.0)?$', scrape, re.M)
    for name in (
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_virtual_memory_bytes",
        "process_open_fds",
        "process_max_fds",
        "process_start_time_seconds",
        "sse_gateway_last_dapr_delivery_timestamp_seconds",
        "sse_gateway_connections_limit",
    ):
        assert name in exported, name
    # One spelling for every reply label value.
    replies = set(re.findall(r'reply="([^"]+)"', scrape))
    assert replies == {"success", "duplicate", "drop", "retry"}


def test_documented_metric_names_are_exported(exported):
    """README, docs and the HPA example name only metrics that exist."""
    for path in (m.REPO / "README.md", m.REPO / "docs" / "observability.md", m.K8S / "hpa.yaml"):
        for name in set(re.findall(r"\b(?:sse_gateway|process)_[a-z_]+[a-z]", path.read_text())) - RENAMED:
            histogram = {name + suffix for suffix in ("_bucket", "_sum", "_count")}
            assert name in exported or histogram & exported, f"{path.name} names {name}, which /metrics lacks"


# --------------------------------------------------------------------------- rules


@pytest.fixture(scope="module")
def rule_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("rules") / "sse-gateway.rules.yaml"
    path.write_text(yaml.safe_dump({"groups": prometheus_rule()["spec"]["groups"]}))
    return path


def test_prometheus_rules_pass_promtool_check_rules(rule_file):
    result = run([promtool(), "check", "rules", str(rule_file)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_alerts_fire_on_the_cases_they_are_for(rule_file, tmp_path):
    cases = yaml.safe_load(RULES_TEST.read_text())
    cases["rule_files"] = [str(rule_file)]
    path = tmp_path / "alert_rules.test.yaml"
    path.write_text(yaml.safe_dump(cases))
    result = run([promtool(), "test", "rules", str(path)])
    assert result.returncode == 0, result.stdout + result.stderr
    tested = {case["alertname"] for test in cases["tests"] for case in test["alert_rule_test"]}
    assert {"SSEGatewayNoDaprDeliveries", "SSEGatewayConnectionsNearLimit", "SSEGatewaySlowDelivery"} <= tested


def test_the_documented_alerts_exist():
    alerts = {rule["alert"] for group in prometheus_rule()["spec"]["groups"] for rule in group["rules"]}
    for name in (
        "SSEGatewayNoDaprDeliveries",
        "SSEGatewaySlowConsumerEvictions",
        "SSEGatewayAuthFailureSpike",
        "SSEGatewaySlowDelivery",
        "SSEGatewayConnectionsNearLimit",
    ):
        assert name in alerts
    text = (m.REPO / "docs" / "observability.md").read_text()
    for name in alerts:
        assert name in text, f"docs/observability.md does not describe {name}"


def test_rules_query_only_exported_metrics(exported):
    for group in prometheus_rule()["spec"]["groups"]:
        for rule in group["rules"]:
            names = metric_names(rule["expr"])
            assert names, rule["alert"]
            missing = names - exported - PROMETHEUS_SERIES
            assert not missing, f"{rule['alert']} queries {sorted(missing)}, which /metrics lacks"
            for required in ("severity",):
                assert required in rule.get("labels", {}), rule["alert"]
            assert {"summary", "description"} <= set(rule.get("annotations", {})), rule["alert"]


# --------------------------------------------------------------------------- dashboard


def test_dashboard_queries_only_exported_metrics(exported):
    for title, expr in dashboard_queries():
        names = metric_names(with_grafana_variables(expr))
        assert names, f"{title}: no metric in {expr}"
        missing = names - exported
        assert not missing, f"dashboard panel {title!r} queries {sorted(missing)}, which /metrics lacks"


def test_dashboard_queries_parse(tmp_path):
    """promtool parses each query (as a recording rule): a typo fails here, not in Grafana."""
    rules = [
        {"record": f"dashboard:query_{index}", "expr": with_grafana_variables(expr)}
        for index, (_, expr) in enumerate(dashboard_queries())
    ]
    path = tmp_path / "dashboard.rules.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = run([promtool(), "check", "rules", str(path)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_dashboard_shows_what_an_operator_looks_for():
    board = dashboard()
    assert board["uid"] == "sse-gateway" and board["title"]
    panels = [p for p in board["panels"] if p["type"] != "row"]
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in panels:
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert 'namespace="$namespace"' in target["expr"], f"{panel['title']}: not scoped to $namespace"
    everything = " ".join(t["expr"] for p in panels for t in p["targets"])
    for metric in (
        "sse_gateway_connections_active",
        "sse_gateway_deliveries_total",
        "sse_gateway_ingest_to_flush_seconds_bucket",
        "sse_gateway_events_received_total",
        "sse_gateway_connections_closed_total",
        "sse_gateway_auth_failures_total",
        "sse_gateway_replay_requests_total",
        "process_resident_memory_bytes",
    ):
        assert metric in everything, f"no panel shows {metric}"
    assert any(p["type"] == "heatmap" and "_bucket" in p["targets"][0]["expr"] for p in panels)
    assert any("by (reply)" in t["expr"] for p in panels for t in p["targets"]), "Dapr replies by status"
    assert any("by (reason)" in t["expr"] and "closed_total" in t["expr"] for p in panels for t in p["targets"])


# --------------------------------------------------------------------------- scrape targets


def test_pod_monitor_scrapes_the_gateway_and_its_sidecar(deployment, container, gateway_config):
    spec = pod_monitor()["spec"]
    assert m.selector_matches(spec["selector"], deployment["spec"]["template"]["metadata"]["labels"])
    endpoints = {e["port"]: e for e in spec["podMetricsEndpoints"]}
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert "http" in endpoints and ports["http"] == gateway_config["port"]
    assert endpoints["http"]["path"] == gateway_config["paths"]["metrics"]
    # The port name the Dapr sidecar injector gives daprd's metrics port.
    assert "dapr-metrics" in endpoints
    notes = deployment["spec"]["template"]["metadata"]["annotations"]
    assert notes.get("dapr.io/enable-metrics", "true") == "true"
    for endpoint in endpoints.values():
        assert m.go_duration_seconds(endpoint["scrapeTimeout"]) < m.go_duration_seconds(endpoint["interval"])


def test_monitoring_objects_carry_no_namespace():
    for path in (MONITORING / "podmonitor.yaml", MONITORING / "prometheusrule.yaml"):
        for document in m.load_documents(path):
            assert "namespace" not in document["metadata"], path.name


def strict(schema: dict) -> dict:
    """The schema with additionalProperties false wherever an object lists its properties."""
    if isinstance(schema, dict):
        if "properties" in schema and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
        for value in schema.values():
            strict(value)
    elif isinstance(schema, list):
        for value in schema:
            strict(value)
    return schema


@pytest.mark.parametrize("kind", ["PodMonitor", "PrometheusRule"])
def test_prometheus_operator_objects_match_their_crd_schema(kind):
    try:
        import jsonschema  # comes with kubernetes-validate
    except ImportError:  # a required test dependency: fail, do not skip
        pytest.fail("pip install jsonschema", pytrace=False)
    schema = strict(json.loads(CRD_SCHEMAS.read_text())["schemas"][kind])
    path = MONITORING / ("podmonitor.yaml" if kind == "PodMonitor" else "prometheusrule.yaml")
    document = m.the(m.load_documents(path), kind)
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors[:10])


def test_the_crd_schemas_catch_a_misspelt_field():
    import jsonschema

    schema = strict(json.loads(CRD_SCHEMAS.read_text())["schemas"]["PodMonitor"])
    document = json.loads(json.dumps(pod_monitor()))
    document["spec"]["podMetricsEndpoints"][0]["scrapeIntervall"] = "15s"
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(document))


def test_kustomize_assembles_the_monitoring_kit():
    kustomization = m.load_documents(MONITORING / "kustomization.yaml")[0]
    assert sorted(kustomization["resources"]) == ["podmonitor.yaml", "prometheusrule.yaml"]
    (generator,) = kustomization["configMapGenerator"]
    assert generator["options"]["labels"] == {"grafana_dashboard": "1"}
    source = generator["files"][0].split("=", 1)[-1]
    assert (MONITORING / source).resolve() == DASHBOARD.resolve()
    if m.kubectl() is None:
        return  # the checks above cover what kustomize would read
    objects = m.kustomize_with_kubectl(MONITORING)
    kinds = sorted(o["kind"] for o in objects)
    assert kinds == ["ConfigMap", "PodMonitor", "PrometheusRule"]
    (config_map,) = m.find(objects, "ConfigMap")
    assert json.loads(config_map["data"]["sse-gateway.json"]) == dashboard()
