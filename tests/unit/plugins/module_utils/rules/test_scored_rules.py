# -*- coding: utf-8 -*-
"""Class tests over the whole catalog: what a scored rule may answer.

A scored rule counts in `score` and `cis_score` only through pass and fail.
So it must fail on the insecure input (an operator who accepts the setting
waives the finding, which keeps the reason on record); a rule that can only
pass, warn or info on it would hide the problem from the score. These tests
build an "insecure world" with every insecure setting the catalog knows and
check each scored, automated rule against it, so a new rule is covered
without a line added here.
"""

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.system.host_facts import FileStat, parse_mountinfo
from ansible_collections.bulwark.hardening.plugins.module_utils.system.audit_rules import AuditRules
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.state import AuditOptions, HostFacts
from ansible_collections.bulwark.hardening.plugins.module_utils.images.scan import LayerScan
from ansible_collections.bulwark.hardening.plugins.module_utils.rules import catalog

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.rule_fixtures import container, dockerd_config, extras, findings, image, state, swarm

# Scored rules allowed to answer warn, each with why a person has to judge it.
SCORED_WARN_EXCEPTIONS = {
    # A read-only bind mount of a system directory can be what a monitoring agent needs;
    # writable ones fail.
    "5.6": "read-only mounts of host system directories",
}

SCORED_AUTOMATED = [rule.id for rule in catalog.all_rules() if rule.scored and rule.automated]

BINARIES = {
    "dockerd": "/usr/sbin/dockerd", "containerd": "/usr/bin/containerd", "containerd-shim": "/usr/bin/containerd-shim",
    "containerd-shim-runc-v1": "/usr/bin/containerd-shim-runc-v1",
    "containerd-shim-runc-v2": "/usr/bin/containerd-shim-runc-v2", "runc": "/usr/sbin/runc",
}
UNITS = {"docker.service": "/lib/systemd/system/docker.service", "docker.socket": "/lib/systemd/system/docker.socket"}
TLS_FILES = {"tlscacert": "/etc/docker/tls/ca.pem", "tlscert": "/etc/docker/tls/cert.pem", "tlskey": "/etc/docker/tls/key.pem"}
DIRECTORIES = ["/etc/docker", "/var/lib/docker", "/run/containerd"]
SOCKETS = ["/var/run/docker.sock", "/run/docker.sock", "/run/containerd/containerd.sock"]
FILES = (list(BINARIES.values()) + list(UNITS.values()) + list(TLS_FILES.values())
         + ["/etc/docker/daemon.json", "/etc/default/docker", "/etc/sysconfig/docker", "/etc/containerd/config.toml",
            "/etc/docker/certs.d/registry.example.com:5000/ca.crt"])
SECRET = "Xq7rT2mLp9vK4wZs8bN3cY6d"


def insecure_host():
    """Every file world-writable and owned by a user, no audit rule, data root on /, an untrusted group member."""
    files = dict((path, FileStat(path, 1000, 1000, 0o777, "file")) for path in FILES)
    files.update((path, FileStat(path, 1000, 1000, 0o777, "dir")) for path in DIRECTORIES)
    files.update((path, FileStat(path, 1000, 1000, 0o777, "socket")) for path in SOCKETS)
    return HostFacts(audit_rules=AuditRules("auditctl -l", [], None),
                     mountpoints=parse_mountinfo("27 1 254:0 / / rw,relatime - ext4 /dev/vda rw"),
                     binaries=BINARIES, units=UNITS, files=files, docker_group_members=["alice", "mallory"],
                     docker_gid=999, content_trust=[])


def insecure_daemon():
    """dockerd on plain TCP with debug logs, no iptables, a custom cgroup parent, dm.basesize, no TLS verification."""
    argv = ["-H", "fd://", "-H", "0.0.0.0:2375", "-D", "--iptables=false", "--cgroup-parent=/custom",
            "--storage-opt", "dm.basesize=20G", "--no-new-privileges=false"]
    argv += ["--%s=%s" % item for item in TLS_FILES.items()]
    return dockerd_config(argv, '{"userland-proxy": true, "icc": true, "log-level": "debug"}')


INSECURE_INFO = {
    "Driver": "aufs", "Debug": True, "LoggingDriver": "json-file", "LiveRestoreEnabled": False,
    "ExperimentalBuild": True, "Swarm.LocalNodeState": "active", "Plugins.Authorization": None,
    "RegistryConfig.InsecureRegistryCIDRs": ["127.0.0.0/8", "0.0.0.0/0"],
    "SecurityOptions": ["name=apparmor", "name=seccomp,profile=unconfined", "name=selinux"],
}

# Insecure settings that exclude one another (a daemon has one storage driver): the rule's own world changes these.
INSECURE_INFO_OF_RULE = {
    "2.7@1.8": {"Driver": "devicemapper"},  # CIS v1.8's 2.7; the insecure world runs aufs (2.6)
}

