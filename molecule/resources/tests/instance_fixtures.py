"""Verifier fixtures shared by the Molecule scenarios (container instances and
VMs): the daemon's state read once, and a probe image built inside the target
from its own busybox-static, since nothing can be pulled.

A scenario's conftest.py puts this folder on sys.path and imports the
fixtures it wants, which registers them with pytest."""

import json

import pytest

PROBE_IMAGE = "bulwark-probe:latest"
PROBE_APPLETS = ("sh", "cat", "sleep", "grep", "id", "wget", "httpd")


def docker_json(host, *args):
    """Run a docker command in the target and parse its JSON output."""
    cmd = host.run("docker " + " ".join(args))
    assert cmd.rc == 0, cmd.stderr
    return json.loads(cmd.stdout)


@pytest.fixture(scope="module")
def docker_info(host):
    return docker_json(host, "info", "--format", "'{{json .}}'")


@pytest.fixture(scope="module")
def probe_image(host):
    """One static busybox binary (a shell, cat, wget, httpd...) and a page to serve."""
    applets = " ".join(PROBE_APPLETS)
    script = (
        "set -e; d=$(mktemp -d); mkdir -p $d/bin $d/www; cp /bin/busybox $d/bin/; "
        f"for a in {applets}; do ln -s busybox $d/bin/$a; done; "
        "echo bulwark-ok > $d/www/index.html; "
        f"tar -C $d -c . | docker import - {PROBE_IMAGE} >/dev/null; rm -rf $d"
    )
    host.run_expect([0], f"sh -c '{script}'")
    return PROBE_IMAGE
