# -*- coding: utf-8 -*-
"""Preflight checks of a daemon configuration change, over real /proc text, unit files and docker info."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.rule_fixtures import unit_fixture

from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd import systemd_unit
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.preflight import (
    CAP_SYS_RESOURCE, UNLIMITED, Facts, cgroup_parent_problems, describe, has_capability, log_driver_problems,
    lowest_limits, parse_id_map, parse_limits, parse_subordinate_ids, plan, remap_user, runtime_problems,
    seccomp_profile_problems, subordinate_problems, subordinate_range, ulimit_problems, userns_change, userns_left_open,
)

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures")

# /proc/<pid>/limits of a dockerd inside an unprivileged container: hard nofile 20000 (trailing blanks dropped).
CONTAINED_LIMITS = """\
Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max file size             unlimited            unlimited            bytes
Max data size             unlimited            unlimited            bytes
Max stack size            8388608              unlimited            bytes
Max core file size        0                    unlimited            bytes
Max resident set          unlimited            unlimited            bytes
Max processes             96365                96365                processes
Max open files            20000                20000                files
Max locked memory         8388608              8388608              bytes
Max address space         unlimited            unlimited            bytes
Max file locks            unlimited            unlimited            locks
Max pending signals       96365                96365                signals
Max msgqueue size         819200               819200               bytes
Max nice priority         0                    0
Max realtime priority     0                    0
Max realtime timeout      unlimited            unlimited            us
"""

# /proc/<pid>/limits of Debian's dockerd on a host (LimitNOFILE=1048576, LimitNPROC=infinity).
HOST_LIMITS = CONTAINED_LIMITS.replace(
    "Max open files            20000                20000", "Max open files            1048576              1048576").replace(
    "Max processes             96365                96365", "Max processes             unlimited            unlimited")

# CapEff lines of /proc/<pid>/status: root on a host (41 capabilities), and a container without CAP_SYS_RESOURCE.
STATUS_WITH_SYS_RESOURCE = "Name:\tdockerd\nCapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\nCapEff:\t000001ffffffffff\n"
STATUS_WITHOUT_SYS_RESOURCE = "Name:\tdockerd\nCapInh:\t0000000000000000\nCapPrm:\t000001fffeffffff\nCapEff:\t000001fffeffffff\n"

# /lib/systemd/system/docker.service of Debian 12's docker.io (tests/unit/fixtures).
DEBIAN_UNIT = unit_fixture("debian12-docker.service")

NOFILE_65536 = {"nofile": {"Name": "nofile", "Soft": 65536, "Hard": 65536}}
NOFILE_16384 = {"nofile": {"Name": "nofile", "Soft": 16384, "Hard": 16384}}
VARIABLES = {"default-ulimits": "docker_daemon_default_ulimits", "userns-remap": "docker_daemon_userns_remap",
             "hosts": "docker_daemon_extra_settings", "seccomp-profile": "docker_daemon_seccomp_profile",
             "log-driver": "docker_daemon_log_driver", "cgroup-parent": "docker_daemon_cgroup_parent",
             "default-runtime": "docker_daemon_extra_settings"}


def docker_info(**changes):
    with open(os.path.join(FIXTURES, "info.json"), "r", encoding="utf-8") as handle:
        info = json.load(handle)
    info.update(changes)
    return info


# --- ulimits ------------------------------------------------------------------

def test_parse_limits_reads_soft_and_hard():
    limits = parse_limits(CONTAINED_LIMITS)
    assert limits["nofile"] == (20000, 20000)
    assert limits["stack"] == (8388608, UNLIMITED)
    assert limits["nice"] == (0, 0)
    assert limits["rttime"] == (UNLIMITED, UNLIMITED)


def test_parse_limits_keeps_only_the_ulimits_docker_can_set():
    assert sorted(parse_limits(CONTAINED_LIMITS)) == [
        "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc", "rss", "rtprio",
        "rttime", "sigpending", "stack"]


def test_parse_limits_of_nothing():
    assert parse_limits(None) == {}


def test_has_capability_reads_bit_24_of_cap_eff():
    assert has_capability(STATUS_WITH_SYS_RESOURCE, CAP_SYS_RESOURCE)
    assert not has_capability(STATUS_WITHOUT_SYS_RESOURCE, CAP_SYS_RESOURCE)


def test_has_capability_other_bits_of_the_same_mask():
    assert has_capability(STATUS_WITHOUT_SYS_RESOURCE, 21)  # CAP_SYS_ADMIN
    assert not has_capability(STATUS_WITHOUT_SYS_RESOURCE, 41)


def test_has_capability_without_the_field_is_false():
    assert not has_capability("Name:\tdockerd\n", CAP_SYS_RESOURCE)
    assert not has_capability(None, CAP_SYS_RESOURCE)


def test_a_default_ulimit_above_the_daemons_hard_limit_without_sys_resource():
    found = ulimit_problems(NOFILE_65536, parse_limits(CONTAINED_LIMITS), can_raise=False, variables=VARIABLES)
    assert len(found) == 1
    assert found[0].key == "default-ulimits"
    assert found[0].variable == "docker_daemon_default_ulimits"
    assert "nofile 65536 is above dockerd's own hard limit 20000" in found[0].message
    assert "Set it to 20000 or lower" in found[0].message


def test_a_default_ulimit_under_the_daemons_hard_limit_is_fine():
    assert ulimit_problems(NOFILE_16384, parse_limits(CONTAINED_LIMITS), can_raise=False) == []


def test_with_sys_resource_the_daemons_own_limit_is_no_ceiling():
    assert ulimit_problems(NOFILE_65536, parse_limits(CONTAINED_LIMITS), can_raise=True, nr_open=1048576) == []


def test_with_sys_resource_nofile_is_still_capped_by_nr_open():
    wanted = {"nofile": {"Name": "nofile", "Soft": 2097152, "Hard": 2097152}}
    found = ulimit_problems(wanted, parse_limits(HOST_LIMITS), can_raise=True, nr_open=1048576)
    assert [item.key for item in found] == ["default-ulimits"]
    assert "above the kernel's fs.nr_open 1048576" in found[0].message


def test_an_unlimited_request_is_above_any_finite_limit():
    wanted = {"nproc": {"Name": "nproc", "Soft": UNLIMITED, "Hard": UNLIMITED}}
    found = ulimit_problems(wanted, parse_limits(CONTAINED_LIMITS), can_raise=False)
    assert "nproc unlimited is above dockerd's own hard limit 96365" in found[0].message


def test_an_unlimited_ceiling_takes_any_request():
    wanted = {"nproc": {"Name": "nproc", "Soft": UNLIMITED, "Hard": UNLIMITED}}
    assert ulimit_problems(wanted, parse_limits(HOST_LIMITS), can_raise=False) == []


def test_the_higher_of_soft_and_hard_is_compared():
    wanted = {"nofile": {"Name": "nofile", "Soft": 1024, "Hard": 65536}}
    assert len(ulimit_problems(wanted, parse_limits(CONTAINED_LIMITS), can_raise=False)) == 1


def test_a_ulimit_the_process_limits_do_not_name_is_not_judged():
    assert ulimit_problems(NOFILE_65536, {}, can_raise=False) == []


def test_the_owner_named_in_the_message():
    found = ulimit_problems(NOFILE_65536, parse_limits(CONTAINED_LIMITS), can_raise=False, owner="containerd")
    assert "containerd's own hard limit" in found[0].message


def test_lowest_limits_takes_the_lower_of_each_side():
    dockerd = {"nofile": (1048576, 1048576), "nproc": (UNLIMITED, UNLIMITED)}
    containerd = {"nofile": (20000, 20000), "nproc": (96365, UNLIMITED), "core": (0, UNLIMITED)}
    assert lowest_limits(dockerd, containerd) == {"nofile": (20000, 20000), "nproc": (96365, UNLIMITED), "core": (0, UNLIMITED)}


def test_lowest_limits_of_nothing():
    assert lowest_limits(None, {}) == {}


# --- user namespaces ----------------------------------------------------------

@pytest.mark.parametrize("value, user", [
    ("default", "dockremap"), ("dockremap", "dockremap"), ("builder:builders", "builder"), ("default:docker", "dockremap"),
    ("", None), (None, None),
])
def test_remap_user(value, user):
    assert remap_user(value) == user


@pytest.mark.parametrize("current, planned, change", [
    (None, "default", "on"), ("", "dockremap", "on"), ("default", None, "off"), ("dockremap", "", "off"),
    ("default", "dockremap", None), ("dockremap:dockremap", "dockremap", None), ("dockremap", "builder", "rename"),
    (None, None, None),
])
def test_userns_change(current, planned, change):
    assert userns_change(current, planned) == change


def test_turning_remapping_on_over_existing_data_is_left_undone_with_the_reason():
    reason = userns_left_open(None, "default", {"containers": 4, "images": 15, "volumes": 2}, False)
    assert reason.startswith("Turning user-namespace remapping on (off -> dockremap) would move dockerd to another data root")
    assert "hide the 4 containers, 15 images, 2 volumes on this host" in reason
    assert "Left as it is." in reason and "docker_daemon_userns_confirm_existing=true" in reason


def test_only_the_kinds_present_are_named():
    reason = userns_left_open("dockremap", "builder", {"containers": 0, "images": 1, "volumes": 0}, False)
    assert "Changing the remap user (dockremap -> builder)" in reason
    assert "hide the 1 image on this host" in reason


def test_a_confirmed_change_is_made():
    assert userns_left_open(None, "default", {"containers": 4, "images": 15, "volumes": 2}, True) is None


def test_a_change_on_an_empty_daemon_is_made():
    assert userns_left_open("default", None, {"containers": 0, "images": 0, "volumes": 0}, False) is None


def test_no_change_leaves_nothing_open():
    assert userns_left_open("default", "dockremap", {"containers": 4, "images": 15, "volumes": 2}, False) is None


def test_parse_subordinate_ids_skips_malformed_lines():
    text = "alice:100000:65536\nbob:165536:65536\n# comment\nbroken:line\ncarol:x:65536\n"
    assert parse_subordinate_ids(text) == [("alice", 100000, 65536), ("bob", 165536, 65536)]


def test_a_missing_subordinate_file_has_no_ranges():
    assert parse_subordinate_ids(None) == []


def test_parse_id_map_of_a_container():
    assert parse_id_map("         0          0      65536\n") == [(0, 0, 65536)]
    assert parse_id_map("         0          0 4294967295\n") == [(0, 0, 4294967295)]


def test_with_no_ranges_the_range_starts_where_adduser_starts():
    assert subordinate_range([], "dockremap", None, 65536) == (100000, 65536, False)


def test_a_new_range_goes_above_every_existing_one_in_65536_steps():
    ranges = parse_subordinate_ids("alice:100000:65536\n")
    assert subordinate_range(ranges, "dockremap", None, 65536) == (165536, 65536, False)


def test_a_new_range_after_an_odd_sized_one_does_not_overlap_it():
    ranges = [("alice", 100000, 65536), ("ci", 165536, 1000)]
    start, count, existing = subordinate_range(ranges, "dockremap", None, 65536)
    assert (start, count, existing) == (231072, 65536, False)
    assert all(start >= first + length for _owner, first, length in ranges)


def test_ranges_below_100000_do_not_pull_the_start_down():
    assert subordinate_range([("old", 10000, 5000)], "dockremap", None, 65536) == (100000, 65536, False)


def test_the_users_own_line_is_kept_by_name():
    ranges = [("alice", 100000, 65536), ("dockremap", 300000, 10000)]
    assert subordinate_range(ranges, "dockremap", 999, 65536) == (300000, 10000, True)


def test_the_users_own_line_is_kept_by_uid():
    ranges = [("alice", 100000, 65536), ("999", 300000, 65536)]
    assert subordinate_range(ranges, "dockremap", 999, 65536) == (300000, 65536, True)


def test_a_range_that_fits_the_id_map_is_given():
    assert subordinate_range([], "dockremap", None, 65536, id_map=[(0, 0, 4294967295)]) == (100000, 65536, False)


def test_an_id_map_that_cannot_hold_the_range_is_an_error():
    with pytest.raises(ValueError, match="no free range of 65536 ids above 100000 fits in this host's id map 0-65535"):
        subordinate_range([], "dockremap", None, 65536, id_map=parse_id_map("0 0 65536\n"))


def test_an_existing_range_outside_the_id_map_is_a_problem():
    found = subordinate_problems("dockremap", [("dockremap", 100000, 65536)], [(0, 0, 65536)], VARIABLES)
    assert found[0].variable == "docker_daemon_userns_remap"
    assert "subordinate range 100000-165535 is outside the ids this host can map" in found[0].message


def test_an_existing_range_inside_the_id_map_is_fine():
    assert subordinate_problems("dockremap", [("dockremap", 100000, 65536)], [(0, 0, 4294967295)]) == []


# --- settings containers need at start ----------------------------------------

def test_a_cgroup_parent_that_is_not_a_slice_under_the_systemd_driver():
    found = cgroup_parent_problems("/docker-containers", "systemd", VARIABLES)
    assert found[0].variable == "docker_daemon_cgroup_parent"
    assert "'/docker-containers' is not a systemd slice" in found[0].message


def test_a_slice_under_the_systemd_driver_is_fine():
    assert cgroup_parent_problems("docker-containers.slice", "systemd") == []


def test_any_cgroup_parent_under_the_cgroupfs_driver_is_fine():
    assert cgroup_parent_problems("/docker-containers", "cgroupfs") == []


def test_no_cgroup_parent_is_fine():
    assert cgroup_parent_problems(None, "systemd") == []


INFO_RUNTIMES = {"io.containerd.runc.v2": {"path": "runc"}, "io.containerd.runtime.v1.linux": {"path": "runc"},
                 "runc": {"path": "runc"}}


@pytest.mark.parametrize("name", [None, "runc", "io.containerd.runc.v2"])
def test_builtin_runtimes_need_no_check(name):
    assert runtime_problems({"default-runtime": name}, INFO_RUNTIMES, lambda program: None) == []


def test_an_unknown_default_runtime():
    found = runtime_problems({"default-runtime": "crun"}, INFO_RUNTIMES, lambda program: program, VARIABLES)
    assert found[0].key == "default-runtime"
    assert found[0].variable == "docker_daemon_extra_settings"
    assert "runtime 'crun' is neither built in nor listed in 'runtimes'" in found[0].message


def test_a_configured_runtime_whose_program_is_missing():
    config = {"default-runtime": "crun", "runtimes": {"crun": {"path": "/usr/bin/crun"}}}
    found = runtime_problems(config, INFO_RUNTIMES, lambda program: None)
    assert "runtime 'crun' runs '/usr/bin/crun', which is not installed" in found[0].message


def test_a_configured_runtime_whose_program_is_installed():
    config = {"default-runtime": "crun", "runtimes": {"crun": {"path": "/usr/bin/crun"}}}
    assert runtime_problems(config, None, lambda program: program) == []


def test_a_runtime_the_daemon_already_knows_is_looked_up_by_its_path():
    looked_up = []
    info_runtimes = dict(INFO_RUNTIMES, runsc={"path": "/usr/local/bin/runsc"})
    runtime_problems({"default-runtime": "runsc"}, info_runtimes, lambda program: looked_up.append(program) or program)
    assert looked_up == ["/usr/local/bin/runsc"]


def test_a_log_driver_the_daemon_does_not_have():
    found = log_driver_problems("loki", docker_info()["Plugins"]["Log"], VARIABLES)
    assert found[0].variable == "docker_daemon_log_driver"
    assert "log driver 'loki' is not available" in found[0].message
    assert "journald, json-file, local" in found[0].message


def test_a_log_driver_the_daemon_has():
    assert log_driver_problems("journald", docker_info()["Plugins"]["Log"]) == []


def test_a_log_driver_is_not_judged_without_the_daemons_list():
    assert log_driver_problems("loki", None) == []


# --- seccomp profiles ---------------------------------------------------------

def read_text(path):
    """Facts.read_text as the module gives it: the file's text, None when it cannot be read."""
    try:
        with open(path, "r", encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return None


def test_a_missing_seccomp_profile(tmp_path):
    path = str(tmp_path / "seccomp.json")
    found = seccomp_profile_problems(path, read_text, variables=VARIABLES)
    assert found[0].variable == "docker_daemon_seccomp_profile"
    assert found[0].message == "%s does not exist; dockerd would refuse to start" % path


def test_a_seccomp_profile_that_is_not_json(tmp_path):
    path = tmp_path / "seccomp.json"
    path.write_text("defaultAction: SCMP_ACT_ERRNO\n", encoding="utf-8")
    found = seccomp_profile_problems(str(path), read_text)
    assert "is not JSON" in found[0].message


def test_a_json_file_without_default_action_is_not_a_profile(tmp_path):
    path = tmp_path / "seccomp.json"
    path.write_text('{"syscalls": []}', encoding="utf-8")
    assert "has no defaultAction" in seccomp_profile_problems(str(path), read_text)[0].message


def test_a_json_list_is_not_a_profile(tmp_path):
    path = tmp_path / "seccomp.json"
    path.write_text('[{"defaultAction": "SCMP_ACT_ERRNO"}]', encoding="utf-8")
    assert "has no defaultAction" in seccomp_profile_problems(str(path), read_text)[0].message


def test_a_valid_seccomp_profile(tmp_path):
    path = tmp_path / "seccomp.json"
    path.write_text(json.dumps({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
                                "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"}]}), encoding="utf-8")
    assert seccomp_profile_problems(str(path), read_text) == []


