"""Loading and small queries over the deployment files (k8s/, components/, Dockerfile).

Used by the tests in this folder; no test lives here.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, Iterable, Iterator

import yaml

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "k8s"
COMPONENTS = REPO / "components"
DOCKERFILE = REPO / "Dockerfile"

APP_ID = "sse-gateway"
CONTAINER = "sse-gateway"

# Files in k8s/ that are deliberately not kustomization resources (documented there).
K8S_EXTRA_FILES = ("secret.example.yaml", "ingress.yaml", "ingress-kong.yaml", "httproute.yaml")

# Marker of the commented Kafka alternative in components/pubsub.yaml.
KAFKA_MARKER = "# --- kafka alternative ---"


class ManifestError(AssertionError):
    """A deployment file is malformed (raised with a message naming the file)."""


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys (kubectl would keep only one)."""


def _mapping_without_duplicates(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise ManifestError(f"duplicate key {key!r} at line {key_node.start_mark.line + 1}")
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


def load_documents(path: Path) -> list[dict]:
    """Every non-empty YAML document of a file; fails on syntax errors and duplicate keys."""
    try:
        documents = list(yaml.load_all(path.read_text(), Loader=_StrictLoader))
    except (yaml.YAMLError, ManifestError) as error:
        raise ManifestError(f"{path.relative_to(REPO)}: {error}") from error
    result = []
    for index, document in enumerate(documents):
        if document is None:
            continue
        if not isinstance(document, dict):
            raise ManifestError(f"{path.relative_to(REPO)}: document {index} is not a mapping")
        result.append(document)
    return result


def load_text(text: str, origin: str) -> list[dict]:
    try:
        return [d for d in yaml.load_all(text, Loader=_StrictLoader) if d is not None]
    except (yaml.YAMLError, ManifestError) as error:
        raise ManifestError(f"{origin}: {error}") from error


def yaml_files() -> list[Path]:
    """Every YAML file under k8s/ and components/ (recursively)."""
    files: list[Path] = []
    for folder in (K8S, COMPONENTS):
        files.extend(sorted(p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()))
    return files


def object_id(document: dict) -> str:
    metadata = document.get("metadata") or {}
    return f"{document.get('kind')}/{metadata.get('name')}"


# ----------------------------------------------------------------------------- kustomize


def kubectl() -> str | None:
    return shutil.which("kubectl")


def kustomize_with_kubectl(folder: Path = K8S) -> list[dict]:
    tool = kubectl()
    if tool is None:
        raise RuntimeError("kubectl is not installed")
    result = subprocess.run(
        [tool, "kustomize", str(folder)], capture_output=True, text=True, timeout=120, check=False
    )
    if result.returncode != 0:
        raise ManifestError(f"kubectl kustomize {folder.relative_to(REPO)} failed:\n{result.stderr}")
    return load_text(result.stdout, f"kubectl kustomize {folder.relative_to(REPO)}")


SUPPORTED_KUSTOMIZATION_KEYS = {"apiVersion", "kind", "resources", "labels", "images", "namespace"}


def kustomize_in_python(folder: Path = K8S) -> list[dict]:
    """A small stand-in for `kubectl kustomize` covering what k8s/kustomization.yaml uses.

    Supports: resources (files), labels (pairs, includeSelectors false, includeTemplates
    false), images (name, newName, newTag, digest), namespace. Anything else is refused so
    that the fallback never silently differs from kustomize.
    """
    kustomization = load_documents(folder / "kustomization.yaml")[0]
    unsupported = set(kustomization) - SUPPORTED_KUSTOMIZATION_KEYS
    if unsupported:
        raise ManifestError(
            f"the Python fallback for kustomize does not support {sorted(unsupported)}; "
            "install kubectl or extend checks/deploy/manifests.py"
        )
    objects: list[dict] = []
    for resource in kustomization.get("resources", []):
        path = folder / resource
        if not path.is_file():
            raise ManifestError(f"kustomization resource {resource} is not a file")
        objects.extend(load_documents(path))

    for entry in kustomization.get("labels", []):
        if entry.get("includeSelectors") or entry.get("includeTemplates"):
            raise ManifestError("the Python fallback supports labels without selectors/templates only")
        for document in objects:
            document.setdefault("metadata", {}).setdefault("labels", {}).update(entry.get("pairs", {}))

    namespace = kustomization.get("namespace")
    if namespace:
        for document in objects:
            document.setdefault("metadata", {})["namespace"] = namespace

    for image in kustomization.get("images", []):
        for container in _all_containers(objects):
            reference = container.get("image", "")
            name, tag = _split_image(reference)
            if name != image["name"]:
                continue
            new_name = image.get("newName", name)
            if "digest" in image:
                container["image"] = f"{new_name}@{image['digest']}"
            else:
                new_tag = image.get("newTag", tag)
                container["image"] = f"{new_name}:{new_tag}" if new_tag else new_name
    return objects


def _split_image(reference: str) -> tuple[str, str | None]:
    if "@" in reference:
        return reference.split("@", 1)[0], None
    last = reference.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = reference.rsplit(":", 1)
        return name, tag
    return reference, None


def _all_containers(objects: Iterable[dict]) -> Iterator[dict]:
    for document in objects:
        spec = ((document.get("spec") or {}).get("template") or {}).get("spec") or {}
        for key in ("initContainers", "containers"):
            yield from spec.get(key, [])


def assembled_objects() -> tuple[list[dict], str]:
    """The kustomize output of k8s/ and how it was made ("kubectl" or "python")."""
    if kubectl() is not None:
        return kustomize_with_kubectl(), "kubectl"
    return kustomize_in_python(), "python"


def normalized(objects: Iterable[dict]) -> dict[str, dict]:
    """Objects keyed by kind/name, through a JSON round trip (key order does not count)."""
    return {object_id(o): json.loads(json.dumps(o, sort_keys=True)) for o in objects}


# ----------------------------------------------------------------------------- queries


def find(objects: Iterable[dict], kind: str, name: str | None = None) -> list[dict]:
    return [
        o
        for o in objects
        if o.get("kind") == kind and (name is None or (o.get("metadata") or {}).get("name") == name)
    ]


def the(objects: Iterable[dict], kind: str, name: str | None = None) -> dict:
    found = find(objects, kind, name)
    if len(found) != 1:
        raise ManifestError(f"expected exactly one {kind}{'/' + name if name else ''}, found {len(found)}")
    return found[0]


def pod_spec(deployment: dict) -> dict:
    return deployment["spec"]["template"]["spec"]


def gateway_container(deployment: dict) -> dict:
    containers = [c for c in pod_spec(deployment)["containers"] if c["name"] == CONTAINER]
    if len(containers) != 1:
        raise ManifestError(f"the Deployment has no container named {CONTAINER}")
    return containers[0]


def resolve_container_port(container: dict, port: int | str) -> int:
    """A probe's or Service's port (number or port name) as a number."""
    if isinstance(port, int):
        return port
    if isinstance(port, str) and port.isdigit():
        return int(port)
    for entry in container.get("ports", []):
        if entry.get("name") == port:
            return int(entry["containerPort"])
    raise ManifestError(f"container {container['name']} has no port named {port!r}")


def selector_matches(selector: dict, labels: dict) -> bool:
    match_labels = selector.get("matchLabels", selector if "matchExpressions" not in selector else {})
    if "matchExpressions" in selector:
        raise ManifestError("matchExpressions are not checked by these tests; use matchLabels")
    return bool(match_labels) and all(labels.get(k) == v for k, v in match_labels.items())


# ----------------------------------------------------------------------------- durations

_GO_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def go_duration_seconds(value: str) -> float:
    """A Go duration string ("1m30s", "500ms") in seconds; ValueError if it is not one."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"not a duration: {value!r}")
    position = 0
    total = 0.0
    for match in _GO_DURATION.finditer(value):
        if match.start() != position:
            raise ValueError(f"not a Go duration: {value!r}")
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    if position != len(value):
        raise ValueError(f"not a Go duration: {value!r}")
    return total


def redis_duration_seconds(value: str) -> float:
    """Redis component durations: a Go duration, or a plain number of milliseconds."""
    if isinstance(value, str) and value.isdigit():
        return int(value) / 1000.0
    return go_duration_seconds(value)


_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")


def is_quantity(value: str) -> bool:
    return isinstance(value, str) and bool(_QUANTITY.match(value))


# ----------------------------------------------------------------------------- Dapr


def component_metadata(component: dict) -> dict[str, dict]:
    """spec.metadata as name -> item; fails on duplicates."""
    items: dict[str, dict] = {}
    for item in component["spec"].get("metadata", []):
        name = item.get("name")
        if name in items:
            raise ManifestError(f"component {object_id(component)}: metadata {name!r} appears twice")
        items[name] = item
    return items


def kafka_alternative() -> list[dict]:
    """The commented Kafka component at the end of components/pubsub.yaml, uncommented."""
    text = (COMPONENTS / "pubsub.yaml").read_text()
    if KAFKA_MARKER not in text:
        raise ManifestError(f"components/pubsub.yaml has no {KAFKA_MARKER!r} section")
    lines = []
    for line in text.split(KAFKA_MARKER, 1)[1].splitlines():
        if line.startswith("# "):
            lines.append(line[2:])
        elif line.strip() in ("", "#"):
            lines.append("")
        else:
            raise ManifestError(f"uncommented line in the Kafka alternative: {line!r}")
    # The prose before the YAML: drop lines until apiVersion.
    start = next(i for i, line in enumerate(lines) if line.startswith("apiVersion:"))
    return load_text("\n".join(lines[start:]), "components/pubsub.yaml (Kafka alternative)")


# ----------------------------------------------------------------------------- Dockerfile


def dockerfile_instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) of every instruction, continuation lines joined."""
    instructions: list[tuple[str, str]] = []
    current = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line.startswith("#") or (not line and not current):
            continue
        if line.endswith("\\"):
            current += line[:-1].strip() + " "
            continue
        current += line
        keyword, _, rest = current.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
        current = ""
    return instructions


def shell_logical_lines(text: str) -> list[str]:
    """Lines of a shell script or Dockerfile with comments dropped and continuations joined."""
    lines: list[str] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1].strip() + " "
            continue
        current += line
        if current:
            lines.append(current)
        current = ""
    if current:
        lines.append(current)
    return lines


_VALUE_FLAGS = ("-c", "--configuration", "--product", "--scratch-path")


def swift_build_flags(text: str) -> set[str]:
    """The flags of the first `swift build -...` command in a script or Dockerfile."""
    for line in shell_logical_lines(text):
        match = re.search(r"\bswift build\s+(?=-)", line)
        if not match:
            continue
        tokens = line[match.end() :].split()
        flags: set[str] = set()
        index = 0
        while index < len(tokens):
            token = tokens[index]
            if not token.startswith("-"):
                break
            if token in _VALUE_FLAGS and index + 1 < len(tokens):
                flags.add(f"{token} {tokens[index + 1]}")
                index += 2
                continue
            flags.add(token)
            index += 1
        return flags
    raise ManifestError("no `swift build` command found")


def copy_of(document: dict) -> dict:
    return copy.deepcopy(document)


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in ("1", "true", "yes")
