# -*- coding: utf-8 -*-
"""Each remedy: the settings it sets for a failing container, and when it refuses (Skip) and why."""

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.remedies import (
    LIVE, MANUAL, RECREATE, REMEDIES, Change, Skip, live_rules, recreate_rules,
)
from ansible_collections.bulwark.hardening.plugins.module_utils.rules import catalog

from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.policy import PolicyError
from remediate_fixtures import MIB, audit_container, context, policy, web

GIB = 1024 ** 3
PERMISSIVE_PROFILE = '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[]}'
FILTERING_PROFILE = '{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]}'


def fix(rule_id, container, pol=None, ctx=None):
    return REMEDIES[rule_id].apply(container, pol if pol is not None else policy(), ctx or context())


def settings(rule_id, container, pol=None, ctx=None):
    outcome = fix(rule_id, container, pol, ctx)
    assert isinstance(outcome, Change), getattr(outcome, "reason", outcome)
    return dict(((section, key), value) for section, key, value in outcome.settings)


def reason(rule_id, container, pol=None, ctx=None):
    outcome = fix(rule_id, container, pol, ctx)
    assert isinstance(outcome, Skip), outcome.settings
    return outcome.reason


# --- the registry -------------------------------------------------------------

def test_every_manual_entry_is_a_catalog_rule_of_a_container_fix_class():
    for rule_id in MANUAL:
        assert catalog.get(rule_id).fix in (LIVE, RECREATE), rule_id
    assert not set(REMEDIES) & set(MANUAL)


def test_live_and_recreate_rules():
    assert live_rules() == ["5.11", "5.12", "5.15", "5.29"]
    assert set(recreate_rules()) == set(REMEDIES) - set(live_rules())


# --- 5.11 memory ---------------------------------------------------------------

def test_memory_limit_with_swap_equal_to_memory_by_default():
    assert settings("5.11", audit_container("insecure"), policy(memory="512m")) == {
        ("HostConfig", "Memory"): 512 * MIB, ("HostConfig", "MemorySwap"): 512 * MIB}


def test_memory_swap_from_the_policy():
    assert settings("5.11", web(), policy(memory="512m", memory_swap="1g"))[("HostConfig", "MemorySwap")] == GIB


def test_unlimited_swap():
    assert settings("5.11", web(), policy(memory="512m", memory_swap="-1"))[("HostConfig", "MemorySwap")] == -1


def test_memory_swap_below_memory_is_skipped():
    assert "policy.memory_swap (256 MiB) is below policy.memory (512 MiB)" in reason(
        "5.11", web(), policy(memory="512m", memory_swap="256m"))


def test_no_memory_in_the_policy_is_skipped():
    assert reason("5.11", web()) == "no memory limit in the policy (policy.memory)"


def test_memory_usage_above_the_headroom_is_skipped():
    # 80% of 512 MiB is 409.6 MiB.
    text = reason("5.11", web(), policy(memory="512m"), context(memory_usage=410 * MIB))
    assert text == "uses 410 MiB, more than 80% of the 512 MiB limit: raise policy.memory for it"


def test_memory_usage_at_the_headroom_is_fixed():
    assert settings("5.11", web(), policy(memory="100m"), context(memory_usage=80 * MIB))


def test_the_headroom_comes_from_the_policy():
    ctx = context(memory_usage=300 * MIB)
    assert isinstance(fix("5.11", web(), policy(memory="512m", memory_headroom=50), ctx), Skip)
    assert isinstance(fix("5.11", web(), policy(memory="512m", memory_headroom=60), ctx), Change)


def test_unknown_memory_usage_is_not_a_reason_to_skip():
    assert settings("5.11", web(), policy(memory="512m"), context(memory_usage=None))


def test_a_reservation_above_the_limit_is_skipped():
    container = web({"HostConfig.MemoryReservation": GIB})
    assert reason("5.11", container, policy(memory="512m")) == "its memory reservation (1024 MiB) is above the 512 MiB limit"
    assert settings("5.11", web({"HostConfig.MemoryReservation": 256 * MIB}), policy(memory="512m"))


