# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""CIS Docker Benchmark v1.6 section 5: container runtime.

Every per-container rule reads the one `docker inspect` result gathered for
that container (plus `docker info` for daemon-wide facts); nothing here
calls Docker. Only 5.7 needs more (`docker top`), and only when the audit
runs with process_checks.
"""

from __future__ import annotations

from ansible_collections.bulwark.hardening.plugins.module_utils.rules.rule import (
    container_rule, failed, global_rule, info, manual_rule, passed, skipped, warned,
)
from ansible_collections.bulwark.hardening.plugins.module_utils.common.paths import is_within
from ansible_collections.bulwark.hardening.plugins.module_utils.common.references import familiar_reference, split_repository
from ansible_collections.bulwark.hardening.plugins.module_utils.common.secrets import mask_text
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.flags import go_bool
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.container_inspect import (
    DAEMON_DEFAULT_SECCOMP, DEFAULT_CAPABILITIES, bind_mounts, capability_names, container_seccomp_verdict,
    daemon_seccomp_verdict, describe_mount, describe_namespace, docker_socket_path,
    local_volume_mounts, mounts_of, namespace_source,
    process_commands, reference_names_image, seccomp_context, security_opt_value, security_opt_values, security_opts,
    volume_bind_mounts, within_directories,
)

SECTION = "containers"

# CIS 5.6's list of host system directories, as v1.6 has it; v1.7 (and so v1.8) adds /lib64.
CIS_SENSITIVE_DIRS = ("/", "/boot", "/dev", "/etc", "/lib", "/proc", "/sys", "/usr")
CIS_SENSITIVE_DIRS_BY_VERSION = {"1.6": CIS_SENSITIVE_DIRS, "1.8": CIS_SENSITIVE_DIRS + ("/lib64",)}


def cis_sensitive_dirs(cis_version):
    """5.6's host system directories in CIS version cis_version."""
    return CIS_SENSITIVE_DIRS_BY_VERSION[cis_version]


# The CPU weight a container gets without --cpu-shares (the cgroup default): setting it changes nothing.
DEFAULT_CPU_SHARES = 1024

# Ports below this number need root to bind on the host.
FIRST_UNPRIVILEGED_PORT = 1024

# Host addresses that mean "every interface".
ANY_ADDRESS = ("", "0.0.0.0", "::")

# Restart policies that restart a crashing container forever.
UNBOUNDED_RESTART = ("always", "unless-stopped")
MAX_RESTART_RETRIES = 5


@global_rule(
    "5.1", "Ensure swarm mode is not Enabled, if not needed", SECTION, subject="daemon",
    level=1, scored=True, severity="low", fix="manual",
    reads="docker info .Swarm.LocalNodeState",
    remediation="If this host is not meant to be a swarm node, run `docker swarm leave`.",
)
def swarm_mode(state):
    # Swarm opens management ports (2377) and gossip traffic. Only a person knows if it is needed,
    # so it fails, and a host that must be a swarm node waives it (the reason stays on record).
    if state.info is None:
        return skipped("docker info not gathered")
    node_state = (state.info.get("Swarm") or {}).get("LocalNodeState") or "inactive"
    if node_state == "inactive":
        return passed("Swarm.LocalNodeState=inactive")
    return failed("Swarm.LocalNodeState=%s: swarm mode is on; waive 5.1 for this host if it must be a swarm node" % node_state)


@container_rule(
    "5.2", "Ensure that, if applicable, an AppArmor Profile is enabled", SECTION,
    level=1, scored=True, severity="medium", fix="recreate",
    reads="inspect .AppArmorProfile; docker info .SecurityOptions (name=apparmor)",
    remediation="Run the container with the default profile (docker-default) or "
                "`--security-opt apparmor=<profile>`; never `apparmor=unconfined`.",
    fixed_by=("containers_recreate_enabled",),
)
def apparmor_profile(container, state):
    # Only applicable where the daemon can apply AppArmor at all.
    if "apparmor" not in state.security_options():
        return skipped("not applicable: AppArmor is not enabled for this daemon (docker info SecurityOptions)")
    profile = container.inspect.get("AppArmorProfile") or ""
    if profile in ("", "unconfined"):
        return failed("AppArmorProfile=%s" % (profile or "<empty>"))
    return passed("AppArmorProfile=%s" % profile)


# SELinux types whose policy confines nothing: spc_t ("super privileged container"), the unconfined domains, and
# the runtime's and the kernel's own. A container labelled with one is labelled in name only.
UNCONFINED_SELINUX_TYPES = frozenset([
    "spc_t", "unconfined_t", "unconfined_service_t", "container_runtime_t", "docker_t", "kernel_t", "init_t",
    "initrc_t",
])


