# -*- coding: utf-8 -*-
"""Unit tests for host.harden: which areas are planned, carrying them out in order, the result and the diff."""

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.system import host_facts
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.state import HostFacts
from ansible_collections.bulwark.hardening.plugins.module_utils.common import textfiles
from ansible_collections.bulwark.hardening.plugins.module_utils.host import area as host_area
from ansible_collections.bulwark.hardening.plugins.module_utils.host import harden
from ansible_collections.bulwark.hardening.plugins.module_utils.host.area import AreaPlan, HostChangeError

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.host_fixtures import FakeRun, host_env
from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.rule_fixtures import state

BASICS_OFF = dict(unattended_upgrades=False, auto_upgrades_path=None, core_dumps_off=False, core_limits_path=None,
                  coredump_conf_path=None, login_defs={}, age_existing_accounts=False, time_sync=False, apparmor=False)


def audit_state(members=("alice", "mallory")):
    return state(host=HostFacts(files={}, docker_group_members=list(members), docker_gid=None))


def request(tmp_path, **areas):
    """A host_harden request: every area None (not asked for) unless given."""
    base = dict((name, None) for name in harden.AREAS)
    base.update(connection="ssh", connecting_user="root")
    base.update(areas)
    return base


def test_areas_with_a_none_request_are_not_planned(tmp_path):
    plans = harden.plan_all(request(tmp_path, kernel_modules={"blacklist": ["cramfs"], "path": str(tmp_path / "m.conf")},
                                    docker_group={"allowlist": None}),
                            audit_state(), host_env(in_container="docker"), FakeRun())
    assert [plan.name for plan in plans] == ["kernel_modules", "docker_group"]


def test_every_area_is_planned_in_the_fixed_order_from_its_request(monkeypatch, tmp_path):
    monkeypatch.setattr(host_facts, "find_binary", lambda name, *args, **kwargs: None)
    tree = tmp_path / "tree"
    tree.mkdir()
    run = FakeRun()
    full = request(
        tmp_path,
        mounts={"options": {"/tmp": ["nodev"]}},
        basics=dict(BASICS_OFF),
        file_modes={"paths": [str(tree)], "exclude": ["/srv/data"], "setid_remove": []},
        ssh={"settings": {"PermitRootLogin": "no"}, "allow_groups": [], "path": str(tmp_path / "00.conf")},
        docker_group={"allowlist": ["alice"]},
        auditd={"path": str(tmp_path / "docker.rules"), "key": "docker"},
        kernel_modules={"blacklist": ["cramfs"], "path": str(tmp_path / "m.conf")},
        sysctl={"settings": {"kernel.sysrq": 0}, "path": str(tmp_path / "90.conf")},
    )
    plans = harden.plan_all(full, audit_state(), host_env(in_container="docker"), run)
    assert [plan.name for plan in plans] == list(harden.AREAS)
    skipped = dict((plan.name, plan.skipped) for plan in plans)
    assert all(skipped[name] for name in ("sysctl", "kernel_modules", "auditd", "mounts", "ssh"))
    assert [action.argv for action in plans[3].actions] == [["gpasswd", "-d", "mallory", "docker"]]
    # file_modes never walks Docker's data root, whatever the request's exclude list says.
    find = [argv for argv in run.calls if argv[0] == "find"]
    assert len(find) == 1 and "/var/lib/docker" in find[0] and "/srv/data" in find[0]


def test_an_unknown_area_name_is_an_error(tmp_path):
    with pytest.raises(ValueError):
        harden.plan_area("firewall", {}, audit_state(), host_env(), {}, FakeRun())


def file_plan(name, path, content):
    plan = AreaPlan(name)
    plan.files = [textfiles.plan_file(str(path), content)]
    return plan


def action_plan(name, *argv):
    plan = AreaPlan(name)
    plan.actions = [host_area.command("run %s" % argv[0], *argv)]
    return plan


