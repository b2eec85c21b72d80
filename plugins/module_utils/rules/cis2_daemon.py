# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""CIS Docker Benchmark section 2: Docker daemon configuration (v1.6 ids, with their v1.8 ids).

v1.8 inserts 2.7 (devicemapper) and moves v1.6's 2.7-2.18 to 2.8-2.19: each rule
names its v1.8 id in `ids` (rules.rule explains the canonical id).

Effective state first: `docker info` where it reports the setting (storage
driver, logging driver, live restore, security options, registries), else
the running dockerd's command line (/proc/<pid>/cmdline) merged with the
daemon.json it reads (dockerd_config.DaemonConfig).
"""

from __future__ import annotations

from ansible_collections.bulwark.hardening.plugins.module_utils.rules.rule import (
    failed, global_rule, info, passed, skipped, warned,
)
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd import bridge as default_bridge
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd import brownfield, preflight, sockets
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.container_inspect import (
    BUILTIN_SECCOMP, daemon_seccomp_verdict,
)

SECTION = "daemon"

# Registries Docker treats as insecure without being told to (loopback).
DEFAULT_INSECURE_CIDRS = ("127.0.0.0/8", "::1/128")

# Logging drivers that keep logs only on this host.
LOCAL_LOG_DRIVERS = ("json-file", "local", "none")
# Drivers that write to a service on this host, which may forward them (the host's journal; syslog without a
# syslog-address writes to /dev/log): logs leave the host only if that service sends them on.
FORWARDABLE_LOG_DRIVERS = ("journald",)
# Drivers that send to an address: the log-opt naming it, and where they send without it (None: nowhere known).
ADDRESSED_LOG_DRIVERS = {
    "syslog": ("syslog-address", "unix:///dev/log"),
    "gelf": ("gelf-address", None),
    "fluentd": ("fluentd-address", "localhost:24224"),
    "splunk": ("splunk-url", None),
}
# Host names that are this host: a log service listening there is local until it forwards.
LOCAL_HOSTS = ("localhost", "ip6-localhost", "::1", "0.0.0.0", "::")

# Log level the benchmark asks for; dockerd lower-cases the level (logrus.ParseLevel),
# and an empty level means info.
WANTED_LOG_LEVEL = "info"

# -H/hosts schemes of local sockets. dockerd reads an address without "://" as
# tcp (opts.ParseHost), and refuses schemes it does not serve, so every other
# entry is a network listener.
LOCAL_SCHEMES = ("unix", "fd")
# Where dockerd listens when TLS is on and no -H is given (opts.DefaultTLSHost).
DEFAULT_TLS_HOST = "tcp://localhost:2376"


def _daemon_rule(rule_id, title, needs_info=False, **meta):
    """global_rule for the daemon; needs_info: skip when `docker info` was not gathered."""
    def wrap(function):
        def evaluate(state):
            if needs_info and state.info is None:
                return skipped("docker info not gathered")
            return function(state)
        global_rule(rule_id, title, SECTION, subject="daemon", **meta)(evaluate)
        return function
    return wrap


@_daemon_rule(
    "2.1", "Run the Docker daemon as a non-root user, if possible",
    needs_info=True,
    level=1, scored=False, severity="medium", fix="manual",
    reads="docker info .SecurityOptions (name=rootless)",
    remediation="Where the workloads allow it, run Docker in rootless mode (dockerd-rootless-setuptool.sh).",
)
def rootless(state):
    # Rootless mode bounds a daemon compromise to one user; not every workload can run that way.
    if "rootless" in state.security_options():
        return passed("daemon runs rootless")
    return info("daemon runs as root; rootless mode is not in use")


@_daemon_rule(
    "2.2", "Ensure network traffic is restricted between containers on the default bridge",
    level=1, scored=True, severity="medium", fix="daemon",
    reads="docker network inspect bridge (enable_icc: what the bridge does); dockerd --icc / daemon.json icc",
    remediation='Set `"icc": false` in daemon.json (containers that must talk share a user-defined network); '
                'it applies when dockerd starts with no container running.',
    fixed_by=("docker_daemon_config_enabled", "docker_daemon_icc"),
)
def inter_container_traffic(state):
    # With icc on, every container on docker0 reaches every other one on any port. The bridge decides,
    # not the file: dockerd keeps the bridge it had while containers run across a restart (live-restore).
    configured = state.daemon.describe("icc")
    if state.default_bridge is None:
        if state.daemon.flag("icc") is False:
            return passed(configured)
        return failed(configured + ": traffic between containers on the default bridge is allowed")
    if default_bridge.shows("icc", False, state.default_bridge):
        return passed("the default bridge blocks traffic between its containers (enable_icc false); " + configured)
    if state.daemon.flag("icc") is not False:
        return failed(configured + ": traffic between containers on the default bridge is allowed")
    evidence = ("%s, but the default bridge still allows traffic between its containers (enable_icc true): it was "
                "made before the setting" % configured)
    if default_bridge.kept_by_live_restore(state.info):
        running = [container.name for container in state.containers if container.running]
        return failed(evidence, left_open="pending: " + default_bridge.waiting_reason(
            running, (state.info or {}).get("ContainersRunning")))
    return failed(evidence + "; restart dockerd to apply it")


@_daemon_rule(
    "2.3", "Ensure the logging level is set to 'info'",
    level=1, scored=True, severity="low", fix="daemon",
    reads="dockerd --log-level/-l and --debug/-D, daemon.json log-level/debug; docker info .Debug",
    remediation='Remove `debug` and set `"log-level": "info"` (or leave it unset) in daemon.json.',
    fixed_by=("docker_daemon_config_enabled", "docker_daemon_log_level"),
)
def log_level(state):
    # Debug logs leak request details; warn/error/fatal levels drop events an investigation needs.
    # Both places count: the shell check ignores --log-level when jq is installed. dockerd
    # lower-cases the level, so INFO is info; debug (-D, daemon.json debug) overrides any level.
    if state.daemon.flag("debug") or (state.info or {}).get("Debug"):
        return failed("debug logging is on (%s)" % state.daemon.describe("debug"))
    level = state.daemon.value("log-level")
    if level is None or str(level).lower() in ("", WANTED_LOG_LEVEL):
        return passed(state.daemon.describe("log-level"))
    return failed(state.daemon.describe("log-level"))


@_daemon_rule(
    "2.4", "Ensure Docker is allowed to make changes to iptables",
    level=1, scored=True, severity="medium", fix="daemon",
    reads="dockerd --iptables / daemon.json iptables",
    remediation='Remove `"iptables": false` from daemon.json (and --iptables=false from the unit).',
    fixed_by=("docker_daemon_config_enabled", "docker_daemon_iptables"),
)
def iptables_managed(state):
    # Hand-written rules drift from the containers that exist; Docker keeps them in step.
    if state.daemon.flag("iptables") is False:
        return failed(state.daemon.describe("iptables"))
    return passed(state.daemon.describe("iptables"))


@_daemon_rule(
    "2.5", "Ensure insecure registries are not used",
    needs_info=True,
    level=1, scored=True, severity="high", fix="daemon",
    reads="docker info .RegistryConfig (InsecureRegistryCIDRs, IndexConfigs[].Secure); daemon insecure-registries",
    remediation="Remove `insecure-registries` from daemon.json; give the registry a TLS certificate (certs.d).",
    fixed_by=("docker_daemon_config_enabled", "docker_daemon_insecure_registries"),
)
def insecure_registries(state):
    # An insecure registry is reached over plain HTTP or unverified TLS: images can be swapped in transit.
    registry = state.info.get("RegistryConfig") or {}
    cidrs = [cidr for cidr in registry.get("InsecureRegistryCIDRs") or [] if cidr not in DEFAULT_INSECURE_CIDRS]
    names = sorted(name for name, index in (registry.get("IndexConfigs") or {}).items() if not index.get("Secure", True))
    insecure = cidrs + names
    if insecure:
        return failed("insecure registries: %s" % ", ".join(insecure))
    return passed("no insecure registry beyond Docker's loopback default")


@_daemon_rule(
    "2.6", "Ensure aufs storage driver is not used",
    needs_info=True,
    level=1, scored=True, severity="medium", fix="daemon",
    reads="docker info .Driver",
    remediation='Use overlay2: `"storage-driver": "overlay2"` (migrate images and volumes first).',
    fixed_by=("docker_daemon_config_enabled", "docker_daemon_extra_settings"),
)
def storage_driver(state):
    # aufs is unmaintained and removed from current kernels and Docker releases.
    driver = state.info.get("Driver", "")
    if driver == "aufs":
        return failed("storage driver aufs")
    return passed("storage driver %s" % driver)


@_daemon_rule(
    # New in CIS v1.8 (Manual there, Level 1), between aufs and TLS: v1.6 has no such check, so it is not evaluated
    # under cis_version 1.6. docker info answers it, so it is automated and scored like 2.6.
    "2.7@1.8", "Ensure devicemapper storage driver is not used", ids={"1.6": None, "1.8": "2.7"},
    needs_info=True,
    level=1, scored=True, severity="medium", fix="daemon",
    reads="docker info .Driver",
    remediation='Use overlay2: `"storage-driver": "overlay2"` in daemon.json (export images and volumes first: each '
                'driver has its own store). Docker Engine 25.0 removed devicemapper.',
    fixed_by=("docker_daemon_config_enabled", "docker_daemon_extra_settings"),
)
def devicemapper_driver(state):
    # devicemapper is deprecated and gone from Engine 25.0, so it gets no fixes; its default loop-lvm mode keeps
    # every layer in sparse loopback files, which the devicemapper docs call unfit for production.
    driver = state.info.get("Driver", "")
    if driver == "devicemapper":
        mode = _devicemapper_mode(state.info.get("DriverStatus"))
        return failed("storage driver devicemapper%s" % mode)
    return passed("storage driver %s" % driver)


def _devicemapper_mode(driver_status):
    """' (loop-lvm: ...)' when docker info's DriverStatus names loopback data files, else ''."""
    for name, value in (entry for entry in driver_status or [] if isinstance(entry, (list, tuple)) and len(entry) == 2):
        if name == "Data loop file":
            return " (loop-lvm: data in the loopback file %s)" % value
    return ""