@pytest.mark.parametrize("keyword", ["unconfined", "builtin", None, ""])
def test_seccomp_keywords_are_not_files(keyword):
    def never(path):
        raise AssertionError("read %s" % path)
    assert seccomp_profile_problems(keyword, never) == []


def test_a_profile_the_role_writes_itself_need_not_exist_yet(tmp_path):
    path = str(tmp_path / "seccomp.json")
    assert seccomp_profile_problems(path, read_text, written_by_role=(path,)) == []


# --- describe ------------------------------------------------------------------

def test_describe_names_the_variable_else_the_key():
    found = cgroup_parent_problems("/x", "systemd", VARIABLES) + cgroup_parent_problems("/y", "systemd")
    lines = describe(found)
    assert lines[0].startswith("docker_daemon_cgroup_parent: '/x' is not a systemd slice")
    assert lines[1].startswith("daemon.json cgroup-parent: '/y' is not a systemd slice")


# --- plan ----------------------------------------------------------------------

def debian_facts(**changes):
    values = dict(
        unit_texts=[DEBIAN_UNIT],
        environment=systemd_unit.parse_environment_file('DOCKER_OPTS="--dns 8.8.8.8 --dns 8.8.4.4"\n'),
        info=docker_info(Containers=0, ContainersRunning=0, Images=0), limits=parse_limits(HOST_LIMITS), nr_open=1048576,
    )
    values.update(changes)
    return Facts(**values)


