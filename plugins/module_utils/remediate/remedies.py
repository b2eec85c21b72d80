# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""How container_remediate fixes each rule it can fix: one function per rule id.

A remedy reads the failing container's inspect data and its policy and
returns a Change (settings to set, in the create/update shape) or a Skip
(why it cannot fix it here). Live remedies set only what the Engine's
container update takes (no restart); recreate remedies change the
replacement's create request and run only where the policy allows
recreate. Rules of the catalog's live and recreate classes without an
entry here need a decision no policy field can make (MANUAL says which
and why); container_remediate reports them, never guesses.
"""

from __future__ import annotations

import collections

from ansible_collections.bulwark.hardening.plugins.module_utils.common.paths import is_within, normal_path
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.policy import policy_value
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.ports import WILDCARDS, endpoint_text
from ansible_collections.bulwark.hardening.plugins.module_utils.rules import catalog
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.rule import DEFAULT_CIS_VERSION, rule_sort_key
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.bulwark import bw009_paths
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.cis5_containers import (
    UNBOUNDED_RESTART, cis_sensitive_dirs,
)
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.container_inspect import (
    DAEMON_DEFAULT_SECCOMP, container_seccomp_problem, docker_socket_path, security_opts,
)

LIVE = "live"
RECREATE = "recreate"
MIB = 1024 ** 2

# fix: the rule's fix class in the catalog (live or recreate), never restated here; reads_usage: the policy key
# whose fix needs the container's current usage (one stats call, only when that key is set), or None.
Remedy = collections.namedtuple("Remedy", ["rule", "fix", "sets", "apply", "reads_usage"], defaults=(None,))
# What remedies read besides inspect data and policy: the container's memory in use (bytes) and
# process count now (None when unknown or not running), the docker_host whose socket 5.32 looks for, and
# the TCP sockets its processes listen on ([(address, port)]; None when they could not be read, with
# why in listening_unknown) for 5.10, and the CIS version audited (5.6's directories and BW-009's paths follow it).
Context = collections.namedtuple("Context", ["memory_usage", "pids", "docker_host", "listening", "listening_unknown",
                                             "cis_version"], defaults=((), None, DEFAULT_CIS_VERSION))
# A PIDs limit is refused when the container already runs more than this share of it.
PIDS_HEADROOM = 50


class Change(object):
    """Settings a fix sets: [(section, key, value)], section Config or HostConfig (value None: unset)."""

    def __init__(self, settings):
        self.settings = list(settings)


class Skip(object):
    def __init__(self, reason):
        self.reason = reason


REMEDIES = collections.OrderedDict()

# Rules of the live and recreate fix classes that stay with a person, and why.
MANUAL = collections.OrderedDict([
    ("5.3", "SELinux labels need dockerd --selinux-enabled and a label per workload"),
    ("5.7", "sshd comes from the image or the command: rebuild the image without it"),
    ("5.8", "moving a service to another host port breaks its clients: choose the port"),
    ("5.9", "only the owner knows which published ports are needed"),
    ("5.14", "which host address a port should listen on is the operator's choice"),
    ("5.18", "only the owner knows which devices the workload needs"),
    ("5.19", "ulimits depend on the workload"),
    ("5.20", "mount propagation is chosen with the mount's purpose"),
    ("5.25", "a custom cgroup parent is usually deliberate: waive it or remove --cgroup-parent"),
    ("5.27", "a health check is the service's own command: add a HEALTHCHECK to the image"),
    ("5.28", "recreating from a newer image changes the software: redeploy it with its owner (docker compose up -d)"),
    ("5.30", "choosing the user-defined network (and who else is on it) is a design decision"),
    ("BW-001", "secrets in the environment must move to a secret store, with the owner"),
    ("BW-002", "secrets in labels must be removed at the source (compose file, run command)"),
    ("BW-004", "drift from the image is investigated, then the container is redeployed from its image"),
    ("BW-005", "pinning by digest happens where the container is defined"),
    ("BW-006", "the image must be rebuilt or pulled from a trusted registry"),
    ("BW-007", "moving off the default bridge (or icc=false on the daemon) is a design decision"),
    ("BW-012", "what the container fetches at run time must move into its image build, with the owner"),
    ("BW-013", "changed binaries are investigated first, then the container is redeployed from its image"),
])


def remedy(rule_id, sets, reads_usage=None):
    """Register a rule's remedy. Its fix class is the one the catalog gives the rule (rules/cis5_containers.py,
    rules/bulwark.py); a rule the catalog does not class live or recreate has no remedy here."""
    fix = catalog.get(rule_id).fix
    if fix not in (LIVE, RECREATE):
        raise ValueError("rule %s is a %s fix in the catalog: container_remediate cannot fix it" % (rule_id, fix))

    def register(function):
        REMEDIES[rule_id] = Remedy(rule_id, fix, sets, function, reads_usage)
        return function
    return register


def needs_usage(rule_ids, policy):
    """Whether fixing these rules needs the container's current usage: a remedy that reads it, with its key set."""
    keys = [REMEDIES[rule_id].reads_usage for rule_id in rule_ids if rule_id in REMEDIES]
    return any(key is not None and policy.get(key) is not None for key in keys)


