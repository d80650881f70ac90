"""Core Kubernetes objects validate against the Kubernetes JSON schemas (kubernetes-validate).

Strict mode: unknown fields (typos such as `readinesProbe`) are errors. Checked against the
oldest Kubernetes version the manifests support and the newest one the installed
kubernetes-validate ships.
"""

from __future__ import annotations

import pytest

import manifests as m

try:
    import kubernetes_validate
except ImportError:  # a required test dependency: fail, do not skip
    kubernetes_validate = None

OLDEST_SUPPORTED = "1.30"  # ContainerResource HPA metrics (k8s/hpa.yaml) are GA since 1.30
# Objects of these API groups are not Kubernetes core objects (checked in test_dapr_resources
# and test_httproute; kubernetes-validate carries no Gateway API schema).
FOREIGN_GROUPS = ("dapr.io", "konghq.com", "gateway.networking.k8s.io")


def versions() -> list[str]:
    if kubernetes_validate is None:
        return [OLDEST_SUPPORTED]
    newest = kubernetes_validate.latest_version()
    newest_minor = ".".join(newest.split(".")[:2])
    return [OLDEST_SUPPORTED] if newest_minor == OLDEST_SUPPORTED else [OLDEST_SUPPORTED, newest_minor]


def core_objects() -> list[tuple[str, dict]]:
    objects, how = m.assembled_objects()
    result = [(f"kustomize({how}):{m.object_id(o)}", o) for o in objects]
    for name in m.K8S_EXTRA_FILES:
        for document in m.load_documents(m.K8S / name):
            result.append((f"{name}:{m.object_id(document)}", document))
    return [
        (label, document)
        for label, document in result
        if not any(group in document["apiVersion"] for group in FOREIGN_GROUPS)
    ]


OBJECTS = core_objects()


@pytest.mark.parametrize("version", versions())
@pytest.mark.parametrize("label,document", OBJECTS, ids=[label for label, _ in OBJECTS])
def test_validates_against_the_kubernetes_schema(label, document, version):
    if kubernetes_validate is None:
        pytest.fail("kubernetes-validate is not installed: pip install kubernetes-validate", pytrace=False)
    try:
        kubernetes_validate.validate(document, version, strict=True)
    except kubernetes_validate.ValidationError as error:
        path = "/".join(str(p) for p in error.path)
        pytest.fail(f"{label} is invalid for Kubernetes {version} at {path or '(root)'}: {error.message}")
    except kubernetes_validate.SchemaNotFoundError as error:
        pytest.fail(f"{label}: {error.message} (a removed or misspelled apiVersion?)")


def test_the_expected_kinds_are_validated():
    kinds = {document["kind"] for _, document in OBJECTS}
    assert {
        "Deployment",
        "Service",
        "ConfigMap",
        "Secret",
        "ServiceAccount",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "NetworkPolicy",
        "Ingress",
    } <= kinds