def _selinux_type(label):
    """The type field of an SELinux label (user:role:type:level), or None."""
    fields = (label or "").split(":")
    return fields[2] if len(fields) >= 3 else None


def _requested_selinux_type(container):
    """The type a `--security-opt label=type:<type>` asks for (dockerd applies the last one), or None."""
    requested = None
    for value in security_opt_values(container, "label"):
        key, separator, chosen = value.partition(":")
        if separator and key == "type":
            requested = chosen
    return requested


@container_rule(
    "5.3", "Ensure that, if applicable, SELinux security options are set", SECTION,
    level=2, scored=True, severity="medium", fix="recreate",
    reads="inspect .ProcessLabel, .HostConfig.SecurityOpt (label=...); docker info .SecurityOptions (name=selinux); "
          "a label of an unconfined type (%s) fails" % ", ".join(sorted(UNCONFINED_SELINUX_TYPES)),
    remediation="Start dockerd with --selinux-enabled and run containers with their SELinux label (container_t); "
                "never `--security-opt label=disable` or an unconfined type such as `label=type:spc_t`.",
)
def selinux_options(container, state):
    # Any security option satisfies the shell check (even no-new-privileges); what counts is a label that
    # confines: spc_t and the unconfined types are labels the policy lets do what root on the host does.
    if "selinux" not in state.security_options():
        return skipped("not applicable: SELinux is not enabled for this daemon (docker info SecurityOptions)")
    # dockerd collects every label option (and a bare `disable`); any `disable` among them turns labelling off.
    if "disable" in security_opt_values(container, "label") or "disable" in container.security_opt:
        return failed("SecurityOpt label=disable")
    label = container.inspect.get("ProcessLabel") or ""
    requested = _requested_selinux_type(container)
    label_type = _selinux_type(label) or requested
    if label_type in UNCONFINED_SELINUX_TYPES:
        where = "ProcessLabel=%s" % label if label else "SecurityOpt label=type:%s" % requested
        return failed("%s: %s is an unconfined SELinux type, the policy confines nothing" % (where, label_type))
    if not label:
        return failed("no SELinux ProcessLabel")
    return passed("ProcessLabel=%s" % label)


@container_rule(
    "5.4", "Ensure that Linux kernel capabilities are restricted within containers", SECTION,
    level=1, scored=True, severity="high", fix="recreate",
    reads="inspect .HostConfig.CapAdd",
    remediation="Remove the added capabilities (--cap-add) the workload does not need; "
                "prefer `--cap-drop ALL` plus the few it does (see BW-008).",
    fixed_by=("containers_recreate_enabled", "containers_policy"),
)
def added_capabilities(container, state):
    # Capabilities beyond Docker's default set widen what root in the container can do to the host.
    extra = sorted(set(capability_names(container.host_config.get("CapAdd"))) - DEFAULT_CAPABILITIES)
    if extra:
        return failed("CapAdd beyond Docker's defaults: %s" % ", ".join(extra))
    return passed("no capability beyond Docker's defaults added")


@container_rule(
    "5.5", "Ensure that privileged containers are not used", SECTION,
    level=1, scored=True, severity="critical", fix="recreate",
    reads="inspect .HostConfig.Privileged",
    remediation="Do not run the container with --privileged; add only the capabilities and devices it needs.",
    fixed_by=("containers_recreate_enabled",),
)
def privileged(container, state):
    # Privileged means every capability, every host device and no seccomp/AppArmor: root on the host.
    if container.host_config.get("Privileged"):
        return failed("HostConfig.Privileged=true")
    return passed("HostConfig.Privileged=false")


