"""Safe change: check mode changes nothing; a change that would break the
daemon is refused before anything is written; a configuration dockerd
refuses, or with which it cannot run a container, is rolled back with the
daemon and its containers up; a healthy daemon is never rolled back; a
setting dockerd cannot apply while containers run is pending, not rolled
back; remapping that would hide what runs is left open; an interrupted
change is finished by the next run.

These run a real ansible-playbook (harden.yml) against the instance and put
back what they change, so they can run in any order after converge."""

import json

import pytest

from conftest import docker_json, run_playbook

DAEMON_JSON = "/etc/docker/daemon.json"
UNHARDENED = {"debug": False}
DENY_EXEC_PROFILE = "/etc/docker/bulwark-test-deny-exec.json"
# Well-formed (every check before the restart passes it, dockerd --validate included) and refused
# by dockerd at start, whatever runs: no such storage driver.
REFUSED_AT_START = {"storage-driver": "bulwark-no-such-driver"}
REFUSED_WORDS = "bulwark-no-such-driver"


def harden(host, *extra_vars, check=False):
    """Run harden.yml against this instance with extra variables (dicts)."""
    args = [arg for variables in extra_vars for arg in ("-e", json.dumps(variables))]
    return run_playbook(host, "bulwark.hardening.harden", *args, *(["--check", "--diff"] if check else []))


def output(result):
    return result.stdout + result.stderr


def checksum(host, path):
    return host.check_output(f"sha256sum {path}").split()[0]


def dockerd_started(host):
    """When the running dockerd started (changes with every restart)."""
    return host.check_output("systemctl show --property=ExecMainStartTimestampMonotonic docker.service")


def dockerd_hard_limit(host, name="Max open files"):
    return int(host.check_output(f"grep '^{name}' /proc/$(pidof dockerd)/limits").split()[-2])


def wait_for_docker(host):
    host.run_expect([0], "for i in $(seq 1 60); do docker info >/dev/null 2>&1 && exit 0; sleep 1; done; exit 1")


@pytest.fixture
def unhardened_daemon_json(host):
    """daemon.json as on a fresh host (the running daemon keeps its settings:
    nothing is restarted); the hardened file is put back afterwards."""
    host.run_expect([0], f"cp -p {DAEMON_JSON} {DAEMON_JSON}.verify-saved")
    host.run_expect([0], f"sh -c 'echo {json.dumps(json.dumps(UNHARDENED))} > {DAEMON_JSON}'")
    yield
    host.run_expect([0], f"mv {DAEMON_JSON}.verify-saved {DAEMON_JSON}")


@pytest.fixture
def no_daemon_json(host):
    """A daemon running without any daemon.json, as on a fresh host; the
    hardened configuration is put back and dockerd restarted afterwards."""
    host.run_expect([0], f"mv {DAEMON_JSON} {DAEMON_JSON}.verify-saved")
    host.run_expect([0], "systemctl reset-failed docker.service; systemctl restart docker.service")
    wait_for_docker(host)
    yield
    host.run(f"mv {DAEMON_JSON}.verify-saved {DAEMON_JSON}")
    host.run_expect([0], "systemctl reset-failed docker.service; systemctl restart docker.service")
    wait_for_docker(host)


@pytest.fixture
def restore_defaults(host):
    """Run the plain harden.yml afterwards, so the next test finds the hardened defaults."""
    yield
    result = harden(host)
    assert result.returncode == 0, output(result)[-3000:]


def test_check_diff_shows_the_change_and_changes_nothing(host, unhardened_daemon_json):
    before = checksum(host, DAEMON_JSON)
    started = dockerd_started(host)
    result = harden(host, check=True)
    assert result.returncode == 0, output(result)[-3000:]
    assert '+  "icc": false' in result.stdout, result.stdout[-3000:]
    assert '+  "live-restore": true' in result.stdout
    assert checksum(host, DAEMON_JSON) == before
    assert dockerd_started(host) == started


