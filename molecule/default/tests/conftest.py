"""Fixtures shared by the verifier tests: images built inside the instance
(nothing is pulled) and a helper to run a real ansible-playbook against it."""

import json
import os
import subprocess

import pytest

PROBE_IMAGE = "bulwark-probe:latest"
USERLAND_IMAGE = "bulwark-userland:latest"


def docker_json(host, *args):
    cmd = host.run("docker " + " ".join(args))
    assert cmd.rc == 0, cmd.stderr
    return json.loads(cmd.stdout)


@pytest.fixture(scope="module")
def docker_info(host):
    return docker_json(host, "info", "--format", "'{{json .}}'")


@pytest.fixture(scope="module")
def probe_image(host):
    """One static busybox binary: a shell, cat, wget, httpd."""
    script = (
        "set -e; d=$(mktemp -d); mkdir -p $d/bin $d/www; cp /bin/busybox $d/bin/; "
        "for a in sh cat sleep grep wget httpd ulimit; do ln -s busybox $d/bin/$a; done; "
        "echo bulwark-ok > $d/www/index.html; "
        f"tar -C $d -c . | docker import - {PROBE_IMAGE} >/dev/null; rm -rf $d"
    )
    host.run_expect([0], f"sh -c '{script}'")
    return PROBE_IMAGE


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
