# -*- coding: utf-8 -*-
"""5.26 asks the kernel: NoNewPrivs of the container's init (issue 20, item 3).

dockerd copies the daemon-wide no-new-privileges into a container only when
it creates it, so a container created before the default was set runs
without it while inspect and daemon.json say it is on. Inputs are real:
`docker inspect` of bwfp-plain (no option) and bwfp-nnp (--security-opt
no-new-privileges), and /proc/<State.Pid>/status and cgroup of their inits.
"""

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.audit import gather
from ansible_collections.bulwark.hardening.plugins.module_utils.system.host_facts import parse_proc_status
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.state import AuditOptions
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.effective import DaemonConfig

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.false_pass_fixtures import proc_status, real_container
from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.rule_fixtures import evidence, findings, state, status, unit_fixture

DAEMON_DEFAULT_ON = DaemonConfig(cmdline={}, file_options={"no-new-privileges": True}, pid=1234)


def with_kernel_view(name, status_name=None):
    container = real_container(name)
    container.init_status = parse_proc_status(proc_status(status_name or name))
    return container


def test_a_container_created_before_the_daemon_default_fails():
    audit = state([with_kernel_view("plain")], daemon=DAEMON_DEFAULT_ON)
    assert status("5.26", audit) == "fail"
    found = evidence("5.26", audit)
    assert "NoNewPrivs=0" in found and "created before" in found and "daemon.json" in found
    [finding] = findings("5.26", audit)
    assert "containers_recreate_enabled" in finding.left_open


def test_the_kernels_flag_passes_a_container_that_has_it():
    audit = state([with_kernel_view("nnp")])
    assert status("5.26", audit) == "pass"
    assert "NoNewPrivs=1" in evidence("5.26", audit)


def test_the_kernel_confirms_a_failure_the_configuration_shows():
    audit = state([with_kernel_view("plain")])
    assert status("5.26", audit) == "fail"
    assert "the kernel agrees" in evidence("5.26", audit)


def test_without_the_kernels_view_the_configuration_decides_and_says_so():
    container = real_container("plain")
    container.init_status_note = "the Engine is reached at tcp://10.0.0.5:2376, not on this machine"
    audit = state([container], daemon=DAEMON_DEFAULT_ON)
    assert status("5.26", audit) == "pass"
    found = evidence("5.26", audit)
    assert "not the kernel" in found and "10.0.0.5" in found and "created before" in found


# --- gather: which process is read, and when not ----------------------------------------------------

@pytest.fixture
def proc(monkeypatch):
    """/proc files of the two real inits, by pid; records every read."""
    files = {}
    for name in ("plain", "nnp"):
        pid = real_container(name).pid
        files[(pid, "status")] = proc_status(name)
        files[(pid, "cgroup")] = unit_fixture("proc/cgroup-%s.txt" % name)
    reads = []

    def read_process_file(pid, name):
        reads.append((pid, name))
        found = files.get((pid, name))
        return (found, None) if found is not None else (None, "/proc/%s/%s: No such file or directory" % (pid, name))
    monkeypatch.setattr(gather.host_facts, "read_process_file", read_process_file, raising=False)
    return files, reads


def gathered(containers, docker_host="unix:///var/run/docker.sock", daemon=DAEMON_DEFAULT_ON):
    audit = state(containers, daemon=daemon, options=AuditOptions(docker_host=docker_host))
    gather.read_init_statuses(audit)
    return audit


def test_gather_reads_the_init_of_each_running_container(proc):
    audit = gathered([real_container("plain"), real_container("nnp")])
    assert [container.init_status["NoNewPrivs"] for container in audit.containers] == ["0", "1"]
    assert status("5.26", audit, "bwfp-plain") == "fail" and status("5.26", audit, "bwfp-nnp") == "pass"


def test_a_process_of_another_container_is_not_taken_for_the_init(proc):
    files, _reads = proc
    plain = real_container("plain")
    files[(plain.pid, "cgroup")] = unit_fixture("proc/cgroup-nnp.txt")  # the pid now belongs to another container
    [container] = gathered([plain]).containers
    assert container.init_status is None and "not this container's init" in container.init_status_note


@pytest.mark.parametrize("docker_host", ["tcp://10.0.0.5:2376", "ssh://admin@docker-1"])
def test_a_remote_engines_pids_are_not_read(proc, docker_host):
    _files, reads = proc
    [container] = gathered([real_container("plain")], docker_host=docker_host).containers
    assert reads == [] and docker_host in container.init_status_note


def test_local_tcp_is_this_machine():
    assert gather.engine_on_this_machine("tcp://127.0.0.1:2376")
    assert gather.engine_on_this_machine("tcp://[::1]:2376")
    assert not gather.engine_on_this_machine("tcp://docker-1.example:2376")


def test_no_visible_dockerd_means_other_pids(proc):
    _files, reads = proc
    [container] = gathered([real_container("plain")], daemon=DaemonConfig(cmdline={}, file_options={})).containers
    assert reads == [] and "no dockerd process is visible" in container.init_status_note


def test_an_unreadable_status_is_said(proc):
    files, _reads = proc
    plain = real_container("plain")
    del files[(plain.pid, "status")]
    [container] = gathered([plain]).containers
    assert "No such file" in container.init_status_note


def test_a_stopped_container_has_no_init(proc):
    stopped = real_container("plain", {"State.Running": False, "State.Pid": 0})
    [container] = gathered([stopped]).containers
    assert container.init_status is None and container.init_status_note == "not running"