def test_plan_with_tls_adds_the_listener_to_the_units_own():
    result = plan({"tlsverify": True}, debian_facts(), tls_listen="tcp://0.0.0.0:2376")
    assert result["hosts"] == ["fd://", "tcp://0.0.0.0:2376"]
    assert result["config"] == {"tlsverify": True, "hosts": ["fd://", "tcp://0.0.0.0:2376"]}
    assert result["problems"] == []


def test_plan_with_tls_runs_the_units_exec_start_without_host_flags():
    result = plan({}, debian_facts(), tls_listen="tcp://0.0.0.0:2376")
    assert result["exec_start"] == "/usr/sbin/dockerd --containerd=/run/containerd/containerd.sock $DOCKER_OPTS"


def test_plan_expands_dockerd_args_from_the_environment_file():
    result = plan({}, debian_facts(), tls_listen="tcp://0.0.0.0:2376")
    assert result["dockerd_args"] == [
        "/usr/sbin/dockerd", "--containerd=/run/containerd/containerd.sock", "--dns", "8.8.8.8", "--dns", "8.8.4.4"]


def test_plan_with_tls_and_no_host_flag_keeps_the_default_socket():
    unit = DEBIAN_UNIT.replace("-H fd:// ", "")
    result = plan({}, debian_facts(unit_texts=[unit]), tls_listen="tcp://0.0.0.0:2376")
    assert result["hosts"] == ["unix:///var/run/docker.sock", "tcp://0.0.0.0:2376"]