def host_config(container):
    return container.inspect.get("HostConfig") or {}


# --- live: the Engine's container update, no restart -----------------------

@remedy("5.11", "HostConfig.Memory and MemorySwap (policy memory, memory_swap)", reads_usage="memory")
def limit_memory(container, policy, context):
    limit = policy.get("memory")
    if limit is None:
        return Skip("no memory limit in the policy (policy.memory)")
    headroom = policy_value(policy, "memory_headroom")
    usage = context.memory_usage
    if usage is not None and usage > limit * headroom // 100:
        # A limit below what the service already uses gets it OOM-killed at once: an outage nobody chose.
        return Skip("uses %d MiB, more than %d%% of the %d MiB limit: raise policy.memory for it"
                    % (usage // MIB, headroom, limit // MIB))
    reservation = host_config(container).get("MemoryReservation") or 0
    if reservation > limit:
        return Skip("its memory reservation (%d MiB) is above the %d MiB limit" % (reservation // MIB, limit // MIB))
    swap = policy.get("memory_swap")
    if swap is None:
        swap = limit  # memory+swap equal to memory: no swap
    elif swap != -1 and swap < limit:
        return Skip("policy.memory_swap (%d MiB) is below policy.memory (%d MiB)" % (swap // MIB, limit // MIB))
    return Change([("HostConfig", "Memory", limit), ("HostConfig", "MemorySwap", swap)])


@remedy("5.12", "HostConfig.CpuShares (policy cpu_shares)")
def set_cpu_shares(container, policy, context):
    if policy.get("cpu_shares") is None:
        return Skip("no CPU shares in the policy (policy.cpu_shares)")
    return Change([("HostConfig", "CpuShares", policy["cpu_shares"])])


@remedy("5.15", "HostConfig.RestartPolicy on-failure:<policy restart_retries>")
def bound_restarts(container, policy, context):
    current = host_config(container).get("RestartPolicy") or {}
    if host_config(container).get("AutoRemove"):
        return Skip("started with --rm, which Docker allows no restart policy with")
    if current.get("Name") in UNBOUNDED_RESTART and not policy.get("restart_from_always"):
        # Docker starts on-failure containers again after a crash, not after a reboot: switching an
        # always/unless-stopped service would leave it down after the next boot.
        return Skip("RestartPolicy=%s: on-failure would not start it again after a reboot; set "
                    "policy.restart_from_always to switch it anyway" % current.get("Name"))
    bounded = {"Name": "on-failure", "MaximumRetryCount": policy_value(policy, "restart_retries")}
    return Change([("HostConfig", "RestartPolicy", bounded)])


@remedy("5.29", "HostConfig.PidsLimit (policy pids_limit)", reads_usage="pids_limit")
def limit_pids(container, policy, context):
    limit = policy.get("pids_limit")
    if limit is None:
        return Skip("no PIDs limit in the policy (policy.pids_limit)")
    if context.pids is not None and context.pids > limit * PIDS_HEADROOM // 100:
        # Threads count as PIDs: a limit near today's count makes the next thread or worker fail.
        return Skip("runs %d processes and threads, more than %d%% of the limit of %d: raise policy.pids_limit for it"
                    % (context.pids, PIDS_HEADROOM, limit))
    return Change([("HostConfig", "PidsLimit", policy["pids_limit"])])


# --- recreate: settings of the replacement container -------------------------

def _drop_all_capabilities(container, policy, context):
    return Change([("HostConfig", "CapDrop", ["ALL"]), ("HostConfig", "CapAdd", list(policy.get("cap_add") or []) or None)])


remedy("5.4", RECREATE, "HostConfig.CapDrop ALL, CapAdd (policy cap_add)")(_drop_all_capabilities)
remedy("BW-008", RECREATE, "HostConfig.CapDrop ALL, CapAdd (policy cap_add)")(_drop_all_capabilities)


@remedy("5.5", "HostConfig.Privileged false (Docker's masked and read-only paths back)")
def unprivileged(container, policy, context):
    # A privileged container's inspect lists no masked paths: unset, dockerd applies its defaults again.
    return Change([("HostConfig", "Privileged", False), ("HostConfig", "MaskedPaths", None),
                   ("HostConfig", "ReadonlyPaths", None)])


def _parse_bind(bind):
    """(source, destination, options) of a HostConfig.Binds entry."""
    parts = bind.split(":")
    return parts[0], parts[1] if len(parts) > 1 else "", parts[2].split(",") if len(parts) > 2 else []


def _host_path(source):
    return normal_path(source) if source.startswith("/") else None


def _writable_binds_made_read_only(config, wanted):
    """(Binds, Mounts, changed paths) with every writable bind whose host source satisfies wanted made :ro."""
    binds, changed = [], []
    for bind in config.get("Binds") or []:
        source, destination, options = _parse_bind(bind)
        path = _host_path(source)
        if path and wanted(path) and "ro" not in options:
            options = [option for option in options if option != "rw"] + ["ro"]
            bind = "%s:%s:%s" % (source, destination, ",".join(options))
            changed.append(path)
        binds.append(bind)
    mounts = []
    for mount in config.get("Mounts") or []:
        path = _host_path(mount.get("Source") or "") if mount.get("Type") == "bind" else None
        if path and wanted(path) and not mount.get("ReadOnly"):
            mount = dict(mount, ReadOnly=True)
            changed.append(path)
        mounts.append(mount)
    return binds, mounts, changed


def _read_only_mounts(container, wanted, what):
    config = host_config(container)
    binds, mounts, changed = _writable_binds_made_read_only(config, wanted)
    if not changed:
        return Skip("the writable %s is not a bind of HostConfig (nothing to make read-only)" % what)
    settings = [("HostConfig", "Binds", binds or None)]
    if config.get("Mounts"):
        settings.append(("HostConfig", "Mounts", mounts))
    return Change(settings)


def _cis_system_dir(cis_version):
    directories = cis_sensitive_dirs(cis_version)
    return lambda path: any(path == "/" if directory == "/" else is_within(path, directory) for directory in directories)


@remedy("5.6", "HostConfig.Binds/Mounts: host system directories mounted read-only")
def system_dirs_read_only(container, policy, context):
    return _read_only_mounts(container, _cis_system_dir(context.cis_version), "host system directory mount")


@remedy("BW-009", "HostConfig.Binds/Mounts: sensitive host paths mounted read-only")
def sensitive_paths_read_only(container, policy, context):
    wanted = bw009_paths(context.cis_version)
    return _read_only_mounts(container, lambda path: path.rsplit("/", 1)[-1] != "docker.sock"
                             and any(is_within(path, directory) for directory in wanted), "sensitive path mount")


@remedy("5.10", "HostConfig.NetworkMode: policy network instead of host, with the ports it listens on published")
def leave_host_network(container, policy, context):
    if _joins_another(container, "NetworkMode"):
        return _joins_another(container, "NetworkMode")
    if not policy.get("network"):
        # In the host's namespace it listens on host ports directly; on a network it needs ports published.
        return Skip("uses the host's network: name the network it moves to in policy.network")
    if context.listening is None:
        return Skip("kept on the host's network: the ports it listens on cannot be found (%s), and without them "
                    "published it would be unreachable on a network" % (context.listening_unknown or "unknown"))
    narrow = [(address, port) for address, port in context.listening if address not in WILDCARDS]
    if narrow:
        return Skip("kept on the host's network: it listens on %s, which a published port cannot reach from a network "
                    "namespace of its own; make it listen on 0.0.0.0 first, or exempt 5.10 for it"
                    % ", ".join(endpoint_text(listener) for listener in narrow))
    bindings = published_bindings(context.listening)
    exposed = dict(container.config.get("ExposedPorts") or {})
    exposed.update((port, {}) for port in bindings)
    return Change([("HostConfig", "NetworkMode", policy["network"]), ("HostConfig", "PortBindings", bindings),
                   ("Config", "ExposedPorts", exposed or None)])


def published_bindings(listening):
    """PortBindings publishing each wildcard listener on the same port: 0.0.0.0 for IPv4 only, every address
    (HostIp "") for an IPv6 wildcard, which takes IPv4 too."""
    bindings = {}
    for address, port in sorted(listening, key=lambda item: (item[1], item[0])):
        key = "%d/tcp" % port
        host_ip = "0.0.0.0" if address == "0.0.0.0" else ""
        if key not in bindings or host_ip == "":
            bindings[key] = [{"HostIp": host_ip, "HostPort": str(port)}]
    return bindings


def _joins_another(container, key):
    """Skip for a container in another container's namespace (`container:<id>`): the donor is the one to fix,
    and moving the joiner away would part it from the donor it was put with."""
    mode = str(host_config(container).get(key) or "")
    if mode.startswith("container:"):
        return Skip("shares the namespace of container %s (%s=%s): fix that container instead"
                    % (mode[len("container:"):][:12], key, mode[:22]))
    return None


def _private_namespace(key, private_value):
    def fix(container, policy, context):
        return _joins_another(container, key) or Change([("HostConfig", key, private_value)])
    return fix


remedy("5.16", RECREATE, "HostConfig.PidMode private")(_private_namespace("PidMode", ""))
remedy("5.17", RECREATE, "HostConfig.IpcMode private")(_private_namespace("IpcMode", "private"))
remedy("5.21", RECREATE, "HostConfig.UTSMode private")(_private_namespace("UTSMode", ""))
remedy("5.31", RECREATE, "HostConfig.UsernsMode: the daemon's remapping")(_private_namespace("UsernsMode", ""))


@remedy("5.13", "HostConfig.ReadonlyRootfs true, Tmpfs for policy tmpfs paths")
def read_only_root(container, policy, context):
    config = host_config(container)
    mounted = set(_parse_bind(bind)[1] for bind in config.get("Binds") or [])
    mounted |= set(mount.get("Target") for mount in config.get("Mounts") or [])
    mounted |= set(mount.get("Destination") for mount in container.inspect.get("Mounts") or [])
    tmpfs = dict(config.get("Tmpfs") or {})
    for path in policy.get("tmpfs") or []:
        if path not in mounted and path not in tmpfs:
            tmpfs[path] = ""
    return Change([("HostConfig", "ReadonlyRootfs", True), ("HostConfig", "Tmpfs", tmpfs or None)])


def _security_opts_without(container, unwanted):
    return [option for option, (key, value) in zip(host_config(container).get("SecurityOpt") or [],
                                                   security_opts(container)) if not unwanted(key, value)]


@remedy("5.26", "HostConfig.SecurityOpt no-new-privileges:true")
def no_new_privileges(container, policy, context):
    kept = _security_opts_without(container, lambda key, value: key == "no-new-privileges")
    return Change([("HostConfig", "SecurityOpt", kept + ["no-new-privileges:true"])])


@remedy("5.2", "HostConfig.SecurityOpt without apparmor=unconfined (the default profile applies)")
def default_apparmor(container, policy, context):
    if host_config(container).get("Privileged"):
        return Skip("privileged: no AppArmor profile applies until 5.5 is fixed")
    kept = _security_opts_without(container, lambda key, value: key == "apparmor" and value == "unconfined")
    return Change([("HostConfig", "SecurityOpt", kept or None)])


@remedy("5.22", "HostConfig.SecurityOpt without a seccomp option that disables it")
def default_seccomp(container, policy, context):
    config = host_config(container)
    if config.get("Privileged"):
        return Skip("privileged: fixed with 5.5 (Privileged false), which needs its own fix")
    own = [value for key, value in security_opts(container) if key == "seccomp"]
    if not own or (own[-1] or "") in DAEMON_DEFAULT_SECCOMP or not container_seccomp_problem(own[-1] or ""):
        return Skip("the daemon-wide seccomp profile is the problem: the docker_daemon role fixes it")
    kept = _security_opts_without(container, lambda key, value: key == "seccomp")
    return Change([("HostConfig", "SecurityOpt", kept or None)])


@remedy("5.32", "HostConfig.Binds/Mounts without the Docker socket")
def no_docker_socket(container, policy, context):
    socket = docker_socket_path(context.docker_host)
    config = host_config(container)

    def is_socket(path):
        return path == socket or path.rsplit("/", 1)[-1] == "docker.sock"

    def above_socket(path):
        return not is_socket(path) and is_within(socket, path)

    sources = [_host_path(_parse_bind(bind)[0]) for bind in config.get("Binds") or []]
    sources += [_host_path(mount.get("Source") or "") for mount in config.get("Mounts") or [] if mount.get("Type") == "bind"]
    wider = sorted(set(path for path in sources if path and above_socket(path)))
    if wider:
        return Skip("mounts %s, which holds the Docker socket: narrow that mount by hand" % ", ".join(wider))
    binds = [bind for bind in config.get("Binds") or [] if not is_socket(_host_path(_parse_bind(bind)[0]) or "")]
    settings = [("HostConfig", "Binds", binds or None)]
    if config.get("Mounts"):
        settings.append(("HostConfig", "Mounts", [mount for mount in config["Mounts"] if not (
            mount.get("Type") == "bind" and is_socket(_host_path(mount.get("Source") or "") or ""))]))
    return Change(settings)


@remedy("4.1", "Config.User (policy user)")
def run_as_policy_user(container, policy, context):
    if not policy.get("user"):
        return Skip("no user to run it as in the policy (policy.user)")
    return Change([("Config", "User", policy["user"])])


def rules_fixed(fix):
    """The rule ids with a remedy of this fix class (live or recreate), in the catalog's order."""
    return sorted((rule for rule, entry in REMEDIES.items() if entry.fix == fix), key=rule_sort_key)


def live_rules():
    return rules_fixed(LIVE)


def recreate_rules():
    return rules_fixed(RECREATE)
