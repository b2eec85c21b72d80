"""Fixtures of the default scenario's verifier: the shared ones (daemon state,
probe image), a Debian userland image, a running probe container, and a
helper to run a real ansible-playbook against the instance."""

import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "resources", "tests"))
import instance_fixtures  # noqa: E402

# Fixtures are registered by being names in a conftest module.
docker_info = instance_fixtures.docker_info
probe_image = instance_fixtures.probe_image
docker_json = instance_fixtures.docker_json

USERLAND_IMAGE = "bulwark-userland:latest"


@pytest.fixture(scope="module")
def userland_image(host):
    """An empty image whose /bin, /lib and /lib64 point into /usr, run with the
    instance's own /usr bind-mounted read-only: a full Debian userland
    (python3 included) at the cost of a few symlinks."""
    script = (
        "set -e; d=$(mktemp -d); mkdir -p $d/usr $d/tmp; "
        "ln -s usr/bin $d/bin; ln -s usr/lib $d/lib; ln -s usr/lib64 $d/lib64; ln -s usr/sbin $d/sbin; "
        f"tar -C $d -c . | docker import - {USERLAND_IMAGE} >/dev/null; rm -rf $d"
    )
    host.run_expect([0], f"sh -c '{script}'")
    return USERLAND_IMAGE


@pytest.fixture(scope="module")
def probe_container(host, probe_image):
    name = "bulwark-verify-probe"
    host.run(f"docker rm -f {name}")
    host.run_expect([0], f"docker run -d --name {name} {probe_image} sleep 3600")
    yield name
    host.run(f"docker rm -f {name}")


def run_playbook(host, playbook, *extra_args):
    """Run a real ansible-playbook from the controller against this instance
    (playbook: a collection playbook name such as bulwark.hardening.harden)."""
    inventory = os.environ["MOLECULE_INVENTORY_FILE"]
    name = host.backend.get_hostname()
    cmd = ["ansible-playbook", "-i", inventory, "--limit", name, playbook, *extra_args]
    return subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=600)