def test_plan_with_tls_refuses_hosts_in_the_settings():
    result = plan({"hosts": ["tcp://0.0.0.0:2375"]}, debian_facts(), tls_listen="tcp://0.0.0.0:2376")
    assert len(result["problems"]) == 1
    assert "drop 'hosts' from docker_daemon_extra_settings and use docker_daemon_tls_listen" in result["problems"][0]


def test_plan_without_tls_keeps_the_unit_alone():
    result = plan({"icc": False}, debian_facts())
    assert result["hosts"] is None
    assert result["exec_start"] is None
    assert result["dockerd_args"][:3] == ["/usr/sbin/dockerd", "-H", "fd://"]


def test_plan_reports_hosts_in_daemon_json_next_to_the_units_host_flag():
    result = plan({"hosts": ["unix:///var/run/docker.sock"]}, debian_facts(), variables=VARIABLES)
    assert len(result["problems"]) == 1
    assert result["problems"][0].startswith("docker_daemon_extra_settings: daemon.json keys also set on the dockerd command line")
    assert "'hosts' (flag -H)" in result["problems"][0]


def test_plan_reports_a_conflict_hidden_in_docker_opts():
    facts = debian_facts(environment={"DOCKER_OPTS": "--icc=false"})
    result = plan({"icc": False}, facts)
    assert "'icc' (flag --icc)" in result["problems"][0]


