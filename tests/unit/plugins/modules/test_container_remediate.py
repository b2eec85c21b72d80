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
from ansible_collections.bulwark.hardening.plugins.module_utils.rules import catalog
from ansible_collections.bulwark.hardening.plugins.modules import container_remediate
from ansible_collections.bulwark.hardening.tests.unit.plugins.modules.harness import run_module

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils import rule_fixtures
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
        return state, evaluate(catalog.rules_for(run.SCOPES, level), state)

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


def test_the_documented_policy_options_are_the_policy_fields():
    # The argument spec is derived from POLICY_FIELDS (policy_options); the documentation is written out.
    from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.policy import POLICY_FIELDS  # pylint: disable=import-outside-toplevel
    documented_policy = yaml.safe_load(container_remediate.DOCUMENTATION)["options"]["policy"]["suboptions"]
    assert sorted(documented_policy) == sorted(POLICY_FIELDS)


# --- secrets in what it prints: a mount's options, a failing health check, the logs ---------------------

CIFS_OPTIONS = "addr=10.0.0.5,username=backup,password=Cifs-pw-5555,vers=3.0"
API_TOKEN = "2crmw2cI-QFNxjMdpjgl6ielW-NVRJtphfUxoR-T"
BEARER = "ya29.a0Lv74MNfjAN1m7i75cw3Jjkqv3K7oz8i2tbXLfTGAHOhdJAizL7rPHNK29hCt"
# The health check echoes the token it sent (a script's debug output), then fails.
PROBE_OUTPUT = ("calling http://127.0.0.1:8080/health with key %s\nAuthorization: Bearer %s\nHTTP 401\n"
                % (API_TOKEN, BEARER))


def web_with_secrets():
    """shop-web-1 with a CIFS volume whose options carry a password, and an API token in its environment."""
    data = web()
    data["HostConfig"]["Mounts"][0]["VolumeOptions"] = {"DriverConfig": {"Name": "local", "Options": {
        "type": "cifs", "device": "//nas/media", "o": CIFS_OPTIONS}}}
    # A writable --mount of a sensitive host path (BW-009): its fix rewrites HostConfig.Mounts, the CIFS volume's too.
    data["HostConfig"]["Mounts"].append({"Type": "bind", "Source": "/var/log/nginx", "Target": "/var/log/nginx"})
    data["Config"]["Env"].append("API_TOKEN=" + API_TOKEN)
    return data


class ReplacingEngine(object):
    """The calls of a replacement (create, rename, stop, start, inspect, logs, remove): the replacement
    turns unhealthy with PROBE_OUTPUT as its health check's last output, and logs the same lines."""

    docker_host = "unix:///var/run/docker.sock"

    def __init__(self, data):
        self.data = data
        self.calls = collections.Counter()

    @property
    def total(self):
        return sum(self.calls.values())

    def call(self, endpoint, *args, **kwargs):
        self.calls[endpoint] += 1
        if endpoint == "info":
            return {"ID": "ENGINE"}
        if endpoint == "containers":
            return [{"Id": self.data["Id"], "Names": [self.data["Name"]]}]
        if endpoint == "inspect_container" and args[0] == NEW_ID:
            return {"Id": NEW_ID, "RestartCount": 0, "State": {"Running": True, "Restarting": False, "StartedAt": "now",
                                                               "Health": {"Status": "unhealthy", "Log": [
                                                                   {"ExitCode": 1, "Output": PROBE_OUTPUT}]}}}
        if endpoint == "inspect_container":
            return copy.deepcopy(self.data)
        if endpoint == "create_container_from_config":
            return {"Id": NEW_ID, "Warnings": []}
        if endpoint == "logs":
            return PROBE_OUTPUT.encode()
        if endpoint == "diff":
            return []
        if endpoint in ("rename", "stop", "start", "remove_container", "connect_container_to_network"):
            return None
        raise AssertionError("unexpected call %s" % endpoint)

    def get_json(self, name, path, params, *args):
        self.calls[name] += 1
        return {"memory_stats": {"usage": 1 << 20}, "pids_stats": {"current": 2}}

    def post_json(self, name, path, body, *args):
        self.calls[name] += 1
        return {"Warnings": None}


@pytest.fixture(name="replacing")
def replacing_fixture(monkeypatch):
    engine = ReplacingEngine(web_with_secrets())

    def audit(client, request, options, level=2):
        state = rule_fixtures.state(containers=[rule_fixtures.ContainerView(copy.deepcopy(client.data))], options=options)
        return state, evaluate(catalog.rules_for(run.SCOPES, level), state)

    monkeypatch.setattr(run, "audit", audit)
    monkeypatch.setattr(container_remediate, "run_remediation",
                        lambda **options: run.run_remediation(client=engine, sleep=lambda seconds: None, **options))
    return engine


RECREATE_ARGS = {"policy": {"recreate": True}, "rules": ["BW-009"], "grace_period": 0}


def test_a_mounts_password_is_masked_in_the_changes_and_the_diff(replacing, tmp_path):
    outcome = run_module(container_remediate.main, dict(RECREATE_ARGS, state_dir=str(tmp_path)), check_mode=True, diff=True)
    assert not outcome.failed, outcome.msg
    [entry] = outcome.result["containers"]
    assert entry["action"] == "recreate" and "HostConfig.Mounts" in entry["changes"]
    assert "Cifs-pw-5555" not in outcome.stdout
    options = entry["changes"]["HostConfig.Mounts"]["after"][0]["VolumeOptions"]["DriverConfig"]["Options"]
    assert options["o"] == "addr=10.0.0.5,username=backup,password=********,vers=3.0"
    assert "username=backup,password=********" in "".join(diff["after"] for diff in outcome.result["diff"])


def test_a_failing_health_checks_output_is_masked_in_the_detail_the_logs_and_the_message(replacing, tmp_path):
    outcome = run_module(container_remediate.main, dict(RECREATE_ARGS, state_dir=str(tmp_path)), diff=True)
    assert outcome.failed
    [entry] = outcome.result["containers"]
    assert entry["status"] == "rolled_back"
    assert "the replacement turned unhealthy: calling http://127.0.0.1:8080/health with key ********" in entry["detail"]
    assert "Authorization: Bearer ********" in entry["logs"]
    assert "shop-web-1: rolled back the replacement turned unhealthy" in outcome.msg
    for secret in (API_TOKEN, BEARER, API_TOKEN[:20], BEARER[:20], "Cifs-pw-5555"):
        assert secret not in outcome.stdout
