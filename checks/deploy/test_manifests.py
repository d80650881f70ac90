"""Every manifest parses, and the kustomize base assembles."""

from __future__ import annotations

import pytest

import manifests as m

YAML_FILES = m.yaml_files()


def test_there_are_manifests_to_check():
    names = {p.relative_to(m.REPO).as_posix() for p in YAML_FILES}
    for expected in (
        "components/pubsub.yaml",
        "components/subscription.yaml",
        "components/resiliency.yaml",
        "components/local/pubsub.yaml",
        "components/local/resiliency.yaml",
        "k8s/kustomization.yaml",
        "k8s/deployment.yaml",
        "k8s/ingress.yaml",
        "k8s/secret.example.yaml",
    ):
        assert expected in names, f"{expected} is missing"


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: p.relative_to(m.REPO).as_posix())
def test_every_yaml_document_parses_and_names_its_kind(path):
    documents = m.load_documents(path)
    assert documents, f"{path.name} holds no YAML document"
    for document in documents:
        assert isinstance(document.get("apiVersion"), str), f"{path.name}: a document has no apiVersion"
        assert isinstance(document.get("kind"), str), f"{path.name}: a document has no kind"
        if document["kind"] != "Kustomization":
            name = (document.get("metadata") or {}).get("name")
            assert isinstance(name, str) and name, f"{path.name}: a {document['kind']} has no metadata.name"


def test_no_object_is_defined_twice():
    seen: dict[str, str] = {}
    for path in YAML_FILES:
        if path.parent.name == "local":  # the self-hosted variants reuse the production names
            continue
        for document in m.load_documents(path):
            if document["kind"] == "Kustomization":  # one per folder (k8s/, k8s/monitoring/), unnamed
                continue
            key = f"{document['apiVersion']} {m.object_id(document)}"
            assert key not in seen, f"{key} is defined in {seen.get(key)} and {path.name}"
            seen[key] = path.name


def test_every_k8s_file_is_a_kustomization_resource_or_a_documented_extra():
    kustomization = m.load_documents(m.K8S / "kustomization.yaml")[0]
    resources = set(kustomization["resources"])
    for path in sorted(m.K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        assert path.name in resources or path.name in m.K8S_EXTRA_FILES, (
            f"k8s/{path.name} is neither in kustomization.yaml nor a documented extra file"
        )
    for extra in m.K8S_EXTRA_FILES:
        assert extra not in resources, f"k8s/{extra} must stay out of the kustomization (placeholders/examples)"


def test_kubectl_kustomize_assembles_the_base():
    if m.kubectl() is None:
        pytest.skip("kubectl is not installed (the other tests use the Python assembly instead)")
    objects = m.kustomize_with_kubectl()
    kinds = sorted(o["kind"] for o in objects)
    assert kinds == sorted(
        [
            "ConfigMap",
            "ConfigMap",
            "CronJob",
            "Deployment",
            "HorizontalPodAutoscaler",
            "NetworkPolicy",
            "PodDisruptionBudget",
            "Role",
            "RoleBinding",
            "Service",
            "ServiceAccount",
            "ServiceAccount",
        ]
    )


def test_python_assembly_matches_kubectl_kustomize():
    """The fallback used without kubectl must produce exactly what kustomize produces."""
    if m.kubectl() is None:
        pytest.skip("kubectl is not installed")
    assert m.normalized(m.kustomize_in_python()) == m.normalized(m.kustomize_with_kubectl())


def test_every_assembled_object_carries_the_common_labels(assembled):
    for document in assembled:
        labels = document["metadata"].get("labels", {})
        assert labels.get("app.kubernetes.io/part-of") == "sse-gateway", m.object_id(document)
        assert labels.get("app.kubernetes.io/name") == "sse-gateway", m.object_id(document)


def test_the_image_is_set_by_the_kustomization(container):
    image = container["image"]
    assert image != "sse-gateway", "kustomization.yaml `images:` did not apply to the Deployment"
    assert ":" in image.rsplit("/", 1)[-1] or "@" in image, f"image {image} has no tag or digest"