# --- 5.12 CPU shares -----------------------------------------------------------

def test_cpu_shares():
    assert settings("5.12", web(), policy(cpu_shares=512)) == {("HostConfig", "CpuShares"): 512}


def test_no_cpu_shares_in_the_policy_is_skipped():
    assert "policy.cpu_shares" in reason("5.12", web())


# --- 5.15 restart policy --------------------------------------------------------

@pytest.mark.parametrize("current", [{"Name": "no", "MaximumRetryCount": 0}, {"Name": "", "MaximumRetryCount": 0},
                                     {"Name": "on-failure", "MaximumRetryCount": 0}, None])
def test_restarts_are_bounded(current):
    container = web({"HostConfig.RestartPolicy": current})
    assert settings("5.15", container, policy(restart_retries=3)) == {
        ("HostConfig", "RestartPolicy"): {"Name": "on-failure", "MaximumRetryCount": 3}}


def test_restart_retries_default_to_five():
    assert settings("5.15", web({"HostConfig.RestartPolicy.Name": "no"}))[("HostConfig", "RestartPolicy")] == {
        "Name": "on-failure", "MaximumRetryCount": 5}


@pytest.mark.parametrize("name", ["always", "unless-stopped"])
def test_always_and_unless_stopped_are_skipped_by_default(name):
    text = reason("5.15", web({"HostConfig.RestartPolicy.Name": name}))
    assert text.startswith("RestartPolicy=%s: on-failure would not start it again after a reboot" % name)
    assert "policy.restart_from_always" in text


@pytest.mark.parametrize("name", ["always", "unless-stopped"])
def test_always_and_unless_stopped_are_switched_with_restart_from_always(name):
    container = web({"HostConfig.RestartPolicy.Name": name})
    assert settings("5.15", container, policy(restart_from_always=True))[("HostConfig", "RestartPolicy")]["Name"] == "on-failure"


def test_auto_remove_is_skipped_even_with_restart_from_always():
    container = web({"HostConfig.AutoRemove": True, "HostConfig.RestartPolicy.Name": "no"})
    assert reason("5.15", container, policy(restart_from_always=True)).startswith("started with --rm")


# --- 5.29 PIDs ---------------------------------------------------------------------

def test_pids_limit():
    assert settings("5.29", web(), policy(pids_limit=200), context(pids=12)) == {("HostConfig", "PidsLimit"): 200}


def test_no_pids_limit_in_the_policy_is_skipped():
    assert "policy.pids_limit" in reason("5.29", web())


def test_pids_above_half_the_limit_are_skipped():
    assert reason("5.29", web(), policy(pids_limit=100), context(pids=51)) == (
        "runs 51 processes and threads, more than 50% of the limit of 100: raise policy.pids_limit for it")
    assert settings("5.29", web(), policy(pids_limit=100), context(pids=50))


# --- 5.4 / BW-008 capabilities ---------------------------------------------------------

@pytest.mark.parametrize("rule_id", ["5.4", "BW-008"])
def test_drop_all_capabilities_keeping_the_policy_ones(rule_id):
    container = audit_container("insecure")
    assert settings(rule_id, container, policy(cap_add=["cap_net_bind_service"])) == {
        ("HostConfig", "CapDrop"): ["ALL"], ("HostConfig", "CapAdd"): ["NET_BIND_SERVICE"]}


@pytest.mark.parametrize("rule_id", ["5.4", "BW-008"])
def test_drop_all_capabilities_without_adds_unsets_cap_add(rule_id):
    assert settings(rule_id, audit_container("insecure")) == {("HostConfig", "CapDrop"): ["ALL"], ("HostConfig", "CapAdd"): None}


# --- 5.5 privileged ----------------------------------------------------------------------

def test_unprivileged_unsets_masked_and_read_only_paths():
    container = audit_container("insecure", {"HostConfig.Privileged": True})
    assert settings("5.5", container) == {("HostConfig", "Privileged"): False, ("HostConfig", "MaskedPaths"): None,
                                          ("HostConfig", "ReadonlyPaths"): None}