@container_rule(
    "5.6", "Ensure sensitive host system directories are not mounted on containers", SECTION,
    level=1, scored=True, severity="high", fix="recreate",
    reads="inspect .Mounts: bind sources, and the host directory a named volume of the local driver binds "
          "(GET /volumes: Options type=none, o=bind, device=<path>), equal to or below /, /boot, /dev, /etc, /lib, "
          "/proc, /sys, /usr, and under CIS v1.8 /lib64",
    remediation="Do not bind-mount host system directories (or anything below them) into containers, directly or "
                "through a named volume bound to one (o=bind,device=...); if one is unavoidable, mount it read-only.",
    fixed_by=("containers_recreate_enabled",),
)
def sensitive_host_dirs(container, state):
    # Sub-paths count too (a bind of /etc/ssh exposes /etc's secrets); writable is a failure, read-only a warning.
    # A named volume the local driver binds to a host directory is the same bind under another name.
    system_dirs = cis_sensitive_dirs(state.options.cis_version)
    found = [(describe_mount(mount), mount[2]) for mount in mounts_of(container, system_dirs)]
    volumes = getattr(state, "volumes", None)
    for source, destination, writable, name in volume_bind_mounts(container, volumes):
        if within_directories(source, system_dirs):
            found.append(("%s (volume %s)" % (describe_mount((source, destination, writable)), name), writable))
    writable = [text for text, rw in found if rw]
    if writable:
        return failed("writable bind mounts of host system directories: %s" % ", ".join(writable))
    if found:
        return warned("read-only bind mounts of host system directories: %s" % ", ".join(text for text, _rw in found))
    unread = len(local_volume_mounts(container)) if volumes is None else 0
    note = " (%d named volumes' host paths not read)" % unread if unread else ""
    return passed("no host system directory mounted%s" % note)


@container_rule(
    "5.7", "Ensure sshd is not run within containers", SECTION,
    level=1, scored=True, severity="medium", fix="recreate",
    reads="docker top (one call per running container, only with process_checks: true)",
    remediation="Remove the SSH daemon from the image; use `docker exec` for access.",
)
def sshd_running(container, state):
    # The process table comes from the host's ps via `docker top`, so images without ps work too.
    if not state.options.process_checks:
        return skipped("needs process_checks: true (one `docker top` call per running container)")
    if not container.running:
        return skipped("container not running")
    if container.top is None:
        return skipped("process list not available")
    commands = process_commands(container.top)
    sshd = [command for command in commands if _is_sshd(command)]
    if sshd:
        # A command line can carry a token or a password (-o options, a wrapper's arguments): masked before it is
        # cut short, since a secret cut in two is no longer recognisable.
        return failed("sshd processes: %d (%s)" % (len(sshd), mask_text(sshd[0])[:SHOWN_COMMAND]))
    return passed("no sshd among %d processes" % len(commands))


SHOWN_COMMAND = 60


def _is_sshd(command):
    first = command.split()[0] if command.split() else ""
    return first.rsplit("/", 1)[-1] in ("sshd", "sshd:")


@container_rule(
    "5.8", "Ensure privileged ports are not mapped within containers", SECTION,
    level=1, scored=True, severity="low", fix="recreate",
    reads="inspect .NetworkSettings.Ports (running) or .HostConfig.PortBindings (stopped)",
    remediation="Publish the service on a host port of 1024 or above (-p 8443:443).",
)
def privileged_ports(container, state):
    low = ["%s->%s:%s" % (port, ip or "*", host_port) for port, ip, host_port in container.port_bindings()
           if str(host_port).isdigit() and int(host_port) < FIRST_UNPRIVILEGED_PORT]
    if low:
        return failed("host ports below %d: %s" % (FIRST_UNPRIVILEGED_PORT, ", ".join(low)))
    return passed("no host port below %d" % FIRST_UNPRIVILEGED_PORT)


@container_rule(
    "5.9", "Ensure that only needed ports are open on the container", SECTION,
    level=1, scored=False, severity="low", fix="recreate",
    reads="inspect .NetworkSettings.Ports (running) or .HostConfig.PortBindings (stopped)",
    remediation="Publish only the ports the service needs; drop -P and unused -p mappings.",
)
def published_ports(container, state):
    # Which ports are needed is the owner's call (CIS v1.6 marks 5.9 Manual), so published ports are
    # listed for review (warn) and the rule is unscored.
    bindings = container.port_bindings()
    if not bindings:
        return passed("no published port")
    return warned("published ports, confirm each is needed: %s" % ", ".join(
        "%s->%s:%s" % (port, ip or "*", host_port) for port, ip, host_port in bindings))


@container_rule(
    "5.10", "Ensure that the host's network namespace is not shared", SECTION,
    level=1, scored=True, severity="high", fix="recreate",
    reads="inspect .HostConfig.NetworkMode, followed through `container:<id>` to the donor's (inspected when it is "
          "not audited)",
    remediation="Do not use --network host; publish the needed ports from a bridge or user-defined network. A container "
                "that joins one with --network container:<name> is fixed on that donor.",
    fixed_by=("containers_recreate_enabled", "containers_policy"),
)
def host_network(container, state):
    # In the host's network namespace the container can bind any host port and see all host traffic; so can
    # a container that joins the namespace of one that is there.
    return _host_namespace(container, state, "NetworkMode", "default")