@_daemon_rule(
    "2.7", "Ensure TLS authentication for Docker daemon is configured", ids={"1.8": "2.8"},
    level=1, scored=True, severity="critical", fix="daemon",
    reads="dockerd -H/--host, --tlsverify / daemon.json hosts, tlsverify, tlscacert; for -H fd://, the ListenStream "
          "lines of docker.socket and its drop-ins (TCP listeners systemd opens for dockerd)",
    remediation="Listen on TCP only with `tlsverify: true` and tlscacert/tlscert/tlskey set (client certificates required).",
    fixed_by=(
        "docker_daemon_config_enabled",
        "docker_daemon_tls_enabled",
        "docker_daemon_tls_listen",
        "docker_daemon_tls_cacert_src",
        "docker_daemon_tls_cert_src",
        "docker_daemon_tls_key_src",
    ),
)
def tls_authentication(state):
    # A TCP socket without client-certificate verification gives root on the host to anyone who reaches it.
    # With -H fd://, systemd opens the sockets (docker.socket): a ListenStream port is TCP all the same,
    # and dockerd serves it with the same TLS settings as its own -H tcp:// listeners.
    hosts = [str(host) for host in state.daemon.value("hosts") or []]
    listeners = sockets.listeners_of(state)
    tcp = _network_listeners(hosts, _tls_on(state)) + [listener.via for listener in sockets.activated_tcp(listeners)]
    if not tcp:
        local = [listener.via if listener.via.startswith("fd://") else listener.address for listener in listeners]
        return passed("daemon listens on local sockets only: %s" % (", ".join(local) or "default unix socket"))
    listeners = ", ".join(tcp)
    if state.daemon.flag("tlsverify"):
        if state.daemon.value("tlscacert"):
            return passed("TCP %s with tlsverify, clients verified against %s" % (listeners, state.daemon.value("tlscacert")))
        # Without --tlscacert dockerd still verifies, against its default CA file.
        return passed("TCP %s with tlsverify and no tlscacert: dockerd verifies clients against its default CA, "
                      "$DOCKER_CERT_PATH/ca.pem or else ~/.docker/ca.pem of the user it runs as" % listeners)
    if state.daemon.flag("tls"):
        return failed("TCP %s with TLS but without client verification (tlsverify): any client may connect" % listeners)
    return failed("TCP %s without TLS" % listeners)


