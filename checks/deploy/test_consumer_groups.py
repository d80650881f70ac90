"""The consumer-group cleanup (k8s/consumer-group-cleanup.yaml): its RBAC, its agreement
with the pub/sub component and the Deployment, and its script, run against a real
redis-server with the streams and groups a rollout leaves behind."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

import manifests as m

NAME = "sse-gateway-consumer-group-cleanup"


def cron_job(assembled: list[dict]) -> dict:
    return m.the(assembled, "CronJob", NAME)


def job_pod(assembled: list[dict]) -> dict:
    return cron_job(assembled)["spec"]["jobTemplate"]["spec"]["template"]


def container(pod: dict, name: str) -> dict:
    (found,) = [c for c in pod["spec"]["initContainers"] + pod["spec"]["containers"] if c["name"] == name]
    return found


def env(container: dict) -> dict:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


def test_the_job_may_only_list_pods(assembled):
    pod = job_pod(assembled)
    account = pod["spec"]["serviceAccountName"]
    binding = m.the(assembled, "RoleBinding", NAME)
    assert {"kind": "ServiceAccount", "name": account} in [
        {k: s[k] for k in ("kind", "name")} for s in binding["subjects"]
    ]
    assert binding["roleRef"]["kind"] == "Role", "a namespaced Role, never a ClusterRole"
    role = m.the(assembled, "Role", binding["roleRef"]["name"])
    assert role["rules"] == [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}]
    m.the(assembled, "ServiceAccount", account)


def test_the_job_is_bounded_and_never_overlaps(assembled):
    job = cron_job(assembled)
    assert job["spec"]["concurrencyPolicy"] == "Forbid"
    assert 0 < job["spec"]["jobTemplate"]["spec"]["activeDeadlineSeconds"] <= 900
    assert job["spec"]["jobTemplate"]["spec"]["ttlSecondsAfterFinished"] > 0


def test_the_job_pod_is_locked_down_and_outside_the_gateways_selectors(assembled, deployment):
    pod = job_pod(assembled)
    labels = pod["metadata"]["labels"]
    for kind in ("Service", "PodDisruptionBudget", "NetworkPolicy"):
        for document in m.find(assembled, kind):
            selector = document["spec"].get("selector") or document["spec"].get("podSelector")
            assert not m.selector_matches(selector, labels), f"{kind} {m.object_id(document)} selects the job's pod"
    assert not m.selector_matches(deployment["spec"]["selector"], labels)
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    for entry in pod["spec"]["initContainers"] + pod["spec"]["containers"]:
        context = entry["securityContext"]
        assert context["allowPrivilegeEscalation"] is False and context["readOnlyRootFilesystem"] is True
        assert context["capabilities"]["drop"] == ["ALL"]
        for section in ("requests", "limits"):
            assert m.is_quantity(str(entry["resources"][section]["memory"]))


def test_the_job_looks_at_the_gateways_pods_topics_and_redis(assembled, deployment, gateway_config):
    pod = job_pod(assembled)
    selector = env(container(pod, "list-pods"))["POD_SELECTOR"]
    key, value = selector.split("=")
    assert deployment["spec"]["template"]["metadata"]["labels"].get(key) == value
    prune = env(container(pod, "prune"))
    assert prune["TOPICS"].split() == gateway_config["topics"]
    # Deployment pods are named <deployment>-<template hash>-<suffix>; {podName} is the group.
    assert prune["GROUP_PREFIX"] == deployment["metadata"]["name"] + "-"
    component = m.component_metadata(m.the(m.load_documents(m.COMPONENTS / "pubsub.yaml"), "Component"))
    assert prune["REDIS_HOST"] == component["redisHost"]["value"]
    assert prune["REDISCLI_AUTH"] == {"secretKeyRef": component["redisPassword"]["secretKeyRef"]}
    assert int(prune["IDLE_SECONDS"]) >= 600


# --------------------------------------------------------------------------- the script, for real


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def redis(tmp_path):
    """A throw-away redis-server with a password, on a free port."""
    server = shutil.which("redis-server")
    if server is None or shutil.which("redis-cli") is None:
        pytest.fail("redis-server and redis-cli are needed (Debian: apt-get install redis-server)", pytrace=False)
    port = free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--requirepass", "cleanup-test", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            if cli(port, "PING").strip() == "PONG":
                break
            time.sleep(0.05)
        else:
            pytest.fail("redis-server did not start")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def cli(port: int, *arguments: str) -> str:
    result = subprocess.run(
        ["redis-cli", "-p", str(port), "--no-auth-warning", "--raw", *arguments],
        env={**os.environ, "REDISCLI_AUTH": "cleanup-test"},
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    return result.stdout


def groups(port: int, topic: str) -> set[str]:
    lines = cli(port, "XINFO", "GROUPS", topic).splitlines()
    return {value for key, value in zip(lines, lines[1:]) if key == "name"}


def run_prune(assembled, port: int, work: Path, idle_seconds: int) -> subprocess.CompletedProcess:
    prune = container(job_pod(assembled), "prune")
    script = prune["command"][2]
    variables = env(prune)
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "REDIS_HOST": f"127.0.0.1:{port}",
        "REDISCLI_AUTH": "cleanup-test",
        "REDIS_CLI_OPTIONS": "",
        "TOPICS": variables["TOPICS"],
        "GROUP_PREFIX": variables["GROUP_PREFIX"],
        "IDLE_SECONDS": str(idle_seconds),
    }
    # The manifest's script reads /work/live-pods; point it at this test's folder.
    script = script.replace("/work/", f"{work}/")
    return subprocess.run(["sh", "-ec", script], env=environment, capture_output=True, text=True, timeout=60)


def test_the_script_removes_only_the_groups_of_gone_pods(assembled, redis, tmp_path):
    topics = env(container(job_pod(assembled), "prune"))["TOPICS"].split()
    live, gone, other = "sse-gateway-7c9f-abcde", "sse-gateway-5d4e-fghij", "billing-worker-0"
    for topic in topics:
        cli(redis, "XADD", topic, "*", "data", "{}")
        for group in (live, gone, other):
            cli(redis, "XGROUP", "CREATE", topic, group, "0")
            # The consumer daprd registers when it reads.
            cli(redis, "XREADGROUP", "GROUP", group, "daprd", "COUNT", "1", "STREAMS", topic, ">")
    # A group created by a pod that started after the listing: no consumer read yet.
    cli(redis, "XGROUP", "CREATE", topics[0], "sse-gateway-new-pod", "0")
    (tmp_path / "live-pods").write_text(live + "\n")

    # Every consumer read a moment ago: an idle bound of an hour keeps everything.
    kept = run_prune(assembled, redis, tmp_path, idle_seconds=3600)
    assert kept.returncode == 0, kept.stderr
    assert "0 removed" in kept.stdout
    assert groups(redis, topics[0]) == {live, gone, other, "sse-gateway-new-pod"}

    pruned = run_prune(assembled, redis, tmp_path, idle_seconds=0)
    assert pruned.returncode == 0, pruned.stderr
    assert f"{len(topics)} removed" in pruned.stdout, pruned.stdout
    assert groups(redis, topics[0]) == {live, other, "sse-gateway-new-pod"}
    for topic in topics[1:]:
        assert groups(redis, topic) == {live, other}


def test_the_script_refuses_to_run_without_a_pod_list(assembled, redis, tmp_path):
    topic = env(container(job_pod(assembled), "prune"))["TOPICS"].split()[0]
    cli(redis, "XADD", topic, "*", "data", "{}")
    cli(redis, "XGROUP", "CREATE", topic, "sse-gateway-1-a", "0")
    (tmp_path / "live-pods").write_text("")
    refused = run_prune(assembled, redis, tmp_path, idle_seconds=0)
    assert refused.returncode != 0
    assert "refusing to prune" in refused.stderr
    assert groups(redis, topic) == {"sse-gateway-1-a"}