# --- 5.6 / BW-009 read-only mounts ------------------------------------------------------------

def test_system_dirs_are_made_read_only_in_binds():
    # insecure binds /etc and /root writable and the Docker socket read-only.
    assert settings("5.6", audit_container("insecure")) == {("HostConfig", "Binds"): [
        "/etc:/host-etc:ro", "/var/run/docker.sock:/var/run/docker.sock:ro", "/root:/host-root:rw"]}


def test_sensitive_paths_are_made_read_only_in_binds():
    assert settings("BW-009", audit_container("insecure")) == {("HostConfig", "Binds"): [
        "/etc:/host-etc:rw", "/var/run/docker.sock:/var/run/docker.sock:ro", "/root:/host-root:ro"]}


def test_read_only_binds_keep_their_other_options():
    container = web({"HostConfig.Binds": ["/etc/ssl:/etc/ssl:rw,z", "/usr/share/zoneinfo:/zoneinfo", "/srv/data:/data:rw"],
                     "HostConfig.Mounts": None})
    assert settings("5.6", container) == {("HostConfig", "Binds"): [
        "/etc/ssl:/etc/ssl:z,ro", "/usr/share/zoneinfo:/zoneinfo:ro", "/srv/data:/data:rw"]}


def test_the_root_directory_is_a_system_dir_but_not_everything_below_it():
    container = web({"HostConfig.Binds": ["/:/host:rw", "/srv/data:/data:rw", "/etc-backup:/b"], "HostConfig.Mounts": None})
    assert settings("5.6", container)[("HostConfig", "Binds")] == ["/:/host:ro", "/srv/data:/data:rw", "/etc-backup:/b"]


def test_named_volume_binds_are_not_host_paths():
    container = web({"HostConfig.Binds": ["etc:/etc/app:rw", "/etc:/host-etc"], "HostConfig.Mounts": None})
    assert settings("5.6", container)[("HostConfig", "Binds")] == ["etc:/etc/app:rw", "/etc:/host-etc:ro"]


def test_writable_bind_mounts_of_host_config_mounts_are_made_read_only():
    mounts = [
        {"Type": "bind", "Source": "/etc/app", "Target": "/cfg"},
        {"Type": "bind", "Source": "/home/ops", "Target": "/home", "ReadOnly": False},
        {"Type": "bind", "Source": "/srv/data", "Target": "/data"},
        {"Type": "volume", "Source": "etc", "Target": "/etc-volume"},
    ]
    container = web({"HostConfig.Binds": None, "HostConfig.Mounts": mounts})
    assert settings("5.6", container) == {
        ("HostConfig", "Binds"): None,
        ("HostConfig", "Mounts"): [dict(mounts[0], ReadOnly=True)] + mounts[1:]}
    assert settings("BW-009", container) == {
        ("HostConfig", "Binds"): None,
        ("HostConfig", "Mounts"): [mounts[0], dict(mounts[1], ReadOnly=True)] + mounts[2:]}


def test_binds_and_mounts_together_keep_the_other_entries():
    container = web({"HostConfig.Binds": ["/srv/shop/config:/etc/shop:ro", "/var/log:/host-log"],
                     "HostConfig.Mounts": [{"Type": "bind", "Source": "/var/lib/docker", "Target": "/d"},
                                           {"Type": "volume", "Source": "shop_media", "Target": "/srv/media"}]})
    assert settings("BW-009", container) == {
        ("HostConfig", "Binds"): ["/srv/shop/config:/etc/shop:ro", "/var/log:/host-log:ro"],
        ("HostConfig", "Mounts"): [{"Type": "bind", "Source": "/var/lib/docker", "Target": "/d", "ReadOnly": True},
                                   {"Type": "volume", "Source": "shop_media", "Target": "/srv/media"}]}


