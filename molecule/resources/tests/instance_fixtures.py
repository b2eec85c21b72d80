"""Verifier fixtures shared by the Molecule scenarios (container instances and
VMs): the daemon's state read once, a probe image built inside the target
from its own busybox-static (nothing can be pulled), a running container of
it, and a userland image that borrows the target's /usr.

A scenario's conftest.py puts this folder on sys.path and imports the
fixtures it wants, which registers them with pytest."""

import json

import pytest

PROBE_IMAGE = "bulwark-probe:latest"
USERLAND_IMAGE = "bulwark-userland:latest"
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


@pytest.fixture(scope="module")
def userland_image(host):
    """An empty image whose /bin, /lib and /lib64 point into /usr, run with the
    target's own /usr bind-mounted read-only: a full Debian userland
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
    """A running container of the probe image, for checks that need one."""
    name = "bulwark-verify-probe"
    host.run(f"docker rm -f {name}")
    host.run_expect([0], f"docker run -d --name {name} {probe_image} sleep 3600")
    yield name
    host.run(f"docker rm -f {name}")
