"""Safe change: check mode changes nothing, and a configuration dockerd
refuses is rolled back with the daemon and its containers still up.

These run a real ansible-playbook against the instance. They restore what
they change, so they can run in any order after converge."""

import json

import pytest

from conftest import docker_json, run_playbook

DAEMON_JSON = "/etc/docker/daemon.json"
UNHARDENED = {"debug": False}


@pytest.fixture
def unhardened_daemon_json(host):
    """daemon.json as on a fresh host (the running daemon keeps its settings:
    nothing is restarted); the hardened file is put back afterwards."""
    host.run_expect([0], f"cp -p {DAEMON_JSON} {DAEMON_JSON}.verify-saved")
    host.run_expect([0], f"sh -c 'echo {json.dumps(json.dumps(UNHARDENED))} > {DAEMON_JSON}'")
    yield
    host.run_expect([0], f"mv {DAEMON_JSON}.verify-saved {DAEMON_JSON}")


def _checksum(host, path):
    return host.check_output(f"sha256sum {path}").split()[0]


def test_check_diff_shows_the_change_and_changes_nothing(host, unhardened_daemon_json):
    before = _checksum(host, DAEMON_JSON)
    result = run_playbook(host, "bulwark.hardening.harden", "--check", "--diff")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert '+  "icc": false' in result.stdout, result.stdout[-3000:]
    assert '+  "live-restore": true' in result.stdout
    assert _checksum(host, DAEMON_JSON) == before


def test_a_value_dockerd_refuses_is_rolled_back(host, probe_container):
    config_before = _checksum(host, DAEMON_JSON)
    started_before = docker_json(host, "inspect", probe_container)[0]["State"]["StartedAt"]

    # Well-formed, so it passes daemon_config's checks; dockerd itself
    # refuses to start without the profile file.
    missing_profile = "/etc/docker/no-such-profile.json"
    result = run_playbook(host, "bulwark.hardening.harden",
                          "-e", json.dumps({"docker_daemon_extra_settings": {"seccomp-profile": missing_profile}}))

    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"opening seccomp profile ({missing_profile}) failed" in output, output[-3000:]
    assert "previous daemon.json is back" in output
    assert _checksum(host, DAEMON_JSON) == config_before
    assert host.service("docker").is_running
    state = docker_json(host, "inspect", probe_container)[0]["State"]
    assert state["Running"] is True
    assert state["StartedAt"] == started_before, "the container was restarted"


def test_an_invalid_value_is_refused_before_anything_is_written(host):
    config_before = _checksum(host, DAEMON_JSON)
    result = run_playbook(host, "bulwark.hardening.harden",
                          "-e", json.dumps({"docker_daemon_extra_settings": {"live-restore": "yes please"}}))
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "key 'live-restore' must be a boolean" in output, output[-3000:]
    assert _checksum(host, DAEMON_JSON) == config_before
