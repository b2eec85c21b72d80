# -*- coding: utf-8 -*-
"""Unit tests for the daemon_restart module: its real main() through the harness.

The checkpoint is real (files and a checkpoint directory under tmp_path). The
restart itself is service.restart_verified / roll_back / enable_live_restore_first,
replaced here together with `connect`, so no Docker and no systemd is touched.
"""

from __future__ import annotations

import json

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.common.masking import MaskedModule
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd import service
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.restart import Checkpoint
from ansible_collections.bulwark.hardening.plugins.module_utils.engine.connection import EngineError
from ansible_collections.bulwark.hardening.plugins.modules import daemon_restart
from ansible_collections.bulwark.hardening.tests.unit.plugins.modules.harness import run_module

CONFIG = {"icc": False, "live-restore": True}
VERIFIED = {"verified": ["icc", "live-restore"], "unverified": [], "probe": "a container started and exited 0"}


@pytest.fixture
def files(tmp_path):
    """The watched files: daemon.json (present) and a seccomp profile (absent)."""
    daemon_json = tmp_path / "daemon.json"
    daemon_json.write_text(json.dumps(CONFIG))
    return daemon_json, tmp_path / "seccomp-bulwark.json"


@pytest.fixture
def book(tmp_path):
    return Checkpoint(str(tmp_path / "checkpoint"))


@pytest.fixture
def run(files, book):
    def run_(check_mode=False, **params):
        args = dict(watch=[str(path) for path in files], config_path=str(files[0]), checkpoint_dir=book.directory)
        args.update(params)
        return run_module(daemon_restart.main, args, check_mode=check_mode)
    return run_


class Restart(object):
    """What the fake service saw: the config to verify, whether to probe, each warn callable, the roll-back's book and start time."""

    def __init__(self):
        self.verified_config = None
        self.probed = None
        self.rolled_back = None
        self.failure = None
        self.warns = []
        self.mismatches = []
        self.running = [("a" * 64, "shop-web-1")]
        self.stopped_by_restart = []
        self.started_again = []
        self.live_restore_on = True

    def connect(self, connection):
        return "client for %s" % connection.docker_host

    def enable_live_restore_first(self, daemon, config, warn):
        assert daemon.client == "client for unix:///var/run/docker.sock"
        self.warns.append(warn)
        return self.live_restore_on

    def restart_verified(self, daemon, config, run_probe=True, warn=None):
        self.verified_config = config
        self.probed = run_probe
        self.warns.append(warn)
        if self.failure is not None:
            raise self.failure
        return VERIFIED

    def roll_back(self, daemon, book, started, config_path=None, running_before=()):
        self.rolled_back = (book.directory, started, config_path, list(running_before))
        return (["/etc/docker/daemon.json"], ['level=fatal msg="invalid value for icc"'],
                "The previous configuration is back (/etc/docker/daemon.json) and dockerd runs with it.")

    def out_of_step(self, daemon, config):
        return self.mismatches

    def running_containers(self, daemon):
        return self.running

    def start_again(self, daemon, running_before):
        assert list(running_before) == self.running
        self.started_again = [name for _id, name in running_before if name in self.stopped_by_restart]
        return self.started_again


@pytest.fixture
def restart(monkeypatch):
    fake = Restart()
    monkeypatch.setattr(daemon_restart, "connect", fake.connect)
    # dockerd started after every watched file was written, unless a test says otherwise.
    monkeypatch.setattr(daemon_restart, "unread_files", lambda params: [])
    for name in ("enable_live_restore_first", "restart_verified", "roll_back", "out_of_step", "running_containers",
                 "start_again"):
        monkeypatch.setattr(service, name, getattr(fake, name))
    return fake


# --- state=checkpointed --------------------------------------------------------------

def test_checkpoint_records_the_watched_files_and_marks_a_change(run, files, book):
    daemon_json, profile = files
    outcome = run(state="checkpointed")
    assert not outcome.failed
    assert (outcome.changed, outcome.result["interrupted"], outcome.result["checkpoint_updated"]) == (False, False, True)
    assert book.in_progress()
    assert book.matches([str(daemon_json), str(profile)])
    assert book.manifest()[str(profile)] == {"absent": True}