def _tls_on(state):
    # dockerd turns TLS on when tlsverify is given at all, even as --tlsverify=false.
    return bool(state.daemon.flag("tls")) or state.daemon.value("tlsverify") is not None


def _network_listeners(hosts, tls_on):
    """The -H/hosts entries dockerd serves over the network, as written, with how dockerd reads the unobvious ones."""
    if not hosts:
        return ["%s (dockerd's default with TLS on and no -H)" % DEFAULT_TLS_HOST] if tls_on else []
    found = []
    for host in hosts:
        text = host.strip()
        scheme, separator, address = text.partition("://")
        if not text:
            if tls_on:  # an empty -H is the default listener, TCP once TLS is on
                found.append("'' (dockerd's default with TLS on: %s)" % DEFAULT_TLS_HOST)
        elif not separator:
            found.append("%s (no scheme: dockerd reads it as tcp://%s)" % (text, text))
        elif scheme not in LOCAL_SCHEMES:
            found.append(text if address else "%s (empty address: dockerd listens on localhost)" % text)
    return found


@_daemon_rule(
    "2.8", "Ensure the default ulimit is configured appropriately", ids={"1.8": "2.9"},
    level=1, scored=False, severity="low", fix="daemon",
    reads="dockerd --default-ulimit / daemon.json default-ulimits",
    remediation='Set `"default-ulimits"` in daemon.json, e.g. {"nofile": {"Name": "nofile", "Soft": 64000, "Hard": 64000}}.',
    fixed_by=("docker_daemon_config_enabled", "docker_daemon_default_ulimits"),
)
def default_ulimits(state):
    # Without daemon-wide limits, every container inherits the daemon's own (often very high) limits.
    if state.daemon.value("default-ulimits"):
        return passed(state.daemon.describe("default-ulimits"))
    return warned(state.daemon.describe("default-ulimits"))


