"""The hardened daemon's settings are in effect, read from the running daemon
(docker info, docker inspect) and from inside containers it starts.

The instances ran a Compose app before harden (test_brownfield.py), so what
the roles leave alone on such a host is checked as left alone, with the
audit saying why: user namespaces stay as they were (remapping would hide
the app; the VM scenario proves remapping on fresh hosts), icc waits for the
default bridge to be free, content trust waits for signed images."""

import json

from audit_proof import audit_target
from conftest import docker_json
from daemon_checks import (  # noqa: F401  pylint: disable=unused-import
    test_dockerd_runs_under_systemd,
    test_live_restore_is_enabled,
    test_logging_driver_is_local,
)


def test_user_namespaces_are_left_as_they_were_on_a_host_that_runs_containers(host, docker_info):
    assert not any(opt.startswith("name=userns") for opt in docker_info["SecurityOptions"])
    assert "userns-remap" not in json.loads(host.file("/etc/docker/daemon.json").content_string)


def test_hardened_seccomp_profile_is_the_default(host, docker_info):
    seccomp = [opt for opt in docker_info["SecurityOptions"] if opt.startswith("name=seccomp")]
    assert seccomp, docker_info["SecurityOptions"]
    assert "profile=builtin" not in seccomp[0] and "profile=default" not in seccomp[0], seccomp


def _finding(host, rule, scope):
    (finding,) = [finding for finding in audit_target(host, scope=scope)["findings"] if finding["rule"] == rule]
    return finding


def test_icc_is_off_in_daemon_json_and_pending_on_the_bridge_the_app_holds(host, docker_info):
    # dockerd applies icc when it makes its default bridge, which it keeps while containers run across
    # its restart (live-restore): the app ran through every restart here, so the setting is pending, and
    # the audit says so instead of passing it.
    assert json.loads(host.file("/etc/docker/daemon.json").content_string)["icc"] is False
    bridge = docker_json(host, "network", "inspect", "bridge")[0]
    assert bridge["Options"]["com.docker.network.bridge.enable_icc"] == "true"
    assert docker_info["ContainersRunning"] > 0
    finding = _finding(host, "2.2", "daemon")
    assert finding["status"] == "fail" and finding["left_open"].startswith("pending: "), finding


def test_container_runs(host, probe_container):
    state = docker_json(host, "inspect", probe_container)[0]["State"]
    assert state["Running"] is True


def test_container_logs_are_rotated(host, probe_container):
    log_config = docker_json(host, "inspect", probe_container)[0]["HostConfig"]["LogConfig"]
    assert log_config["Type"] == "local"
    assert log_config["Config"] == {"max-size": "10m", "max-file": "5"}


def test_container_cannot_gain_privileges(host, probe_container):
    status = host.check_output(f"docker exec {probe_container} cat /proc/self/status")
    assert "NoNewPrivs:\t1" in status
    assert "Seccomp:\t2" in status


def test_container_gets_the_default_ulimits(host, probe_container):
    limits = host.check_output(f"docker exec {probe_container} cat /proc/self/limits")
    assert [line.split()[3:5] for line in limits.splitlines() if line.startswith("Max open files")] == [["16384", "16384"]]
    assert [line.split()[2:4] for line in limits.splitlines() if line.startswith("Max processes")] == [["8192", "16384"]]


def test_daemon_json_is_root_owned_and_not_writable_by_others(host):
    daemon_json = host.file("/etc/docker/daemon.json")
    assert daemon_json.user == "root"
    assert daemon_json.group == "root"
    assert daemon_json.mode & 0o022 == 0


def test_docker_socket_is_root_docker_0660(host):
    socket = host.file("/var/run/docker.sock")
    assert (socket.user, socket.group) == ("root", "docker")
    assert socket.mode & ~0o660 & 0o7777 == 0


def test_content_trust_was_left_off_over_the_apps_local_images_with_the_reason(host):
    # The app's images were built on the instance (no registry digest): with content trust the docker
    # CLI could no longer run them by name, so the role left 4.5 open and the audit says why.
    assert host.run("bash -lc 'echo ${DOCKER_CONTENT_TRUST:-}'").stdout.strip() == ""
    finding = _finding(host, "4.5", "images")
    assert finding["status"] == "fail" and "built or imported on this host" in finding["left_open"], finding
