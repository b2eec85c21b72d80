# -*- coding: utf-8 -*-
"""Restarting dockerd through systemd: the systemctl calls, waiting for the API, live-restore first, verification, roll-back.

No systemd and no Docker: systemctl and journalctl are a recording fake `run`,
the Engine API is a fake client, and the clock is fake so no test waits.
"""

from __future__ import annotations

import json

import pytest
from docker.errors import APIError
from requests.exceptions import ConnectionError as RequestsConnectionError

from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd import service
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.bridge import ICC_OPTION
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.restart import Checkpoint
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.service import (
    DockerService, RestartFailed, enable_live_restore_first, out_of_step, restart_verified, roll_back, running_containers,
    start_again,
)
from ansible_collections.bulwark.hardening.plugins.module_utils.engine import probe
from ansible_collections.bulwark.hardening.plugins.module_utils.engine.connection import EngineError

SERVICE = "docker.service"
REFUSED = RequestsConnectionError("('Connection aborted.', ConnectionRefusedError(111, 'Connection refused'))")
BRIDGE = {"Name": "bridge", "Options": {ICC_OPTION: "false", "com.docker.network.driver.mtu": "1500"}}
# The probe container's inspect under log-opts max-size 10m.
PROBE_INSPECT = {"Id": "4f1c0e", "HostConfig": {"LogConfig": {"Type": "json-file", "Config": {"max-size": "10m"}}}}
X86_64 = {"Architecture": "x86_64"}
FATAL = 'time="2026-11-25T10:00:01Z" level=fatal msg="unable to configure the Docker daemon with file /etc/docker/daemon.json"'


class FakeClient(object):
    """The Engine API, recording the calls made.

    `info` answers from a list (the last answer repeats), `inspect_network` with the bridge,
    other calls from `answers`; an answer that is an exception is raised.
    """

    docker_host = "unix:///var/run/docker.sock"

    def __init__(self, infos, bridge, answers=None):
        self.infos = list(infos)
        self.bridge = bridge
        self.answers = answers or {}
        self.calls = []

    def call(self, name, *args, **kwargs):
        self.calls.append(name)
        if name == "info":
            answer = self.infos.pop(0) if len(self.infos) > 1 else self.infos[0]
        elif name == "inspect_network":
            answer = self.bridge
        elif name in self.answers:
            answer = self.answers[name]
        else:
            raise AssertionError("unexpected API call %s%r %r" % (name, args, kwargs))
        if isinstance(answer, Exception):
            raise answer
        return answer


class FakeSystem(object):
    """systemctl and journalctl: records each argv and its timeout; a verb in `failing` fails with that stderr."""

    def __init__(self, failing=None, journal="", status=""):
        self.failing = failing or {}
        self.journal = journal
        self.status = status
        self.commands = []
        self.timeouts = set()

    def __call__(self, argv, timeout):
        self.commands.append(argv)
        self.timeouts.add(timeout)
        if argv[0] == "journalctl":
            return 0, self.journal, ""
        if argv[1] == "status":
            return 3, self.status, ""
        if argv[1] in self.failing:
            return 1, "", self.failing[argv[1]]
        return 0, "", ""


class FakeClock(object):
    """time.monotonic and time.sleep: sleeping moves the clock on at once."""

    def __init__(self):
        self.now = 1000.0
        self.slept = []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(service, "time", fake)
    return fake


@pytest.fixture
def probe_run(monkeypatch):
    """engine.probe.run_probe answering (started, detail, inspect) from .answer; .calls records (architecture, timeout)."""
    class ProbeRun(object):
        def __init__(self):
            self.answer = (True, "a container started and exited 0", PROBE_INSPECT)
            self.calls = []

        def __call__(self, call, architecture, timeout=30):
            self.calls.append((architecture, timeout))
            return self.answer

    fake = ProbeRun()
    monkeypatch.setattr(probe, "run_probe", fake)
    return fake


def daemon_with(infos=None, system=None, timeout=5, bridge=None, answers=None):
    client = FakeClient(infos or [X86_64], bridge or BRIDGE, answers)
    return DockerService(client, SERVICE, timeout, run=system or FakeSystem())


# --- restart -------------------------------------------------------------------------

def test_restart_reloads_units_then_clears_the_start_limit_then_restarts():
    system = FakeSystem()
    daemon_with(system=system).restart()
    assert system.commands == [["systemctl", "daemon-reload"], ["systemctl", "reset-failed", SERVICE],
                               ["systemctl", "restart", SERVICE]]


def test_every_systemctl_call_is_bounded_by_the_timeout():
    system = FakeSystem()
    daemon_with(system=system, timeout=17).restart()
    assert system.timeouts == {17}