@container_rule(
    "5.11", "Ensure that the memory usage for containers is limited", SECTION,
    level=1, scored=True, severity="medium", fix="live",
    reads="inspect .HostConfig.Memory",
    remediation="Set a memory limit: `docker update --memory 512m --memory-swap 512m <container>` "
                "(or --memory on docker run).",
    fixed_by=("containers_live_enabled", "containers_policy"),
)
def memory_limit(container, state):
    # Without a limit one container can exhaust host memory and get other workloads OOM-killed.
    limit = container.host_config.get("Memory") or 0
    if limit > 0:
        return passed("HostConfig.Memory=%d" % limit)
    return failed("HostConfig.Memory=0 (no limit)")


@container_rule(
    "5.12", "Ensure that CPU priority is set appropriately on containers", SECTION,
    level=1, scored=True, severity="low", fix="live",
    reads="inspect .HostConfig.CpuShares, .NanoCpus, .CpuQuota",
    remediation="Set CPU shares or a CPU limit: `docker update --cpu-shares 512 --cpus 1.5 <container>`.",
    fixed_by=("containers_live_enabled", "containers_policy"),
)
def cpu_priority(container, state):
    # Without shares or a quota a busy container competes with the host's own services on equal terms.
    # CpuShares=1024 is the weight every container gets anyway: the CIS audit counts it as no shares set.
    host_config = container.host_config
    settings = ["%s=%s" % (key, host_config.get(key)) for key in ("CpuShares", "NanoCpus", "CpuQuota")
                if (host_config.get(key) or 0) > 0]
    settings = [setting for setting in settings if setting != "CpuShares=%d" % DEFAULT_CPU_SHARES]
    if settings:
        return passed(", ".join(settings))
    if host_config.get("CpuShares") == DEFAULT_CPU_SHARES:
        return failed("CpuShares=%d is Docker's default weight (the same as none), and no NanoCpus or CpuQuota set"
                      % DEFAULT_CPU_SHARES)
    return failed("no CpuShares, NanoCpus or CpuQuota set")


@container_rule(
    "5.13", "Ensure that the container's root filesystem is mounted as read only", SECTION,
    level=1, scored=True, severity="medium", fix="recreate",
    reads="inspect .HostConfig.ReadonlyRootfs",
    remediation="Run with --read-only and give writable paths their own volume or tmpfs (--tmpfs /tmp).",
    fixed_by=("containers_recreate_enabled", "containers_policy"),
)
def read_only_rootfs(container, state):
    # A writable root filesystem lets an intruder change binaries and persist inside the container.
    if container.host_config.get("ReadonlyRootfs"):
        return passed("HostConfig.ReadonlyRootfs=true")
    return failed("HostConfig.ReadonlyRootfs=false")


@container_rule(
    "5.14", "Ensure that incoming container traffic is bound to a specific host interface", SECTION,
    level=1, scored=True, severity="medium", fix="recreate",
    reads="inspect .NetworkSettings.Ports (running) or .HostConfig.PortBindings (stopped): HostIp",
    remediation="Publish on one address: -p 10.0.0.5:8080:80 (or set the daemon's `ip` option).",
)
def bound_interface(container, state):
    # 0.0.0.0 and [::] (which the shell check misses) both listen on every interface.
    wildcard = ["%s->%s:%s" % (port, ip or "*", host_port) for port, ip, host_port in container.port_bindings()
                if ip in ANY_ADDRESS]
    if wildcard:
        return failed("published on all interfaces: %s" % ", ".join(wildcard))
    return passed("every published port is bound to a specific address")


@container_rule(
    "5.15", "Ensure that the 'on-failure' container restart policy is set to '5'", SECTION,
    level=1, scored=True, severity="low", fix="live",
    reads="inspect .HostConfig.RestartPolicy (Name, MaximumRetryCount)",
    remediation="`docker update --restart on-failure:5 <container>`.",
    fixed_by=("containers_live_enabled", "containers_policy"),
)
def restart_policy(container, state):
    # `always`/`unless-stopped` and on-failure without a bound (0) restart a broken container forever;
    # the shell check only flags counts above 5 and so passes `always`.
    policy = container.host_config.get("RestartPolicy") or {}
    name = policy.get("Name") or "no"
    retries = policy.get("MaximumRetryCount") or 0
    if name in UNBOUNDED_RESTART:
        return failed("RestartPolicy=%s (unbounded)" % name)
    if name == "on-failure" and not 0 < retries <= MAX_RESTART_RETRIES:
        return failed("RestartPolicy=on-failure:%d (%s)" % (retries, "unbounded" if retries == 0 else "more than 5"))
    return passed("RestartPolicy=%s" % (name if name != "on-failure" else "on-failure:%d" % retries))


