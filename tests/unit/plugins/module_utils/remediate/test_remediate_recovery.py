# -*- coding: utf-8 -*-
"""Recovery of interrupted replacements: undone before they were verified, finished after, only what entries record."""

from __future__ import annotations

import copy

import pytest
from docker.errors import APIError, NotFound

from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.journal import STEPS, Journal
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.recovery import recorded_ids, recover

from remediate_fixtures import WEB_ID, web_inspect

NEW_ID = "9d2f6a1c3b4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4"
OTHER_ID = "1111111111111111111111111111111111111111111111111111111111111111"
ASIDE = "shop-web-1-bulwark-old-4b5e57f6eb2f"
TEMPORARY = "shop-web-1-bulwark-new-4b5e57f6eb2f"
UNLESS_STOPPED = {"Name": "unless-stopped", "MaximumRetryCount": 0}
STARTED = "2026-11-20T09:20:00.000000Z"


class Engine(object):
    """Containers by id; inspect by id or name; rename, remove, start and the restart-policy update act on them."""

    docker_host = "unix:///var/run/docker.sock"

    def __init__(self, *containers, info_id="ENGINE"):
        self.containers = dict((data["Id"], copy.deepcopy(data)) for data in containers)
        self.info_id = info_id
        self.calls = []
        self.refuse = {}

    def find(self, reference):
        for data in self.containers.values():
            if reference in (data["Id"], data["Name"].lstrip("/")):
                return data
        raise NotFound("No such container: %s" % reference)

    def call(self, endpoint, *args, **kwargs):
        self.calls.append((endpoint,) + args)
        if endpoint in self.refuse:
            raise self.refuse[endpoint]
        if endpoint == "info":
            return {"ID": self.info_id}
        data = self.find(args[0])
        if endpoint == "inspect_container":
            return copy.deepcopy(data)
        if endpoint == "rename":
            data["Name"] = "/" + args[1]
        elif endpoint == "remove_container":
            del self.containers[data["Id"]]
        elif endpoint == "start":
            data["State"]["Running"] = True
        return None

    def post_json(self, name, path, body, *args):
        self.calls.append((name, args[0], body))
        self.find(args[0])["HostConfig"]["RestartPolicy"] = body["RestartPolicy"]

    def endpoints(self):
        return [call[0] for call in self.calls if call[0] not in ("inspect_container", "info")]


def container(container_id, name, running=True, restart=None, created="2026-11-20T09:20:01.000000000Z"):
    return web_inspect({"Id": container_id, "Name": "/" + name, "State.Running": running, "Created": created,
                        "HostConfig.RestartPolicy": restart or {"Name": "no", "MaximumRetryCount": 0}})


def journal_with(tmp_path, step, **fields):
    book = Journal(str(tmp_path), hook=lambda step: None)
    record = dict({"name": "shop-web-1", "old_id": WEB_ID, "new_id": NEW_ID, "temporary_name": TEMPORARY,
                   "aside_name": ASIDE, "restart_policy": UNLESS_STOPPED, "new_restart_policy": UNLESS_STOPPED,
                   "was_running": True, "engine": "ENGINE", "docker_host": Engine.docker_host, "started": STARTED}, **fields)
    book.record(record, step)
    return book


def world_at(step):
    """The containers as a run killed right after recording `step` leaves them."""
    index = STEPS.index(step)
    old_name = ASIDE if index > STEPS.index("rename_old") else "shop-web-1"
    old_restart = {"Name": "no"} if index > STEPS.index("restart_off") else UNLESS_STOPPED
    old_running = index <= STEPS.index("stop_old")
    found = []
    if index <= STEPS.index("remove_old"):
        found.append(container(WEB_ID, old_name, running=old_running, restart=old_restart))
    if index > STEPS.index("create"):
        new_name = "shop-web-1" if index > STEPS.index("rename_new") else TEMPORARY
        new_restart = UNLESS_STOPPED if index > STEPS.index("restore_restart") else {"Name": "no"}
        found.append(container(NEW_ID, new_name, running=index > STEPS.index("start_new"), restart=new_restart))
    return Engine(*found)


@pytest.mark.parametrize("step", STEPS[:STEPS.index("restore_restart")])
def test_a_replacement_killed_before_it_was_verified_is_undone(tmp_path, step):
    engine, book = world_at(step), journal_with(tmp_path, step, new_id=NEW_ID if step != "create" else None)
    [result] = recover(engine, book, "ENGINE")
    assert (result["action"], result["status"], result["step"], result["name"]) == ("restored", "changed", step, "shop-web-1")
    assert list(engine.containers) == [WEB_ID]
    old = engine.containers[WEB_ID]
    assert old["Name"] == "/shop-web-1" and old["State"]["Running"] and old["HostConfig"]["RestartPolicy"] == UNLESS_STOPPED
    assert book.entries() == []


@pytest.mark.parametrize("step", STEPS[STEPS.index("restore_restart"):])
def test_a_verified_replacement_killed_after_is_finished(tmp_path, step):
    engine, book = world_at(step), journal_with(tmp_path, step)
    [result] = recover(engine, book, "ENGINE")
    assert (result["action"], result["status"]) == ("finished", "changed")
    assert list(engine.containers) == [NEW_ID]
    new = engine.containers[NEW_ID]
    assert new["Name"] == "/shop-web-1" and new["HostConfig"]["RestartPolicy"] == UNLESS_STOPPED
    assert ("remove_container", NEW_ID) not in engine.calls
    assert book.entries() == []