@_daemon_rule(
    "2.9", "Enable user namespace support", ids={"1.8": "2.10"},
    needs_info=True,
    level=2, scored=True, severity="high", fix="daemon",
    reads="docker info .SecurityOptions (name=userns); dockerd --userns-remap / daemon.json userns-remap",
    remediation='Set `"userns-remap": "default"` in daemon.json (root in a container becomes an unprivileged host uid).',
    fixed_by=(
        "docker_daemon_config_enabled",
        "docker_daemon_userns_enabled",
        "docker_daemon_userns_user",
        "docker_daemon_userns_subid_count",
        "docker_daemon_userns_confirm_existing",
    ),
)
def user_namespaces(state):
    # docker info tells whether remapping is really active, not just configured.
    if "userns" in state.security_options():
        return passed("user namespace remapping active (docker info); %s" % state.daemon.describe("userns-remap"))
    # On a host with containers, images or volumes, harden leaves it off: turning it on hides them all.
    counts = {"containers": state.info.get("Containers"), "images": state.info.get("Images"),
              "volumes": state.volume_count}
    return failed("no user namespace remapping (docker info SecurityOptions); %s" % state.daemon.describe("userns-remap"),
                  left_open=brownfield.userns_reason("on", counts, after=preflight.DEFAULT_REMAP_USER))