def _host_namespace(container, state, key, unset="private"):
    """pass/fail for a namespace mode, following `container:` modes to the donor whose namespace it is."""
    source = namespace_source(container, state, key)
    evidence = describe_namespace(container, key, source)
    if source.unresolved is not None:
        # The namespace is the donor's, and nothing known tells which one that is.
        return skipped("%s: no container %s is known (removed, or a cycle), so whose namespace it shares cannot be "
                       "told" % (evidence, source.unresolved[:12]))
    if source.mode == "host":
        return failed("%s: in the host's namespace" % evidence if source.donors else evidence)
    if not source.donors and not source.mode:
        return passed("HostConfig.%s=%s" % (key, unset))
    return passed(evidence)


@container_rule(
    "5.16", "Ensure that the host's process namespace is not shared", SECTION,
    level=1, scored=True, severity="high", fix="recreate",
    reads="inspect .HostConfig.PidMode, followed through `container:<id>` to the donor's",
    remediation="Do not use --pid host (on the donor, for a container that joins one with --pid container:<name>).",
    fixed_by=("containers_recreate_enabled",),
)
def host_pid(container, state):
    # With the host's PID namespace the container sees, and as root can signal or ptrace, host processes.
    return _host_namespace(container, state, "PidMode")


@container_rule(
    "5.17", "Ensure that the host's IPC namespace is not shared", SECTION,
    level=1, scored=True, severity="high", fix="recreate",
    reads="inspect .HostConfig.IpcMode, followed through `container:<id>` to the donor's",
    remediation="Do not use --ipc host (on the donor, for a container that joins one with --ipc container:<name>).",
    fixed_by=("containers_recreate_enabled",),
)
def host_ipc(container, state):
    # The host's IPC namespace exposes its shared memory segments and semaphores.
    return _host_namespace(container, state, "IpcMode")


@container_rule(
    "5.18", "Ensure that host devices are not directly exposed to containers", SECTION,
    level=1, scored=False, severity="medium", fix="recreate",
    reads="inspect .HostConfig.Devices, .DeviceCgroupRules",
    remediation="Expose only the devices the workload needs (--device), read-only where possible (:r).",
)
def host_devices(container, state):
    # Some workloads need a device; listing them for review is all an audit can do.
    devices = ["%s:%s" % (device.get("PathOnHost"), device.get("CgroupPermissions"))
               for device in container.host_config.get("Devices") or []]
    devices += ["rule %s" % rule for rule in container.host_config.get("DeviceCgroupRules") or []]
    if devices:
        return warned("host devices exposed, confirm each is needed: %s" % ", ".join(devices))
    return passed("no host device exposed")


@container_rule(
    "5.19", "Ensure that the default ulimit is overwritten at runtime if needed", SECTION,
    level=1, scored=False, severity="low", fix="recreate",
    reads="inspect .HostConfig.Ulimits",
    remediation="Set per-container limits where the daemon default does not fit: --ulimit nofile=1024:2048.",
)
def runtime_ulimits(container, state):
    ulimits = container.host_config.get("Ulimits") or []
    if ulimits:
        return passed("Ulimits: %s" % ", ".join("%s=%s:%s" % (u.get("Name"), u.get("Soft"), u.get("Hard")) for u in ulimits))
    return info("no per-container ulimit; the daemon default applies")


@container_rule(
    "5.20", "Ensure mount propagation mode is not set to shared", SECTION,
    level=1, scored=True, severity="medium", fix="recreate",
    reads="inspect .Mounts[].Propagation",
    remediation="Mount volumes with private propagation (the default); never :shared or :rshared.",
)
def shared_propagation(container, state):
    # Shared propagation lets mounts made inside the container appear on the host (and the reverse).
    shared = ["%s (%s)" % (mount.get("Destination"), mount.get("Propagation")) for mount in container.mounts
              if mount.get("Propagation") in ("shared", "rshared")]
    if shared:
        return failed("shared mount propagation: %s" % ", ".join(shared))
    return passed("no shared mount propagation")


@container_rule(
    "5.21", "Ensure that the host's UTS namespace is not shared", SECTION,
    level=1, scored=True, severity="medium", fix="recreate",
    reads="inspect .HostConfig.UTSMode",
    remediation="Do not use --uts host.",
    fixed_by=("containers_recreate_enabled",),
)
def host_uts(container, state):
    # In the host's UTS namespace the container can change the host's hostname.
    return _host_namespace(container, state, "UTSMode")


