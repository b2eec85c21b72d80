# -*- coding: utf-8 -*-
"""Compose: every remedy's change as the override key that keeps it, the record across runs, the file and its guard."""

from __future__ import annotations

import os

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.remediate import compose
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.compose import (
    COMPOSE_KEYS, add_fixes, checksum, load_record, new_record, override_path, render_override, save_record,
    service_settings, write_override,
)
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.plan import plan_container
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.remedies import REMEDIES

from remediate_fixtures import MIB, audit_container, context, policy, web

SOCKET = "/var/run/docker.sock"
# rule: (container, policy fields, context, expected Compose settings, expected edits). shop-web-1 is a Compose
# service: unless-stopped, /run tmpfs, binds /srv/shop/config (ro) and /var/log/shop, no security options.
CASES = {
    "5.11": (web(), {"memory": "512m"}, context(), {"mem_limit": 512 * MIB, "memswap_limit": 512 * MIB}, []),
    "5.12": (web(), {"cpu_shares": 512}, context(), {"cpu_shares": 512}, []),
    "5.15": (web(), {"restart_from_always": True}, context(), {"restart": "on-failure:5"}, []),
    "5.29": (web(), {"pids_limit": 200}, context(), {"pids_limit": 200}, []),
    "5.4": (web({"HostConfig.CapAdd": ["NET_ADMIN", "CHOWN"]}), {"cap_add": ["CHOWN"]}, context(),
            {"cap_drop": ["ALL"]}, ["remove NET_ADMIN from cap_add"]),
    "BW-008": (web(), {"cap_add": ["NET_BIND_SERVICE"]}, context(),
               {"cap_drop": ["ALL"], "cap_add": ["NET_BIND_SERVICE"]}, []),
    "5.5": (web({"HostConfig.Privileged": True}), {}, context(), {"privileged": False}, []),
    "5.6": (web({"HostConfig.Binds": ["/etc:/host-etc", "/srv/shop/config:/etc/shop:ro"]}), {}, context(),
            {"volumes": ["/etc:/host-etc:ro"]}, []),
    "BW-009": (web({"HostConfig.Binds": ["/var/log:/host-log:rw"], "HostConfig.Mounts": [
        {"Type": "bind", "Source": "/root/.ssh", "Target": "/keys"}]}), {}, context(),
        {"volumes": ["/var/log:/host-log:ro", {"type": "bind", "source": "/root/.ssh", "target": "/keys", "read_only": True}]},
        []),
    "5.10": (audit_container("hostnet", {"Config.Labels": {compose.PROJECT: "p", compose.SERVICE: "s"}}),
             {"network": "appnet"}, context(listening=[("0.0.0.0", 8080), ("::", 9090)]),
             {"network_mode": "appnet", "ports": ["0.0.0.0:8080:8080/tcp", "9090:9090/tcp"]}, []),
    "5.13": (web(), {}, context(), {"read_only": True, "tmpfs": ["/tmp"]}, []),
    "5.16": (web({"HostConfig.PidMode": "host"}), {}, context(), {"pid": ""}, []),
    "5.17": (web({"HostConfig.IpcMode": "host"}), {}, context(), {"ipc": "private"}, []),
    "5.21": (web({"HostConfig.UTSMode": "host"}), {}, context(), {"uts": ""}, []),
    "5.31": (web({"HostConfig.UsernsMode": "host"}), {}, context(), {"userns_mode": ""}, []),
    "5.2": (web({"HostConfig.SecurityOpt": ["apparmor=unconfined", "label=disable"]}), {}, context(), {},
            ['remove "apparmor=unconfined" from security_opt']),
    "5.22": (web({"HostConfig.SecurityOpt": ["seccomp=unconfined"]}), {}, context(), {},
             ['remove "seccomp=unconfined" from security_opt']),
    "5.26": (web(), {}, context(), {"security_opt": ["no-new-privileges:true"]}, []),
    "5.32": (web({"HostConfig.Binds": ["%s:%s" % (SOCKET, SOCKET), "/srv/shop/config:/etc/shop:ro"]}), {},
             context(docker_host="unix://" + SOCKET), {}, ["remove the volume at %s" % SOCKET]),
    "4.1": (web(), {"user": "1000:1000"}, context(), {"user": "1000:1000"}, []),
}