@_daemon_rule(
    "2.10", "Ensure the default cgroup usage has been confirmed", ids={"1.8": "2.11"},
    level=2, scored=True, severity="low", fix="daemon",
    reads="dockerd --cgroup-parent / daemon.json cgroup-parent",
    remediation="Remove `cgroup-parent` from daemon.json unless a custom parent is intended.",
    fixed_by=("docker_daemon_config_enabled", "docker_daemon_cgroup_parent"),
)
def daemon_cgroup_parent(state):
    # Containers under a custom parent leave the resource accounting and limits set up for Docker's
    # cgroup. The shell check's daemon.json branch never matches (grep -v ''); both places are read here.
    if state.daemon.value("cgroup-parent"):
        return failed(state.daemon.describe("cgroup-parent") + ": containers run under a custom cgroup parent; "
                      "waive %s for this host if that parent is intended" % state.options.rule_id("2.10"))
    return passed(state.daemon.describe("cgroup-parent"))


@_daemon_rule(
    "2.11", "Ensure base device size is not changed until needed", ids={"1.8": "2.12"},
    level=2, scored=True, severity="low", fix="daemon",
    reads="dockerd --storage-opt / daemon.json storage-opts (dm.basesize)",
    remediation="Remove `dm.basesize` from storage-opts unless containers need bigger base devices.",
    fixed_by=("docker_daemon_config_enabled", "docker_daemon_extra_settings"),
)
def base_device_size(state):
    # A larger base device lets every container fill more of the host's storage.
    options = [str(option) for option in state.daemon.value("storage-opts") or []]
    basesize = [option for option in options if option.startswith("dm.basesize")]
    if basesize:
        return failed("storage-opts %s: the base device size is changed; waive %s for this host if containers "
                      "need it" % (", ".join(basesize), state.options.rule_id("2.11")))
    return passed("dm.basesize not set")


@_daemon_rule(
    "2.12", "Ensure that authorization for Docker client commands is enabled", ids={"1.8": "2.13"},
    level=2, scored=True, severity="medium", fix="daemon",
    reads="docker info .Plugins.Authorization; dockerd --authorization-plugin / daemon.json authorization-plugins",
    remediation='Install an authorization plugin and list it in `"authorization-plugins"` in daemon.json.',
    fixed_by=("docker_daemon_config_enabled", "docker_daemon_authorization_plugins"),
    left_open="an authorization plugin must be installed on the host first; list it in docker_daemon_authorization_plugins",
)
def authorization_plugins(state):
    # Without one, anyone who reaches the socket may do everything the API allows.
    plugins = ((state.info or {}).get("Plugins") or {}).get("Authorization") or state.daemon.value("authorization-plugins") or []
    if plugins:
        return passed("authorization plugins: %s" % ", ".join(plugins))
    return failed("no authorization plugin")


def _log_opts(state):
    """The daemon's default log-opts as {name: value}, from daemon.json's object and --log-opt name=value flags."""
    found, _source = state.daemon.lookup("log-opts")
    options = {}
    for item in found if isinstance(found, list) else [found]:
        if isinstance(item, dict):
            options.update((str(key), str(value)) for key, value in item.items())
        elif isinstance(item, str) and "=" in item:
            key, _sep, value = item.partition("=")
            options[key] = value
    return options


def log_address_host(address):
    """The host part of a log driver address (udp://h:514, tcp+tls://h:6514, h:24224, https://h:8088/...); None
    for a unix socket, which is always on this host."""
    scheme, separator, rest = address.partition("://")
    if not separator:
        scheme, rest = "", address
    if scheme.startswith("unix"):
        return None
    rest = rest.split("/", 1)[0].rsplit("@", 1)[-1]
    if rest.startswith("["):
        return rest[1:].split("]", 1)[0]
    return rest.rsplit(":", 1)[0] if rest.count(":") == 1 else rest


