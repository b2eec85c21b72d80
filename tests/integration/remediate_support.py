"""Shared by the test_remediate_*.py integration tests: containers of their own, the module run with a journal
directory of the test's own, and clean-up of exactly what they made.

Every object is named bwrm-<test>-... and labelled bulwark.test=1; clean() removes only containers, networks
and volumes whose name starts with the test's own prefix and that carry the label.
"""

import os
import socket
import time

from ansible_collections.bulwark.hardening.tests.integration.adhoc import run_module
from ansible_collections.bulwark.hardening.tests.integration.images import USERLAND_BIND, docker_api, ensure_sleeper_image, ensure_userland_image

DOCKER_HOST = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
LABELS = {"bulwark.test": "1"}
USERLAND = "bulwark-test/userland:latest"
SLEEPER = "bulwark-test/sleeper:latest"


def engine():
    api = docker_api(timeout=60)
    ensure_sleeper_image(api)
    ensure_userland_image(api)
    return api


def clean(api, prefix):
    """Remove what a test made: its prefix and the test label, both."""
    for container in api.containers(all=True, filters={"label": "bulwark.test=1", "name": prefix}):
        if any(name.lstrip("/").startswith(prefix) for name in container.get("Names") or []):
            api.remove_container(container["Id"], force=True, v=True)
    for network in api.networks(filters={"label": "bulwark.test=1"}):
        if network["Name"].startswith(prefix):
            api.remove_network(network["Id"])
    for volume in (api.volumes(filters={"label": "bulwark.test=1"}) or {}).get("Volumes") or []:
        if volume["Name"].startswith(prefix):
            api.remove_volume(volume["Name"], force=True)


def run_container(api, name, image=USERLAND, command=None, labels=None, config=None, start=True, **host):
    """Create (and start) a container; the userland image gets the host's /usr read-only. Config keys in config,
    HostConfig keys as keywords. Returns its id."""
    if image == USERLAND:
        host["binds"] = list(host.get("binds") or []) + [USERLAND_BIND]
    created = api.create_container(image, name=name, command=command, labels=dict(LABELS, **(labels or {})),
                                   stop_timeout=(config or {}).pop("stop_timeout", 1),
                                   host_config=api.create_host_config(**host), **(config or {}))
    if start:
        api.start(created["Id"])
    return created["Id"]


def remediate(args, state_dir, check=False, diff=False):
    """container_remediate on this machine's Engine with the test's own journal directory."""
    base = {"docker_host": DOCKER_HOST, "grace_period": 1, "state_dir": str(state_dir)}
    return run_module("container_remediate", dict(base, **args), check=check, diff=diff)


def entry(result, name):
    """The result's entry for one container."""
    found = [item for item in result.get("containers", []) if item["name"] == name]
    assert found, "no entry for %s in %s" % (name, result.get("msg") or result.get("containers"))
    return found[0]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(host, port, seconds=15):
    """Until a server answers on host:port (keeps the connection open or sends something)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if answers(host, port):
            return
        time.sleep(0.2)
    raise AssertionError("nothing answers on %s:%d" % (host, port))


def answers(host, port):
    """A service answers: the connection is accepted and not closed at once (docker-proxy accepts and closes
    when nothing listens behind it)."""
    try:
        with socket.create_connection((host, port), timeout=1) as connection:
            connection.settimeout(0.3)
            try:
                return connection.recv(1) != b""
            except socket.timeout:
                return True
    except OSError:
        return False


def aside_containers(api, name):
    """Containers named <name>-bulwark-old-... or -bulwark-new-..."""
    found = []
    for container in api.containers(all=True, filters={"name": name + "-bulwark-"}):
        found.extend(n.lstrip("/") for n in container.get("Names") or [])
    return found