def test_every_remedy_has_a_case():
    assert sorted(CASES) == sorted(REMEDIES)


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_each_remedy_as_compose_settings(rule_id):
    container, fields, ctx, expected, edits = CASES[rule_id]
    plan = plan_container(container, [rule_id], policy(recreate=True, **fields), ctx)
    assert plan.fixes == {rule_id: REMEDIES[rule_id].fix}, plan.skipped
    assert all(change[:2] in COMPOSE_KEYS for change in plan.changes())
    assert service_settings(plan.changes()) == (expected, edits)


def test_restart_policies():
    assert compose.restart_text({"Name": "on-failure", "MaximumRetryCount": 3}) == "on-failure:3"
    assert compose.restart_text({"Name": "on-failure", "MaximumRetryCount": 0}) == "on-failure"
    assert compose.restart_text({"Name": ""}) == "no" and compose.restart_text(None) == "no"
    assert compose.restart_text({"Name": "always"}) == "always"


def test_tmpfs_and_ports_entries():
    assert compose.tmpfs_entries({"/run": "rw,noexec", "/tmp": ""}) == ["/run:rw,noexec", "/tmp"]
    assert compose.port_entries({"80/tcp": [{"HostIp": "", "HostPort": "8080"}, {"HostIp": "127.0.0.1", "HostPort": "80"}]}) == [
        "8080:80/tcp", "127.0.0.1:80:80/tcp"]


# --- the record -----------------------------------------------------------------------------------------------

def test_fixes_of_several_runs_add_up():
    record = new_record("shop")
    add_fixes(record, "web", {"mem_limit": 1, "cap_drop": ["ALL"], "volumes": ["/etc:/e:ro"]}, ["remove X from cap_add"])
    add_fixes(record, "web", {"mem_limit": 2, "security_opt": ["no-new-privileges:true"], "cap_drop": ["ALL"],
                              "volumes": ["/etc:/e:ro,z", "/var/log:/l:ro"]}, ["remove X from cap_add"])
    add_fixes(record, "db", {"read_only": True}, [])
    assert record["services"] == {
        "web": {"mem_limit": 2, "cap_drop": ["ALL"], "security_opt": ["no-new-privileges:true"],
                "volumes": ["/etc:/e:ro,z", "/var/log:/l:ro"]},
        "db": {"read_only": True},
    }
    assert record["edits"] == {"web": ["remove X from cap_add"]}


def test_a_record_is_kept_and_read_back(tmp_path):
    record = new_record("shop")
    add_fixes(record, "web", {"read_only": True}, [])
    save_record(str(tmp_path), record)
    assert load_record(str(tmp_path), "shop") == record
    assert load_record(str(tmp_path), "other") == new_record("other")
    (tmp_path / "compose-bad.json").write_text("[1]")
    assert load_record(str(tmp_path), "bad") == new_record("bad")


def test_a_project_name_that_is_no_file_name_is_never_stored(tmp_path):
    record = new_record("../escape")
    save_record(str(tmp_path), record)
    assert os.listdir(str(tmp_path)) == [] and load_record(str(tmp_path), "../escape") == new_record("../escape")


# --- the override text ----------------------------------------------------------------------------------------

def test_the_override_text():
    record = new_record("shop")
    add_fixes(record, "web", {"mem_limit": 268435456, "read_only": True, "security_opt": ["no-new-privileges:true"],
                              "tmpfs": ["/tmp"], "user": "1000:1000", "pid": "", "privileged": False,
                              "volumes": ["/etc:/host-etc:ro", {"type": "bind", "source": "/root/.ssh", "target": "/keys",
                                                                "read_only": True}]},
              ['remove "apparmor=unconfined" from security_opt'])
    text = render_override(record)
    assert text.splitlines()[0] == "# Written by bulwark.hardening.container_remediate: the fixes it applied to Compose project shop."
    assert '#   web: remove "apparmor=unconfined" from security_opt\n' in text
    assert text.endswith(
        "services:\n"
        "  web:\n"
        "    mem_limit: 268435456\n"
        '    pid: ""\n'
        "    privileged: false\n"
        "    read_only: true\n"
        "    security_opt:\n"
        '    - "no-new-privileges:true"\n'
        "    tmpfs:\n"
        "    - /tmp\n"
        '    user: "1000:1000"\n'
        "    volumes:\n"
        '    - "/etc:/host-etc:ro"\n'
        "    - type: bind\n"
        "      source: /root/.ssh\n"
        "      target: /keys\n"
        "      read_only: true\n")


