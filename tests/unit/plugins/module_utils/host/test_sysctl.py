# -*- coding: utf-8 -*-
"""Unit tests for host.sysctl: Docker-safe settings, live values from a fake /proc/sys, the plan's actions."""

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.host import sysctl

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.host_fixtures import host_env, reader

# A kernel as /proc/sys shows it (files end with a newline; multi-field values use tabs).
LIVE = {
    "/proc/sys/net/ipv4/ip_forward": "1\n",
    "/proc/sys/kernel/kptr_restrict": "2\n",
    "/proc/sys/kernel/sysrq": "0\n",
    "/proc/sys/net/ipv4/tcp_rmem": "4096\t131072\t6291456\n",
    "/proc/sys/net/ipv6/conf/all/forwarding": "1\n",
    "/proc/sys/net/ipv6/conf/default/forwarding": "1\n",
    "/proc/sys/user/max_user_namespaces": "63487\n",
    "/proc/sys/kernel/unprivileged_userns_clone": "1\n",
}


def live(**changes):
    """LIVE with some /proc/sys files changed (key with dots -> text; None: the kernel lacks the key)."""
    files = dict(LIVE)
    for key, text in changes.items():
        path = sysctl.proc_path(key.replace("__", "."))
        if text is None:
            files.pop(path, None)
        else:
            files[path] = text
    return reader(files)


def test_docker_installed_forces_ip_forward_to_1_with_a_note(tmp_path):
    plan = sysctl.plan({"net.ipv4.ip_forward": 0, "kernel.kptr_restrict": 2}, str(tmp_path / "90.conf"),
                       host_env(docker_installed=True), read=reader(LIVE))
    assert plan.report["settings"]["net.ipv4.ip_forward"] == "1"
    assert "net.ipv4.ip_forward = 1\n" in plan.files[0].after
    assert any("net.ipv4.ip_forward stays 1" in note and "Docker is installed" in note for note in plan.notes)


def test_docker_installed_adds_ip_forward_even_when_not_asked_for():
    notes = []
    assert sysctl.docker_safe({"kernel.sysrq": 0}, host_env(docker_installed=True), notes) == {
        "kernel.sysrq": "0", "net.ipv4.ip_forward": "1"}
    assert notes == []  # nothing asked was overridden


def test_docker_installed_and_ip_forward_asked_as_1_needs_no_note():
    notes = []
    sysctl.docker_safe({"net.ipv4.ip_forward": 1}, host_env(docker_installed=True), notes)
    assert notes == []


def kernel_after_docker_starts(live_files):
    """/proc/sys after dockerd started: it turns IPv4 forwarding on, as every Docker release does."""
    files = dict(live_files)
    for key in ("net.ipv4.ip_forward", "net.ipv4.conf.all.forwarding", "net.ipv4.conf.default.forwarding"):
        files[sysctl.proc_path(key)] = "1\n"
    return files


def sysctl_system(files, texts):
    """`sysctl --system` (or a boot): every sysctl.d file applied in order, to a {/proc/sys path: text} kernel."""
    for text in texts:
        for line in text.splitlines():
            if line.strip() and not line.startswith("#"):
                key, _sep, value = (part.strip() for part in line.partition("="))
                files[sysctl.proc_path(key)] = value + "\n"
    return files


@pytest.mark.parametrize("docker_first", [True, False])
def test_forwarding_stays_on_whether_docker_is_installed_before_or_after_the_role(tmp_path, docker_first):
    # The role's defaults ask ip_forward 0. Installed after the role, Docker turns forwarding on when it
    # starts; the next `sysctl --system` (a package's postinst, a reboot) must not turn it off again.
    no_forwarding = dict(LIVE, **{sysctl.proc_path("net.ipv4.ip_forward"): "0\n"})
    plan = sysctl.plan({"net.ipv4.ip_forward": 0, "kernel.sysrq": 0}, str(tmp_path / "90.conf"),
                       host_env(docker_installed=docker_first), read=reader(no_forwarding))
    kernel = sysctl_system(kernel_after_docker_starts(no_forwarding), [plan.files[0].after])
    assert kernel[sysctl.proc_path("net.ipv4.ip_forward")] == "1\n"
    assert kernel[sysctl.proc_path("kernel.sysrq")] == "0\n"


def test_without_docker_a_forwarding_0_is_not_written_and_a_note_says_why(tmp_path):
    plan = sysctl.plan({"net.ipv4.ip_forward": 0, "kernel.sysrq": 0}, str(tmp_path / "90.conf"), host_env(),
                       read=reader(LIVE))
    assert "ip_forward" not in plan.files[0].after
    assert plan.report["settings"] == {"kernel.sysrq": "0"}
    assert any(note.startswith("net.ipv4.ip_forward is not set to 0") and "installed later" in note
               for note in plan.notes), plan.notes


def test_without_docker_forwarding_is_not_forced_on_either(tmp_path):
    # Until Docker (and its FORWARD policy) is there, the role does not turn the host into a router.
    plan = sysctl.plan({"kernel.sysrq": 0}, str(tmp_path / "90.conf"), host_env(), read=reader(LIVE))
    assert plan.report["settings"] == {"kernel.sysrq": "0"}


