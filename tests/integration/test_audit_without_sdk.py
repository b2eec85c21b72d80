"""The audit reads the Engine with nothing on the host but Python: no Docker SDK for Python.

container_audit runs in a Python that cannot import `docker` (a bare venv of
this interpreter, without pip and without system site packages) against the
local Engine's Unix socket, and gives the same verdicts as with the SDK; over
TLS, which needs the SDK, it says so.
"""

import json
import os
import subprocess
import sys

import pytest

from ansible_collections.bulwark.hardening.tests.integration.adhoc import run_module
from farm import TOP
from ansible_collections.bulwark.hardening.tests.integration.images import SLEEPER_REF, docker_api, ensure_sleeper_image
from ansible_collections.bulwark.hardening.tests.integration.instances import check_in, instance, run_playbooks, write_inventory

pytestmark = pytest.mark.integration

BARE = os.path.join(TOP, ".cache", "python-without-docker-sdk")
PREFIX = "bwsdk-"


@pytest.fixture(scope="module")
def containers():
    """Two containers of this test alone (other tests change the Engine meanwhile): one plain, one privileged-ish."""
    api = docker_api()
    ensure_sleeper_image(api)
    created = [api.create_container(SLEEPER_REF, name=PREFIX + "plain", labels={"bulwark.test": "1"})["Id"],
               api.create_container(SLEEPER_REF, name=PREFIX + "loose", labels={"bulwark.test": "1"},
                                    host_config=api.create_host_config(cap_add=["NET_ADMIN"], pid_mode="host"))["Id"]]
    try:
        for container in created:
            api.start(container)
        yield [PREFIX + "*"]
    finally:
        for container in created:
            api.remove_container(container, force=True, v=True)


@pytest.fixture(scope="module")
def bare_python():
    """A Python of the tests' own version that has only the standard library."""
    python = os.path.join(BARE, "bin", "python")
    if not os.path.exists(python):
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", BARE], check=True)
    found = subprocess.run([python, "-c", "import docker"], capture_output=True, text=True, check=False)
    assert found.returncode != 0, "the bare Python imports docker: %s" % found.stdout
    return python


def verdicts(result):
    return sorted((finding["rule"], finding["target"], finding["status"]) for finding in result["findings"])


def test_container_audit_reads_the_socket_without_the_sdk(bare_python, containers):
    arguments = {"scope": ["daemon", "containers", "bulwark"], "name_filter": containers, "report": "all"}
    without = run_module("container_audit", arguments, interpreter=bare_python)
    assert not without.result.get("failed"), without.result.get("msg")
    assert set(finding["target"] for finding in without.result["findings"]) >= {PREFIX + "plain", PREFIX + "loose"}
    with_sdk = run_module("container_audit", arguments)
    assert verdicts(without.result) == verdicts(with_sdk.result)


def test_over_tls_it_says_the_sdk_is_needed(bare_python):
    run = run_module("container_audit", {"docker_host": "tcp://127.0.0.1:2376", "tls": True}, interpreter=bare_python)
    assert run.result.get("failed")
    assert "Failed to import the required Python library (docker)" in run.result["msg"]
    assert "over the local Unix socket or plain TCP the audit needs nothing but Python" in run.result["msg"]


# --- a fresh Debian 12 host without python3-docker: the audit playbook, then harden ------------------------

@pytest.fixture(scope="module")
def host_without_sdk(tmp_path_factory):
    """An instance of the Molecule image (Debian 12, its own dockerd) with python3-docker removed, and an inventory."""
    api = docker_api(timeout=120)
    with instance("bwsdk-host-", "bulwark.it.audit-without-sdk") as name:
        check_in(api, name, "DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq python3-docker >/dev/null 2>&1; "
                            "! python3 -c 'import docker' 2>/dev/null")
        yield name, write_inventory(name, tmp_path_factory.mktemp("without-sdk"))


def test_the_audit_playbook_runs_on_a_host_without_the_sdk(host_without_sdk, tmp_path):
    name, inventory = host_without_sdk
    reports = tmp_path / "reports"
    run = run_playbooks(inventory, ["audit.yml"], ["-e", json.dumps({
        "bulwark_audit_fail_severity": "none", "bulwark_audit_report_dir": str(reports)})])
    assert run.returncode == 0, (run.failures(name), run.stderr[-2000:])
    assert [path.suffix for path in sorted(reports.iterdir()) if path.name.startswith("bulwark-report-")] == [
        ".html", ".json", ".xml"]


def test_harden_then_installs_the_sdk_where_apt_has_no_lists(host_without_sdk):
    # The image was built with its apt lists removed (the directory looks fresh): the role updates them first.
    name, inventory = host_without_sdk
    run = run_playbooks(inventory, ["harden.yml"])
    assert run.returncode == 0, (run.failures(name), run.stderr[-2000:])
    assert check_in(docker_api(timeout=120), name, "python3 -c 'import docker; print(docker.__version__)'").strip()
