"""The container image recipe (Dockerfile) and the scripts that stand in for `docker build`
on a machine without a Docker engine."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

import manifests as m
from conftest import gateway_binary

SCRIPTS = m.REPO / "scripts"
CHECK = SCRIPTS / "check-runtime-libraries"
BUILD = SCRIPTS / "build-release-binary"


def stages() -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for keyword, arguments in m.dockerfile_instructions():
        if keyword == "FROM":
            result.append([])
        if result:
            result[-1].append((keyword, arguments))
    return result


def arg_defaults() -> dict[str, str]:
    defaults = {}
    for keyword, arguments in m.dockerfile_instructions():
        if keyword == "FROM":
            break
        if keyword == "ARG" and "=" in arguments:
            name, value = arguments.split("=", 1)
            defaults[name] = value
    return defaults


def base_image(from_arguments: str) -> str:
    image = from_arguments.split()[0]
    for name, value in arg_defaults().items():
        image = image.replace("${" + name + "}", value).replace("$" + name, value)
    return image


def test_dockerfile_is_multi_stage_swift_63_build_and_bookworm_slim_runtime():
    build, runtime = stages()[0], stages()[-1]
    assert len(stages()) == 2
    assert base_image(build[0][1]).startswith("swift:6.3"), build[0][1]
    assert "bookworm" in base_image(build[0][1]), "build on the runtime's Debian release"
    assert base_image(runtime[0][1]) == "debian:bookworm-slim"
    assert " AS build" in build[0][1]


def test_build_stage_builds_the_static_release_product():
    flags = m.swift_build_flags(m.DOCKERFILE.read_text())
    assert {"-c release", "--static-swift-stdlib", "--product sse-gateway"} <= flags


def test_build_script_uses_the_dockerfiles_flags():
    dockerfile = m.swift_build_flags(m.DOCKERFILE.read_text())
    script = {f for f in m.swift_build_flags(BUILD.read_text()) if not f.startswith("--scratch-path")}
    assert script == dockerfile
    text = BUILD.read_text()
    assert "--scratch-path" in text and ".build-release" in text
    assert "nice" in text


def test_runtime_stage_runs_the_binary_as_non_root():
    runtime = stages()[-1]
    instructions = dict(runtime)
    assert json.loads(instructions["ENTRYPOINT"]) == ["/usr/local/bin/sse-gateway"]
    assert json.loads(instructions["CMD"]) == ["serve"]
    uid = instructions["USER"].split(":")[0]
    assert uid.isdigit() and int(uid) == 10001
    assert "HEALTHCHECK" in instructions
    assert any(k == "COPY" and "--from=build" in a and "/usr/local/bin/sse-gateway" in a for k, a in runtime)


def test_runtime_image_carries_the_oci_labels():
    (label,) = [a for k, a in stages()[-1] if k == "LABEL"]
    labels = dict(re.findall(r'(org\.opencontainers\.image\.[a-z.]+)="([^"]*)"', label))
    for key in ("title", "description", "version", "revision", "created", "base.name"):
        assert f"org.opencontainers.image.{key}" in labels, key
    # Build arguments become labels only when the stage declares them.
    declared = {a.split("=", 1)[0] for k, a in stages()[-1] if k == "ARG"}
    for value in labels.values():
        for name in re.findall(r"\$\{(\w+)\}", value):
            assert name in declared, f"ARG {name} is not declared in the runtime stage"
    # The base image the runtime stage really starts from.
    assert labels["org.opencontainers.image.base.name"].endswith("${RUNTIME_IMAGE}")
    assert stages()[-1][0][1] == "${RUNTIME_IMAGE}"


def test_image_version_is_the_binarys_and_the_manifests_tag():
    binary = gateway_binary()
    result = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=60, check=True)
    version = result.stdout.strip()
    assert arg_defaults()["VERSION"] == version
    kustomization = m.load_documents(m.K8S / "kustomization.yaml")[0]
    (image,) = [i for i in kustomization["images"] if i["name"] == "sse-gateway"]
    assert image["newTag"] == version


def test_healthcheck_tool_is_installed():
    (healthcheck,) = [a for k, a in stages()[-1] if k == "HEALTHCHECK"]
    command = healthcheck.split(" CMD ", 1)[1]
    tool = command.split()[0]
    assert tool in load_check_script().runtime_stage_packages(m.DOCKERFILE), f"{tool} is not installed"


def test_scripts_are_executable():
    for script in (CHECK, BUILD):
        assert os.access(script, os.X_OK), f"chmod +x {script.relative_to(m.REPO)}"


def test_dockerignore_keeps_the_build_context_small():
    lines = {line.strip() for line in (m.REPO / ".dockerignore").read_text().splitlines()}
    for pattern in (".build", ".git"):
        assert pattern in lines


# --------------------------------------------------------------------------- check-runtime-libraries


def load_check_script():
    loader = importlib.machinery.SourceFileLoader("check_runtime_libraries", str(CHECK))
    spec = importlib.util.spec_from_loader("check_runtime_libraries", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_check_reads_the_runtime_stage_install_list():
    packages = load_check_script().runtime_stage_packages(m.DOCKERFILE)
    assert "libcurl4" in packages and "ca-certificates" in packages
    assert all(not p.startswith("-") and "=" not in p for p in packages)


def test_check_parses_only_the_last_stage(tmp_path):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        textwrap.dedent(
            """\
            FROM swift:6.3-bookworm AS build
            RUN apt-get update && apt-get install -y libjemalloc-dev
            FROM debian:bookworm-slim
            # apt-get install commented-out
            RUN apt-get update \\
             && apt-get install -y --no-install-recommends tzdata libcurl4=7.88.1-10 ; rm -rf /var/lib/apt/lists/*
            RUN apt install -y curl
            """
        )
    )
    assert load_check_script().runtime_stage_packages(dockerfile) == ["tzdata", "libcurl4", "curl"]


def debian_tools() -> None:
    for tool in ("ldd", "dpkg-query"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (check-runtime-libraries runs on Debian)")


def run_check(binary: Path, dockerfile: Path = m.DOCKERFILE, **environment) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(CHECK), "--dockerfile", str(dockerfile), str(binary)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **environment},
        check=False,
    )


def curl_binary() -> Path:
    debian_tools()
    path = shutil.which("curl")
    if path is None:
        pytest.skip("no curl binary to check")
    return Path(path)


def test_check_accepts_a_binary_whose_libraries_the_runtime_stage_installs():
    result = run_check(curl_binary())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "libcurl4" in result.stdout


def test_check_names_a_package_the_runtime_stage_lacks(tmp_path):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y --no-install-recommends ca-certificates\n"
    )
    result = run_check(curl_binary(), dockerfile)
    assert result.returncode == 1, result.stdout
    assert "add libcurl4 to its apt-get install line" in result.stderr


def test_check_warns_about_packages_the_binary_does_not_need(tmp_path):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM debian:bookworm-slim\nRUN apt-get install -y curl libcurl4 tzdata\n")
    result = run_check(curl_binary(), dockerfile)
    assert result.returncode == 0, result.stderr
    assert "installs tzdata, which curl does not link" in result.stdout
    assert "installs curl," not in result.stdout  # the healthcheck tool is allowed


@pytest.fixture(scope="module")
def program_with_private_library(tmp_path_factory) -> tuple[Path, Path]:
    """A C program linked against a shared library that no Debian package ships."""
    debian_tools()
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler")
    folder = tmp_path_factory.mktemp("private-library")
    (folder / "private.c").write_text("int private_answer(void) { return 42; }\n")
    (folder / "main.c").write_text("int private_answer(void);\nint main(void) { return private_answer() != 42; }\n")
    library_folder = folder / "lib"
    library_folder.mkdir()
    subprocess.run(
        [compiler, "-shared", "-fPIC", "-o", str(library_folder / "libprivate.so"), str(folder / "private.c")],
        check=True,
    )
    subprocess.run(
        [compiler, "-o", str(folder / "program"), str(folder / "main.c"), f"-L{library_folder}", "-lprivate"],
        check=True,
    )
    return folder / "program", library_folder


def test_check_fails_when_ldd_cannot_find_a_library(program_with_private_library):
    program, _ = program_with_private_library
    environment = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    result = subprocess.run(
        [str(CHECK), str(program)], capture_output=True, text=True, env=environment, timeout=120, check=False
    )
    assert result.returncode == 1
    assert "libprivate.so: ldd says 'not found'" in result.stderr


def test_check_fails_for_a_library_from_no_debian_package(program_with_private_library):
    program, library_folder = program_with_private_library
    result = run_check(program, LD_LIBRARY_PATH=str(library_folder))
    assert result.returncode == 1
    assert "libprivate.so" in result.stderr and "belongs to no Debian package" in result.stderr


def test_release_binary_links_only_what_the_image_installs():
    """Set SSE_GATEWAY_RELEASE_BIN to the output of scripts/build-release-binary to run it."""
    value = os.environ.get("SSE_GATEWAY_RELEASE_BIN")
    if not value:
        pytest.skip("SSE_GATEWAY_RELEASE_BIN is not set (build with scripts/build-release-binary)")
    debian_tools()
    result = run_check(Path(value))
    assert result.returncode == 0, result.stdout + result.stderr