def test_the_override_is_yaml_compose_reads_as_meant():
    yaml = pytest.importorskip("yaml")
    record = new_record("shop")
    add_fixes(record, "web", {"restart": "on-failure:5", "ports": ["127.0.0.1:8080:80/tcp", "8443:443/tcp"], "ipc": "private",
                              "cap_add": ["NET_BIND_SERVICE"], "network_mode": "no", "user": "nobody"}, [])
    assert yaml.safe_load(render_override(record)) == {"services": {"web": {
        "restart": "on-failure:5", "ports": ["127.0.0.1:8080:80/tcp", "8443:443/tcp"], "ipc": "private",
        "cap_add": ["NET_BIND_SERVICE"], "network_mode": "no", "user": "nobody"}}}


def test_the_same_fixes_give_the_same_bytes():
    first, second = new_record("shop"), new_record("shop")
    add_fixes(first, "web", {"read_only": True, "cap_drop": ["ALL"]}, [])
    add_fixes(first, "db", {"read_only": True}, [])
    add_fixes(second, "db", {"read_only": True}, [])
    add_fixes(second, "web", {"cap_drop": ["ALL"], "read_only": True}, [])
    assert render_override(first) == render_override(second)


# --- where it goes, and never over someone else's ---------------------------------------------------------------

def labels(config_files, working_dir="/srv/shop"):
    return {compose.PROJECT: "shop", compose.SERVICE: "web", compose.WORKING_DIR: working_dir, compose.CONFIG_FILES: config_files}


@pytest.mark.parametrize("files, name", [
    ("docker-compose.yml", "docker-compose.override.yml"), ("/srv/shop/compose.yaml", "compose.override.yaml"),
    ("/srv/shop/docker-compose.yaml,/srv/shop/docker-compose.override.yaml", "docker-compose.override.yaml"),
    ("compose.yml", "compose.override.yml"),
])
def test_the_override_goes_where_compose_reads_it(files, name):
    assert override_path(labels(files)) == ("/srv/shop/" + name, None)


@pytest.mark.parametrize("files", ["prod.yml", "docker-compose.yml,prod.yml", "", "compose.yaml,docker-compose.yml"])
def test_files_compose_pairs_no_override_with_are_said_so(files):
    path, problem = override_path(labels(files))
    assert path is None and "add the override with -f" in problem


def test_without_a_working_dir_it_cannot_be_placed():
    assert override_path(labels("docker-compose.yml", working_dir=""))[0] is None


def test_written_when_absent_and_replaced_when_it_is_ours(tmp_path):
    path, record = str(tmp_path / "docker-compose.override.yml"), new_record("shop")
    assert write_override(path, "one\n", record) == (True, "written to %s" % path)
    assert record["written"] == checksum("one\n") and open(path).read() == "one\n"
    assert write_override(path, "one\n", record) == (False, "%s already holds these fixes" % path)
    assert write_override(path, "two\n", record) == (True, "written to %s" % path)
    assert open(path).read() == "two\n"


def test_an_override_someone_else_wrote_is_never_replaced(tmp_path):
    path, record = tmp_path / "docker-compose.override.yml", new_record("shop")
    path.write_text("services: {web: {environment: [A=1]}}\n")
    written, detail = write_override(str(path), "ours\n", record)
    assert not written and detail.startswith("not written: %s exists and is not the one container_remediate wrote" % path)
    assert path.read_text() == "services: {web: {environment: [A=1]}}\n"


def test_our_override_edited_by_hand_is_left_alone(tmp_path):
    path, record = tmp_path / "docker-compose.override.yml", new_record("shop")
    write_override(str(path), "ours\n", record)
    path.write_text("ours\n# and a line of the operator's\n")
    assert write_override(str(path), "ours, more\n", record)[0] is False
    assert "operator" in path.read_text()


def test_a_directory_that_is_not_here_is_said_so(tmp_path):
    written, detail = write_override(str(tmp_path / "absent" / "compose.override.yaml"), "x\n", new_record("shop"))
    assert not written and "is not on this host" in detail