def test_a_failing_systemctl_call_raises_naming_the_call_and_its_stderr():
    system = FakeSystem(failing={"restart": "Job for docker.service failed because the control process exited.\n"})
    with pytest.raises(RestartFailed, match=r"^systemctl restart docker.service: Job for docker.service failed because "
                                            r"the control process exited\.$"):
        daemon_with(system=system).restart()


def test_a_failure_stops_the_sequence():
    system = FakeSystem(failing={"daemon-reload": "Access denied"})
    with pytest.raises(RestartFailed, match="^systemctl daemon-reload: Access denied$"):
        daemon_with(system=system).restart()
    assert system.commands == [["systemctl", "daemon-reload"]]


def test_a_silent_failure_names_the_exit_status():
    with pytest.raises(RestartFailed, match="^systemctl reset-failed docker.service: rc 1$"):
        daemon_with(system=FakeSystem(failing={"reset-failed": ""})).restart()


# --- wait_for_api ----------------------------------------------------------------------

def test_wait_for_api_returns_info_once_the_api_answers(clock):
    daemon = daemon_with(infos=[REFUSED, REFUSED, {"ServerVersion": "20.10.24"}])
    assert daemon.wait_for_api("dockerd did not come back") == {"ServerVersion": "20.10.24"}
    assert daemon.client.calls == ["info"] * 3
    assert clock.slept == [1, 1]


def test_wait_for_api_gives_up_after_the_timeout_with_the_last_error(clock):
    daemon = daemon_with(infos=[REFUSED], timeout=3)
    with pytest.raises(RestartFailed) as raised:
        daemon.wait_for_api("dockerd did not come back")
    assert str(raised.value).startswith("dockerd did not come back within 3 s: Cannot reach the Docker API at "
                                        "unix:///var/run/docker.sock: connection refused.")
    assert clock.now == 1003


def test_wait_for_api_with_no_time_at_all_says_the_api_did_not_answer():
    with pytest.raises(RestartFailed, match="^dockerd did not come back within 0 s: the Docker API did not answer$"):
        daemon_with(timeout=0).wait_for_api("dockerd did not come back")


# --- enable_live_restore_first -------------------------------------------------------------

@pytest.mark.parametrize("config", [{}, {"live-restore": False}])
def test_live_restore_not_asked_for_touches_nothing(config):
    system = FakeSystem()
    daemon = daemon_with(system=system)
    enable_live_restore_first(daemon, config, warn=pytest.fail)
    assert (daemon.client.calls, system.commands) == ([], [])


def test_live_restore_already_on_needs_no_reload():
    system = FakeSystem()
    enable_live_restore_first(daemon_with(infos=[{"LiveRestoreEnabled": True}], system=system), {"live-restore": True},
                              warn=pytest.fail)
    assert system.commands == []


def test_live_restore_is_turned_on_by_a_reload_and_waited_for(clock):
    system = FakeSystem()
    daemon = daemon_with(infos=[{"LiveRestoreEnabled": False}, {"LiveRestoreEnabled": False}, {"LiveRestoreEnabled": True}],
                         system=system)
    assert enable_live_restore_first(daemon, {"live-restore": True}, warn=pytest.fail) is True
    assert system.commands == [["systemctl", "reload", SERVICE]]
    assert daemon.client.calls == ["info"] * 3
    assert clock.slept == [1]


def test_a_failing_reload_warns_and_says_live_restore_is_off():
    warnings = []
    daemon = daemon_with(infos=[{"LiveRestoreEnabled": False}], system=FakeSystem(failing={"reload": "Unit not loaded"}))
    assert enable_live_restore_first(daemon, {"live-restore": True}, warnings.append) is False
    assert warnings == ["live-restore could not be turned on before the restart: systemctl reload docker.service: "
                        "Unit not loaded"]


def test_live_restore_that_never_turns_on_only_warns_after_the_timeout(clock):
    warnings = []
    enable_live_restore_first(daemon_with(infos=[{"LiveRestoreEnabled": False}], timeout=2), {"live-restore": True},
                              warnings.append)
    assert len(warnings) == 1
    assert warnings[0].endswith("live-restore did not turn on by a reload within 2 s")
    assert clock.now > 1002


def test_an_unreachable_api_only_warns():
    warnings = []
    enable_live_restore_first(daemon_with(infos=[REFUSED]), {"live-restore": True}, warnings.append)
    assert len(warnings) == 1
    assert "Cannot reach the Docker API at unix:///var/run/docker.sock" in warnings[0]