@container_rule(
    "5.22", "Ensure the default seccomp profile is not Disabled", SECTION,
    level=1, scored=True, severity="high", fix="recreate",
    reads="inspect .HostConfig.SecurityOpt (seccomp=unconfined, or an inline profile), .HostConfig.Privileged, "
          ".CapAdd/.CapDrop; docker info .SecurityOptions, .Architecture, .KernelVersion and the custom profile "
          "file it names: a profile is compared with the syscalls Docker's default profile refuses",
    remediation="Remove `--security-opt seccomp=unconfined` (and --privileged, which also disables seccomp); a custom "
                "profile must refuse what Docker's default refuses (start from Docker's default and allow only what "
                "the workload needs, through capabilities where the default offers them).",
    fixed_by=("docker_daemon_seccomp_enabled", "containers_recreate_enabled"),
)
def seccomp_enabled(container, state):
    # seccomp blocks the syscalls most kernel escapes need; privileged containers run without it too.
    # A profile is judged by what it refuses, for this container's capabilities on this daemon's
    # architecture and kernel: one that lets through what Docker's default refuses, where no capability
    # check of the kernel stops it, is (in part) seccomp disabled. A container's own profile replaces
    # the daemon-wide one, which decides for the containers without one.
    if container.host_config.get("Privileged"):
        return failed("privileged: runs without seccomp")
    if state.info is not None and "seccomp" not in state.security_options():
        return failed("the daemon applies no seccomp profile (docker info SecurityOptions)")
    context = seccomp_context(state, container)
    own = security_opt_value(container, "seccomp")
    if own is not None and own not in DAEMON_DEFAULT_SECCOMP:
        problem, detail = container_seccomp_verdict(own, context)
        if problem:
            return failed(problem)
        return passed("the container's own seccomp profile (SecurityOpt seccomp=<profile>) %s" % detail)
    problem, detail = daemon_seccomp_verdict(state, context)
    if problem:
        return failed(problem)
    profile = (state.security_options().get("seccomp") or {}).get("profile")
    if detail:
        return passed("the daemon's seccomp profile %s %s" % (profile, detail))
    return passed("the daemon's seccomp profile (%s)" % (profile or "default"))


@container_rule(
    "5.25", "Ensure that cgroup usage is confirmed", SECTION,
    level=1, scored=True, severity="medium", fix="recreate",
    reads="inspect .HostConfig.CgroupParent",
    remediation="Run containers in Docker's default cgroup unless a custom parent is intended (drop --cgroup-parent).",
)
def cgroup_parent(container, state):
    # A custom parent escapes the resource accounting and limits set up for Docker's containers.
    parent = container.host_config.get("CgroupParent") or ""
    if parent:
        return failed("CgroupParent=%s: the container runs under a custom cgroup parent; waive 5.25 for it if "
                      "that parent is intended" % parent)
    return passed("default cgroup parent")


@container_rule(
    "5.26", "Ensure that the container is restricted from acquiring additional privileges", SECTION,
    level=1, scored=True, severity="high", fix="recreate",
    reads="NoNewPrivs in /proc/<State.Pid>/status (the kernel's flag on a running container's init, read on the "
          "Docker host); else inspect .HostConfig.SecurityOpt (no-new-privileges) and the daemon's no-new-privileges "
          "(command line, daemon.json)",
    remediation="Run with `--security-opt no-new-privileges`, or set `no-new-privileges: true` in daemon.json and "
                "recreate the containers created before it (dockerd copies the default into a container when it "
                "creates it).",
    fixed_by=("docker_daemon_no_new_privileges", "containers_recreate_enabled"),
)
def no_new_privileges(container, state):
    # Without it, setuid binaries in the image can raise privileges inside the container. The kernel's
    # flag on the container's init decides where it could be read: dockerd copies the daemon-wide
    # default into a container only when it creates it, so a container created before the default was
    # set runs without it although the configuration says otherwise.
    configured = _configured_no_new_privileges(container, state)
    flag = (container.init_status or {}).get("NoNewPrivs")
    if flag == "1":
        return passed("NoNewPrivs=1 on the container's init (pid %s, the kernel's flag)" % container.pid)
    if flag == "0":
        if configured.status == "pass":
            return failed("NoNewPrivs=0 on the container's init (pid %s, the kernel's flag) although %s: dockerd copies "
                          "the daemon-wide default into a container when it creates it, so this one, created before, "
                          "runs without it; recreate it" % (container.pid, configured.evidence),
                          left_open="created before the daemon-wide no-new-privileges was set: it applies once the "
                                    "container is recreated (the containers role does with containers_recreate_enabled)")
        return failed("%s; the kernel agrees: NoNewPrivs=0 on the container's init (pid %s)"
                      % (configured.evidence, container.pid))
    why = container.init_status_note or ("its init's status has no NoNewPrivs field (kernel older than 4.10)"
                                         if container.init_status is not None else "not read")
    caveat = ""
    if configured.status == "pass" and not _own_no_new_privileges(container):
        caveat = "; a container created before the daemon-wide default was set does not have it"
    return configured._replace(evidence="%s (from the configuration, not the kernel: %s%s)"
                               % (configured.evidence, why, caveat))