def test_keys_docker_needs_above_zero_are_dropped_with_a_note_when_docker_is_installed():
    settings = dict((key, 0) for key in sysctl.DOCKER_NOT_ZERO)
    settings["kernel.sysrq"] = 0
    notes = []
    wanted = sysctl.docker_safe(settings, host_env(docker_installed=True), notes)
    for key in sysctl.DOCKER_NOT_ZERO:
        assert key not in wanted
        assert any(note.startswith(key + " is not set to 0") for note in notes), notes
    assert wanted["kernel.sysrq"] == "0"


def test_keys_docker_needs_above_zero_are_dropped_when_only_userns_remap_is_set():
    notes = []
    wanted = sysctl.docker_safe({"user.max_user_namespaces": 0}, host_env(userns_remap="default"), notes)
    assert "user.max_user_namespaces" not in wanted
    assert any("remaps user namespaces" in note for note in notes)


def test_keys_docker_needs_keep_a_non_zero_value_as_asked():
    notes = []
    wanted = sysctl.docker_safe({"user.max_user_namespaces": 10000}, host_env(docker_installed=True), notes)
    assert wanted["user.max_user_namespaces"] == "10000"
    assert notes == []


def test_without_docker_the_keys_docker_needs_are_not_set_to_0_either():
    # A 0 written before Docker is installed would outlive its installation (user namespaces for
    # userns-remap, forwarding for every container network).
    notes = []
    wanted = sysctl.docker_safe({"user.max_user_namespaces": 0, "net.ipv6.conf.all.forwarding": 0,
                                 "kernel.sysrq": 0}, host_env(), notes)
    assert wanted == {"kernel.sysrq": "0"}
    assert [note.split(" ")[0] for note in notes] == ["net.ipv6.conf.all.forwarding", "user.max_user_namespaces"]


def test_keys_the_kernel_lacks_are_left_out_of_the_file_with_a_note(tmp_path):
    plan = sysctl.plan({"kernel.sysrq": 0, "kernel.no_such_key": 1, "net.ipv4.no_such": 1},
                       str(tmp_path / "90.conf"), host_env(), read=reader(LIVE))
    assert "no_such" not in plan.files[0].after
    assert plan.report["settings"] == {"kernel.sysrq": "0"}
    assert "not on this kernel, left out: kernel.no_such_key, net.ipv4.no_such" in plan.notes


def test_live_values_are_compared_field_by_field_so_tabs_equal_spaces():
    values = sysctl.live_values(["net.ipv4.tcp_rmem"], reader(LIVE))
    assert values == {"net.ipv4.tcp_rmem": "4096 131072 6291456"}
    assert sysctl.normal_value("4096  131072\t6291456") == "4096 131072 6291456"


def test_booleans_are_compared_as_the_kernel_prints_them():
    assert sysctl.normal_value(True) == "1"
    assert sysctl.normal_value(False) == "0"
    assert sysctl.normal_value(2) == "2"


def test_multi_field_and_boolean_values_equal_to_live_need_no_action(tmp_path):
    path = tmp_path / "90.conf"
    settings = {"net.ipv4.tcp_rmem": "4096 131072 6291456", "kernel.sysrq": False}
    path.write_text(sysctl.render({"net.ipv4.tcp_rmem": "4096 131072 6291456", "kernel.sysrq": "0"}))
    plan = sysctl.plan(settings, str(path), host_env(), read=reader(LIVE))
    assert plan.report["differ_live"] == []
    assert not plan.changed and plan.actions == []


def test_render_is_sorted_key_equals_value_under_the_header():
    assert sysctl.render({"b.key": "2", "a.key": "1"}) == sysctl.HEADER + "a.key = 1\nb.key = 2\n"


def test_in_a_container_the_area_is_skipped_with_the_reason(tmp_path):
    plan = sysctl.plan({"kernel.sysrq": 0}, str(tmp_path / "90.conf"), host_env(in_container="docker"),
                       read=reader(LIVE))
    assert plan.skipped and "in a container (docker)" in plan.skipped
    assert plan.files == [] and plan.actions == [] and not plan.changed


def test_unchanged_file_and_same_live_values_plan_no_actions(tmp_path):
    path = tmp_path / "90.conf"
    path.write_text(sysctl.render({"kernel.kptr_restrict": "2", "kernel.sysrq": "0"}))
    plan = sysctl.plan({"kernel.kptr_restrict": 2, "kernel.sysrq": 0}, str(path), host_env(), read=reader(LIVE))
    assert not plan.files[0].changed
    assert plan.actions == []
    assert not plan.changed


def test_same_file_but_a_live_value_differs_loads_the_file_with_sysctl_p(tmp_path):
    path = tmp_path / "90.conf"
    path.write_text(sysctl.render({"kernel.kptr_restrict": "2", "kernel.sysrq": "0"}))
    plan = sysctl.plan({"kernel.kptr_restrict": 2, "kernel.sysrq": 0}, str(path), host_env(),
                       read=live(kernel__sysrq="176\n"))
    assert not plan.files[0].changed
    assert plan.report["differ_live"] == ["kernel.sysrq"]
    assert plan.actions[0].argv == ["sysctl", "-q", "-p", str(path)]
    assert "kernel.sysrq" in plan.actions[0].description
    assert plan.actions[1].argv is None and plan.actions[1].call is not None