def test_sensitive_paths_leave_the_docker_socket_to_5_32():
    container = web({"HostConfig.Binds": ["/var/run/docker.sock:/var/run/docker.sock", "/run/containerd:/c"],
                     "HostConfig.Mounts": None})
    assert settings("BW-009", container)[("HostConfig", "Binds")] == [
        "/var/run/docker.sock:/var/run/docker.sock", "/run/containerd:/c:ro"]


def test_read_only_mounts_skip_when_no_writable_bind_matches():
    container = web({"HostConfig.Binds": ["/etc:/host-etc:ro"], "HostConfig.Mounts": None})
    assert reason("5.6", container).startswith("the writable host system directory mount is not a bind of HostConfig")
    assert reason("BW-009", audit_container("hardened")).startswith("the writable sensitive path mount is not a bind of HostConfig")


def test_a_writable_log_directory_is_sensitive():
    # shop-web-1 writes its logs to a bind of /var/log/shop (below /var/log).
    assert settings("BW-009", web())[("HostConfig", "Binds")] == ["/srv/shop/config:/etc/shop:ro", "/var/log/shop:/var/log/shop:ro"]


# --- 5.10 host network -------------------------------------------------------------------------

def test_host_network_moves_to_the_policy_network():
    assert settings("5.10", audit_container("hostnet"), policy(network="appnet")) == {
        ("HostConfig", "NetworkMode"): "appnet", ("HostConfig", "PortBindings"): {}, ("Config", "ExposedPorts"): None}


def test_the_ports_it_listens_on_are_published_on_the_same_port_and_address():
    listening = [("0.0.0.0", 8080), ("::", 9090), ("0.0.0.0", 9090)]
    found = settings("5.10", audit_container("hostnet"), policy(network="appnet"), context(listening=listening))
    assert found[("HostConfig", "PortBindings")] == {
        "8080/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}],
        "9090/tcp": [{"HostIp": "", "HostPort": "9090"}],  # the IPv6 wildcard takes IPv4 too: every address
    }
    assert found[("Config", "ExposedPorts")] == {"8080/tcp": {}, "9090/tcp": {}}


def test_the_image_exposed_ports_are_kept():
    container = audit_container("hostnet", {"Config.ExposedPorts": {"53/udp": {}}})
    found = settings("5.10", container, policy(network="appnet"), context(listening=[("0.0.0.0", 8080)]))
    assert found[("Config", "ExposedPorts")] == {"53/udp": {}, "8080/tcp": {}}


@pytest.mark.parametrize("listener, shown", [
    (("127.0.0.1", 5432), "127.0.0.1:5432"), (("::1", 5432), "[::1]:5432"), (("10.0.0.5", 80), "10.0.0.5:80"),
])
def test_a_listener_a_published_port_cannot_reach_keeps_it_on_the_host_network(listener, shown):
    text = reason("5.10", audit_container("hostnet"), policy(network="appnet"),
                  context(listening=[("0.0.0.0", 8080), listener]))
    assert text.startswith("kept on the host's network: it listens on %s," % shown)
    assert "8080" not in text


def test_unknown_listening_ports_keep_it_on_the_host_network():
    text = reason("5.10", audit_container("hostnet"), policy(network="appnet"),
                  context(listening=None, listening_unknown="docker_host tcp://h:2375 is not this host's socket"))
    assert text == ("kept on the host's network: the ports it listens on cannot be found (docker_host tcp://h:2375 is "
                    "not this host's socket), and without them published it would be unreachable on a network")


def test_host_network_without_a_policy_network_is_skipped():
    assert "policy.network" in reason("5.10", audit_container("hostnet"))


# --- namespaces ----------------------------------------------------------------------------------

@pytest.mark.parametrize("rule_id, key, value", [
    ("5.16", "PidMode", ""),
    ("5.17", "IpcMode", "private"),
    ("5.21", "UTSMode", ""),
    ("5.31", "UsernsMode", ""),
])
def test_private_namespaces(rule_id, key, value):
    assert settings(rule_id, audit_container("insecure")) == {("HostConfig", key): value}


# --- 5.13 read-only root ---------------------------------------------------------------------------