def test_plan_settings_with_null_values_remove_keys():
    facts = debian_facts(current_config={"debug": True, "icc": False, "live-restore": True})
    assert plan({"debug": None, "log-level": "info"}, facts)["config"] == {"icc": False, "live-restore": True, "log-level": "info"}


def test_plan_exact_state_writes_only_the_settings():
    facts = debian_facts(current_config={"debug": True})
    assert plan({"icc": False}, facts, state="exact")["config"] == {"icc": False}


def test_plan_names_the_variable_of_the_documented_ulimit_case():
    facts = debian_facts(limits=parse_limits(CONTAINED_LIMITS), can_raise=has_capability(STATUS_WITHOUT_SYS_RESOURCE, CAP_SYS_RESOURCE))
    result = plan({"default-ulimits": NOFILE_65536}, facts, variables=VARIABLES)
    assert len(result["problems"]) == 1
    assert result["problems"][0].startswith("docker_daemon_default_ulimits: nofile 65536 is above dockerd's own hard limit 20000")


def test_plan_leaves_remapping_off_over_existing_containers_and_says_why():
    facts = debian_facts(info=docker_info(), volume_count=2, current_config={"icc": True})
    result = plan({"userns-remap": "default", "icc": False, "live-restore": True}, facts, variables=VARIABLES)
    assert result["problems"] == []
    assert result["config"] == {"icc": False, "live-restore": True}
    assert "userns-remap" not in result["settings"] and result["settings"]["icc"] is False
    assert [(item["rule"], item["setting"], item["variable"]) for item in result["left_open"]] == [
        ("2.9", "userns-remap", "docker_daemon_userns_confirm_existing")]
    assert "4 containers, 15 images, 2 volumes" in result["left_open"][0]["reason"]
    # Nothing of remapping is prepared either: no user, no ranges to write.
    assert (result["userns_left_open"], result["subordinate_ids_missing"]) == (True, {})