def _own_no_new_privileges(container):
    """The container's own no-new-privileges values, in order (None for a bare option)."""
    return [value for key, value in security_opts(container) if key == "no-new-privileges"]


def _configured_no_new_privileges(container, state):
    # dockerd starts from the daemon-wide default and the container's own option overrides it either way;
    # it reads the value with Go's ParseBool and refuses the container on text ParseBool refuses.
    given = _own_no_new_privileges(container)
    if given:
        value = given[-1]  # dockerd applies the last one
        setting = True if value is None else go_bool(value)
        written = "no-new-privileges" if value is None else "no-new-privileges=%s" % value
        if setting is None:
            return failed("SecurityOpt %s: not a boolean Go's ParseBool accepts, so dockerd refuses the option "
                          "(the container cannot start with it)" % written)
        if setting:
            return passed("SecurityOpt %s" % written)
        return failed("SecurityOpt %s turns it off for this container, whatever the daemon-wide default (%s)"
                      % (written, state.daemon.describe("no-new-privileges")))
    if state.daemon.flag("no-new-privileges"):
        return passed("daemon-wide: %s" % state.daemon.describe("no-new-privileges"))
    return failed("no no-new-privileges in SecurityOpt nor daemon-wide (%s)" % state.daemon.describe("no-new-privileges"))


@container_rule(
    "5.27", "Ensure that container health is checked at runtime", SECTION,
    level=1, scored=True, severity="low", fix="recreate",
    reads="inspect .State.Health (running) or .Config.Healthcheck",
    remediation="Give the image a HEALTHCHECK or run with --health-cmd.",
    left_open="what tells a service is healthy is the service's own: no role invents a check; give its image a "
              "HEALTHCHECK or the container --health-cmd where it is defined",
)
def health_checked(container, state):
    # Without a health check, orchestration and restart policies cannot see a hung service.
    health = (container.inspect.get("State") or {}).get("Health")
    if health:
        return passed("State.Health.Status=%s" % health.get("Status"))
    test = (container.config.get("Healthcheck") or {}).get("Test") or []
    if test and test[0] != "NONE":
        return passed("Config.Healthcheck configured (container not running)")
    return failed("no health check")


@container_rule(
    "5.29", "Ensure that the PIDs cgroup limit is used", SECTION,
    level=1, scored=True, severity="medium", fix="live",
    reads="inspect .HostConfig.PidsLimit",
    remediation="Set a PIDs limit: `docker update --pids-limit 200 <container>` (or --pids-limit on docker run).",
    fixed_by=("containers_live_enabled", "containers_policy"),
)
def pids_limit(container, state):
    # Without a PIDs limit a fork bomb in one container exhausts the host's process table.
    limit = container.host_config.get("PidsLimit")
    if limit is not None and limit > 0:
        return passed("HostConfig.PidsLimit=%d" % limit)
    return failed("HostConfig.PidsLimit=%s (no limit)" % limit)


@container_rule(
    "5.30", "Ensure that Docker's default bridge \"docker0\" is not used", SECTION,
    level=2, scored=False, severity="low", fix="recreate",
    reads="inspect .NetworkSettings.Networks (key 'bridge'), .HostConfig.NetworkMode, followed through "
          "`container:<id>` to the donor's",
    remediation="Attach the container to a user-defined network (docker network create) instead of the default bridge "
                "(for a container that joins one with --network container:<name>, attach that one).",
    left_open="another network changes how other containers and clients reach the service: no role moves it; attach "
              "it to a user-defined network where it is defined (compose file, run command)",
)
def default_bridge(container, state):
    # The default bridge has no name-based isolation and, unless icc is off, joins every container to every other.
    # A container in another's network namespace (--network container:<name>) has that one's interfaces.
    source = namespace_source(container, state, "NetworkMode")
    if source.unresolved is not None:
        return skipped("%s: no container %s is known (removed, or a cycle), so whose networks it uses cannot be told"
                       % (describe_namespace(container, "NetworkMode", source), source.unresolved[:12]))
    holder = source.donors[-1] if source.donors else container
    through = "%s: " % describe_namespace(container, "NetworkMode", source) if source.donors else ""
    mode = holder.host_config.get("NetworkMode") or ""
    if "bridge" in holder.networks or (not holder.networks and mode in ("default", "bridge")):
        return failed("%sattached to the default bridge network" % through)
    return passed("%snetworks: %s" % (through, ", ".join(sorted(holder.networks)) or mode or "none"))