def test_read_only_root_with_a_tmpfs_for_each_policy_path():
    container = web({"HostConfig.Tmpfs": None})
    assert settings("5.13", container, policy(tmpfs=["/tmp", "/var/tmp"])) == {
        ("HostConfig", "ReadonlyRootfs"): True, ("HostConfig", "Tmpfs"): {"/tmp": "", "/var/tmp": ""}}


def test_existing_tmpfs_options_are_kept():
    assert settings("5.13", web())[("HostConfig", "Tmpfs")] == {"/run": "rw,noexec,nosuid", "/tmp": ""}
    assert settings("5.13", web(), policy(tmpfs=["/run"]))[("HostConfig", "Tmpfs")] == {"/run": "rw,noexec,nosuid"}


def test_no_tmpfs_over_existing_mounts():
    # /etc/shop and /var/log/shop are binds, /srv/media a HostConfig mount, /var/cache/shop an anonymous volume.
    pol = policy(tmpfs=["/etc/shop", "/var/log/shop", "/srv/media", "/var/cache/shop", "/tmp"])
    assert settings("5.13", web(), pol)[("HostConfig", "Tmpfs")] == {"/run": "rw,noexec,nosuid", "/tmp": ""}


def test_no_tmpfs_paths_unsets_tmpfs():
    container = web({"HostConfig.Tmpfs": {}})
    assert settings("5.13", container, policy(tmpfs=[])) == {("HostConfig", "ReadonlyRootfs"): True, ("HostConfig", "Tmpfs"): None}


# --- 5.26 no-new-privileges ---------------------------------------------------------------------------

@pytest.mark.parametrize("before, after", [
    (None, ["no-new-privileges:true"]),
    (["no-new-privileges=false"], ["no-new-privileges:true"]),
    (["no-new-privileges:false", "apparmor=docker-default"], ["apparmor=docker-default", "no-new-privileges:true"]),
    (["label=disable", "no-new-privileges", "no-new-privileges=false"], ["label=disable", "no-new-privileges:true"]),
])
def test_no_new_privileges(before, after):
    assert settings("5.26", web({"HostConfig.SecurityOpt": before})) == {("HostConfig", "SecurityOpt"): after}


# --- 5.2 AppArmor ----------------------------------------------------------------------------------------

def test_apparmor_unconfined_is_removed():
    # insecure: seccomp=unconfined, apparmor=unconfined, label=disable
    assert settings("5.2", audit_container("insecure")) == {
        ("HostConfig", "SecurityOpt"): ["seccomp=unconfined", "label=disable"]}


def test_apparmor_unconfined_in_the_old_spelling_is_removed():
    assert settings("5.2", web({"HostConfig.SecurityOpt": ["apparmor:unconfined"]})) == {("HostConfig", "SecurityOpt"): None}


def test_apparmor_profiles_other_than_unconfined_are_kept():
    container = web({"HostConfig.SecurityOpt": ["apparmor=shop-web", "apparmor=unconfined"]})
    assert settings("5.2", container) == {("HostConfig", "SecurityOpt"): ["apparmor=shop-web"]}


def test_apparmor_of_a_privileged_container_waits_for_5_5():
    container = audit_container("insecure", {"HostConfig.Privileged": True})
    assert reason("5.2", container).startswith("privileged")


# --- 5.22 seccomp -------------------------------------------------------------------------------------------

def test_the_container_own_unconfined_seccomp_is_removed():
    assert settings("5.22", audit_container("insecure")) == {
        ("HostConfig", "SecurityOpt"): ["apparmor=unconfined", "label=disable"]}


def test_a_permissive_inline_profile_is_removed():
    container = web({"HostConfig.SecurityOpt": ["seccomp=" + PERMISSIVE_PROFILE, "no-new-privileges:true"]})
    assert settings("5.22", container) == {("HostConfig", "SecurityOpt"): ["no-new-privileges:true"]}


@pytest.mark.parametrize("options", [None, ["seccomp=builtin"], ["seccomp="], ["seccomp=" + FILTERING_PROFILE],
                                     ["seccomp=unconfined", "seccomp=builtin"]])