def test_plan_leaves_remapping_on_over_existing_containers_when_it_would_be_turned_off():
    facts = debian_facts(info=docker_info(ContainersRunning=0), current_config={"userns-remap": "dockremap"})
    result = plan({"userns-remap": None}, facts)
    assert result["config"] == {"userns-remap": "dockremap"}
    assert result["left_open"][0]["reason"].startswith("Turning user-namespace remapping off (dockremap -> off)")


def test_plan_turns_remapping_on_over_existing_containers_when_confirmed():
    result = plan({"userns-remap": "default"}, debian_facts(info=docker_info(ContainersRunning=0)), confirm_userns=True)
    assert result["config"] == {"userns-remap": "default"}
    assert (result["left_open"], result["userns_left_open"]) == ([], False)


def test_plan_gives_the_remap_user_its_subordinate_ids():
    facts = debian_facts(subordinate={"uid": parse_subordinate_ids("alice:100000:65536\n"), "gid": []})
    result = plan({"userns-remap": "default"}, facts)
    assert result["problems"] == []
    assert result["subordinate_ids"] == {"/etc/subuid": "dockremap:165536:65536", "/etc/subgid": "dockremap:100000:65536"}


def test_plan_keeps_the_remap_users_existing_range():
    ranges = parse_subordinate_ids("dockremap:231072:65536\n")
    facts = debian_facts(subordinate={"uid": ranges, "gid": ranges})
    result = plan({"userns-remap": "dockremap"}, facts)
    assert result["subordinate_ids"]["/etc/subuid"] == "dockremap:231072:65536"


