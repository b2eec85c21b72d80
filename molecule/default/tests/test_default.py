"""The hardened daemon's settings are in effect, read from the running daemon
(docker info, docker inspect) and from inside containers it starts."""

from conftest import docker_json


def test_daemon_runs_under_systemd(host):
    assert host.service("docker").is_running


def test_live_restore_is_enabled(docker_info):
    assert docker_info["LiveRestoreEnabled"] is True


def test_logging_driver_is_local(docker_info):
    assert docker_info["LoggingDriver"] == "local"


def test_user_namespaces_are_remapped(docker_info):
    assert any(opt.startswith("name=userns") for opt in docker_info["SecurityOptions"])


def test_hardened_seccomp_profile_is_the_default(host, docker_info):
    seccomp = [opt for opt in docker_info["SecurityOptions"] if opt.startswith("name=seccomp")]
    assert seccomp, docker_info["SecurityOptions"]
    assert "profile=builtin" not in seccomp[0] and "profile=default" not in seccomp[0], seccomp


def test_icc_is_off_on_the_default_bridge(host):
    bridge = docker_json(host, "network", "inspect", "bridge")[0]
    assert bridge["Options"]["com.docker.network.bridge.enable_icc"] == "false"


def test_container_runs(host, probe_container):
    state = docker_json(host, "inspect", probe_container)[0]["State"]
    assert state["Running"] is True


def test_container_root_is_remapped_to_an_unprivileged_range(host, probe_container):
    uid_map = host.check_output(f"docker exec {probe_container} cat /proc/self/uid_map").split()
    inside, outside, count = (int(field) for field in uid_map[:3])
    assert inside == 0
    assert outside >= 100000, uid_map
    assert count == 65536


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


def test_content_trust_is_on_for_login_shells(host):
    assert host.run("bash -lc 'echo $DOCKER_CONTENT_TRUST'").stdout.strip() == "1"