def test_a_second_checkpoint_reports_the_interruption_and_keeps_the_older_files(run, files, book):
    daemon_json, _profile = files
    run(state="checkpointed")
    recorded = book.manifest()
    daemon_json.write_text('{"icc": "written by the interrupted run"}')
    outcome = run(state="checkpointed")
    assert (outcome.result["interrupted"], outcome.result["checkpoint_updated"]) == (True, False)
    assert book.manifest() == recorded
    assert book.in_progress()


def test_an_interruption_without_any_checkpoint_records_one(run, book):
    book.begin()
    outcome = run(state="checkpointed")
    assert (outcome.result["interrupted"], outcome.result["checkpoint_updated"]) == (True, True)
    assert book.manifest() is not None


def test_checkpoint_in_check_mode_writes_nothing(run, book, tmp_path):
    outcome = run(check_mode=True, state="checkpointed")
    assert (outcome.changed, outcome.result["interrupted"]) == (False, False)
    assert not (tmp_path / "checkpoint").exists()


# --- state=restarted without a restart ------------------------------------------------

def test_no_restart_clears_the_mark_and_changes_nothing(run, book, restart):
    book.begin()
    outcome = run(restart=False)
    assert (outcome.changed, outcome.result["restarted"]) == (False, False)
    assert not book.in_progress()
    assert restart.verified_config is None


def test_a_restart_in_check_mode_is_reported_and_not_done(run, book, restart):
    book.begin()
    outcome = run(check_mode=True, restart=True)
    assert (outcome.changed, outcome.result["restarted"]) == (True, False)
    assert restart.verified_config is None
    assert book.in_progress()


# --- state=restarted with a restart ---------------------------------------------------

def test_a_verified_restart_records_the_new_files_and_clears_the_mark(run, files, book, restart):
    daemon_json, profile = files
    run(state="checkpointed")
    daemon_json.write_text(json.dumps(dict(CONFIG, icc=True)))
    outcome = run(restart=True)
    assert not outcome.failed
    assert (outcome.changed, outcome.result["restarted"]) == (True, True)
    assert (outcome.result["verified"], outcome.result["probe"]) == (VERIFIED["verified"], VERIFIED["probe"])
    assert restart.verified_config == dict(CONFIG, icc=True)
    assert book.matches([str(daemon_json), str(profile)])
    assert not book.in_progress()


def test_probe_false_restarts_without_the_probe_container(run, restart):
    run(restart=True, probe=False)
    assert restart.probed is False


def test_live_restore_and_the_restart_warn_through_the_module(run, restart):
    # Checked by the callable handed over: whether AnsibleModule returns a warning in the result or
    # prints it depends on whether a controller module was imported earlier in the test session.
    # MaskedModule.warn: warnings pass through the masking layer too.
    run(restart=True)
    assert [(warn.__name__, type(warn.__self__)) for warn in restart.warns] == [("warn", MaskedModule)] * 2


def test_a_failed_restart_rolls_back_and_fails_with_the_reason_dockerd_and_the_state(run, book, restart):
    restart.failure = service.RestartFailed("icc is false in daemon.json but the daemon reports \"true\"")
    outcome = run(restart=True)
    assert outcome.failed
    assert outcome.msg == ('dockerd did not come up as configured: icc is false in daemon.json but the daemon reports "true". '
                           'dockerd said: level=fatal msg="invalid value for icc". '
                           "The previous configuration is back (/etc/docker/daemon.json) and dockerd runs with it.")
    assert outcome.result["rolled_back"] == ["/etc/docker/daemon.json"]
    assert outcome.result["dockerd_said"] == ['level=fatal msg="invalid value for icc"']
    assert outcome.result["restarted"] is False
    assert restart.rolled_back[0] == book.directory
    # The roll-back knows daemon.json and what ran, so it keeps live-restore on for them.
    assert restart.rolled_back[2:] == (outcome.result["invocation"]["module_args"]["config_path"], restart.running)