def test_plan_lists_only_the_subordinate_ids_still_missing():
    # /etc/subuid has the user's range (kept), /etc/subgid has none yet: only that line must be written.
    facts = debian_facts(subordinate={"uid": parse_subordinate_ids("dockremap:231072:65536\n"),
                                      "gid": parse_subordinate_ids("alice:100000:65536\n")})
    result = plan({"userns-remap": "dockremap"}, facts)
    assert result["subordinate_ids"] == {"/etc/subuid": "dockremap:231072:65536", "/etc/subgid": "dockremap:165536:65536"}
    assert result["subordinate_ids_missing"] == {"/etc/subgid": "dockremap:165536:65536"}


def test_plan_a_compliant_remap_user_needs_nothing_written():
    ranges = parse_subordinate_ids("dockremap:100000:65536\n")
    facts = debian_facts(subordinate={"uid": ranges, "gid": ranges}, uid_of={"dockremap": 999}.get)
    result = plan({"userns-remap": "dockremap"}, facts)
    assert result["userns_user_exists"] is True
    assert result["subordinate_ids_missing"] == {}


def test_plan_a_range_listed_by_the_users_uid_counts_as_its_own():
    ranges = parse_subordinate_ids("999:300000:65536\n")
    facts = debian_facts(subordinate={"uid": ranges, "gid": ranges}, uid_of={"dockremap": 999}.get)
    assert plan({"userns-remap": "dockremap"}, facts)["subordinate_ids_missing"] == {}


def test_plan_on_a_fresh_host_the_user_and_both_ranges_are_missing():
    result = plan({"userns-remap": "dockremap"}, debian_facts())
    assert result["userns_user_exists"] is False
    assert result["subordinate_ids_missing"] == result["subordinate_ids"] == {
        "/etc/subuid": "dockremap:100000:65536", "/etc/subgid": "dockremap:100000:65536"}


def test_plan_without_remapping_has_no_user_and_nothing_missing():
    result = plan({"userns-remap": None}, debian_facts(uid_of={"dockremap": 999}.get))
    assert (result["userns_user_exists"], result["subordinate_ids_missing"]) == (False, {})


