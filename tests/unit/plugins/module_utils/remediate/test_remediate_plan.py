# -*- coding: utf-8 -*-
"""Planning one container: fixes compose, live or recreate, refusals, exemptions and manual rules reported."""

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.remediate import remedies
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.plan import plan_container
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.remedies import MANUAL, Change

from remediate_fixtures import MIB, audit_container, context, policy, web, web_image

RECREATE_OK = dict(recreate=True)
LIVE_POLICY = dict(memory="512m", cpu_shares=512, pids_limit=200)


def plan(container, failing, exemptions=None, ctx=None, **fields):
    exemptions = exemptions or {}
    return plan_container(container, failing, policy(**fields), ctx or context(), exemption_for=exemptions.get)


def skipped(result):
    return dict(result.skipped)


# --- composition -----------------------------------------------------------------

def test_security_opt_fixes_compose():
    container = web({"HostConfig.SecurityOpt": ["seccomp=unconfined", "apparmor=unconfined", "no-new-privileges=false"]})
    result = plan(container, ["5.26", "5.22", "5.2"], **RECREATE_OK)
    assert result.fixes == {"5.2": "recreate", "5.22": "recreate", "5.26": "recreate"}
    assert result.changes() == [("HostConfig", "SecurityOpt",
                                 ["seccomp=unconfined", "apparmor=unconfined", "no-new-privileges=false"],
                                 ["no-new-privileges:true"])]
    assert result.spec(web_image())["config"]["HostConfig"]["SecurityOpt"] == ["no-new-privileges:true"]


def test_mount_fixes_compose():
    # insecure: /etc:rw (5.6), the Docker socket (5.32), /root:rw (BW-009)
    result = plan(audit_container("insecure"), ["5.6", "5.32", "BW-009"], **RECREATE_OK)
    assert result.changes() == [("HostConfig", "Binds",
                                 ["/etc:/host-etc:rw", "/var/run/docker.sock:/var/run/docker.sock:ro", "/root:/host-root:rw"],
                                 ["/etc:/host-etc:ro", "/root:/host-root:ro"])]


def test_planning_leaves_the_inspect_data_alone():
    container = audit_container("insecure")
    before = audit_container("insecure").inspect
    plan(container, ["5.2", "5.4", "5.6", "5.11", "5.13"], memory="1g", **RECREATE_OK)
    assert container.inspect == before


def test_apparmor_is_fixed_with_privileged_in_one_plan():
    container = audit_container("insecure", {"HostConfig.Privileged": True})
    result = plan(container, ["5.2", "5.5", "5.22"], **RECREATE_OK)
    assert result.fixes == {"5.2": "recreate", "5.5": "recreate", "5.22": "recreate"}
    assert result.working["HostConfig"]["SecurityOpt"] == ["label=disable"]


def test_seccomp_is_fixed_with_privileged_in_one_plan():
    container = audit_container("insecure", {"HostConfig.Privileged": True})
    result = plan(container, ["5.5", "5.22"], **RECREATE_OK)
    assert result.fixes == {"5.5": "recreate", "5.22": "recreate"}
    assert result.working["HostConfig"]["SecurityOpt"] == ["apparmor=unconfined", "label=disable"]


# --- live or recreate ------------------------------------------------------------------