# --- restart_verified ----------------------------------------------------------------------

def test_a_verified_restart_says_what_it_saw(clock, probe_run):
    system = FakeSystem()
    daemon = daemon_with(infos=[{"Architecture": "x86_64", "LiveRestoreEnabled": True}], system=system, timeout=9)
    config = {"live-restore": True, "icc": False, "log-opts": {"max-size": "10m"}, "no-new-privileges": True}
    result = restart_verified(daemon, config)
    assert result == {"probe": "a container started and exited 0", "verified": ["icc", "live-restore", "log-opts"],
                      "unverified": ["no-new-privileges"]}
    assert system.commands[-1] == ["systemctl", "restart", SERVICE]
    assert probe_run.calls == [("x86_64", 9)]
    assert clock.slept == []


def test_a_setting_that_settles_on_the_second_look_passes(clock, probe_run):
    daemon = daemon_with(infos=[{"Architecture": "x86_64", "LiveRestoreEnabled": False},
                                {"Architecture": "x86_64", "LiveRestoreEnabled": True}])
    assert restart_verified(daemon, {"live-restore": True})["verified"] == ["live-restore"]
    assert clock.slept == [service.SETTLE_SECONDS]


def test_a_setting_the_daemon_does_not_show_after_settling_fails(clock, probe_run):
    daemon = daemon_with(infos=[{"Architecture": "x86_64", "LiveRestoreEnabled": False}])
    with pytest.raises(RestartFailed, match="^live-restore is true in daemon.json but the daemon reports false$"):
        restart_verified(daemon, {"live-restore": True})
    assert daemon.client.calls == ["info", "info"]
    assert clock.slept == [service.SETTLE_SECONDS]
    assert probe_run.calls == []


def test_a_bridge_setting_is_read_from_the_default_bridge(clock, probe_run):
    daemon = daemon_with(bridge=dict(BRIDGE, Options={ICC_OPTION: "true"}))
    with pytest.raises(RestartFailed, match='^icc is false in daemon.json but the daemon reports "true"$'):
        restart_verified(daemon, {"icc": False})
    assert "inspect_network" in daemon.client.calls


def test_a_bridge_that_cannot_be_inspected_leaves_its_settings_unverified(clock, probe_run):
    daemon = daemon_with(bridge=RequestsConnectionError("Connection reset by peer"))
    result = restart_verified(daemon, {"icc": False})
    assert (result["verified"], result["unverified"]) == ([], ["icc"])


def test_log_options_are_checked_on_the_probe_container(clock, probe_run):
    with pytest.raises(RestartFailed, match='^log-opts is {"max-size": "20m"} in daemon.json but the daemon reports '
                                            '{"max-size": "10m"}$'):
        restart_verified(daemon_with(), {"log-opts": {"max-size": "20m"}})


def test_a_daemon_that_cannot_run_containers_fails(clock, probe_run):
    probe_run.answer = (False, "the daemon could not start a container: error setting rlimits for ready process", None)
    with pytest.raises(RestartFailed, match="^dockerd runs with the new configuration, but containers cannot run: "
                                            "the daemon could not start a container: error setting rlimits"):
        restart_verified(daemon_with(), {"default-ulimits": {"nofile": {"Name": "nofile", "Soft": 65536, "Hard": 65536}}})


def test_an_api_error_while_setting_up_the_probe_is_an_engine_error(clock):
    # The real probe: the daemon refuses the image import, so no container is even created.
    refused = APIError("500 Server Error", explanation="failed to register layer: no space left on device")
    daemon = daemon_with(answers={"import_image_from_data": refused})
    with pytest.raises(EngineError, match="^Docker API error at unix:///var/run/docker.sock: failed to register layer"):
        restart_verified(daemon, {})
    assert daemon.client.calls[-1] == "import_image_from_data"


def test_an_architecture_without_a_probe_warns_instead_of_probing(clock, probe_run):
    warnings = []
    result = restart_verified(daemon_with(infos=[{"Architecture": "s390x"}]), {"no-new-privileges": True},
                              warn=warnings.append)
    assert warnings == ["no probe container for architecture s390x: containers were not tried"]
    assert probe_run.calls == []
    assert result == {"verified": [], "unverified": ["no-new-privileges"]}


def test_no_probe_when_told_not_to(clock, probe_run):
    result = restart_verified(daemon_with(), {"no-new-privileges": True}, run_probe=False, warn=pytest.fail)
    assert probe_run.calls == []
    assert "probe" not in result


# --- roll_back -----------------------------------------------------------------------------