def test_a_failure_in_the_third_area_names_the_areas_applied_before_it(tmp_path):
    unchanged = tmp_path / "same.conf"
    unchanged.write_text("same\n")
    skipped = AreaPlan("auditd").skip("auditd is not installed")
    plans = [file_plan("sysctl", tmp_path / "90.conf", "kernel.sysrq = 0\n"),
             skipped,
             file_plan("kernel_modules", unchanged, "same\n"),  # nothing to do: not "applied"
             action_plan("docker_group", "gpasswd", "-d", "mallory", "docker"),
             action_plan("ssh", "sshd", "-t"),
             file_plan("basics", tmp_path / "never.conf", "x\n")]
    run = FakeRun({("sshd",): (255, "", "Bad configuration option")})
    with pytest.raises(HostChangeError) as error:
        harden.carry_out_all(plans, run)
    message = str(error.value)
    assert message.startswith("ssh: `sshd -t` failed (exit 255): Bad configuration option")
    assert "(areas applied before it: sysctl, docker_group; later areas not applied)" in message
    assert (tmp_path / "90.conf").read_text() == "kernel.sysrq = 0\n"
    assert not (tmp_path / "never.conf").exists()
    assert run.calls == [["gpasswd", "-d", "mallory", "docker"], ["sshd", "-t"]]


def test_a_failure_in_the_first_area_says_none_was_applied(tmp_path):
    with pytest.raises(HostChangeError) as error:
        harden.carry_out_all([action_plan("sysctl", "sysctl", "-p")], FakeRun(default=(1, "", "denied")))
    assert "(areas applied before it: none; later areas not applied)" in str(error.value)


def test_skipped_plans_are_not_carried_out(tmp_path):
    plan = file_plan("mounts", tmp_path / "fstab", "x\n")
    plan.skipped = "in a container (docker)"  # set directly: a skip that kept its files must still not write
    harden.carry_out_all([plan], FakeRun())
    assert not (tmp_path / "fstab").exists()


def plans_for_result(tmp_path):
    sysctl = file_plan("sysctl", tmp_path / "90.conf", "kernel.sysrq = 0\n")
    sysctl.notes.append("net.ipv4.ip_forward stays 1")
    sysctl.actions.append(host_area.command("load 90.conf (sysctl -p)", "sysctl", "-p"))
    auditd = AreaPlan("auditd")
    auditd.missing_packages.append("auditd")
    auditd.skip("auditd is not installed")
    basics = AreaPlan("basics")
    basics.missing_packages.extend(["unattended-upgrades", "auditd", "apparmor"])
    basics.notes.append("unattended-upgrades is not installed")
    group = AreaPlan("docker_group")
    group.actions.append(host_area.command("remove mallory from docker", "gpasswd", "-d", "mallory", "docker"))
    return [sysctl, auditd, group, basics]


def test_result_of_aggregates_missing_packages_once_and_prefixes_notes_with_the_area(tmp_path):
    env = host_env(docker_installed=True, userns_remap="default", active_units=["ssh", "auditd"])
    result = harden.result_of(plans_for_result(tmp_path), env)
    assert result["changed"] is True
    assert result["missing_packages"] == ["auditd", "unattended-upgrades", "apparmor"]
    assert result["notes"] == ["sysctl: net.ipv4.ip_forward stays 1",
                               "basics: unattended-upgrades is not installed",
                               "auditd: skipped, auditd is not installed"]
    assert sorted(result["areas"]) == ["auditd", "basics", "docker_group", "sysctl"]
    assert result["areas"]["auditd"]["skipped"] == "auditd is not installed"
    assert result["environment"] == dict(in_container=None, docker_installed=True, userns_remap="default",
                                         active_units=["auditd", "ssh"])


def test_result_of_unchanged_plans_is_not_changed(tmp_path):
    same = tmp_path / "same.conf"
    same.write_text("same\n")
    result = harden.result_of([file_plan("sysctl", same, "same\n"), AreaPlan("mounts")], host_env())
    assert result["changed"] is False and result["missing_packages"] == [] and result["notes"] == []


def test_diff_of_lists_each_changed_file_then_one_actions_entry(tmp_path):
    same = tmp_path / "same.conf"
    same.write_text("same\n")
    plans = plans_for_result(tmp_path)
    plans.append(file_plan("kernel_modules", same, "same\n"))
    entries = harden.diff_of(plans)
    assert entries[0] == dict(before_header=str(tmp_path / "90.conf"), after_header=str(tmp_path / "90.conf"),
                              before="", after="kernel.sysrq = 0\n")
    assert entries[1] == dict(before_header="actions", after_header="actions", before="",
                              after="sysctl: load 90.conf (sysctl -p)\ndocker_group: remove mallory from docker\n")
    assert len(entries) == 2


def test_diff_of_without_actions_has_no_actions_entry(tmp_path):
    entries = harden.diff_of([file_plan("sysctl", tmp_path / "90.conf", "x\n")])
    assert [entry["before_header"] for entry in entries] == [str(tmp_path / "90.conf")]
