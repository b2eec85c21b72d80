# -*- coding: utf-8 -*-
"""The container_remediate module: its real main() through the harness, the Engine and the audit faked.

A run over a Compose service (live fixes), with a leftover named like a set-aside container and the
journal entry of an interrupted earlier run: the result's keys are each documented in RETURN, and a
recovery that fails fails the task.
"""

from __future__ import annotations

import collections
import copy
import json

import pytest
import yaml

from ansible_collections.bulwark.hardening.plugins.module_utils.audit.findings import evaluate
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate import run
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.journal import Journal
from ansible_collections.bulwark.hardening.plugins.module_utils.rules import catalog as rulebook
from ansible_collections.bulwark.hardening.plugins.modules import container_remediate
from harness import run_module

import rule_fixtures

OLD_ID = "4b5e57f6eb2f42b9039b3d1e13929295f231749c510cbe341cd68036d9af97e2"
NEW_ID = "9d2f6a1c3b4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4"
LEFTOVER_ID = "7" * 64


def web():
    data = copy.deepcopy(rule_fixtures.load("compose_web.json")["container"])
    data["HostConfig"]["RestartPolicy"] = {"Name": "unless-stopped", "MaximumRetryCount": 0}
    return data


class Engine(object):
    """The calls a live run and a recovery make: inspect, the list, info, rename, start, update."""

    docker_host = "unix:///var/run/docker.sock"

    def __init__(self, containers):
        self.containers = containers
        self.calls = collections.Counter()

    @property
    def total(self):
        return sum(self.calls.values())

    def _find(self, reference):
        for data in self.containers:
            if reference in (data["Id"], data["Name"].lstrip("/")):
                return data
        from docker.errors import NotFound  # pylint: disable=import-outside-toplevel
        raise NotFound("No such container: %s" % reference)

    def call(self, endpoint, *args, **kwargs):
        self.calls[endpoint] += 1
        if endpoint == "info":
            return {"ID": "ENGINE"}
        if endpoint == "containers":
            return [{"Id": data["Id"], "Names": [data["Name"]]} for data in self.containers]
        data = self._find(args[0])
        if endpoint == "inspect_container":
            return copy.deepcopy(data)
        if endpoint == "rename":
            data["Name"] = "/" + args[1]
            return None
        if endpoint == "start":
            data["State"]["Running"] = True
            return None
        raise AssertionError("unexpected call %s" % endpoint)

    def get_json(self, name, path, params, *args):
        self.calls[name] += 1
        return {"memory_stats": {"usage": 1 << 20}, "pids_stats": {"current": 2}}

    def post_json(self, name, path, body, *args):
        self.calls[name] += 1
        self._find(args[0])["HostConfig"].update(body)
        return {"Warnings": None}


@pytest.fixture(name="engine")
def engine_fixture(monkeypatch):
    old = web()
    old["Name"] = "/shop-web-1-bulwark-old-4b5e57f6eb2f"
    old["State"]["Running"] = False
    old["HostConfig"]["RestartPolicy"] = {"Name": "no"}
    leftover = web()
    leftover.update(Id=LEFTOVER_ID, Name="/cache-bulwark-old-0123456789ab")
    engine = Engine([old, leftover])

    def audit(client, request, options, level=2):
        views = [rule_fixtures.ContainerView(copy.deepcopy(data)) for data in client.containers
                 if data["State"]["Running"] and (not request.name_filter or data["Name"].lstrip("/") in request.name_filter)]
        state = rule_fixtures.state(containers=views, options=options)
        return state, evaluate(rulebook.rules_for(run.SCOPES, level), state)

    monkeypatch.setattr(run, "audit", audit)
    monkeypatch.setattr(container_remediate, "run_remediation",
                        lambda **options: run.run_remediation(client=engine, sleep=lambda seconds: None, **options))
    return engine


def interrupted(state_dir, **fields):
    """The journal entry a run killed after stopping the old container leaves."""
    entry = dict({"name": "shop-web-1", "old_id": OLD_ID, "new_id": None, "temporary_name": "shop-web-1-bulwark-new-4b5e57f6eb2f",
                  "aside_name": "shop-web-1-bulwark-old-4b5e57f6eb2f", "was_running": True, "engine": "ENGINE",
                  "restart_policy": {"Name": "unless-stopped", "MaximumRetryCount": 0},
                  "new_restart_policy": {"Name": "unless-stopped", "MaximumRetryCount": 0},
                  "started": "2026-11-20T09:20:00.000000Z"}, **fields)
    Journal(str(state_dir), hook=lambda step: None).record(entry, "rename_new")


def returned():
    return yaml.safe_load(container_remediate.RETURN)


def documented(spec, result, where):
    """Keys of result (a dict, or each dict of a list) that RETURN's spec does not document."""
    missing = []
    items = result if isinstance(result, list) else [result]
    for item in items:
        for key, value in item.items():
            if key not in spec:
                missing.append("%s.%s" % (where, key))
            elif "contains" in spec[key] and isinstance(value, (dict, list)) and value:
                missing += documented(spec[key]["contains"], value, "%s.%s" % (where, key))
    return sorted(set(missing))


ARGS = {"policy": {"cpu_shares": 512}, "rules": ["5.12"]}


def test_the_interrupted_replacement_is_restored_then_fixed_and_every_key_is_documented(engine, tmp_path):
    interrupted(tmp_path)
    result = run_module(container_remediate.main, dict(ARGS, state_dir=str(tmp_path)), diff=True).result
    assert not result.get("failed"), result.get("msg")
    [recovered] = result["recovered"]
    assert (recovered["name"], recovered["action"], recovered["status"], recovered["step"]) == (
        "shop-web-1", "restored", "changed", "rename_new")
    [leftover] = result["leftovers"]
    assert leftover["name"] == "cache-bulwark-old-0123456789ab" and leftover["id"] == LEFTOVER_ID[:12]
    assert [entry["name"] for entry in result["containers"]] == ["shop-web-1"]  # never the leftover
    [project] = result["compose"]
    assert project["project"] == "shop" and "    cpu_shares: 512\n" in project["override"]
    assert result["summary"]["recovered"] == 1
    spec = returned()
    spec.update(changed={}, diff={}, invocation={})  # Ansible's own keys
    assert documented(spec, result, "result") == []


def test_check_mode_plans_the_recovery_and_changes_nothing(engine, tmp_path):
    interrupted(tmp_path)
    before = json.dumps(engine.containers, sort_keys=True)
    result = run_module(container_remediate.main, dict(ARGS, state_dir=str(tmp_path)), check_mode=True).result
    assert result["recovered"][0]["status"] == "planned" and result["changed"] is True
    assert json.dumps(engine.containers, sort_keys=True) == before
    assert result["containers"] == [] and len(Journal(str(tmp_path)).entries()) == 1


def test_a_recovery_that_fails_fails_the_task(engine, tmp_path):
    interrupted(tmp_path, old_id="e" * 64)
    run = run_module(container_remediate.main, dict(ARGS, state_dir=str(tmp_path)))
    assert run.failed and "shop-web-1: recovery failed the old container eeeeeeeeeeee no longer exists" in run.msg


def test_the_policy_options_are_the_policy_fields():
    from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.policy import POLICY_FIELDS  # pylint: disable=import-outside-toplevel
    assert sorted(container_remediate.POLICY_OPTIONS) == sorted(POLICY_FIELDS)
    documented_policy = yaml.safe_load(container_remediate.DOCUMENTATION)["options"]["policy"]["suboptions"]
    assert sorted(documented_policy) == sorted(POLICY_FIELDS)