@pytest.fixture
def changed_file(tmp_path):
    """(checkpoint, daemon.json): the good content recorded, a change begun, then a bad content written."""
    path = tmp_path / "daemon.json"
    path.write_text('{"icc": false}\n')
    book = Checkpoint(str(tmp_path / "checkpoint"))
    book.record([str(path)])
    book.begin()
    path.write_text('{"icc": "nope"}\n')
    return book, path


def test_roll_back_restores_the_checkpoint_and_clears_the_mark(clock, changed_file):
    book, path = changed_file
    system = FakeSystem(journal=FATAL + "\n")
    restored, said, state = roll_back(daemon_with(system=system), book, 1764064800.7)
    assert path.read_text() == '{"icc": false}\n'
    assert restored == [str(path)]
    assert state == "The previous configuration is back (%s) and dockerd runs with it." % path
    assert not book.in_progress()
    assert system.commands[-1] == ["systemctl", "restart", SERVICE]


def test_roll_back_returns_dockerds_failure_lines_since_the_restart(clock, changed_file):
    book, _path = changed_file
    system = FakeSystem(journal="Starting Docker Application Container Engine...\n" + FATAL + "\n")
    _restored, said, _state = roll_back(daemon_with(system=system), book, 1764064800.7)
    assert said == [FATAL]
    assert system.commands[0] == ["journalctl", "--unit", SERVICE, "--since", "@1764064800", "--no-pager", "--output", "cat"]


def test_roll_back_reads_systemctl_status_when_the_journal_is_empty(clock, changed_file):
    book, _path = changed_file
    system = FakeSystem(journal="", status="docker.service: Start request repeated too quickly.\nFailed to start Docker.\n")
    _restored, said, _state = roll_back(daemon_with(system=system), book, 0)
    assert said == ["Failed to start Docker."]
    assert system.commands[1] == ["systemctl", "status", "--no-pager", "--lines", "20", SERVICE]


def test_a_failed_restart_after_restoring_says_dockerd_may_be_down_and_keeps_the_mark(clock, changed_file):
    book, path = changed_file
    system = FakeSystem(failing={"restart": "Job for docker.service failed."})
    restored, _said, state = roll_back(daemon_with(system=system), book, 0)
    assert state == "Rolling back failed, dockerd may be DOWN: systemctl restart docker.service: Job for docker.service failed."
    assert restored == [str(path)]
    assert path.read_text() == '{"icc": false}\n'
    assert book.in_progress()


def test_roll_back_without_a_checkpoint_still_starts_dockerd_and_says_so(clock, tmp_path):
    book = Checkpoint(str(tmp_path / "never-recorded"))
    system = FakeSystem()
    restored, _said, state = roll_back(daemon_with(system=system), book, 0)
    assert restored == []
    assert state.startswith("dockerd runs again, but the checkpoint could not be restored (no checkpoint in ")
    assert ["systemctl", "restart", "docker.service"] in system.commands


def test_roll_back_without_a_checkpoint_and_a_failed_start_says_dockerd_may_be_down(clock, tmp_path):
    book = Checkpoint(str(tmp_path / "never-recorded"))
    system = FakeSystem(failing={"restart": "Job for docker.service failed."})
    _restored, _said, state = roll_back(daemon_with(system=system), book, 0)
    assert state.startswith("Rolling back failed, dockerd may be DOWN: the checkpoint could not be restored")


# --- a host that runs containers: nothing the restart kept running is stopped, what waits is pending ---------

RUNNING = [{"Id": "a" * 64, "Names": ["/shop-web-1"], "State": "running"},
           {"Id": "b" * 64, "Names": ["/shop-db-1"], "State": "running"}]
KEPT_BRIDGE = {"Architecture": "x86_64", "LiveRestoreEnabled": True, "ContainersRunning": 2}


def test_a_bridge_setting_dockerd_kept_for_running_containers_is_pending_not_a_failure(clock, probe_run):
    daemon = daemon_with(infos=[KEPT_BRIDGE], bridge=dict(BRIDGE, Options={ICC_OPTION: "true"}),
                         answers={"containers": RUNNING})
    result = restart_verified(daemon, {"icc": False, "live-restore": True})
    assert [(item["key"], item["configured"], item["observed"]) for item in result["pending"]] == [("icc", False, "true")]
    assert "2 running (shop-db-1, shop-web-1)" in result["pending"][0]["reason"]
    assert "next dockerd start with no container running" in result["pending"][0]["reason"]
    assert result["verified"] == ["live-restore"]