def test_seccomp_skipped_when_the_container_own_option_is_not_the_problem(options):
    assert "daemon-wide seccomp profile" in reason("5.22", web({"HostConfig.SecurityOpt": options}))


def test_seccomp_of_a_privileged_container_is_left_to_5_5():
    container = audit_container("insecure", {"HostConfig.Privileged": True})
    assert reason("5.22", container).startswith("privileged: fixed with 5.5")


# --- 5.32 Docker socket -----------------------------------------------------------------------------------------

def test_the_docker_socket_bind_is_removed():
    assert settings("5.32", audit_container("insecure")) == {
        ("HostConfig", "Binds"): ["/etc:/host-etc:rw", "/root:/host-root:rw"]}


def test_the_only_bind_being_the_socket_unsets_binds():
    container = web({"HostConfig.Binds": ["/run/docker.sock:/var/run/docker.sock"]})
    assert settings("5.32", container) == {
        ("HostConfig", "Binds"): None,
        ("HostConfig", "Mounts"): [{"Type": "volume", "Source": "shop_media", "Target": "/srv/media", "VolumeOptions": {}}]}


def test_the_docker_socket_mount_is_removed():
    mounts = [{"Type": "bind", "Source": "/var/run/docker.sock", "Target": "/var/run/docker.sock"},
              {"Type": "volume", "Source": "shop_media", "Target": "/srv/media"}]
    container = web({"HostConfig.Mounts": mounts})
    assert settings("5.32", container) == {
        ("HostConfig", "Binds"): ["/srv/shop/config:/etc/shop:ro", "/var/log/shop:/var/log/shop:rw"],
        ("HostConfig", "Mounts"): [mounts[1]]}


def test_the_socket_of_docker_host_is_removed():
    container = web({"HostConfig.Binds": ["/srv/engine/api.sock:/var/run/docker.sock", "/srv/data:/data"], "HostConfig.Mounts": None})
    assert settings("5.32", container, ctx=context(docker_host="unix:///srv/engine/api.sock")) == {
        ("HostConfig", "Binds"): ["/srv/data:/data"]}


@pytest.mark.parametrize("source", ["/var/run", "/run", "/", "/var/run/"])
def test_a_directory_above_the_socket_is_skipped(source):
    container = web({"HostConfig.Binds": ["%s:/host-run" % source, "/var/run/docker.sock:/var/run/docker.sock"],
                     "HostConfig.Mounts": None})
    text = reason("5.32", container)
    assert text.startswith("mounts ") and "which holds the Docker socket: narrow that mount by hand" in text


def test_a_mount_above_the_socket_is_skipped():
    container = web({"HostConfig.Binds": None, "HostConfig.Mounts": [{"Type": "bind", "Source": "/run", "Target": "/r"}]})
    assert reason("5.32", container) == "mounts /run, which holds the Docker socket: narrow that mount by hand"


def test_a_sibling_directory_of_the_socket_is_not_above_it():
    container = web({"HostConfig.Binds": ["/run/containerd:/c", "/var/run/docker.sock:/var/run/docker.sock"],
                     "HostConfig.Mounts": None})
    assert settings("5.32", container)[("HostConfig", "Binds")] == ["/run/containerd:/c"]


# --- 4.1 run as the policy user ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("current", ["", "root", "0", "0:0", "root:root"])
def test_run_as_the_policy_user(current):
    assert settings("4.1", web({"Config.User": current}), policy(user="1000:1000")) == {("Config", "User"): "1000:1000"}


def test_run_as_user_without_a_policy_user_is_skipped():
    assert reason("4.1", web({"Config.User": "root"})) == "no user to run it as in the policy (policy.user)"


@pytest.mark.parametrize("user", ["root", "0", "0:0", "root:staff"])
def test_a_root_policy_user_is_refused_before_anything_is_planned(user):
    with pytest.raises(PolicyError, match="is root"):
        policy(user=user)
