"""The Docker Compose quickstart (compose.yaml): valid for `docker-compose config`, and
wired like the Kubernetes pod (daprd beside the gateway, components/local, health on
/healthz, the gateway's port and the app token on both sides).

No Docker engine runs here, so this checks the file, not the containers.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

import manifests as m

COMPOSE = m.REPO / "compose.yaml"


@pytest.fixture(scope="module")
def resolved() -> dict:
    """The file as docker-compose resolves it (anchors, defaults, relative paths)."""
    tool = shutil.which("docker-compose")
    if tool is None:  # a required test dependency (Debian's docker-compose): fail, do not skip
        pytest.fail("docker-compose is not installed: apt-get install docker-compose", pytrace=False)
    result = subprocess.run(
        [tool, "--project-directory", str(m.REPO), "-f", str(COMPOSE), "config"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp"},
    )
    assert result.returncode == 0, f"docker-compose config:\n{result.stderr}"
    return yaml.safe_load(result.stdout)


def flags(command: list[str]) -> dict[str, str]:
    pairs = {}
    for argument in command:
        if argument.startswith("--") and "=" in argument:
            name, value = argument[2:].split("=", 1)
            pairs[name] = value
    return pairs


def published_ports(service: dict) -> dict[int, int]:
    """Container port -> host port, from the short ("127.0.0.1:3000:3000/tcp") or long form."""
    ports = {}
    for entry in service.get("ports", []):
        if isinstance(entry, dict):
            ports[int(entry["target"])] = int(entry["published"])
        else:
            parts = str(entry).split("/", 1)[0].split(":")
            ports[int(parts[-1])] = int(parts[-2])
    return ports


def test_docker_compose_accepts_the_file(resolved):
    assert {"gateway", "daprd", "redis"} <= set(resolved["services"])


def test_gateway_is_built_from_the_dockerfile_and_listens_on_its_port(resolved, gateway_config):
    gateway = resolved["services"]["gateway"]
    assert gateway["build"]["context"] == str(m.REPO)
    assert gateway["build"].get("dockerfile", "Dockerfile") == "Dockerfile"
    environment = gateway["environment"]
    # In a container the gateway must listen on every interface to be reachable.
    assert environment["GATEWAY_HOST"] == "0.0.0.0"
    port = int(environment.get("GATEWAY_PORT", gateway_config["port"]))
    assert published_ports(gateway).get(port) == port
    assert len(environment["GATEWAY_JWT_HS256_SECRET"]) >= 32


def test_daprd_shares_the_gateways_network_and_uses_the_local_components(resolved, gateway_config):
    daprd = resolved["services"]["daprd"]
    assert daprd["network_mode"] == "service:gateway"
    assert resolved["services"]["redis"]["network_mode"] == "service:gateway"
    options = flags(daprd["command"])
    assert options["app-id"] == m.APP_ID
    assert int(options["app-port"]) == int(resolved["services"]["gateway"]["environment"]["GATEWAY_PORT"])
    assert options["app-protocol"] == "http"
    # Liveness, never readiness (dapr-contract.md "Health and tokens").
    assert options["app-health-check-path"] == gateway_config["paths"]["health"]
    # Short ("/src:/dst:ro") or long ({source, target}) form, whichever docker-compose prints.
    mounts = {}
    for volume in daprd["volumes"]:
        if isinstance(volume, dict):
            mounts[volume["target"]] = volume["source"]
        else:
            source, target = str(volume).split(":")[:2]
            mounts[target] = source
    assert mounts[options["resources-path"]] == str(m.COMPONENTS / "local")
    # daprd's HTTP port is published by the gateway service, whose network it uses.
    assert int(options["dapr-http-port"]) in published_ports(resolved["services"]["gateway"])
    assert daprd["depends_on"]["gateway"]["condition"] == "service_healthy"


def test_sidecar_and_gateway_share_the_app_token(resolved):
    services = resolved["services"]
    token = services["gateway"]["environment"]["APP_API_TOKEN"]
    assert token and services["daprd"]["environment"]["APP_API_TOKEN"] == token


def test_the_local_redis_is_where_the_local_component_looks():
    component = m.the(m.load_documents(m.COMPONENTS / "local" / "pubsub.yaml"), "Component")
    host = m.component_metadata(component)["redisHost"]["value"]
    # Redis shares the gateway's network namespace, so localhost works as in `dapr run`.
    assert host.startswith("localhost:")
    raw = yaml.safe_load(COMPOSE.read_text())
    assert raw["services"]["redis"]["image"].startswith("redis:")