def test_an_engine_error_during_the_restart_rolls_back_too(run, restart):
    restart.failure = EngineError("The Docker API at unix:///var/run/docker.sock did not answer: read timed out")
    outcome = run(restart=True)
    assert outcome.failed
    assert outcome.msg.startswith("dockerd did not come up as configured: The Docker API at unix:///var/run/docker.sock "
                                  "did not answer: read timed out. dockerd said: ")
    assert restart.rolled_back is not None


def test_an_unreadable_daemon_json_fails_before_any_restart(run, files, restart):
    files[0].write_text("{not json")
    outcome = run(restart=True)
    assert outcome.failed
    assert outcome.msg.startswith("cannot restart dockerd: daemon.json is not valid JSON")
    assert restart.verified_config is None


# --- converge: dockerd runs with what its files say ----------------------------------------------

def test_a_daemon_out_of_step_with_its_file_is_restarted_without_a_change(run, restart):
    # daemon.json already holds the role's values, but dockerd was restarted with others after a hand edit.
    restart.mismatches = [{"key": "log-driver", "configured": "local", "observed": "json-file"}]
    outcome = run(restart=False)
    assert not outcome.failed
    assert (outcome.changed, outcome.result["restarted"]) == (True, True)
    assert outcome.result["restart_reason"] == ('dockerd runs with other settings than its files: log-driver is "local" '
                                                'in daemon.json but the daemon reports "json-file"')


def test_a_file_written_after_dockerd_started_is_applied(run, restart, monkeypatch, files):
    monkeypatch.setattr(daemon_restart, "unread_files", lambda params: [params["watch"][0]])
    outcome = run(restart=False)
    assert outcome.result["restarted"] is True
    assert outcome.result["restart_reason"] == "dockerd started before %s was written" % files[0]


def test_converge_in_check_mode_reports_the_restart_and_does_not_make_it(run, restart):
    restart.mismatches = [{"key": "log-driver", "configured": "local", "observed": "json-file"}]
    outcome = run(check_mode=True, restart=False)
    assert (outcome.changed, outcome.result["restarted"]) == (True, False)
    assert restart.verified_config is None
    assert "log-driver" in outcome.result["restart_reason"]


def test_converge_off_restarts_only_when_told(run, restart):
    restart.mismatches = [{"key": "log-driver", "configured": "local", "observed": "json-file"}]
    outcome = run(restart=False, converge=False)
    assert (outcome.changed, outcome.result["restarted"]) == (False, False)


def test_a_daemon_in_step_is_left_alone(run, restart):
    outcome = run(restart=False)
    assert (outcome.changed, outcome.result["restarted"]) == (False, False)
    assert "restart_reason" not in outcome.result


def test_containers_the_restart_stopped_are_started_again_and_reported(run, restart):
    restart.stopped_by_restart = ["shop-web-1"]
    outcome = run(restart=True)
    assert outcome.result["started_again"] == ["shop-web-1"]


def test_no_restart_over_running_containers_when_live_restore_cannot_be_turned_on(run, files, book, restart):
    daemon_json, _profile = files
    run(state="checkpointed")
    daemon_json.write_text(json.dumps(dict(CONFIG, icc=True)))
    restart.live_restore_on = False
    outcome = run(restart=True)
    assert outcome.failed and outcome.result["restarted"] is False
    assert outcome.msg.startswith("dockerd was not restarted: live-restore could not be turned on first, and the restart "
                                  "would stop the 1 running containers.")
    assert restart.verified_config is None
    assert json.loads(daemon_json.read_text()) == CONFIG
    assert outcome.result["rolled_back"] == [str(daemon_json)]
    assert not book.in_progress()


def test_without_running_containers_a_restart_needs_no_live_restore_first(run, restart):
    restart.live_restore_on, restart.running = False, []
    outcome = run(restart=True)
    assert outcome.result["restarted"] is True