def test_a_live_only_plan_updates_only_live_settings():
    container = web({"HostConfig.RestartPolicy": {"Name": "no", "MaximumRetryCount": 0}})
    result = plan(container, ["5.11", "5.12", "5.15", "5.29"], **LIVE_POLICY)
    assert result.action == "live"
    assert result.fixes == {"5.11": "live", "5.12": "live", "5.15": "live", "5.29": "live"}
    assert result.update_body() == {"Memory": 512 * MIB, "MemorySwap": 512 * MIB, "CpuShares": 512, "PidsLimit": 200,
                                    "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 5}}


def test_a_live_plan_leaves_out_what_was_skipped():
    # shop-web-1 restarts unless-stopped: 5.15 is skipped without restart_from_always.
    result = plan(web(), ["5.11", "5.15"], **LIVE_POLICY)
    assert result.action == "live"
    assert result.update_body() == {"Memory": 512 * MIB, "MemorySwap": 512 * MIB}
    assert list(skipped(result)) == ["5.15"]


def test_any_recreate_fix_makes_the_plan_a_recreate():
    result = plan(audit_container("insecure"), ["5.11", "5.4"], cap_add=["NET_BIND_SERVICE"], **dict(LIVE_POLICY, **RECREATE_OK))
    assert result.action == "recreate"
    assert result.fixes == {"5.4": "recreate", "5.11": "live"}
    host_config = result.spec()["config"]["HostConfig"]
    assert host_config["Memory"] == 512 * MIB
    assert host_config["CapDrop"] == ["ALL"] and host_config["CapAdd"] == ["NET_BIND_SERVICE"]


def test_nothing_to_do_is_action_none():
    result = plan(web(), ["5.11"])
    assert result.action == "none"
    assert result.changes() == [] and result.update_body() == {}
    assert skipped(result) == {"5.11": "no memory limit in the policy (policy.memory)"}


def test_a_live_remedy_touching_a_create_only_setting_is_caught(monkeypatch):
    def stray(container, pol, ctx):
        return Change([("HostConfig", "Privileged", False)])
    monkeypatch.setitem(remedies.REMEDIES, "5.12", remedies.Remedy("5.12", "live", "test", stray))
    with pytest.raises(AssertionError, match="live fixes touched Privileged"):
        plan(audit_container("insecure", {"HostConfig.Privileged": True}), ["5.12"])


# --- refusals ----------------------------------------------------------------------------

def test_recreate_fixes_are_refused_without_policy_recreate():
    result = plan(audit_container("insecure"), ["5.4", "5.11", "5.26"], memory="512m")
    assert result.action == "live"
    assert result.fixes == {"5.11": "live"}
    assert skipped(result) == {"5.4": "recreate is off for this container (policy.recreate)",
                               "5.26": "recreate is off for this container (policy.recreate)"}


def test_recreate_fixes_are_refused_for_auto_remove_containers():
    container = audit_container("insecure", {"HostConfig.AutoRemove": True})
    result = plan(container, ["5.4", "5.12"], cpu_shares=512, **RECREATE_OK)
    assert result.action == "live"
    assert skipped(result)["5.4"].startswith("started with --rm: Docker deletes it once stopped")


@pytest.mark.parametrize("label", ["com.docker.swarm.task.id", "com.docker.swarm.service.id"])
def test_swarm_tasks_are_refused_everything(label):
    container = web({"Config.Labels": {label: "x1y2z3", "com.docker.swarm.task.name": "shop_web.1.x1y2z3"},
                     "Config.User": "root"})
    result = plan(container, ["5.11", "5.4", "5.7"], memory="512m", **RECREATE_OK)
    assert result.action == "none"
    assert result.fixes == {}
    assert skipped(result) == {"5.4": "a swarm service task: update the service instead (docker service update)",
                               "5.7": "manual: " + MANUAL["5.7"],
                               "5.11": "a swarm service task: update the service instead (docker service update)"}


# --- exemptions and manual rules ---------------------------------------------------------------

def test_exempt_rules_are_skipped_with_their_reason():
    result = plan(web(), ["5.11", "5.12", "5.7"], exemptions={"5.11": "sized by the vendor", "5.7": "debug image"},
                  **LIVE_POLICY)
    assert result.fixes == {"5.12": "live"}
    assert skipped(result) == {"5.7": "exempt: debug image", "5.11": "exempt: sized by the vendor"}


def test_manual_rules_are_reported_with_why():
    result = plan(web(), ["5.27", "BW-001", "5.9"])
    assert result.skipped == [("5.9", "manual: " + MANUAL["5.9"]), ("5.27", "manual: " + MANUAL["5.27"]),
                              ("BW-001", "manual: " + MANUAL["BW-001"])]


def test_a_rule_without_remedy_or_manual_entry_is_reported():
    assert plan(web(), ["5.1"]).skipped == [("5.1", "manual: no automatic fix")]


def test_skips_are_reported_in_rule_order_once():
    result = plan(web(), ["BW-008", "5.29", "5.10", "5.2", "5.10"])
    assert [rule for rule, _reason in result.skipped] == ["5.2", "5.10", "5.29", "BW-008"]


def test_remedy_skips_are_reported():
    result = plan(audit_container("hostnet"), ["5.10"], **RECREATE_OK)
    assert result.action == "none"
    assert "policy.network" in skipped(result)["5.10"]


# --- 4.1 run as the policy user ----------------------------------------------------------------------

def test_the_policy_user_is_a_recreate_fix():
    result = plan(audit_container("insecure"), ["5.11", "4.1"], memory="512m", user="1000:1000", **RECREATE_OK)
    assert result.action == "recreate"
    assert result.fixes == {"4.1": "recreate", "5.11": "live"}
    assert ("Config", "User", "root", "1000:1000") in result.changes()
    assert result.spec()["config"]["User"] == "1000:1000"


def test_the_policy_user_needs_recreate():
    result = plan(audit_container("insecure"), ["5.11", "4.1"], memory="512m", user="1000:1000")
    assert result.action == "live"
    assert skipped(result) == {"4.1": "recreate is off for this container (policy.recreate)"}


def test_the_policy_user_only_when_4_1_fails():
    result = plan(audit_container("insecure"), ["5.11"], memory="512m", user="1000:1000", **RECREATE_OK)
    assert result.fixes == {"5.11": "live"}


def test_a_plan_that_changes_nothing_does_not_recreate():
    # 5.16 reported failing on a container whose PidMode is already private: the fix would change nothing.
    result = plan(web({"HostConfig.PidMode": ""}), ["5.16"], **RECREATE_OK)
    assert result.changes() == []
    assert result.action == "none"
    assert "changes nothing here" in dict(result.skipped)["5.16"]


# --- the plan's own fields -------------------------------------------------------------------------

def test_plan_names_the_container():
    result = plan(web(), [])
    assert result.name == "shop-web-1"
    assert result.id.startswith("4b5e57f6eb2f")
    assert result.action == "none" and result.skipped == []


def test_a_refusal_found_at_the_engine_skips_the_recreate_fixes_and_keeps_the_live_ones():
    plan = plan_container(web(), ["5.26", "5.13", "5.12"], policy(recreate=True, cpu_shares=512), context(),
                          refusal="kept as it is: its writable layer holds what a replacement would lose")
    assert plan.action == "live" and plan.fixes == {"5.12": "live"}
    assert plan.skipped == [("5.13", "kept as it is: its writable layer holds what a replacement would lose"),
                            ("5.26", "kept as it is: its writable layer holds what a replacement would lose")]


def test_recreate_off_is_said_before_a_refusal_found_at_the_engine():
    plan = plan_container(web(), ["5.26"], policy(), context(), refusal="kept as it is: dependants")
    assert plan.skipped == [("5.26", "recreate is off for this container (policy.recreate)")]


def test_a_plan_has_no_ports_to_verify_until_told():
    assert plan_container(web(), ["5.26"], policy(recreate=True), context()).verify_ports == []
