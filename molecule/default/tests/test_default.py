"""Verify, inside each instance, that the hardened daemon settings are in effect.

Everything is read from the running daemon (docker info, docker inspect) or
from inside a container it started, not from daemon.json alone.
"""

import json

import pytest

PROBE_IMAGE = "bulwark-probe:latest"


def _docker_json(host, *args):
    cmd = host.run("docker " + " ".join(args))
    assert cmd.rc == 0, cmd.stderr
    return json.loads(cmd.stdout)


@pytest.fixture(scope="module")
def docker_info(host):
    return _docker_json(host, "info", "--format", "'{{json .}}'")


@pytest.fixture(scope="module")
def probe_image(host):
    """A one-binary image built inside the instance from busybox-static (nothing is pulled)."""
    script = (
        "set -e; d=$(mktemp -d); mkdir -p $d/bin; cp /bin/busybox $d/bin/; "
        "for a in sh cat sleep grep; do ln -s busybox $d/bin/$a; done; "
        f"tar -C $d -c . | docker import - {PROBE_IMAGE} >/dev/null; rm -rf $d"
    )
    host.run_expect([0], f"sh -c '{script}'")
    return PROBE_IMAGE


@pytest.fixture(scope="module")
def probe_container(host, probe_image):
    name = "bulwark-verify-probe"
    host.run(f"docker rm -f {name}")
    host.run_expect([0], f"docker run -d --name {name} {probe_image} sleep 600")
    yield name
    host.run(f"docker rm -f {name}")


def test_daemon_runs_under_systemd(host):
    assert host.service("docker").is_running


def test_live_restore_is_enabled(docker_info):
    assert docker_info["LiveRestoreEnabled"] is True


def test_logging_driver_is_local(docker_info):
    assert docker_info["LoggingDriver"] == "local"


def test_icc_is_off_on_the_default_bridge(host):
    bridge = _docker_json(host, "network", "inspect", "bridge")[0]
    assert bridge["Options"]["com.docker.network.bridge.enable_icc"] == "false"


def test_container_runs(host, probe_container):
    state = _docker_json(host, "inspect", probe_container)[0]["State"]
    assert state["Running"] is True


def test_container_logs_are_rotated(host, probe_container):
    log_config = _docker_json(host, "inspect", probe_container)[0]["HostConfig"]["LogConfig"]
    assert log_config["Type"] == "local"
    assert log_config["Config"] == {"max-size": "10m", "max-file": "5"}


def test_container_cannot_gain_privileges(host, probe_container):
    status = host.check_output(f"docker exec {probe_container} cat /proc/self/status")
    assert "NoNewPrivs:\t1" in status


def test_daemon_json_is_root_owned_and_not_writable_by_others(host):
    daemon_json = host.file("/etc/docker/daemon.json")
    assert daemon_json.user == "root"
    assert daemon_json.group == "root"
    assert daemon_json.mode & 0o022 == 0