def is_this_host(host):
    return host is None or host.lower() in LOCAL_HOSTS or host.startswith("127.")


@_daemon_rule(
    "2.13", "Ensure centralized and remote logging is configured", ids={"1.8": "2.14"},
    needs_info=True,
    level=2, scored=True, severity="medium", fix="daemon",
    reads="docker info .LoggingDriver and the daemon's log-opts (daemon.json or --log-opt): whether logs leave "
          "the host. journald, and syslog without a remote syslog-address, write to this host's journal or "
          "syslog and fail alike (a host that forwards them waives this rule); gelf, fluentd and splunk pass with an "
          "address off this host; json-file, local and none fail",
    remediation='Send container logs off the host: `"log-driver": "syslog"` with `"log-opts": {"syslog-address": '
                '"tcp+tls://<log host>:6514"}` (or gelf, fluentd, ... with their remote address).',
    fixed_by=("docker_daemon_config_enabled", "docker_daemon_log_driver"),
    left_open="needs a log target off the host; set docker_daemon_log_driver (syslog, gelf, fluentd, ...) and its options in docker_daemon_extra_settings",
)
def remote_logging(state):
    # Logs kept only on the host die with it and can be altered by whoever compromised it. What is judged is
    # whether they leave it: a driver writing to a service on this host (journald, syslog to /dev/log, a local
    # fluentd) is local unless that service forwards, which the Engine cannot tell - those fail alike, and a
    # host that forwards them waives the rule (the reason stays on record).
    driver = state.info.get("LoggingDriver", "")
    forwarded_by_host = "; waive %s for this host if it forwards them off the host" % state.options.rule_id("2.13")
    if driver in LOCAL_LOG_DRIVERS:
        return failed("logging driver %s keeps logs on this host only" % driver)
    if driver in FORWARDABLE_LOG_DRIVERS:
        return failed("logging driver %s writes to this host's journal: logs leave it only if the host forwards "
                      "its journal, which the audit does not read%s" % (driver, forwarded_by_host))
    if driver not in ADDRESSED_LOG_DRIVERS:
        return passed("logging driver %s sends logs to a service of its own, off this host" % driver)
    option, default = ADDRESSED_LOG_DRIVERS[driver]
    address = _log_opts(state).get(option) or default
    if address is None:
        return failed("logging driver %s without %s: no address its logs go to" % (driver, option))
    host = log_address_host(address)
    where = "%s=%s" % (option, address) if _log_opts(state).get(option) else "no %s (default %s)" % (option, address)
    if driver == "syslog" and host is None:
        return failed("logging driver syslog with %s writes to this host's syslog: logs leave it only if the host "
                      "forwards them, which the audit does not read%s" % (where, forwarded_by_host))
    if is_this_host(host):
        return failed("logging driver %s with %s sends to a service on this host: logs leave it only if that "
                      "service forwards them%s" % (driver, where, forwarded_by_host))
    return passed("logging driver %s sends logs off this host, to %s (%s)" % (driver, host, option))


@_daemon_rule(
    "2.14", "Ensure containers are restricted from acquiring new privileges", ids={"1.8": "2.15"},
    level=1, scored=True, severity="high", fix="daemon",
    reads="dockerd --no-new-privileges / daemon.json no-new-privileges",
    remediation='Set `"no-new-privileges": true` in daemon.json.',
    fixed_by=("docker_daemon_config_enabled", "docker_daemon_no_new_privileges"),
)
def daemon_no_new_privileges(state):
    # Daemon-wide, setuid binaries cannot raise privileges in any container that does not opt out.
    if state.daemon.flag("no-new-privileges"):
        return passed(state.daemon.describe("no-new-privileges"))
    return failed(state.daemon.describe("no-new-privileges"))


