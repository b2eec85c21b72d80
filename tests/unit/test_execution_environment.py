"""execution-environment.yml: its structure, and the build context `ansible-builder create` makes of it.

No container runtime is needed: `create` only writes the Containerfile and the
_build directory; `build` (which pulls the base image) is the user's step
(docs/awx.md). The collection tarball is built here into a temporary copy of
the layout the definition expects (.cache/dist beside it), so the test does
not depend on `make collection` having run.
"""

import ast
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile

import pytest
import yaml

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EE_FILE = os.path.join(TOP, "execution-environment.yml")
BIN = os.path.dirname(sys.executable)


def _load(path):
    with open(path) as handle:
        return yaml.safe_load(handle)


def _version():
    return _load(os.path.join(TOP, "galaxy.yml"))["version"]


def _tarball():
    return "bulwark-hardening-%s.tar.gz" % _version()


def _requirement_name(value):
    """'docker>=7.0.0 ; python_version...' -> 'docker'."""
    return re.split(r"[\s<>=!~;\[]", value.strip(), maxsplit=1)[0].lower().replace("_", "-")


@pytest.fixture(scope="module")
def ee():
    return _load(EE_FILE)


def test_definition_is_ansible_builder_v3_with_a_base_image_argument(ee):
    assert ee["version"] == 3
    assert ee["images"]["base_image"]["name"], "images.base_image.name is the default of the EE_BASE_IMAGE build arg"
    with open(EE_FILE) as handle:
        text = handle.read()
    assert "--build-arg EE_BASE_IMAGE=" in text, "the file tells users to set their own base image"
    deps = ee["dependencies"]
    assert deps["python_interpreter"]["python_path"].endswith(("python3.11", "python3.12", "python3.13"))
    assert re.search(r"ansible-core\s*>=\s*2\.19", deps["ansible_core"]["package_pip"])
    assert deps["ansible_runner"]["package_pip"].startswith("ansible-runner")


def test_collection_tarball_is_this_version_and_reaches_the_galaxy_stage(ee):
    """additional_build_files copies the tarball that the inline galaxy requirement installs."""
    files = ee["additional_build_files"]
    sources = [entry for entry in files if entry["src"].endswith(".tar.gz")]
    assert len(sources) == 1, files
    source = sources[0]
    assert source["src"] == ".cache/dist/" + _tarball(), (
        "execution-environment.yml must copy the tarball of galaxy.yml's version %s" % _version())
    collections = ee["dependencies"]["galaxy"]["collections"]
    assert collections == [{"name": "/build/%s/%s" % (source["dest"], _tarball()), "type": "file"}], (
        "the galaxy stage runs in /build, where _build/ is copied: the requirement must name "
        "/build/<dest>/<tarball>")


def test_python_dependencies_cover_the_plugins_third_party_imports(ee):
    """Every import in plugins/ that is neither the standard library nor Ansible is a Python dependency."""
    declared = {_requirement_name(value) for value in ee["dependencies"]["python"]}
    imported = {}
    for path in glob.glob(os.path.join(TOP, "plugins", "**", "*.py"), recursive=True):
        with open(path) as handle:
            tree = ast.parse(handle.read(), path)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in ("ansible", "ansible_collections", "__future__"):
                    imported.setdefault(top, os.path.relpath(path, TOP))
    assert "docker" in imported, "the modules import the Docker SDK (plugins/module_utils/engine)"
    missing = {name: where for name, where in imported.items() if name.lower() not in declared}
    assert not missing, "imported by plugins/ but not in execution-environment.yml's python dependencies: %s" % missing


def test_system_dependencies_are_bindep_lines(ee):
    system = ee["dependencies"]["system"]
    assert isinstance(system, list) and system
    for line in system:
        assert re.match(r"^[a-z0-9][a-z0-9.+-]*( \[[a-z0-9:!_ -]+\])?$", line), line
    assert any(line.startswith("openssh-client") for line in system), "jobs reach the hosts over SSH"


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    """`ansible-builder create` on a copy of the definition beside a freshly built tarball."""
    builder = os.path.join(BIN, "ansible-builder")
    assert os.path.exists(builder), "ansible-builder is missing from the venv: pip install -r requirements-dev.txt -c constraints.txt"
    work = tmp_path_factory.mktemp("ee")
    dist = work / ".cache" / "dist"
    dist.mkdir(parents=True)
    subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--output-path", str(dist), TOP],
                   check=True, capture_output=True, text=True)
    assert (dist / _tarball()).exists()
    shutil.copy(EE_FILE, work / "execution-environment.yml")
    ctx = work / "context"
    result = subprocess.run([builder, "create", "-f", str(work / "execution-environment.yml"), "-c", str(ctx),
                             "--output-filename", "Containerfile"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No matches" not in result.stdout + result.stderr, result.stdout + result.stderr
    return ctx


def test_create_writes_a_containerfile_from_the_base_image_argument(context, ee):
    containerfile = (context / "Containerfile").read_text()
    assert 'ARG EE_BASE_IMAGE="%s"' % ee["images"]["base_image"]["name"] in containerfile
    assert "FROM $EE_BASE_IMAGE AS base" in containerfile
    assert "ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml" in containerfile
    assert "COPY _build /build" in containerfile and "WORKDIR /build" in containerfile
    assert "introspect" in containerfile and "/output/scripts/assemble" in containerfile
    assert re.search(r'ARG ANSIBLE_INSTALL_REFS="ansible-core>=2\.19[^"]*ansible-runner', containerfile)


def test_create_puts_the_collection_and_requirements_in_build(context):
    build = context / "_build"
    tarball = build / "collections" / _tarball()
    assert tarball.is_file()
    with tarfile.open(tarball) as archive:
        manifest = json.load(archive.extractfile("MANIFEST.json"))
        names = archive.getnames()
    info = manifest["collection_info"]
    assert (info["namespace"], info["name"], info["version"]) == ("bulwark", "hardening", _version())
    assert "playbooks/audit.yml" in names and "plugins/modules/container_audit.py" in names
    assert not [name for name in names if name.startswith((".venv", ".cache", "tests/output"))]

    requirements = _load(build / "requirements.yml")
    assert requirements == {"collections": [{"name": "/build/collections/" + _tarball(), "type": "file"}]}
    python = [line for line in (build / "requirements.txt").read_text().splitlines() if line.strip()]
    assert "docker" in {_requirement_name(line) for line in python}, python
    assert "openssh-client" in (build / "bindep.txt").read_text()
    for script in ("assemble", "introspect.py", "install-from-bindep", "check_galaxy", "check_ansible", "entrypoint"):
        assert (build / "scripts" / script).is_file(), script


def test_the_galaxy_stage_installs_the_collection(context, tmp_path):
    """What the galaxy stage runs, with /build pointed at the context's _build (dependencies aside: Galaxy)."""
    build = context / "_build"
    requirements = _load(build / "requirements.yml")
    for entry in requirements["collections"]:
        entry["name"] = entry["name"].replace("/build/", str(build) + "/", 1)
    local = tmp_path / "requirements.yml"
    local.write_text(yaml.safe_dump(requirements))
    target = tmp_path / "collections"
    subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--no-deps", "--force",
                    "-r", str(local), "-p", str(target)], check=True, capture_output=True, text=True, cwd=str(build))
    manifest = json.loads((target / "ansible_collections" / "bulwark" / "hardening" / "MANIFEST.json").read_text())
    assert manifest["collection_info"]["version"] == _version()
    assert (target / "ansible_collections" / "bulwark" / "hardening" / "playbooks" / "awx_setup.yml").is_file()
