# -*- coding: utf-8 -*-
"""Carrying out plans: the live update, the verified replacement and its roll back.

No Docker: the Engine is a fake client recording every call (scripted
answers, exceptions raised), and the clock is fake so no test waits.
"""

from __future__ import annotations

import pytest
from docker.errors import APIError, NotFound

from ansible_collections.bulwark.hardening.plugins.module_utils.remediate import execute
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.execute import (
    ReplacementFailed, aside_name, describe_failure, last_logs, recreate, update_live, wait_until_settled,
)
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.journal import STEPS
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.plan import plan_container

from remediate_fixtures import MIB, WEB_ID, context, policy, web, web_image

NEW_ID = "9d2f6a1c3b4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4"
ASIDE = "shop-web-1-bulwark-old-4b5e57f6eb2f"
GRACE = 10
HEALTH_TIMEOUT = 120
RUNNING = {"State": {"Running": True, "Restarting": False, "Health": {"Status": "healthy"}}}
NO_HEALTH_CHECK = {"State": {"Running": True, "Restarting": False}}
STARTING = {"State": {"Running": True, "Restarting": False, "Health": {"Status": "starting", "Log": []}}}
EXITED = {"State": {"Running": False, "Restarting": False, "ExitCode": 3}}
RESTARTING = {"State": {"Running": True, "Restarting": True, "ExitCode": 1}}
UNHEALTHY = {"State": {"Running": True, "Restarting": False, "Health": {"Status": "unhealthy", "Log": [
    {"ExitCode": 1, "Output": "ok\n"},
    {"ExitCode": 7, "Output": "curl: (7) Failed to connect to 127.0.0.1 port 8080: Connection refused\n"},
]}}}
DEFAULT_ANSWERS = {
    "rename": None,
    "update_container": {"Warnings": None},
    "stop": None,
    "create_container_from_config": {"Id": NEW_ID, "Warnings": []},
    "connect_container_to_network": None,
    "start": None,
    "inspect_container": RUNNING,
    "remove_container": None,
    "logs": b"booting\nlistening on :8080\n",
}


def api_error(explanation):
    return APIError("500 Server Error", explanation=explanation)


class FakeEngine(object):
    """call() and post_json() of CountingClient, recording (endpoint, args, kwargs).

    An answer may be a list: one element per call, the last one repeating. An answer that is an exception is raised.
    post_json is recorded with the formatted path and the body as its args.
    """

    def __init__(self, **answers):
        self.answers = dict(DEFAULT_ANSWERS, **answers)
        self.calls = []

    def call(self, endpoint, *args, **kwargs):
        self.calls.append((endpoint, args, kwargs))
        return self._answer(endpoint)

    def post_json(self, name, path, body, *args):
        self.calls.append((name, (path.format(*args), body), {}))
        return self._answer(name)

    def _answer(self, endpoint):
        if endpoint not in self.answers:
            raise AssertionError("unexpected API call %s" % endpoint)
        answer = self.answers[endpoint]
        if isinstance(answer, list):
            answer = answer.pop(0) if len(answer) > 1 else answer[0]
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def endpoints(self):
        """The endpoints called, in order, with repeated inspections collapsed to one."""
        names = []
        for endpoint, _args, _kwargs in self.calls:
            if not (endpoint == "inspect_container" and names and names[-1] == endpoint):
                names.append(endpoint)
        return names

    def made(self, endpoint):
        return [(args, kwargs) for name, args, kwargs in self.calls if name == endpoint]


class FakeClock(object):
    def __init__(self):
        self.time = 1000.0
        self.sleeps = []

    def now(self):
        return self.time

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.time += seconds


@pytest.fixture(name="clock")
def clock_fixture(monkeypatch):
    """A fake clock; recreate() waits with it (it passes sleep on, the clock is given here)."""
    fake = FakeClock()
    real = execute.wait_until_settled

    def waiting(client, container_id, grace, health_timeout, sleep, endpoints=(), probe=None, known=()):
        return real(client, container_id, grace, health_timeout, sleep=sleep, now=fake.now, endpoints=endpoints,
                    probe=probe, known=known)

    monkeypatch.setattr(execute, "wait_until_settled", waiting)
    return fake