SSHD_TOP = {"Titles": extras()["top"]["Titles"],
            "Processes": extras()["top"]["Processes"] + [["root", "2", "1", "0", "", "?", "", "/usr/sbin/sshd -D"]]}
# sshd, and a package manager fetching at run time (BW-012).
FETCHING_TOP = {"Titles": SSHD_TOP["Titles"],
                "Processes": SSHD_TOP["Processes"] + [["root", "3", "1", "0", "", "?", "", "apt-get install -y curl"]]}


def insecure_containers():
    """The real insecure and hostnet fixtures, made worse in every field a rule reads."""
    worst = container("insecure", {
        "Config.User": "root", "AppArmorProfile": "unconfined", "HostConfig.Privileged": True,
        "HostConfig.CapAdd": ["SYS_ADMIN"], "HostConfig.Devices": [{"PathOnHost": "/dev/mem", "CgroupPermissions": "rwm"}],
        "Mounts": [
            {"Type": "bind", "Source": "/etc", "Destination": "/host-etc", "RW": True, "Propagation": "rshared"},
            {"Type": "bind", "Source": "/root", "Destination": "/host-root", "RW": True, "Propagation": "rprivate"},
            {"Type": "bind", "Source": "/var/run/docker.sock", "Destination": "/var/run/docker.sock", "RW": True},
        ],
        "Config.Env": ["DB_PASSWORD=" + SECRET, "PATH=/usr/bin"],
        "Config.Image": "registry.example.com/team/app:latest",
    }, top=FETCHING_TOP, diff=[{"Path": "/bin/sleep", "Kind": 0}])
    shared = container("hostnet", {"HostConfig.UsernsMode": "host", "HostConfig.PidMode": "host",
                                   "HostConfig.IpcMode": "host", "HostConfig.UTSMode": "host"}, top=SSHD_TOP)
    return [worst, shared]


def insecure_world(rule_id=None):
    # Secrets in its config, its build history (BW-011) and its files (BW-010, from image_audit's layer scan).
    leaky = image({"Config.Env": ["API_TOKEN=" + SECRET], "RepoDigests": []},
                  history=[{"CreatedBy": "ENV API_TOKEN=" + SECRET}])
    leaky.scan = LayerScan(setuid=["/usr/bin/su"], secret_files=[{"path": "/root/.ssh/id_rsa", "kind": "private key", "length": 411}])
    options = AuditOptions(trusted_registries=["trusted.example.com"], trusted_users=["alice"], process_checks=True,
                           image_history=True, drift_checks=True)
    info_changes = dict(INSECURE_INFO, **INSECURE_INFO_OF_RULE.get(rule_id, {}))
    world = state(insecure_containers(), images=[leaky], info_changes=info_changes, daemon=insecure_daemon(),
                  host=insecure_host(), options=options)
    world.swarm = insecure_swarm()
    return world


def insecure_swarm():
    """A swarm manager with two managers, the management plane on every interface, no encrypted overlay, no auto-lock."""
    return swarm(changes={"Managers": 2, "Nodes": 2}, docker_state={"ListenAddr": "0.0.0.0:2377"})


@pytest.mark.parametrize("rule_id", SCORED_AUTOMATED)
def test_every_scored_rule_fails_on_the_insecure_world(rule_id):
    found = findings(rule_id, insecure_world(rule_id))
    assert "fail" in [item.status for item in found], [(item.target, item.status, item.evidence) for item in found]


def other_worlds():
    """Worlds beyond the insecure one where a rule might be tempted to warn: the real fixtures as they are,
    a hardened container, and the settings a person accepts on some hosts."""
    everything = [container(name) for name in ("hardened", "insecure", "hostnet", "stopped")]
    read_only_system_dir = container("hardened", {"Mounts": [
        {"Type": "bind", "Source": "/usr/share/zoneinfo", "Destination": "/usr/share/zoneinfo", "RW": False}]})
    return [
        state(everything),
        state([container("hardened")], daemon=dockerd_config(["-H", "fd://", "--icc=false", "--no-new-privileges"])),
        state([read_only_system_dir]),
        state(everything, info_changes={"LoggingDriver": "journald", "Swarm.LocalNodeState": "active"}),
        state(everything, daemon=dockerd_config(["--cgroup-parent=/custom", "--storage-opt=dm.basesize=20G"]),
              options=AuditOptions(trusted_registries=["docker.io"], trusted_users=[], process_checks=True)),
        insecure_world(),
    ]


def test_no_scored_rule_warns_except_the_listed_ones():
    warned = set()
    for world in other_worlds():
        for rule_id in SCORED_AUTOMATED:
            warned.update(item.rule.id for item in findings(rule_id, world) if item.status == "warn")
    assert warned - set(SCORED_WARN_EXCEPTIONS) == set()
    # The exceptions are real: each one does warn in some world, so the list stays honest.
    assert set(SCORED_WARN_EXCEPTIONS) <= warned