def test_a_changed_file_with_equal_live_values_is_still_loaded(tmp_path):
    path = tmp_path / "90.conf"
    plan = sysctl.plan({"kernel.sysrq": 0}, str(path), host_env(), read=reader(LIVE))
    assert plan.files[0].changed and plan.files[0].before is None
    assert plan.actions[0].argv == ["sysctl", "-q", "-p", str(path)]
    assert "file only" in plan.actions[0].description


def test_the_planned_verify_action_reads_the_live_values_again(tmp_path):
    files = dict(LIVE)
    files["/proc/sys/kernel/sysrq"] = "176\n"
    plan = sysctl.plan({"kernel.sysrq": 0}, str(tmp_path / "90.conf"), host_env(), read=reader(files))
    verify_action = plan.actions[1]
    assert "kernel.sysrq is 176, not 0" in verify_action.call()
    files["/proc/sys/kernel/sysrq"] = "0\n"  # what sysctl -p would have done
    assert verify_action.call() is None


def test_verify_reports_each_mismatch():
    error = sysctl.verify({"kernel.sysrq": "0", "kernel.kptr_restrict": "1", "net.ipv4.ip_forward": "1"},
                          reader(LIVE))
    assert error.startswith("after sysctl -p: ")
    assert "kernel.sysrq" not in error
    assert "kernel.kptr_restrict is 2, not 1" in error


def test_verify_is_none_when_every_value_matches():
    assert sysctl.verify({"kernel.sysrq": "0", "net.ipv4.tcp_rmem": "4096 131072 6291456"}, reader(LIVE)) is None


@pytest.mark.parametrize("key", ["net.ipv4.conf.all.forwarding", "net.ipv4.conf.default.forwarding"])
def test_ipv4_forwarding_aliases_planned_as_0_are_dropped_when_docker_is_installed(tmp_path, key):
    # net.ipv4.ip_forward and net.ipv4.conf.all.forwarding are one kernel switch, and writing it
    # resets conf.default.forwarding too (an RHEL STIG sets conf.all.forwarding = 0). With
    # ip_forward kept at 1, a 0 for either alias makes a file that contradicts itself: sysctl -p
    # leaves the alias at 1 (ip_forward sorts after it) and the verify action fails the run.
    files = dict(LIVE)
    files[sysctl.proc_path(key)] = "1\n"
    plan = sysctl.plan({"net.ipv4.ip_forward": 0, key: 0}, str(tmp_path / "90.conf"),
                       host_env(docker_installed=True), read=reader(files))
    assert plan.report["settings"]["net.ipv4.ip_forward"] == "1"
    assert key not in plan.report["settings"]
    assert ("%s = 0" % key) not in plan.files[0].after
    assert any(note.startswith(key) for note in plan.notes), plan.notes


def kernel_sysctl_p(text, kernel):
    """Apply a sysctl.d file line by line as `sysctl -p` does, to a model of the kernel's IPv4 switches.

    Linux (net/ipv4/devinet.c, inet_forward_change): when net.ipv4.ip_forward (the same variable as
    net.ipv4.conf.all.forwarding) changes, conf.default.forwarding follows it and
    conf.all.accept_redirects becomes its opposite.
    """
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        key, _sep, value = (part.strip() for part in line.partition("="))
        old = kernel[key]
        kernel[key] = value
        if key in ("net.ipv4.ip_forward", "net.ipv4.conf.all.forwarding") and value != old:
            for alias in ("net.ipv4.ip_forward", "net.ipv4.conf.all.forwarding", "net.ipv4.conf.default.forwarding"):
                kernel[alias] = value
            kernel["net.ipv4.conf.all.accept_redirects"] = "0" if value == "1" else "1"


def test_turning_forwarding_off_keeps_the_accept_redirects_value_planned_with_it(tmp_path):
    # A host without Docker that forwarded until now (the defaults plan ip_forward 0 and
    # accept_redirects 0). Loading the file must leave every planned value in place, whatever
    # order the kernel's side effects need: else the verify action fails the run.
    kernel = {"net.ipv4.ip_forward": "1", "net.ipv4.conf.all.forwarding": "1", "net.ipv4.conf.default.forwarding": "1",
              "net.ipv4.conf.all.accept_redirects": "0", "net.ipv4.conf.default.accept_redirects": "1"}

    def read(path):
        for key, value in kernel.items():
            if sysctl.proc_path(key) == path:
                return value + "\n"
        return None

    settings = {"net.ipv4.ip_forward": 0, "net.ipv4.conf.all.accept_redirects": 0,
                "net.ipv4.conf.default.accept_redirects": 0}
    plan = sysctl.plan(settings, str(tmp_path / "90.conf"), host_env(), read=read)
    kernel_sysctl_p(plan.files[0].after, kernel)
    assert plan.actions[-1].call() is None  # the verify action