def recreate_plan(changes=None, failing=("5.26",)):
    """shop-web-1 (running, unless-stopped, two networks) planned for recreate."""
    return plan_container(web(changes), list(failing), policy(recreate=True), context())


def run_recreate(engine, clock, plan=None, journal=None):
    return recreate(engine, plan or recreate_plan(), web_image(), GRACE, HEALTH_TIMEOUT, sleep=clock.sleep, journal=journal,
                    engine_id="ENGINE-ID")


# --- live --------------------------------------------------------------------------

def live_plan():
    container = web({"HostConfig.RestartPolicy": {"Name": "no", "MaximumRetryCount": 0}})
    return plan_container(container, ["5.11", "5.15"], policy(memory="512m"), context())


def test_update_live_posts_the_update_body():
    engine = FakeEngine()
    outcome = update_live(engine, live_plan())
    assert outcome.status == "changed" and outcome.detail == ""
    assert engine.calls == [("update_container", ("/containers/%s/update" % WEB_ID, {
        "Memory": 512 * MIB, "MemorySwap": 512 * MIB, "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 5}}), {})]


def test_update_live_reports_the_engine_warnings():
    engine = FakeEngine(update_container={"Warnings": ["Your kernel does not support swap limit capabilities", "second"]})
    outcome = update_live(engine, live_plan())
    assert outcome.status == "changed"
    assert outcome.detail == "Your kernel does not support swap limit capabilities; second"


def test_update_live_refused():
    engine = FakeEngine(update_container=api_error("Cannot update container: memory limit too low"))
    outcome = update_live(engine, live_plan())
    assert outcome.status == "failed"
    assert outcome.detail == "update refused: Cannot update container: memory limit too low"


# --- recreate: the happy path ----------------------------------------------------------

TEMPORARY = "shop-web-1-bulwark-new-4b5e57f6eb2f"
UNLESS_STOPPED = {"Name": "unless-stopped", "MaximumRetryCount": 0}


class RecordingJournal(object):
    """A journal keeping the steps recorded, the entry as last recorded, and whether it was forgotten."""

    def __init__(self, fail_at=None):
        self.steps = []
        self.entry = None
        self.forgotten = False
        self.fail_at = fail_at

    def record(self, entry, step):
        if step == self.fail_at:
            raise OSError(28, "No space left on device")
        entry["step"] = step
        self.steps.append(step)
        self.entry = dict(entry)

    def forget(self, entry):
        self.forgotten = True


def test_recreate_call_order(clock):
    engine = FakeEngine()
    outcome = run_recreate(engine, clock)
    assert outcome.status == "changed" and outcome.new_id == NEW_ID
    assert engine.endpoints() == ["create_container_from_config", "connect_container_to_network", "rename",
                                  "update_container", "stop", "rename", "start", "inspect_container", "update_container",
                                  "remove_container"]


def test_the_replacement_is_made_before_the_old_one_stops_and_takes_the_name_after(clock):
    engine = FakeEngine()
    run_recreate(engine, clock)
    [((_body,), kwargs)] = engine.made("create_container_from_config")
    assert kwargs == {"name": TEMPORARY}
    assert engine.made("rename") == [((WEB_ID, ASIDE), {}), ((NEW_ID, "shop-web-1"), {})]
    assert engine.made("stop") == [((WEB_ID,), {"timeout": 20})]
    assert engine.made("start") == [((NEW_ID,), {})]


def test_the_replacement_is_verified_without_restart_policy_and_gets_it_after(clock):
    engine = FakeEngine()
    run_recreate(engine, clock)
    [((body,), _kwargs)] = engine.made("create_container_from_config")
    assert body["HostConfig"]["RestartPolicy"] == {"Name": "no"}
    assert engine.made("update_container") == [
        (("/containers/%s/update" % WEB_ID, {"RestartPolicy": {"Name": "no"}}), {}),
        (("/containers/%s/update" % NEW_ID, {"RestartPolicy": UNLESS_STOPPED}), {}),
    ]
    last_inspection = max(index for index, call in enumerate(engine.calls) if call[0] == "inspect_container")
    restored = [index for index, call in enumerate(engine.calls) if call[0] == "update_container"][1]
    assert restored > last_inspection


def test_a_live_fix_in_the_same_plan_sets_the_replacements_restart_policy(clock):
    engine = FakeEngine()
    plan = plan_container(web(), ["5.26", "5.15"], policy(recreate=True, restart_from_always=True), context())
    run_recreate(engine, clock, plan)
    assert engine.made("update_container")[-1] == (
        ("/containers/%s/update" % NEW_ID, {"RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 5}}), {})


def test_recreate_creates_from_the_plan(clock):
    engine = FakeEngine()
    run_recreate(engine, clock)
    [((body,), _kwargs)] = engine.made("create_container_from_config")
    assert body["Image"] == "shop/web:2.4"
    assert body["HostConfig"]["SecurityOpt"] == ["no-new-privileges:true"]
    assert body["NetworkingConfig"] == {"EndpointsConfig": {"shop_backend": {
        "Aliases": ["shop-web-1", "web"], "IPAMConfig": {"IPv4Address": "172.28.0.10"}}}}


def test_recreate_connects_the_other_networks_before_start(clock):
    engine = FakeEngine()
    run_recreate(engine, clock)
    [((path, body), _kwargs)] = engine.made("connect_container_to_network")
    assert path == "/networks/shop_frontend/connect"
    assert body["Container"] == NEW_ID
    assert body["EndpointConfig"]["Links"] == ["shop-db-1:db"]
    assert engine.endpoints().index("connect_container_to_network") < engine.endpoints().index("start")


def test_recreate_watches_the_replacement_for_the_grace_period(clock):
    engine = FakeEngine()
    run_recreate(engine, clock)
    inspections = engine.made("inspect_container")
    assert set(args for args, _kwargs in inspections) == {(NEW_ID,)}
    assert len(inspections) == GRACE / execute.POLL_SECONDS + 1
    assert sum(clock.sleeps) == GRACE


def test_recreate_removes_the_old_container_keeping_its_volumes(clock):
    engine = FakeEngine()
    run_recreate(engine, clock)
    assert engine.made("remove_container") == [((WEB_ID,), {"v": False})]
    assert engine.calls[-1][0] == "remove_container"


def test_every_step_is_journaled_before_it_is_done_and_the_entry_forgotten_after(clock):
    engine, journal = FakeEngine(), RecordingJournal()
    run_recreate(engine, clock, journal=journal)
    assert journal.steps == list(STEPS) and journal.forgotten
    entry = journal.entry
    assert (entry["name"], entry["old_id"], entry["new_id"]) == ("shop-web-1", WEB_ID, NEW_ID)
    assert (entry["temporary_name"], entry["aside_name"]) == (TEMPORARY, ASIDE)
    assert entry["restart_policy"] == UNLESS_STOPPED and entry["new_restart_policy"] == UNLESS_STOPPED
    assert entry["was_running"] is True and entry["engine"] == "ENGINE-ID"


def test_the_new_id_is_journaled_right_after_create(clock):
    class Snapshots(RecordingJournal):
        def record(self, entry, step):
            super().record(entry, step)
            self.snapshots = getattr(self, "snapshots", []) + [(step, entry.get("new_id"))]

    journal = Snapshots()
    run_recreate(FakeEngine(), clock, journal=journal)
    assert journal.snapshots[:2] == [("create", None), ("connect", NEW_ID)]


def test_a_journal_that_cannot_be_written_changes_nothing(clock):
    engine, journal = FakeEngine(), RecordingJournal(fail_at="create")
    outcome = run_recreate(engine, clock, journal=journal)
    assert outcome.status == "rolled_back" and "No space left on device" in outcome.detail
    assert engine.calls == [] and journal.forgotten


def test_recreate_of_a_stopped_container_neither_stops_nor_starts(clock):
    engine = FakeEngine()
    plan = recreate_plan({"State.Running": False, "State.Status": "exited",
                          "HostConfig.RestartPolicy": {"Name": "no", "MaximumRetryCount": 0}})
    outcome = run_recreate(engine, clock, plan)
    assert outcome.status == "changed"
    assert engine.endpoints() == ["create_container_from_config", "connect_container_to_network", "rename", "rename",
                                  "remove_container"]


def test_recreate_default_stop_timeout(clock):
    engine = FakeEngine()
    run_recreate(engine, clock, recreate_plan({"Config.StopTimeout": None}))
    assert engine.made("stop") == [((WEB_ID,), {"timeout": 10})]


def test_recreate_of_a_container_on_one_network_connects_nothing(clock):
    engine = FakeEngine()
    plan = recreate_plan({"NetworkSettings.Networks": {"shop_backend": {"Aliases": ["web"]}}})
    run_recreate(engine, clock, plan)
    assert engine.made("connect_container_to_network") == []


def test_a_verified_replacement_stays_when_the_old_container_cannot_be_removed(clock):
    engine, journal = FakeEngine(remove_container=api_error("removal of container is already in progress")), RecordingJournal()
    outcome = run_recreate(engine, clock, journal=journal)
    assert outcome.status == "changed" and outcome.new_id == NEW_ID
    assert "removal of container is already in progress" in outcome.detail and "the next run removes it" in outcome.detail
    assert journal.steps[-1] == "remove_old" and not journal.forgotten  # the next run finishes it


def test_the_replacement_must_answer_where_the_old_one_did(clock):
    engine = FakeEngine()
    plan = recreate_plan()
    plan.verify_ports = [("127.0.0.1", 8080)]
    asked = []
    outcome = recreate(engine, plan, web_image(), GRACE, HEALTH_TIMEOUT, sleep=clock.sleep,
                       probe=lambda host, port: asked.append((host, port)) or False)
    assert outcome.status == "rolled_back"
    assert outcome.detail.startswith("the replacement does not answer on 127.0.0.1:8080, where the old container answered")
    assert asked and set(asked) == {("127.0.0.1", 8080)}


# --- recreate: roll back ----------------------------------------------------------------

def assert_rolled_back(engine, new_container=True, renamed=True, restarted=True, started_first=False):
    """The replacement removed (when created), the old one renamed back, its restart policy restored, started
    (started_first: before the rest, as when the replacement exited and holds no port)."""
    expected = ([("remove_container", (NEW_ID,), {"force": True, "v": False})] if new_container else [])
    if renamed:
        expected.append(("rename", (WEB_ID, "shop-web-1"), {}))
        expected.append(("update_container", ("/containers/%s/update" % WEB_ID, {"RestartPolicy": UNLESS_STOPPED}), {}))
    if restarted and not started_first:
        expected.append(("start", (WEB_ID,), {}))
    assert engine.calls[-len(expected):] == expected
    if started_first:
        assert engine.calls.index(("start", (WEB_ID,), {})) < engine.calls.index(expected[0])
        assert engine.made("start").count(((WEB_ID,), {})) == 1
    assert ("remove_container", (WEB_ID,), {"v": False}) not in engine.calls


def test_roll_back_when_the_replacement_exits(clock):
    engine, journal = FakeEngine(inspect_container=[RUNNING, RUNNING, EXITED]), RecordingJournal()
    outcome = run_recreate(engine, clock, journal=journal)
    assert outcome.status == "rolled_back"
    assert outcome.detail.startswith("the replacement stopped (exit code 3); the old container is back under its name and running")
    assert outcome.logs == "booting\nlistening on :8080"
    assert engine.made("logs") == [((NEW_ID,), {"tail": 20})]
    # It exited: nothing holds the service's ports, so the old one answers again before the clean-up.
    assert_rolled_back(engine, started_first=True)
    assert journal.steps[-1] == "verify" and journal.forgotten


def test_the_old_container_is_started_at_the_end_when_an_early_start_is_refused(clock):
    engine = FakeEngine(inspect_container=[RUNNING, EXITED],
                        start=[None, api_error("driver failed programming external connectivity"), None])
    outcome = run_recreate(engine, clock)
    assert outcome.status == "rolled_back"
    assert_rolled_back(engine)


def test_an_exit_is_seen_at_the_next_poll(clock):
    engine = FakeEngine(inspect_container=[RUNNING, EXITED])
    run_recreate(engine, clock)
    assert clock.sleeps == [execute.POLL_SECONDS]


def test_roll_back_when_the_replacement_keeps_restarting(clock):
    engine = FakeEngine(inspect_container=RESTARTING)
    outcome = run_recreate(engine, clock)
    assert outcome.status == "rolled_back"
    assert outcome.detail.startswith("the replacement stopped (exit code 1, restarting)")
    assert_rolled_back(engine, started_first=True)


def test_roll_back_when_the_replacement_restarted_between_two_polls(clock):
    first = dict(RUNNING, RestartCount=0, State=dict(RUNNING["State"], StartedAt="2026-11-20T09:14:04.1Z"))
    again = dict(RUNNING, RestartCount=1, State=dict(RUNNING["State"], StartedAt="2026-11-20T09:14:04.6Z"))
    engine = FakeEngine(inspect_container=[first, first, again])
    outcome = run_recreate(engine, clock)
    assert outcome.status == "rolled_back"
    assert outcome.detail.startswith("the replacement restarted (restart count 1, started 2026-11-20T09:14:04.6Z")
    assert_rolled_back(engine)


def test_roll_back_when_the_replacement_turns_unhealthy(clock):
    engine = FakeEngine(inspect_container=[STARTING, UNHEALTHY])
    outcome = run_recreate(engine, clock)
    assert outcome.status == "rolled_back"
    assert outcome.detail.startswith("the replacement turned unhealthy: curl: (7) Failed to connect to 127.0.0.1 port 8080")
    assert_rolled_back(engine)


def test_roll_back_when_the_replacement_never_turns_healthy(clock):
    engine = FakeEngine(inspect_container=STARTING)
    outcome = run_recreate(engine, clock)
    assert outcome.status == "rolled_back"
    assert outcome.detail.startswith("the replacement was not healthy after 120 s (health: starting)")
    assert_rolled_back(engine)


def test_create_refused_leaves_the_old_container_alone(clock):
    engine = FakeEngine(create_container_from_config=api_error("Conflict. The container name is already in use"))
    outcome = run_recreate(engine, clock)
    assert outcome.status == "rolled_back"
    assert outcome.detail.startswith("Docker refused: Conflict. The container name is already in use; ")
    assert outcome.logs == "" and engine.made("logs") == []
    assert engine.endpoints() == ["create_container_from_config"]


def test_roll_back_when_start_is_refused(clock):
    engine = FakeEngine(start=[api_error("driver failed programming external connectivity: port is already allocated"), None])
    outcome = run_recreate(engine, clock)
    assert outcome.status == "rolled_back"
    assert "port is already allocated" in outcome.detail
    assert_rolled_back(engine)


def test_roll_back_on_an_unexpected_python_error(clock):
    engine = FakeEngine(connect_container_to_network=TypeError("unhashable type: 'dict'"))
    outcome = run_recreate(engine, clock)
    assert outcome.status == "rolled_back"
    assert outcome.detail.startswith("TypeError: unhashable type: 'dict'; the old container is back")
    assert engine.endpoints() == ["create_container_from_config", "connect_container_to_network", "logs",
                                  "remove_container"]


def test_roll_back_when_stopping_the_old_one_fails(clock):
    engine = FakeEngine(stop=api_error("cannot stop container: permission denied"))
    outcome = run_recreate(engine, clock)
    assert outcome.status == "rolled_back"
    assert_rolled_back(engine)
    assert "start" not in [name for name, args, _kwargs in engine.calls if args == (NEW_ID,)]


def test_roll_back_of_a_container_without_restart_policy_leaves_it(clock):
    engine = FakeEngine(inspect_container=EXITED)
    plan = recreate_plan({"HostConfig.RestartPolicy": {"Name": "no", "MaximumRetryCount": 0}})
    outcome = run_recreate(engine, clock, plan)
    assert outcome.status == "rolled_back"
    assert engine.made("update_container") == []
    # The replacement exited: the old one is started first, then the replacement removed and the name given back.
    assert engine.calls[-2:] == [("remove_container", (NEW_ID,), {"force": True, "v": False}),
                                 ("rename", (WEB_ID, "shop-web-1"), {})]
    assert engine.made("start")[-1] == ((WEB_ID,), {})


def test_roll_back_of_a_stopped_container_does_not_start_it(clock):
    engine = FakeEngine(connect_container_to_network=api_error("network shop_frontend not found"))
    plan = recreate_plan({"State.Running": False})
    outcome = run_recreate(engine, clock, plan)
    assert outcome.status == "rolled_back"
    assert "; the old container is back under its name" in outcome.detail
    assert "and running" not in outcome.detail
    assert "start" not in engine.endpoints()


def test_a_failed_roll_back_is_reported_loudly_and_left_to_the_next_run(clock):
    engine, journal = FakeEngine(inspect_container=EXITED, rename=[None, None, api_error("name is in use")]), RecordingJournal()
    outcome = run_recreate(engine, clock, journal=journal)
    assert outcome.status == "failed"
    assert outcome.detail == ("the replacement stopped (exit code 3); ROLL BACK FAILED (Docker refused: name is in use): "
                              "the old container is 4b5e57f6eb2f, check it now (the next run tries the roll back again)")
    assert outcome.logs == "booting\nlistening on :8080"
    assert not journal.forgotten


def test_a_roll_back_that_cannot_remove_the_replacement_fails(clock):
    engine = FakeEngine(inspect_container=EXITED, remove_container=NotFound("No such container"))
    outcome = run_recreate(engine, clock)
    assert outcome.status == "failed"
    assert "ROLL BACK FAILED" in outcome.detail
    assert engine.made("rename") == [((WEB_ID, ASIDE), {}), ((NEW_ID, "shop-web-1"), {})]


def test_a_roll_back_failing_with_a_python_error_is_reported(clock):
    engine = FakeEngine(inspect_container=EXITED, start=[None, RuntimeError("boom")])
    outcome = run_recreate(engine, clock)
    assert outcome.status == "failed"
    assert "ROLL BACK FAILED (RuntimeError: boom)" in outcome.detail


def test_unreadable_logs_do_not_stop_the_roll_back(clock):
    engine = FakeEngine(inspect_container=EXITED, logs=api_error("configured logging driver does not support reading"))
    outcome = run_recreate(engine, clock)
    assert outcome.status == "rolled_back" and outcome.logs == ""
    assert_rolled_back(engine, started_first=True)


# --- waiting for the replacement ------------------------------------------------------------

def wait(engine, clock, grace=GRACE, health_timeout=HEALTH_TIMEOUT):
    wait_until_settled(engine, NEW_ID, grace, health_timeout, sleep=clock.sleep, now=clock.now)


def test_a_container_without_health_check_settles_after_the_grace_period():
    engine, clock = FakeEngine(inspect_container=NO_HEALTH_CHECK), FakeClock()
    wait(engine, clock)
    assert sum(clock.sleeps) == GRACE


def test_a_healthy_container_settles_after_the_grace_period():
    engine, clock = FakeEngine(inspect_container=[STARTING, RUNNING]), FakeClock()
    wait(engine, clock)
    assert sum(clock.sleeps) == GRACE


def test_a_slow_health_check_is_waited_for_up_to_the_health_timeout():
    engine, clock = FakeEngine(inspect_container=[STARTING] * 60 + [RUNNING]), FakeClock()
    wait(engine, clock)
    assert sum(clock.sleeps) == 60 * execute.POLL_SECONDS


def test_zero_grace_without_health_check_returns_at_once():
    engine, clock = FakeEngine(inspect_container=NO_HEALTH_CHECK), FakeClock()
    wait(engine, clock, grace=0)
    assert clock.sleeps == [] and len(engine.calls) == 1


def test_a_health_timeout_shorter_than_the_grace_period_waits_the_grace_period():
    engine, clock = FakeEngine(inspect_container=STARTING), FakeClock()
    with pytest.raises(ReplacementFailed, match=r"not healthy after 10 s"):
        wait(engine, clock, grace=10, health_timeout=2)


def test_an_unhealthy_container_without_probe_output():
    engine, clock = FakeEngine(inspect_container={"State": {"Running": True, "Health": {"Status": "unhealthy"}}}), FakeClock()
    with pytest.raises(ReplacementFailed, match="turned unhealthy: no probe output"):
        wait(engine, clock)


def test_every_endpoint_must_answer_once_within_the_grace_period():
    engine, clock = FakeEngine(inspect_container=NO_HEALTH_CHECK), FakeClock()
    answers = {("127.0.0.1", 80): [False, False, True], ("::1", 80): [True]}
    asked = []

    def probe(host, port):
        asked.append((host, port))
        script = answers[(host, port)]
        return script.pop(0) if len(script) > 1 else script[0]
    wait_until_settled(engine, NEW_ID, GRACE, HEALTH_TIMEOUT, sleep=clock.sleep, now=clock.now,
                       endpoints=[("127.0.0.1", 80), ("::1", 80)], probe=probe)
    assert asked.count(("::1", 80)) == 1 and asked.count(("127.0.0.1", 80)) == 3
    assert sum(clock.sleeps) == GRACE


def test_an_endpoint_that_never_answers_fails_at_the_end_of_the_grace_period():
    engine, clock = FakeEngine(inspect_container=NO_HEALTH_CHECK), FakeClock()
    with pytest.raises(ReplacementFailed, match=r"^the replacement does not answer on \[::1\]:80, where the old container"):
        wait_until_settled(engine, NEW_ID, GRACE, HEALTH_TIMEOUT, sleep=clock.sleep, now=clock.now,
                           endpoints=[("::1", 80)], probe=lambda host, port: False)
    assert sum(clock.sleeps) == GRACE


def test_with_a_health_check_an_endpoint_has_as_long_as_the_health_check():
    engine, clock = FakeEngine(inspect_container=[STARTING] * 40 + [RUNNING]), FakeClock()
    calls = []
    wait_until_settled(engine, NEW_ID, GRACE, HEALTH_TIMEOUT, sleep=clock.sleep, now=clock.now,
                       endpoints=[("127.0.0.1", 80)], probe=lambda host, port: calls.append(1) or len(calls) > 30)
    assert sum(clock.sleeps) == 40 * execute.POLL_SECONDS


def test_a_restart_between_polls_is_caught_by_its_start_time_alone():
    first = dict(NO_HEALTH_CHECK, RestartCount=0, State=dict(NO_HEALTH_CHECK["State"], StartedAt="2026-11-20T09:14:04.1Z"))
    moved = dict(first, State=dict(first["State"], StartedAt="2026-11-20T09:14:05.3Z"))
    engine, clock = FakeEngine(inspect_container=[first, moved]), FakeClock()
    with pytest.raises(ReplacementFailed, match=r"^the replacement restarted"):
        wait(engine, clock)


def test_a_container_with_no_state_has_stopped():
    engine, clock = FakeEngine(inspect_container={}), FakeClock()
    with pytest.raises(ReplacementFailed, match=r"stopped \(exit code None\)"):
        wait(engine, clock)


# --- helpers ----------------------------------------------------------------------------------------

def test_aside_and_temporary_names():
    assert aside_name("shop-web-1", WEB_ID) == ASIDE
    assert execute.temporary_name("shop-web-1", WEB_ID) == TEMPORARY


def test_describe_failure():
    assert describe_failure(ReplacementFailed("the replacement stopped")) == "the replacement stopped"
    assert describe_failure(api_error("no such image")) == "Docker refused: no such image"
    assert describe_failure(KeyError("Id")) == "KeyError: 'Id'"


def test_last_logs_masks_url_passwords():
    engine = FakeEngine(logs=b"connecting to postgres://shop:s3cr3t-pw@db:5432/shop\nfailed\n")
    assert last_logs(engine, NEW_ID) == "connecting to postgres://shop:********@db:5432/shop\nfailed"


def test_last_logs_reads_text_and_undecodable_bytes():
    assert last_logs(FakeEngine(logs="plain text\n"), NEW_ID) == "plain text"
    assert last_logs(FakeEngine(logs=b"caf\xe9\n"), NEW_ID) == "caf\ufffd"


def test_last_logs_masks_known_tokens():
    token = "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"
    engine = FakeEngine(logs=("GITHUB_TOKEN=%s\nexiting\n" % token).encode())
    assert token not in last_logs(engine, NEW_ID)


def test_a_full_disk_after_the_replacement_was_verified_does_not_undo_it(clock):
    engine, journal = FakeEngine(), RecordingJournal(fail_at="remove_old")
    outcome = run_recreate(engine, clock, journal=journal)
    assert outcome.status == "changed" and engine.made("remove_container") == [((WEB_ID,), {"v": False})]