def test_the_old_container_is_removed_without_its_volumes(tmp_path):
    engine, book = world_at("remove_old"), journal_with(tmp_path, "remove_old")
    removed = []
    real = engine.call

    def call(endpoint, *args, **kwargs):
        if endpoint == "remove_container":
            removed.append((args, kwargs))
        return real(endpoint, *args, **kwargs)
    engine.call = call
    recover(engine, book, "ENGINE")
    assert removed == [((WEB_ID,), {"v": False})]


def test_killed_while_creating_the_replacement_under_its_temporary_name(tmp_path):
    # The create answered, the run died before recording the new id: the temporary name finds it.
    engine = Engine(container(WEB_ID, "shop-web-1", restart=UNLESS_STOPPED),
                    container(NEW_ID, TEMPORARY, running=False))
    book = journal_with(tmp_path, "create", new_id=None)
    [result] = recover(engine, book, "ENGINE")
    assert result["status"] == "changed" and list(engine.containers) == [WEB_ID]
    assert "removed the unverified replacement 9d2f6a1c3b4e" in result["detail"]


def test_a_container_of_the_temporary_name_older_than_the_entry_is_not_ours(tmp_path):
    engine = Engine(container(WEB_ID, "shop-web-1", restart=UNLESS_STOPPED),
                    container(OTHER_ID, TEMPORARY, created="2026-11-01T00:00:00.000000000Z"))
    book = journal_with(tmp_path, "create", new_id=None)
    recover(engine, book, "ENGINE")
    assert OTHER_ID in engine.containers


def test_check_mode_plans_and_touches_nothing(tmp_path):
    engine, book = world_at("start_new"), journal_with(tmp_path, "start_new")
    before = copy.deepcopy(engine.containers)
    [result] = recover(engine, book, "ENGINE", check_mode=True)
    assert (result["action"], result["status"]) == ("restored", "planned")
    assert engine.containers == before and engine.endpoints() == [] and len(book.entries()) == 1


def test_another_engines_entries_are_left_for_it(tmp_path):
    engine, book = world_at("stop_old"), journal_with(tmp_path, "stop_old", engine="OTHER-ENGINE")
    assert recover(engine, book, "ENGINE") == []
    assert len(book.entries()) == 1 and engine.endpoints() == []


def test_a_name_taken_by_a_container_no_entry_records_fails_and_keeps_the_entry(tmp_path):
    engine = world_at("start_new")
    engine.containers[NEW_ID]["Name"] = "/elsewhere"  # someone renamed the replacement; another took the name
    engine.containers[NEW_ID]["Id"] = NEW_ID
    engine.containers[OTHER_ID] = container(OTHER_ID, "shop-web-1")
    book = journal_with(tmp_path, "start_new", new_id="f" * 64)
    [result] = recover(engine, book, "ENGINE")
    assert result["status"] == "failed" and "taken by container 111111111111" in result["detail"]
    assert OTHER_ID in engine.containers and len(book.entries()) == 1


def test_an_old_container_that_is_gone_fails_and_keeps_the_entry(tmp_path):
    engine, book = Engine(), journal_with(tmp_path, "stop_old")
    [result] = recover(engine, book, "ENGINE")
    assert result["status"] == "failed" and "no longer exists" in result["detail"]
    assert len(book.entries()) == 1


def test_a_verified_replacement_that_is_gone_brings_the_old_one_back(tmp_path):
    engine = Engine(container(WEB_ID, ASIDE, running=False, restart={"Name": "no"}))
    book = journal_with(tmp_path, "remove_old")
    [result] = recover(engine, book, "ENGINE")
    assert (result["action"], result["status"]) == ("restored", "changed")
    old = engine.containers[WEB_ID]
    assert old["Name"] == "/shop-web-1" and old["State"]["Running"] and old["HostConfig"]["RestartPolicy"] == UNLESS_STOPPED


def test_a_refusal_of_the_engine_fails_and_keeps_the_entry(tmp_path):
    engine, book = world_at("stop_old"), journal_with(tmp_path, "stop_old")
    engine.refuse["rename"] = APIError("500", explanation="device busy")
    [result] = recover(engine, book, "ENGINE")
    assert result["status"] == "failed" and "device busy" in result["detail"] and len(book.entries()) == 1


def test_an_unreadable_entry_is_reported(tmp_path):
    book = Journal(str(tmp_path), hook=lambda step: None)
    (tmp_path / "replacing-aaaaaaaaaaaa.json").write_text("{")
    [result] = recover(Engine(), book, "ENGINE")
    assert result["status"] == "failed" and "unreadable journal entry" in result["detail"]


def test_a_stopped_service_is_restored_stopped(tmp_path):
    engine = world_at("rename_new")
    book = journal_with(tmp_path, "rename_new", was_running=False)
    engine.containers[WEB_ID]["State"]["Running"] = False
    recover(engine, book, "ENGINE")
    assert not engine.containers[WEB_ID]["State"]["Running"]


def test_recorded_ids(tmp_path):
    book = journal_with(tmp_path, "verify")
    assert recorded_ids(book) == {WEB_ID, NEW_ID}