@container_rule(
    "5.31", "Ensure that the host's user namespaces are not shared", SECTION,
    level=1, scored=True, severity="high", fix="recreate",
    reads="inspect .HostConfig.UsernsMode",
    remediation="Do not use --userns host (it opts out of the daemon's user-namespace remapping).",
    fixed_by=("containers_recreate_enabled",),
)
def host_userns(container, state):
    return _host_namespace(container, state, "UsernsMode")


@container_rule(
    "5.32", "Ensure that the Docker socket is not mounted inside any containers", SECTION,
    level=1, scored=True, severity="critical", fix="recreate",
    reads="inspect .Mounts (bind sources named docker.sock, or the daemon socket or a directory above it)",
    remediation="Remove the docker.sock bind mount; give the workload a narrower API (an authorization plugin or a proxy).",
    fixed_by=("containers_recreate_enabled",),
)
def docker_socket_mounted(container, state):
    # Whoever reaches the socket controls the daemon, which is root on the host; read-only does not help.
    socket = docker_socket_path(state.options.docker_host)
    exposed = [mount for mount in bind_mounts(container)
               if mount[0].rsplit("/", 1)[-1] == "docker.sock" or is_within(socket, mount[0])]
    if exposed:
        return failed("Docker socket reachable through: %s" % ", ".join(describe_mount(mount) for mount in exposed))
    return passed("Docker socket not mounted")


manual_rule(
    "5.23", "Ensure that docker exec commands are not used with the privileged option", SECTION,
    level=2, scored=False, severity="medium", subject="daemon",
    reads="the daemon's audit log (not in inspect data)",
    remediation="Do not use `docker exec --privileged`; audit exec events (docker events / auditd) to verify.",
)

manual_rule(
    "5.24", "Ensure that docker exec commands are not used with the user=root option", SECTION,
    level=2, scored=False, severity="medium", subject="daemon",
    reads="the daemon's audit log (not in inspect data)",
    remediation="Do not use `docker exec --user root`; audit exec events to verify.",
)


NOT_ASKED = "the registry was not asked (the audit reads only this host), so a newer image there is not ruled out"


def _registry_copies(image, reference):
    """RepoDigests of the image in the reference's repository: it came from (or went to) a registry."""
    wanted = split_repository(reference)
    return [digest for digest in image.inspect.get("RepoDigests") or [] if split_repository(digest) == wanted]


@container_rule(
    "5.28", "Ensure that Docker commands always make use of the latest version of their image", SECTION,
    level=2, scored=False, severity="low", fix="recreate",
    reads="inspect .Config.Image (the reference it was run with), and the RepoTags and RepoDigests of the image it "
          "runs; no registry is asked: a tag that moved here fails, an image with a registry copy is info",
    remediation="Recreate the container from its reference's current image (docker compose up -d, or docker run "
                "again) after pulling or building it; pin references by digest (BW-005) to make updates deliberate.",
)
def current_image(container, state):
    # Tags are unique: when a tag moves to a newer image (a pull, a rebuild), the image the container runs
    # loses it, so a container whose image no longer carries its tag runs an outdated version - decided here.
    # Whether the registry holds a newer image than the last pull needs the registry: said, not guessed.
    reference = container.config.get("Image") or ""
    image = state.image_of(container)
    if image is None:
        return skipped("its image was not inspected")
    if not reference or reference.startswith("sha256:") or container.image_id.replace("sha256:", "").startswith(reference):
        return info("run by image id (%s): no tag to be newer" % reference[:19])
    if "@" in reference:
        return info("run by digest %s, pinned on purpose; %s" % (reference.split("@", 1)[1][:19], NOT_ASKED))
    if not reference_names_image(reference, image.inspect):
        return failed("%s now names another image (or none): the container runs an older one (%s)"
                      % (familiar_reference(reference), container.image_id.replace("sha256:", "")[:12]))
    if _registry_copies(image, reference):
        return info("%s still names the image it runs on this host; %s" % (familiar_reference(reference), NOT_ASKED))
    return passed("%s still names the image it runs, built or imported here: no registry copy to be newer"
                  % familiar_reference(reference))
