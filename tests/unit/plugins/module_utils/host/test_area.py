# -*- coding: utf-8 -*-
"""Unit tests for host.area: carrying out a plan (files, validation with put-back, actions in order)."""

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.common import textfiles
from ansible_collections.bulwark.hardening.plugins.module_utils.host import area as host_area
from ansible_collections.bulwark.hardening.plugins.module_utils.host.area import AreaPlan, HostChangeError

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.host_fixtures import FakeRun


def two_files(tmp_path):
    """A plan rewriting an existing file and creating a new one."""
    existing = tmp_path / "existing.conf"
    existing.write_text("old\n")
    new = tmp_path / "new.conf"
    plan = AreaPlan("demo")
    plan.files = [textfiles.plan_file(str(existing), "replaced\n"), textfiles.plan_file(str(new), "created\n")]
    return plan, existing, new


def test_validate_failing_puts_the_previous_files_back_and_raises(tmp_path):
    plan, existing, new = two_files(tmp_path)
    seen = []

    def validate():
        seen.append((existing.read_text(), new.read_text()))  # validation sees the new files
        return "sshd -t refuses the drop-in"

    plan.validate = validate
    plan.actions = [host_area.command("reload", "systemctl", "reload", "ssh")]
    run = FakeRun()
    with pytest.raises(HostChangeError) as error:
        host_area.carry_out(plan, run)
    assert seen == [("replaced\n", "created\n")]
    assert existing.read_text() == "old\n"
    assert not new.exists()
    assert "demo: sshd -t refuses the drop-in; the previous files were put back" in str(error.value)
    assert str(existing) in str(error.value) and str(new) in str(error.value)
    assert run.calls == [], "actions ran after a failed validation"


def test_validate_passing_keeps_the_files_and_runs_the_actions(tmp_path):
    plan, existing, new = two_files(tmp_path)
    plan.validate = lambda: None
    plan.actions = [host_area.command("reload", "systemctl", "reload", "ssh")]
    run = FakeRun()
    host_area.carry_out(plan, run)
    assert existing.read_text() == "replaced\n" and new.read_text() == "created\n"
    assert run.calls == [["systemctl", "reload", "ssh"]]


def test_validate_is_not_called_when_no_file_changes(tmp_path):
    path = tmp_path / "same.conf"
    path.write_text("same\n")
    plan = AreaPlan("demo")
    plan.files = [textfiles.plan_file(str(path), "same\n")]
    plan.validate = lambda: pytest.fail("validated although nothing was written")
    host_area.carry_out(plan, FakeRun())


def test_actions_run_in_order_commands_and_calls_alike():
    order = []
    run = FakeRun({("first",): lambda argv: order.append("first") or (0, "", ""),
                   ("third",): lambda argv: order.append("third") or (0, "", "")})
    plan = AreaPlan("demo")
    plan.actions = [host_area.command("one", "first", "-x"),
                    host_area.python_call("two", lambda: order.append("second")),
                    host_area.command("three", "third")]
    host_area.carry_out(plan, run)
    assert order == ["first", "second", "third"]


def test_a_failing_command_raises_with_the_command_and_its_error_and_stops():
    run = FakeRun({("sysctl",): (255, "", "sysctl: cannot stat /proc/sys/kernel/foo: No such file or directory\n")})
    plan = AreaPlan("sysctl")
    plan.actions = [host_area.command("load", "sysctl", "-q", "-p", "/etc/sysctl.d/90.conf"),
                    host_area.command("never", "true")]
    with pytest.raises(HostChangeError) as error:
        host_area.carry_out(plan, run)
    message = str(error.value)
    assert message.startswith("sysctl: `sysctl -q -p /etc/sysctl.d/90.conf` failed (exit 255): ")
    assert message.endswith("No such file or directory")
    assert run.calls == [["sysctl", "-q", "-p", "/etc/sysctl.d/90.conf"]]


def test_a_failing_command_without_stderr_reports_its_stdout():
    with pytest.raises(HostChangeError) as error:
        host_area.run_checked(FakeRun(default=(1, "out text\n", "")), ["x"], "demo")
    assert str(error.value) == "demo: `x` failed (exit 1): out text"


def test_a_python_call_returning_an_error_raises_it():
    plan = AreaPlan("sysctl")
    plan.actions = [host_area.python_call("verify", lambda: "after sysctl -p: kernel.sysrq is 1, not 0")]
    with pytest.raises(HostChangeError) as error:
        host_area.carry_out(plan, FakeRun())
    assert str(error.value) == "sysctl: after sysctl -p: kernel.sysrq is 1, not 0"


def test_skip_drops_files_and_actions_and_keeps_the_reason(tmp_path):
    plan, _existing, _new = two_files(tmp_path)
    plan.actions = [host_area.command("x", "true")]
    assert plan.changed
    assert plan.skip("in a container (docker)") is plan
    assert plan.files == [] and plan.actions == [] and not plan.changed
    assert plan.summary()["skipped"] == "in a container (docker)"


def test_summary_lists_changed_files_then_actions(tmp_path):
    plan, existing, new = two_files(tmp_path)
    same = tmp_path / "same.conf"
    same.write_text("same\n")
    plan.files.append(textfiles.plan_file(str(same), "same\n"))
    plan.actions = [host_area.command("load it", "true")]
    plan.notes.append("a note")
    plan.missing_packages.append("auditd")
    summary = plan.summary()
    assert summary["changed"] is True
    assert summary["changes"] == ["rewrite %s" % existing, "create %s" % new, "load it"]
    assert summary["notes"] == ["a note"] and summary["missing_packages"] == ["auditd"]
