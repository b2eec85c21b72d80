"""An interrupted replacement (kill -9 of the module at every step boundary) is finished or undone by the next run.

The module is killed with SIGKILL at each step through its test hook (BULWARK_REMEDIATE_KILL_AT); the
next run, without the hook, must find what the killed one left in its journal, restore the service or
finish the replacement, put the original restart policy back, and leave no -bulwark-old- or -bulwark-new-
container. A container merely named like one set aside, with no journal entry, is never touched.
"""

import os

import pytest

from ansible_collections.bulwark.hardening.tests.integration.remediate_support import aside_containers, clean, engine, entry, remediate, run_container

pytestmark = pytest.mark.integration

PREFIX = "bwrm-kill-"
SERVICE = ["sh", "-c", "exec sleep infinity"]
RESTART = {"Name": "unless-stopped", "MaximumRetryCount": 0}
# Killed before these steps, the next run undoes the replacement; from restore_restart on it finishes it.
UNDONE = ["create", "connect", "rename_old", "restart_off", "stop_old", "rename_new", "start_new", "verify"]
FINISHED = ["restore_restart", "remove_old", "done"]
ARGS = {"rules": ["5.26"], "policy": {"recreate": True}}


@pytest.fixture(scope="module")
def api():
    client = engine()
    clean(client, PREFIX)
    try:
        yield client
    finally:
        clean(client, PREFIX)


def test_the_step_names_are_the_modules(api):
    from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.journal import STEPS  # pylint: disable=import-outside-toplevel
    assert list(STEPS) == UNDONE + FINISHED


def _journal(state_dir):
    return [name for name in os.listdir(str(state_dir)) if name.startswith("replacing-")]


@pytest.mark.parametrize("step", UNDONE + FINISHED)
def test_the_next_run_recovers_from_a_kill_at(api, step, tmp_path, monkeypatch):
    name = PREFIX + step.replace("_", "-")
    old_id = run_container(api, name, command=SERVICE, restart_policy=RESTART)
    monkeypatch.setenv("BULWARK_REMEDIATE_KILL_AT", step)
    killed = remediate(dict(ARGS, containers=[name]), tmp_path)
    assert killed.result.get("failed") is True and killed.result.get("rc") in (-9, 137), killed.result
    assert len(_journal(tmp_path)) == 1
    monkeypatch.delenv("BULWARK_REMEDIATE_KILL_AT")

    again = remediate(dict(ARGS, containers=[name]), tmp_path)
    assert not again.result.get("failed"), again.result.get("msg")
    [recovered] = again.result["recovered"]
    assert recovered["name"] == name and recovered["step"] == step and recovered["status"] == "changed"
    assert recovered["action"] == ("restored" if step in UNDONE else "finished"), recovered
    data = api.inspect_container(name)
    assert data["State"]["Running"] and data["HostConfig"]["RestartPolicy"] == RESTART
    assert "no-new-privileges:true" in (data["HostConfig"]["SecurityOpt"] or [])  # the second run fixed it
    if step in FINISHED:  # the killed run's replacement stays: nothing left to fix
        assert data["Id"] != old_id and again.result["containers"] == []
    else:  # the old container came back, then this run replaced it
        assert entry(again.result, name)["status"] == "changed"
    assert aside_containers(api, name) == []
    assert _journal(tmp_path) == []


def test_recovery_in_check_mode_changes_nothing(api, tmp_path, monkeypatch):
    name = PREFIX + "check"
    run_container(api, name, command=SERVICE, restart_policy=RESTART)
    monkeypatch.setenv("BULWARK_REMEDIATE_KILL_AT", "start_new")
    remediate(dict(ARGS, containers=[name]), tmp_path)
    monkeypatch.delenv("BULWARK_REMEDIATE_KILL_AT")
    planned = remediate(dict(ARGS, containers=[name]), tmp_path, check=True)
    [recovered] = planned.result["recovered"]
    assert recovered["status"] == "planned" and recovered["action"] == "restored"
    assert aside_containers(api, name)  # still as the killed run left it
    assert all(item["name"] != name + "-bulwark-old-" for item in planned.result["containers"])
    done = remediate(dict(ARGS, containers=[name]), tmp_path)
    assert done.result["recovered"][0]["status"] == "changed" and aside_containers(api, name) == []


def test_an_aside_name_without_journal_is_never_touched(api, tmp_path):
    stranger = PREFIX + "app-bulwark-old-0123456789ab"
    stranger_id = run_container(api, stranger, command=SERVICE)
    run = remediate({"containers": [PREFIX + "app*"], "rules": ["5.26"], "policy": {"recreate": True}}, tmp_path)
    assert all(item["name"] != stranger for item in run.result["containers"])
    [leftover] = [item for item in run.result["leftovers"] if item["name"] == stranger]
    assert "journal" in leftover["reason"] and leftover["id"] == stranger_id[:12]
    data = api.inspect_container(stranger)
    assert data["Id"] == stranger_id and data["State"]["Running"] and not data["HostConfig"]["SecurityOpt"]
