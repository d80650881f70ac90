"""Fixtures for the deployment tests (checks/deploy).

Run from the repository root:

    SSE_GATEWAY_BIN=.build/debug/sse-gateway python3 -m pytest -q checks/deploy

SSE_GATEWAY_BIN is required: the contract tests run `$SSE_GATEWAY_BIN config --json` with
the environment the manifests give the container, and compare the manifests with the
settings the binary really uses. Without it those tests fail (they do not skip).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import manifests as m  # noqa: E402

REQUIRED_CONFIG_KEYS = (
    "port",
    "pubsubName",
    "topics",
    "heartbeatSeconds",
    "drainSeconds",
    "reconnectJitterSeconds",
)
REQUIRED_PATH_KEYS = ("subscribe", "deliveryPrefix", "stream", "poll", "session", "health", "ready", "metrics")


@pytest.fixture(scope="session")
def assembled() -> list[dict]:
    """The objects `kubectl kustomize k8s/` produces (or the Python fallback without kubectl)."""
    objects, _ = m.assembled_objects()
    return objects


@pytest.fixture(scope="session")
def secret_examples() -> list[dict]:
    return m.load_documents(m.K8S / "secret.example.yaml")


@pytest.fixture(scope="session")
def deployment(assembled) -> dict:
    return m.the(assembled, "Deployment", "sse-gateway")


@pytest.fixture(scope="session")
def container(deployment) -> dict:
    return m.gateway_container(deployment)


def gateway_binary() -> Path:
    value = os.environ.get("SSE_GATEWAY_BIN", "").strip()
    if not value:
        pytest.fail(
            "SSE_GATEWAY_BIN is not set. These tests compare the manifests with the binary's real "
            "settings: build the gateway and run e.g. "
            "`SSE_GATEWAY_BIN=.build/debug/sse-gateway python3 -m pytest -q checks/deploy`.",
            pytrace=False,
        )
    path = Path(value)
    if not path.is_absolute() and not path.exists():
        path = m.REPO / value
    if not path.is_file() or not os.access(path, os.X_OK):
        pytest.fail(f"SSE_GATEWAY_BIN={value!r} is not an executable file", pytrace=False)
    return path


def container_environment(deployment: dict, assembled: list[dict], secrets: list[dict], files_root: Path) -> dict:
    """The environment the manifests give the gateway container, as far as it is static.

    ConfigMap and Secret values come from the assembled objects and from
    k8s/secret.example.yaml (placeholders). A file path (GATEWAY_CONFIG_FILE) that points
    into a ConfigMap volume is materialized under files_root and the variable points there.
    """
    container = m.gateway_container(deployment)
    config_maps = {o["metadata"]["name"]: o for o in m.find(assembled, "ConfigMap")}
    secret_objects = {o["metadata"]["name"]: o for o in m.find(secrets, "Secret")}

    def secret_data(name: str) -> dict:
        if name not in secret_objects:
            pytest.fail(f"Secret {name} is used by the Deployment but not in k8s/secret.example.yaml")
        return dict(secret_objects[name].get("stringData") or {})

    environment: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            name = source["configMapRef"]["name"]
            if name not in config_maps:
                pytest.fail(f"envFrom ConfigMap {name} is not in the kustomize output")
            environment.update({k: str(v) for k, v in (config_maps[name].get("data") or {}).items()})
        elif "secretRef" in source:
            environment.update({k: str(v) for k, v in secret_data(source["secretRef"]["name"]).items()})
    for variable in container.get("env", []):
        if "value" in variable:
            environment[variable["name"]] = str(variable["value"])
            continue
        source = variable.get("valueFrom", {})
        if "secretKeyRef" in source:
            reference = source["secretKeyRef"]
            data = secret_data(reference["name"])
            if reference["key"] not in data:
                pytest.fail(f"Secret {reference['name']} in k8s/secret.example.yaml has no key {reference['key']}")
            environment[variable["name"]] = str(data[reference["key"]])
        elif "configMapKeyRef" in source:
            reference = source["configMapKeyRef"]
            environment[variable["name"]] = str(config_maps[reference["name"]]["data"][reference["key"]])

    # Files mounted from ConfigMaps, for variables that hold a path into such a mount.
    volumes = {v["name"]: v for v in m.pod_spec(deployment).get("volumes", [])}
    for name, value in list(environment.items()):
        for mount in container.get("volumeMounts", []):
            prefix = mount["mountPath"].rstrip("/") + "/"
            if not value.startswith(prefix):
                continue
            volume = volumes[mount["name"]]
            if "configMap" not in volume:
                continue
            relative = value[len(prefix) :]
            items = volume["configMap"].get("items")
            key = relative
            if items is not None:
                matching = [i["key"] for i in items if i["path"] == relative]
                if not matching:
                    pytest.fail(f"{name}={value}: no item of ConfigMap volume {mount['name']} has path {relative}")
                key = matching[0]
            data = config_maps[volume["configMap"]["name"]].get("data") or {}
            if key not in data:
                pytest.fail(f"{name}={value}: ConfigMap {volume['configMap']['name']} has no key {key}")
            target = files_root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(data[key])
            environment[name] = str(target)
    return environment


@pytest.fixture(scope="session")
def gateway_environment(deployment, assembled, secret_examples, tmp_path_factory) -> dict:
    return container_environment(deployment, assembled, secret_examples, tmp_path_factory.mktemp("configmap-files"))


@pytest.fixture(scope="session")
def gateway_config(gateway_environment) -> dict:
    """`$SSE_GATEWAY_BIN config --json`, run with the container's environment from the manifests."""
    binary = gateway_binary()
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        **gateway_environment,
    }
    arguments = [str(binary), "config", "--json"]
    try:
        result = subprocess.run(arguments, capture_output=True, text=True, env=environment, timeout=60, check=False)
    except OSError as error:
        pytest.fail(f"could not run {' '.join(arguments)}: {error}", pytrace=False)
    if result.returncode != 0:
        pytest.fail(
            f"`{' '.join(arguments)}` exited with {result.returncode} under the Deployment's environment "
            f"({', '.join(sorted(gateway_environment))}):\n{result.stderr.strip()}",
            pytrace=False,
        )
    text = result.stdout.strip()
    try:
        config = json.loads(text)
    except json.JSONDecodeError:
        start, end = text.find("{"), text.rfind("}")
        try:
            config = json.loads(text[start : end + 1])
        except (json.JSONDecodeError, ValueError):
            pytest.fail(f"`{' '.join(arguments)}` did not print a JSON object:\n{text[:2000]}", pytrace=False)
    missing = [k for k in REQUIRED_CONFIG_KEYS if k not in config]
    missing += [f"paths.{k}" for k in REQUIRED_PATH_KEYS if k not in (config.get("paths") or {})]
    if missing:
        pytest.fail(f"`config --json` lacks the keys these tests rely on: {', '.join(missing)}", pytrace=False)
    if not isinstance(config["topics"], list) or not config["topics"]:
        pytest.fail("`config --json` has no topics", pytrace=False)
    return config