def test_a_config_dockerd_refuses_is_removed_when_there_was_no_daemon_json(host, no_daemon_json):
    # Well-formed, so it passes every check before the restart; dockerd refuses it at start.
    running = host.check_output("docker ps -q").split()
    result = harden(host, {"docker_daemon_extra_settings": REFUSED_AT_START,
                           "docker_daemon_userns_confirm_existing": True})
    assert result.returncode != 0
    assert "dockerd did not come up as configured" in output(result), output(result)[-3000:]
    assert REFUSED_WORDS in output(result), output(result)[-3000:]  # dockerd's own words
    assert "previous configuration is back" in output(result)
    if running:
        # The brownfield app's `restart: always` service came back when dockerd started without
        # daemon.json: the roll-back keeps live-restore on, alone (dockerd starting without it would stop
        # what the change kept running), and says so.
        assert json.loads(host.file(DAEMON_JSON).content_string) == {"live-restore": True}
        assert "live-restore kept on" in output(result), output(result)[-3000:]
    else:
        assert not host.file(DAEMON_JSON).exists, "the refused daemon.json was left in place"
    assert host.service("docker").is_running
    assert host.run("docker info").rc == 0


def test_a_config_dockerd_refuses_is_rolled_back(host, probe_container):
    config_before = checksum(host, DAEMON_JSON)
    started_before = docker_json(host, "inspect", probe_container)[0]["State"]["StartedAt"]
    result = harden(host, {"docker_daemon_extra_settings": REFUSED_AT_START})
    assert result.returncode != 0
    assert REFUSED_WORDS in output(result), output(result)[-3000:]
    assert "previous configuration is back" in output(result)
    assert checksum(host, DAEMON_JSON) == config_before
    assert host.service("docker").is_running
    state = docker_json(host, "inspect", probe_container)[0]["State"]
    assert state["Running"] is True
    assert state["StartedAt"] == started_before, "the container was restarted"


def test_a_daemon_that_cannot_run_containers_is_rolled_back(host, probe_container):
    # A valid seccomp profile that refuses exec: dockerd starts and answers docker info,
    # and then every container fails. Only starting one shows it.
    profile = {"defaultAction": "SCMP_ACT_ALLOW",
               "syscalls": [{"names": ["execve", "execveat"], "action": "SCMP_ACT_ERRNO"}]}
    host.run_expect([0], f"sh -c 'echo {json.dumps(json.dumps(profile))} > {DENY_EXEC_PROFILE}'")
    config_before = checksum(host, DAEMON_JSON)
    started_before = docker_json(host, "inspect", probe_container)[0]["State"]["StartedAt"]
    try:
        result = harden(host, {"docker_daemon_extra_settings": {"seccomp-profile": DENY_EXEC_PROFILE}})
    finally:
        host.run(f"rm -f {DENY_EXEC_PROFILE}")
    assert result.returncode != 0
    assert "containers cannot run" in output(result), output(result)[-3000:]
    assert "previous configuration is back" in output(result)
    assert checksum(host, DAEMON_JSON) == config_before
    assert docker_json(host, "inspect", probe_container)[0]["State"]["StartedAt"] == started_before
    image = docker_json(host, "inspect", probe_container)[0]["Config"]["Image"]
    assert host.run(f"docker run --rm {image} sh -c 'exit 0'").rc == 0, "containers do not start after the roll-back"


def test_default_ulimits_above_dockerds_own_limit_are_refused_before_anything_changes(host):
    # As with Docker inside LXC or a container: dockerd cannot raise its own hard limit.
    hard = dockerd_hard_limit(host)
    config_before, started = checksum(host, DAEMON_JSON), dockerd_started(host)
    result = harden(host, {"docker_daemon_default_ulimits": {
        "nofile": {"Name": "nofile", "Soft": hard + 1, "Hard": hard + 1}}})
    assert result.returncode != 0
    assert "docker_daemon_default_ulimits" in output(result), output(result)[-3000:]
    assert f"hard limit {hard}" in output(result)
    assert checksum(host, DAEMON_JSON) == config_before
    assert dockerd_started(host) == started


