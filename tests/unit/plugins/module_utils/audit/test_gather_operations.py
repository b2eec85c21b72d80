# -*- coding: utf-8 -*-
"""Gathering for sections 6 and 7: which calls, how many, and the node's docker-state.json."""

from __future__ import annotations

import copy
import json

import pytest
from docker.errors import APIError

from ansible_collections.bulwark.hardening.plugins.module_utils.audit import gather_operations
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.run import run_audit
from ansible_collections.bulwark.hardening.plugins.module_utils.engine.connection import CountingClient, connection_from

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.rule_fixtures import load

SWARM = load("swarm.json")
OPERATIONS = load("operations.json")


class SwarmAPI(object):
    """The APIClient methods sections 6 and 7 use, answering from operations.json and swarm.json."""

    def __init__(self, version, swarm_block, root_dir="/nonexistent/docker", fail=()):
        self.version = version
        self.swarm_block = swarm_block
        self.root_dir = root_dir
        self.fail = fail
        self.arguments = {}

    def _answer(self, name, value, **kwargs):
        self.arguments[name] = kwargs
        if name in self.fail:
            raise APIError("503", explanation="This node is not a swarm manager.")
        return copy.deepcopy(value)

    def info(self):
        info = load("info.json")
        info["Swarm"] = copy.deepcopy(self.swarm_block)
        info["DockerRootDir"] = self.root_dir
        return info

    def images(self, **kwargs):
        return self._answer("images", OPERATIONS["images"], **kwargs)

    def containers(self, **kwargs):
        return self._answer("containers", OPERATIONS["containers"], **kwargs)

    def inspect_swarm(self):
        cluster = dict(self.swarm_block.get("Cluster") or SWARM["info_manager"]["Cluster"])
        cluster["JoinTokens"] = {"Worker": "SWMTKN-1-worker-secret", "Manager": "SWMTKN-1-manager-secret"}
        return self._answer("inspect_swarm", cluster)

    def nodes(self, **kwargs):
        return self._answer("nodes", SWARM["nodes"], **kwargs)

    def networks(self, **kwargs):
        return self._answer("networks", SWARM["networks"], **kwargs)

    def secrets(self, **kwargs):
        return self._answer("secrets", SWARM["secrets"], **kwargs)


def audit(swarm_block, scope=("operations", "swarm"), **api_options):
    apis = []

    def factory(version):
        api = SwarmAPI(version, swarm_block, **api_options)
        apis.append(api)
        return api
    client = CountingClient(connection_from({}), api_factory=factory)
    return run_audit(scope=list(scope), report="all", client=client), apis[0]


def by_rule(result):
    return dict(((finding["rule"], finding["target"]), finding["status"]) for finding in result["findings"])


def test_outside_a_swarm_sections_6_and_7_cost_two_calls():
    result, api = audit(load("info.json")["Swarm"])
    assert result["api_calls_by_endpoint"] == {"info": 1, "images": 1, "containers": 1}
    assert api.arguments["containers"] == {"all": True}
    statuses = by_rule(result)
    assert statuses[("6.1", "images")] == "info" and statuses[("6.2", "containers")] == "info"
    assert set(status for (rule, _target), status in statuses.items() if rule.startswith("7.")) == {"skipped"}


def test_swarm_scope_alone_outside_a_swarm_costs_only_info():
    result, _api = audit(load("info.json")["Swarm"], scope=("swarm",))
    assert result["api_calls_by_endpoint"] == {"info": 1}


def test_a_manager_adds_three_list_calls_and_no_swarm_inspect():
    result, api = audit(SWARM["info_manager"], scope=("swarm",))
    assert result["api_calls_by_endpoint"] == {"info": 1, "nodes": 1, "networks": 1, "secrets": 1}
    assert api.arguments["networks"] == {"filters": {"driver": "overlay"}}
    statuses = by_rule(result)
    assert statuses[("7.3", "plain-net")] == "fail" and statuses[("7.3", "secure-net")] == "pass"
    assert statuses[("7.5", "swarm")] == "fail"
    # docker-state.json is not on this machine (DockerRootDir elsewhere): 7.2 and 7.9 say so.
    assert statuses[("7.2", "swarm")] == "skipped" and statuses[("7.9", "swarm")] == "skipped"


def test_swarm_inspect_only_without_a_cluster_block_and_its_join_tokens_are_dropped():
    block = dict(SWARM["info_manager"])
    del block["Cluster"]
    result, _api = audit(block, scope=("swarm",))
    assert result["api_calls_by_endpoint"]["inspect_swarm"] == 1
    assert "SWMTKN" not in json.dumps(result)
    facts = gather_operations.gather_swarm(CountingClient(connection_from({}), api_factory=lambda v: SwarmAPI(v, block)),
                                           {"Swarm": block})
    assert facts.cluster["Spec"]["CAConfig"] and "JoinTokens" not in facts.cluster


def test_a_worker_costs_no_call_and_reads_its_own_docker_state(tmp_path):
    (tmp_path / "swarm").mkdir()
    (tmp_path / "swarm" / "docker-state.json").write_text(json.dumps(dict(
        SWARM["docker_state"], AdvertiseAddr="192.168.56.12:2377", DataPathAddr="10.10.0.12")))
    result, _api = audit(SWARM["info_worker"], scope=("swarm",), root_dir=str(tmp_path))
    assert result["api_calls_by_endpoint"] == {"info": 1}
    assert by_rule(result)[("7.9", "swarm")] == "pass"


def test_a_failing_manager_call_leaves_that_fact_unknown():
    result, _api = audit(SWARM["info_manager"], scope=("swarm",), fail=("networks",))
    finding = [f for f in result["findings"] if f["rule"] == "7.3"][0]
    assert finding["status"] == "skipped" and "not a swarm manager" in finding["evidence"]
    assert by_rule(result)[("7.4", "swarm")] == "pass"


# --- docker-state.json ----------------------------------------------------------------

def write_state(tmp_path, content):
    (tmp_path / "swarm").mkdir(exist_ok=True)
    (tmp_path / "swarm" / "docker-state.json").write_text(content)
    return {"DockerRootDir": str(tmp_path), "Swarm": SWARM["info_manager"]}


def test_node_config_is_read_from_the_data_root(tmp_path):
    info = write_state(tmp_path, json.dumps(SWARM["docker_state"]))
    config, error, path = gather_operations.read_node_config(info)
    assert error is None and config["ListenAddr"] == "0.0.0.0:2377"
    assert path == str(tmp_path / "swarm" / "docker-state.json")


@pytest.mark.parametrize("content,reason", [
    (None, "unreadable here"),
    ("{not json", "is not JSON"),
    ("[1]", "not a JSON object"),
    (json.dumps(dict(SWARM["docker_state"], AdvertiseAddr="10.9.9.9:2377")), "not this node's file"),
])
def test_node_config_problems_say_why(tmp_path, content, reason):
    info = write_state(tmp_path, content) if content is not None else {"DockerRootDir": str(tmp_path), "Swarm": {}}
    config, error, _path = gather_operations.read_node_config(info)
    assert config is None and reason in error