def test_plan_inside_a_container_with_65536_ids_cannot_remap():
    facts = debian_facts(id_maps={"uid": parse_id_map("0 0 65536\n"), "gid": parse_id_map("0 0 65536\n")})
    result = plan({"userns-remap": "default"}, facts, variables=VARIABLES)
    assert len(result["problems"]) == 2
    assert result["problems"][0].startswith("docker_daemon_userns_remap: /etc/subuid for dockremap: no free range")
    assert result["subordinate_ids"] == {}


def test_plan_remapping_already_on_by_flag_counts_as_default():
    facts = debian_facts(info=docker_info(ContainersRunning=0, SecurityOptions=["name=seccomp,profile=default", "name=userns"]))
    assert plan({"userns-remap": "default"}, facts)["problems"] == []


def test_plan_checks_the_settings_containers_need():
    facts = debian_facts(info=docker_info(Containers=0, ContainersRunning=0, Images=0, CgroupDriver="systemd"),
                         which=lambda program: None)
    settings = {"cgroup-parent": "/docker", "default-runtime": "crun", "log-driver": "loki",
                "seccomp-profile": "/etc/docker/seccomp.json"}
    problems = plan(settings, facts, variables=VARIABLES)["problems"]
    assert [line.split(":")[0] for line in problems] == [
        "docker_daemon_cgroup_parent", "docker_daemon_extra_settings", "docker_daemon_log_driver",
        "docker_daemon_seccomp_profile"]


def test_plan_accepts_a_seccomp_profile_the_role_writes():
    result = plan({"seccomp-profile": "/etc/docker/seccomp.json"}, debian_facts(), written_files=["/etc/docker/seccomp.json"])
    assert result["problems"] == []


# --- what would break what runs: live-restore off, content trust over local images -------------------------

def test_plan_refuses_live_restore_off_while_containers_run():
    facts = debian_facts(info=docker_info(ContainersRunning=3), current_config={"live-restore": True})
    result = plan({"live-restore": False}, facts, variables={"live-restore": "docker_daemon_live_restore"})
    assert len(result["problems"]) == 1
    assert result["problems"][0].startswith("docker_daemon_live_restore: without live-restore the restart stops the 3 "
                                            "running containers")


def test_plan_accepts_live_restore_off_without_running_containers():
    facts = debian_facts(info=docker_info(ContainersRunning=0))
    assert plan({"live-restore": False}, facts)["problems"] == []


def test_plan_accepts_an_unchanged_file_without_live_restore():
    # No change, no restart: nothing running is stopped by this run.
    facts = debian_facts(info=docker_info(ContainersRunning=3), current_config={"icc": False})
    assert plan({"icc": False}, facts)["problems"] == []


LOCAL = {"shop/app:latest": ["shop-app-1"], "shop/web:latest": ["shop-web-1"]}


def test_plan_leaves_content_trust_off_where_running_containers_use_local_images():
    result = plan({}, debian_facts(local_images=LOCAL), content_trust=True)
    assert result["content_trust"] is False
    assert [(item["rule"], item["variable"]) for item in result["left_open"]] == [
        ("4.5", "docker_daemon_content_trust_confirm_local_images")]
    reason = result["left_open"][0]["reason"]
    assert "2 running containers use 2 images built or imported on this host" in reason
    assert "shop/app:latest (shop-app-1), shop/web:latest (shop-web-1)" in reason


def test_plan_turns_content_trust_on_where_every_image_in_use_came_from_a_registry():
    result = plan({}, debian_facts(local_images={}), content_trust=True)
    assert (result["content_trust"], result["left_open"]) == (True, [])


def test_plan_turns_content_trust_on_over_local_images_when_confirmed():
    result = plan({}, debian_facts(local_images=LOCAL), content_trust=True, confirm_local_images=True)
    assert (result["content_trust"], result["left_open"]) == (True, [])


def test_plan_keeps_content_trust_that_is_already_on():
    result = plan({}, debian_facts(local_images=LOCAL, content_trust_on=True), content_trust=True)
    assert (result["content_trust"], result["left_open"]) == (True, [])


def test_plan_without_the_content_trust_area_decides_nothing_about_it():
    assert plan({}, debian_facts(local_images=LOCAL))["content_trust"] is False