def test_a_bridge_setting_not_applied_without_running_containers_still_fails(clock, probe_run):
    daemon = daemon_with(infos=[dict(KEPT_BRIDGE, ContainersRunning=0)], bridge=dict(BRIDGE, Options={ICC_OPTION: "true"}))
    with pytest.raises(RestartFailed, match="^icc is false in daemon.json"):
        restart_verified(daemon, {"icc": False, "live-restore": True})


def test_other_settings_still_fail_while_a_bridge_setting_waits(clock, probe_run):
    info = dict(KEPT_BRIDGE, LoggingDriver="json-file")
    daemon = daemon_with(infos=[info], bridge=dict(BRIDGE, Options={ICC_OPTION: "true"}), answers={"containers": RUNNING})
    with pytest.raises(RestartFailed, match='^log-driver is "local" in daemon.json but the daemon reports "json-file"$'):
        restart_verified(daemon, {"icc": False, "live-restore": True, "log-driver": "local"})


def test_running_containers_are_listed_by_id_and_name():
    daemon = daemon_with(answers={"containers": RUNNING})
    assert running_containers(daemon) == [("a" * 64, "shop-web-1"), ("b" * 64, "shop-db-1")]


def test_containers_that_ran_before_and_stopped_are_started_again(clock):
    # After a restart without live-restore every container is stopped; restart policies bring back only some.
    daemon = daemon_with(answers={"containers": RUNNING[:1], "start": None})
    started = start_again(daemon, [("a" * 64, "shop-web-1"), ("b" * 64, "shop-db-1")])
    assert started == ["shop-db-1"]
    assert daemon.client.calls == ["containers", "start"]


def test_a_container_that_cannot_be_started_again_is_named(clock):
    daemon = daemon_with(answers={"containers": [], "start": APIError("500", explanation="no such network")})
    with pytest.raises(RestartFailed, match="^could not start again shop-web-1 \\(no such network\\)"):
        start_again(daemon, [("a" * 64, "shop-web-1")])


@pytest.fixture
def live_restore_change(tmp_path):
    """(checkpoint, daemon.json): a file without live-restore recorded, then a change that turned it on."""
    path = tmp_path / "daemon.json"
    path.write_text('{"icc": true}\n')
    path.chmod(0o640)
    book = Checkpoint(str(tmp_path / "checkpoint"))
    book.record([str(path)])
    book.begin()
    path.write_text('{"icc": false, "live-restore": true}\n')
    return book, path


def test_a_roll_back_keeps_live_restore_on_while_containers_run(clock, live_restore_change):
    # The restored file lacks live-restore: dockerd would start without it and stop every running container.
    book, path = live_restore_change
    daemon = daemon_with(infos=[KEPT_BRIDGE])
    restored, _said, state = roll_back(daemon, book, 0, config_path=str(path), running_before=[("a" * 64, "shop-web-1")])
    assert json.loads(path.read_text()) == {"icc": True, "live-restore": True}
    assert path.stat().st_mode & 0o777 == 0o640
    assert restored == [str(path)]
    assert "live-restore kept on" in state and "1 container" in state, state
    assert not book.in_progress()


def test_a_roll_back_to_no_daemon_json_keeps_live_restore_in_a_new_one(clock, tmp_path):
    path = tmp_path / "daemon.json"
    book = Checkpoint(str(tmp_path / "checkpoint"))
    book.record([str(path)])
    book.begin()
    path.write_text('{"live-restore": true, "storage-driver": "nope"}\n')
    restored, _said, state = roll_back(daemon_with(infos=[KEPT_BRIDGE]), book, 0, config_path=str(path),
                                       running_before=[("a" * 64, "shop-web-1")])
    assert json.loads(path.read_text()) == {"live-restore": True}
    assert "live-restore kept on" in state


def test_a_roll_back_without_running_containers_restores_exactly(clock, live_restore_change):
    book, path = live_restore_change
    roll_back(daemon_with(), book, 0, config_path=str(path), running_before=[])
    assert path.read_text() == '{"icc": true}\n'


def test_a_daemon_running_with_other_settings_than_its_file_is_out_of_step():
    daemon = daemon_with(infos=[{"LiveRestoreEnabled": True, "LoggingDriver": "json-file"}])
    assert out_of_step(daemon, {"live-restore": True, "log-driver": "local"}) == [
        {"key": "log-driver", "configured": "local", "observed": "json-file"}]


def test_a_bridge_setting_dockerd_keeps_back_is_not_out_of_step():
    # Restarting again would not apply it: the next run must not restart for it.
    daemon = daemon_with(infos=[KEPT_BRIDGE], bridge=dict(BRIDGE, Options={ICC_OPTION: "true"}))
    assert out_of_step(daemon, {"icc": False, "live-restore": True}) == []