@pytest.mark.parametrize("change", [{}, {"docker_daemon_userns_user": "otherremap"}], ids=["defaults", "other-remap-user"])
def test_remapping_that_would_hide_what_runs_is_left_open_and_says_how_to_confirm(host, change):
    # The instance ran the brownfield app before harden: remapping would move dockerd to another data
    # root and hide its containers, images and volumes. Left as it is, without a restart, and said.
    config_before, started = checksum(host, DAEMON_JSON), dockerd_started(host)
    result = harden(host, change)
    assert result.returncode == 0, output(result)[-3000:]
    assert "docker_daemon_userns_confirm_existing" in output(result), output(result)[-3000:]
    assert "container" in output(result) and "image" in output(result)
    assert checksum(host, DAEMON_JSON) == config_before
    assert dockerd_started(host) == started


def test_a_role_key_overridden_by_extra_settings_is_verified_from_the_file(host, restore_defaults):
    # The restart checks the daemon against the file it wrote, not against role variables:
    # a healthy daemon with the override is kept.
    result = harden(host, {"docker_daemon_extra_settings": {"log-driver": "journald", "log-opts": None}})
    assert result.returncode == 0, output(result)[-3000:]
    assert host.check_output("docker info --format '{{.LoggingDriver}}'") == "journald"


def test_an_interrupted_change_is_finished_by_the_next_run(host, restore_defaults, probe_image):
    # The task after daemon.json fails: the daemon's file modes cannot be fixed (a file
    # they cover is group-writable on a read-only bind mount; not world-writable, which
    # the host role would try to fix first), so the play stops between writing
    # daemon.json and restarting dockerd.
    stuck = "/etc/default/docker"
    host.run_expect([0], f"test -f {stuck} || touch {stuck}; cp -p {stuck} {stuck}.verify-saved; chmod 0664 {stuck}")
    host.run_expect([0], f"mount --bind {stuck} {stuck} && mount -o remount,ro,bind {stuck}")
    started = dockerd_started(host)
    try:
        interrupted = harden(host, {"docker_daemon_log_max_file": 3})
    finally:
        host.run_expect([0], f"umount {stuck} && mv {stuck}.verify-saved {stuck}")
    assert interrupted.returncode != 0
    assert stuck in output(interrupted) and "Read-only file system" in output(interrupted), output(interrupted)[-3000:]
    assert '"max-file": "3"' in host.file(DAEMON_JSON).content_string
    assert dockerd_started(host) == started, "the interrupted run restarted dockerd"

    # The next run has nothing left to write, and still restarts and verifies.
    result = harden(host, {"docker_daemon_log_max_file": 3})
    assert result.returncode == 0, output(result)[-3000:]
    assert dockerd_started(host) != started, "the interrupted change was not applied"
    name = "bulwark-verify-logs"
    host.run_expect([0], f"docker create --name {name} {probe_image} true")
    try:
        assert docker_json(host, "inspect", name)[0]["HostConfig"]["LogConfig"]["Config"]["max-file"] == "3"
    finally:
        host.run(f"docker rm -f {name}")


def test_a_bridge_setting_dockerd_cannot_apply_while_containers_run_is_pending_not_rolled_back(
        host, probe_container, restore_defaults):
    # With live-restore and running containers, dockerd keeps its default bridge and applies a new bip
    # only once it makes the bridge again (no container running at a restart). Not a failure, never a
    # roll-back (a roll-back restarts dockerd once more): kept in daemon.json and reported pending.
    started_before = docker_json(host, "inspect", probe_container)[0]["State"]["StartedAt"]
    result = harden(host, {"docker_daemon_extra_settings": {"bip": "10.213.0.1/24"}})
    assert result.returncode == 0, output(result)[-3000:]
    assert "pending" in output(result) and "bip" in output(result), output(result)[-3000:]
    assert json.loads(host.file(DAEMON_JSON).content_string)["bip"] == "10.213.0.1/24"
    state = docker_json(host, "inspect", probe_container)[0]["State"]
    assert state["Running"] is True and state["StartedAt"] == started_before


def test_an_invalid_value_is_refused_before_anything_is_written(host):
    config_before = checksum(host, DAEMON_JSON)
    result = harden(host, {"docker_daemon_extra_settings": {"live-restore": "yes please"}})
    assert result.returncode != 0
    assert "key 'live-restore' must be a boolean" in output(result), output(result)[-3000:]
    assert checksum(host, DAEMON_JSON) == config_before