@_daemon_rule(
    "2.15", "Ensure live restore is enabled", ids={"1.8": "2.16"},
    needs_info=True,
    level=1, scored=True, severity="medium", fix="daemon",
    reads="docker info .LiveRestoreEnabled, .Swarm.LocalNodeState",
    remediation='Set `"live-restore": true` in daemon.json (containers keep running across daemon restarts and upgrades).',
    fixed_by=("docker_daemon_config_enabled", "docker_daemon_live_restore"),
)
def live_restore(state):
    # Without it, every daemon restart (upgrade, config change) stops every container.
    if state.info.get("LiveRestoreEnabled"):
        return passed("LiveRestoreEnabled=true")
    if (state.info.get("Swarm") or {}).get("LocalNodeState") == "active":
        return failed("LiveRestoreEnabled=false on an active swarm node: swarm mode does not support live restore; "
                      "waive %s for this host if it must be a swarm node" % state.options.rule_id("2.15"))
    return failed("LiveRestoreEnabled=false")


@_daemon_rule(
    "2.16", "Ensure Userland Proxy is Disabled", ids={"1.8": "2.17"},
    level=1, scored=True, severity="low", fix="daemon",
    reads="dockerd --userland-proxy / daemon.json userland-proxy",
    remediation='Set `"userland-proxy": false` in daemon.json (hairpin NAT serves published ports instead).',
    fixed_by=("docker_daemon_config_enabled", "docker_daemon_userland_proxy"),
)
def userland_proxy(state):
    # The proxy is one docker-proxy process per published port: more attack surface, little use on current kernels.
    if state.daemon.flag("userland-proxy") is False:
        return passed(state.daemon.describe("userland-proxy"))
    return failed(state.daemon.describe("userland-proxy"))


@_daemon_rule(
    "2.17", "Ensure that a daemon-wide custom seccomp profile is applied if appropriate", ids={"1.8": "2.18"},
    needs_info=True,
    level=2, scored=False, severity="low", fix="daemon",
    reads="docker info .SecurityOptions (name=seccomp,profile=...), .Architecture, .KernelVersion; the custom "
          "profile file it names, compared with the syscalls Docker's default profile refuses",
    remediation='Point `"seccomp-profile"` in daemon.json at a profile that refuses at least what Docker\'s default '
                'refuses, if the workloads allow.',
    fixed_by=("docker_daemon_config_enabled", "docker_daemon_seccomp_enabled", "docker_daemon_seccomp_profile_path"),
)
def daemon_seccomp_profile(state):
    # Current engines report the built-in profile as `builtin`, older ones as `default`. A custom
    # profile is judged by what it refuses (for a container with Docker's default capabilities):
    # one weaker than Docker's default is not the tighter profile this rule asks for, and one the
    # audit cannot read is not known to be.
    seccomp = state.security_options().get("seccomp")
    if seccomp is None:
        return failed("no seccomp support in this daemon")
    profile = seccomp.get("profile", "")
    problem, detail = daemon_seccomp_verdict(state)
    if problem:
        return failed(problem)
    if profile in BUILTIN_SECCOMP:
        return info("Docker's built-in seccomp profile (%s); a custom one is optional" % profile)
    return passed("custom seccomp profile %s %s" % (profile, detail))


@_daemon_rule(
    "2.18", "Ensure that experimental features are not implemented in production", ids={"1.8": "2.19"},
    needs_info=True,
    level=1, scored=True, severity="medium", fix="daemon",
    reads="docker info .ExperimentalBuild",
    remediation='Remove `"experimental": true` from daemon.json.',
    fixed_by=("docker_daemon_config_enabled", "docker_daemon_experimental"),
)
def experimental_features(state):
    # Experimental features get no stability or security guarantee. docker info answers for every version,
    # where the shell check only asks servers up to 19.03.
    if state.info.get("ExperimentalBuild"):
        return failed("ExperimentalBuild=true")
    return passed("ExperimentalBuild=false")
