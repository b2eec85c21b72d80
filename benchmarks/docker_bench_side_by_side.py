"""container_audit side by side with Docker Bench for Security: CIS section 5 verdicts on the same N containers.

    git clone https://github.com/docker/docker-bench-security /var/tmp/docker-bench   # any copy; it is only run
    sudo .venv/bin/python benchmarks/docker_bench_side_by_side.py --docker-bench /var/tmp/docker-bench \\
        --count 200 --prefix sbs- --json /tmp/side-by-side.json
    (a copy without .git, e.g. from `git archive`: add --docker-bench-commit "<commit> (<date>)")

Run it by hand, as root, on the Docker host (Docker Bench expects root; the
shared-propagation containers need a shared bind mount, which this makes and
undoes; the kernel's view of each container comes from /proc/<pid>). It needs
Docker Bench's own tools (bash, awk, sed, grep, jq, pgrep, the docker CLI) and
local images only: bulwark-test/sleeper (tests/integration/images.py builds it)
and, for the containers that need a userland (ps, sh), --debian-image.

1. Starts N running containers named <prefix><nnn>-<kind>, a deterministic mix
   (--seed) over what section 5 checks: capabilities, host network/pid/ipc/
   uts/userns, `container:` joiners of host-namespace containers (and of
   ordinary ones, and a joiner of a joiner), sensitive bind mounts (/etc rw
   and ro, below /usr, /lib64, /dev, /, docker.sock, /var/run), shared
   propagation, seccomp and AppArmor unconfined, custom seccomp profiles (one
   that refuses almost nothing, the docker_daemon role's), published ports
   (privileged, 1024, wildcard v4/v6, loopback), ulimits, devices, a cgroup
   parent, user-defined and no network, a process named sshd; and on every
   container a random draw of memory/CPU/PIDs limits, restart policy, health
   check, read-only root and no-new-privileges. --privileged is left out:
   where the kernel's bounding set lacks a capability (as on the project's
   machines) such a container cannot run, and both tools read running ones.
2. Runs our audit through Ansible (`ansible localhost -m
   bulwark.hardening.container_audit`, scope containers, process_checks,
   report all, cis_version 1.6 when the module has the option: Docker Bench
   follows v1.6, and section 5's ids are the same in v1.8) and times it; then
   again with the module's defaults (report problems, no process checks); then
   the whole default scope once, for the end-to-end figure; then the library
   call (run_audit, every scope), whose verdicts are compared, and once more
   under cis_version 1.8 to list the section 5 verdicts the version changes.
3. Runs Docker Bench on the same containers (`-i <prefix>`): section 5 only
   (`-c container_runtime`), then the whole benchmark once, timing both.
4. Compares per (container, check id) for every section 5 id. Docker Bench
   reports a check once, with the offending containers as items: a listed
   container is "flag" (WARN or INFO), an unlisted one "ok"; NOTE, or INFO
   without items (5.23, 5.24, 5.28), decides nothing per container ("none").
   Ours: fail/warn/info are "flag", pass "ok", skipped "none". Daemon-wide ids
   (5.1, 5.23, 5.24) compare once, as target "daemon". For 5.10, 5.16, 5.17,
   5.21 and 5.26 the kernel's answer (/proc/<pid>/ns/* against those of the
   runtime's shim that started the container; NoNewPrivs in
   /proc/<pid>/status) is shown beside both. The verdicts compared are the
   library call's (every scope, report all): the module's output goes through
   the masking layer, and the benchmark counts the container names it masks.
5. Prints a table per id (containers where both agree, where they disagree,
   with examples), the wall times, and removes everything it made, also on
   failure or Ctrl-C: its containers, volumes, network, the shared bind mount,
   the cgroup parent's directories, Docker Bench's log files.

--save-inspect FILE writes every container's `docker inspect` (GraphDriver
left out) and /proc/<pid>/status, for unit-test fixtures.
"""

from __future__ import annotations

import argparse
import collections
import inspect as pyinspect
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)

from measure import background_busy, machine  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.bulwark.hardening.tests.integration.adhoc import run_module  # noqa: E402  pylint: disable=wrong-import-position
from farm import link as ensure_farm  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.bulwark.hardening.tests.integration.images import (  # noqa: E402  pylint: disable=wrong-import-position
    SLEEPER_REF, ensure_sleeper_image,
)

LABEL = "bulwark.side-by-side"
CREATE_WORKERS = 4
MAX_COUNT = 500
ROLE_PROFILE = os.path.join(TOP, "roles", "docker_daemon", "files", "seccomp-hardened.json")
# A custom profile that lets every syscall through but one: seccomp in name only.
ALLOW_ALL_PROFILE = json.dumps({"defaultAction": "SCMP_ACT_ALLOW",
                                "syscalls": [{"names": ["reboot"], "action": "SCMP_ACT_ERRNO"}]})
HEALTH_EXEC = {"test": ["CMD", "/bin/sleep", "0"], "interval": 60 * 10 ** 9, "timeout": 10 * 10 ** 9}
HEALTH_OFF = {"test": ["NONE"]}
# The kernel's answer per namespace rule. 5.31 is not among them: without userns-remap every container is in the
# host's user namespace (CIS 2.8's concern), and 5.31 asks only whether one opted out of the remapping.
NAMESPACES = {"5.10": "net", "5.16": "pid", "5.17": "ipc", "5.21": "uts"}


# --- the mix -------------------------------------------------------------------------------------------------

class Context(object):
    """What the features need: prefix-derived names, the profiles, free host ports."""

    def __init__(self, prefix, debian_image, rng):
        self.prefix = prefix
        self.debian_image = debian_image
        self.rng = rng
        self.network = prefix + "net"
        self.data_dir = "/var/tmp/%sdata" % prefix
        self.shared_dir = "/var/tmp/%sshared" % prefix
        self.cgroup_parent = "/%sparent" % prefix
        with open(ROLE_PROFILE, "r", encoding="utf-8") as handle:
            self.role_profile = json.dumps(json.load(handle))
        self.next_high = 20000 + rng.randrange(0, 20000)
        self.next_loopback = 10

    def high_port(self, address):
        while True:
            self.next_high += 1
            if _bindable(address, self.next_high) and _bindable("", self.next_high):
                return self.next_high

    def loopback_port(self, port):
        """A loopback address 127.0.0.x where port is free (Linux answers on all of 127/8)."""
        while True:
            self.next_loopback += 1
            address = "127.0.0.%d" % self.next_loopback
            if _bindable(address, port):
                return address


def _bindable(address, port):
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    probe = socket.socket(family, socket.SOCK_STREAM)
    try:
        probe.bind((address or "0.0.0.0", port))
        return True
    except OSError:
        return False
    finally:
        probe.close()


def _bind(source, destination, mode="rw"):
    return {"binds": ["%s:%s:%s" % (source, destination, mode)]}


def _ports(bindings):
    """bindings: [(container port, host address, host port)]."""
    return {"ports": [port for port, _address, _host in bindings],
            "port_bindings": dict((port, (address, host) if address else host) for port, address, host in bindings)}


# Each feature returns a spec fragment: host config keywords, plus "image", "command", "donor" (the feature whose
# containers this one joins), "writable" (needs a writable root: never read-only).
FEATURES = [
    ("plain", lambda ctx, i: {}),
    ("plain", lambda ctx, i: {}),
    ("plain", lambda ctx, i: {}),
    ("debian", lambda ctx, i: {"image": ctx.debian_image, "command": ["sleep", "infinity"]}),
    ("cap-net-admin", lambda ctx, i: {"cap_add": ["NET_ADMIN"]}),
    ("cap-sys-admin", lambda ctx, i: {"cap_add": ["SYS_ADMIN"]}),
    ("cap-chown", lambda ctx, i: {"cap_add": ["CHOWN"]}),  # one of Docker's defaults: adds nothing
    ("cap-drop-all", lambda ctx, i: {"cap_drop": ["ALL"], "cap_add": ["NET_BIND_SERVICE"]}),
    ("cap-ptrace-lower", lambda ctx, i: {"cap_add": ["cap_sys_ptrace"]}),
    ("net-host", lambda ctx, i: {"network_mode": "host"}),
    ("pid-ipc-host", lambda ctx, i: {"pid_mode": "host", "ipc_mode": "host"}),
    ("uts-host", lambda ctx, i: {"uts_mode": "host"}),
    ("userns-host", lambda ctx, i: {"userns_mode": "host"}),
    ("joins-net-host", lambda ctx, i: {"donor": ("net-host", ("network_mode",))}),
    ("joins-pid-ipc-host", lambda ctx, i: {"donor": ("pid-ipc-host", ("pid_mode", "ipc_mode"))}),
    ("joins-joiner", lambda ctx, i: {"donor": ("joins-net-host", ("network_mode",))}),
    ("joins-net-plain", lambda ctx, i: {"donor": ("plain", ("network_mode",))}),
    ("joins-pid-plain", lambda ctx, i: {"donor": ("plain", ("pid_mode",))}),
    ("bind-etc-rw", lambda ctx, i: _bind("/etc", "/host/etc")),
    ("bind-etc-ro", lambda ctx, i: _bind("/etc", "/host/etc", "ro")),
    ("bind-usr-share-rw", lambda ctx, i: _bind("/usr/share", "/host/share")),
    ("bind-lib64-rw", lambda ctx, i: _bind("/lib64", "/host/lib64")),
    ("bind-dev-rw", lambda ctx, i: _bind("/dev", "/host/dev")),
    ("bind-root-ro", lambda ctx, i: _bind("/", "/host", "ro")),
    ("bind-proc-ro", lambda ctx, i: _bind("/proc", "/host/proc", "ro")),
    ("docker-sock", lambda ctx, i: _bind("/var/run/docker.sock", "/var/run/docker.sock")),
    ("docker-sock-ro", lambda ctx, i: _bind("/run/docker.sock", "/docker.sock", "ro")),
    ("bind-var-run-ro", lambda ctx, i: _bind("/var/run", "/host/run", "ro")),
    ("volume-at-etc", lambda ctx, i: {"binds": ["%setc-%03d:/etc:rw" % (ctx.prefix, i)]}),
    ("bind-data", lambda ctx, i: _bind(ctx.data_dir, "/data")),
    ("propagation-shared", lambda ctx, i: _bind(ctx.shared_dir, "/shared", "rw,shared")),
    ("propagation-rshared", lambda ctx, i: _bind(ctx.shared_dir, "/shared", "rw,rshared")),
    ("propagation-rslave", lambda ctx, i: _bind(ctx.shared_dir, "/shared", "rw,rslave")),
    ("seccomp-unconfined", lambda ctx, i: {"security_opt": ["seccomp=unconfined"]}),
    ("seccomp-unconfined-colon", lambda ctx, i: {"security_opt": ["seccomp:unconfined"]}),
    ("seccomp-allow-all", lambda ctx, i: {"security_opt": ["seccomp=" + ALLOW_ALL_PROFILE]}),
    ("seccomp-role-profile", lambda ctx, i: {"security_opt": ["seccomp=" + ctx.role_profile]}),
    ("apparmor-unconfined", lambda ctx, i: {"security_opt": ["apparmor=unconfined"]}),
    ("label-disable", lambda ctx, i: {"security_opt": ["label=disable"]}),
    ("port-80-loopback", lambda ctx, i: _ports([(80, ctx.loopback_port(80), 80)])),
    ("port-1024-loopback", lambda ctx, i: _ports([(80, ctx.loopback_port(1024), 1024)])),
    ("port-all", lambda ctx, i: _ports([(8080, "", ctx.high_port(""))])),
    ("port-any-v4", lambda ctx, i: _ports([(8080, "0.0.0.0", ctx.high_port("0.0.0.0"))])),
    ("port-any-v6", lambda ctx, i: _ports([(8080, "::", ctx.high_port("::"))])),
    ("port-loopback-high", lambda ctx, i: _ports([(8080, "127.0.0.1", ctx.high_port("127.0.0.1"))])),
    ("ulimit", lambda ctx, i: {"ulimits": [{"Name": "nofile", "Soft": 1024, "Hard": 2048}]}),
    ("device", lambda ctx, i: {"devices": ["/dev/null:/dev/hostnull:rwm"]}),
    ("device-cgroup-rule", lambda ctx, i: {"device_cgroup_rules": ["c 1:3 rwm"]}),
    ("cgroup-parent", lambda ctx, i: {"cgroup_parent": ctx.cgroup_parent}),
    ("user-network", lambda ctx, i: {"network_mode": ctx.network}),
    ("network-none", lambda ctx, i: {"network_mode": "none"}),
    # A process whose name is sshd (a copy of sleep: the point is what both tools see in the process table).
    ("sshd", lambda ctx, i: {"image": ctx.debian_image, "writable": True, "command": [
        "sh", "-c", "cp /bin/sleep /usr/local/sbin/sshd && exec /usr/local/sbin/sshd infinity"]}),
]


def _draw(rng, choices):
    """One of [(weight, value)]."""
    pick = rng.uniform(0, sum(weight for weight, _value in choices))
    for weight, value in choices:
        pick -= weight
        if pick <= 0:
            return value
    return choices[-1][1]


RESTARTS = [(30, None), (20, {"Name": "always"}), (15, {"Name": "unless-stopped"}),
            (15, {"Name": "on-failure", "MaximumRetryCount": 5}), (5, {"Name": "on-failure", "MaximumRetryCount": 10}),
            (5, {"Name": "on-failure", "MaximumRetryCount": 0}), (10, {"Name": "on-failure", "MaximumRetryCount": 3})]
CPUS = [(40, {}), (20, {"cpu_shares": 512}), (15, {"nano_cpus": 500000000}), (10, {"cpu_quota": 50000}),
        (15, {"cpu_shares": 1024})]
PIDS = [(55, None), (35, 128), (10, -1)]
HEALTH = [(55, None), (35, HEALTH_EXEC), (10, HEALTH_OFF)]
NO_NEW_PRIVILEGES = [(50, []), (25, ["no-new-privileges"]), (10, ["no-new-privileges=true"]),
                     (10, ["no-new-privileges:true"]), (5, ["no-new-privileges=false"])]


def _modifiers(rng, writable):
    """The everyday settings every container gets a random draw of."""
    host = dict(_draw(rng, CPUS))
    if rng.random() < 0.4:
        host["mem_limit"] = "64m"
    pids = _draw(rng, PIDS)
    if pids is not None:
        host["pids_limit"] = pids
    restart = _draw(rng, RESTARTS)
    if restart:
        host["restart_policy"] = restart
    if not writable and rng.random() < 0.3:
        host["read_only"] = True
    host["security_opt"] = _draw(rng, NO_NEW_PRIVILEGES)
    return host, _draw(rng, HEALTH)


def plan(ctx, count):
    """[spec] in creation order: donors before the containers that join them."""
    specs = []
    for index in range(count):
        kind, feature = FEATURES[index % len(FEATURES)]
        fragment = dict(feature(ctx, index))
        image = fragment.pop("image", SLEEPER_REF)
        command = fragment.pop("command", None)
        donor = fragment.pop("donor", None)
        host, health = _modifiers(ctx.rng, fragment.pop("writable", False))
        host["security_opt"] = host["security_opt"] + fragment.pop("security_opt", [])
        ports = fragment.pop("ports", None)
        host.update(fragment)
        specs.append({"name": "%s%03d-%s" % (ctx.prefix, index, kind), "kind": kind, "image": image,
                      "command": command, "host": host, "health": health, "ports": ports, "donor": donor})
    _assign_donors(specs)
    return sorted(specs, key=lambda spec: spec["phase"])


def _assign_donors(specs):
    by_kind = {}
    for spec in specs:
        by_kind.setdefault(spec["kind"], []).append(spec)
    for spec in specs:
        spec["phase"] = 0
    for _round in range(3):  # a joiner of a joiner comes after its donor
        for number, spec in enumerate(spec for spec in specs if spec["donor"]):
            kind, modes = spec["donor"]
            donor = by_kind[kind][number % len(by_kind[kind])]
            spec["phase"] = donor["phase"] + 1
            for mode in modes:
                spec["host"][mode] = "container:" + donor["name"]


# --- the engine ---------------------------------------------------------------------------------------------

def start(api, spec, prefix):
    host_config = dict(spec["host"])
    ulimits = host_config.pop("ulimits", None)
    if ulimits:
        import docker  # pylint: disable=import-outside-toplevel
        host_config["ulimits"] = [docker.types.Ulimit(name=u["Name"], soft=u["Soft"], hard=u["Hard"]) for u in ulimits]
    created = api.create_container(spec["image"], command=spec["command"], name=spec["name"], ports=spec["ports"],
                                   labels={LABEL: prefix}, healthcheck=spec["health"],
                                   host_config=api.create_host_config(**host_config))
    api.start(created["Id"])
    return created["Id"]


def start_all(api, specs, prefix):
    failures = []

    def one(spec):
        try:
            start(api, spec, prefix)
        except Exception as error:  # pylint: disable=broad-except
            failures.append((spec["name"], str(error)[:200]))

    for phase in sorted(set(spec["phase"] for spec in specs)):
        with ThreadPoolExecutor(max_workers=CREATE_WORKERS) as pool:
            list(pool.map(one, [spec for spec in specs if spec["phase"] == phase]))
    return failures


def running_ours(api, prefix):
    """{name: inspect} of our running containers."""
    found = {}
    for summary in api.containers(filters={"label": "%s=%s" % (LABEL, prefix)}):
        details = api.inspect_container(summary["Id"])
        if details["Name"].lstrip("/").startswith(prefix):
            found[details["Name"].lstrip("/")] = details
    return found


def make_shared_dir(path):
    os.makedirs(path, exist_ok=True)
    subprocess.run(["mount", "--bind", path, path], check=True)
    subprocess.run(["mount", "--make-shared", path], check=True)


def is_mountpoint(path):
    return subprocess.run(["mountpoint", "-q", path], check=False).returncode == 0


def remove_everything(api, ctx):
    """Everything named with our prefix: containers (joiners first), volumes, network; the shared bind mount,
    the cgroup parent's directories. The prefix is this run's own (given on the command line)."""
    ours = [c for c in api.containers(all=True) if any(n.lstrip("/").startswith(ctx.prefix) for n in c["Names"])]
    joiners = [c for c in ours if "container:" in json.dumps(api.inspect_container(c["Id"])["HostConfig"])]
    for batch in (joiners, [c for c in ours if c not in joiners]):  # joiners before their donors
        with ThreadPoolExecutor(max_workers=CREATE_WORKERS) as pool:
            list(pool.map(lambda c: api.remove_container(c["Id"], force=True, v=True), batch))
    for volume in (api.volumes().get("Volumes") or []):
        if volume["Name"].startswith(ctx.prefix):
            api.remove_volume(volume["Name"], force=True)
    for network in api.networks(names=[ctx.network]):
        if network["Name"] == ctx.network:
            api.remove_network(network["Id"])
    while is_mountpoint(ctx.shared_dir):
        subprocess.run(["umount", ctx.shared_dir], check=True)
    for directory in (ctx.shared_dir, ctx.data_dir):
        if os.path.isdir(directory):
            os.rmdir(directory)
    for controller in os.listdir("/sys/fs/cgroup") if os.path.isdir("/sys/fs/cgroup") else []:
        parent = os.path.join("/sys/fs/cgroup", controller, ctx.cgroup_parent.lstrip("/"))
        if os.path.isdir(parent):
            os.rmdir(parent)
    return len(ours)


# --- the kernel's view ---------------------------------------------------------------------------------------

def kernel_view(details):
    """{id: shares the host's namespace, NoNewPrivs, Seccomp, status} of a running container's init, from /proc.

    The host's namespaces are those of the init's parent, the runtime's shim (pid 1's may not be readable)."""
    pid = (details.get("State") or {}).get("Pid")
    view = {"pid": pid}
    try:
        with open("/proc/%d/status" % pid, "r", encoding="ascii") as handle:
            view["status"] = handle.read()
    except (OSError, TypeError):
        return view
    for line in view["status"].splitlines():
        key, _sep, value = line.partition(":")
        if key in ("NoNewPrivs", "Seccomp", "PPid"):
            view[key] = value.strip()
    for rule, ns in NAMESPACES.items():
        try:
            view[rule] = os.readlink("/proc/%d/ns/%s" % (pid, ns)) == os.readlink("/proc/%s/ns/%s" % (view["PPid"], ns))
        except (OSError, KeyError):
            pass
    return view


def kernel_verdict(rule, view):
    """'flag' / 'ok' where the kernel answers the rule outright, else None."""
    if rule in NAMESPACES and rule in view:
        return "flag" if view[rule] else "ok"
    if rule == "5.26" and "NoNewPrivs" in view:
        return "flag" if view["NoNewPrivs"] == "0" else "ok"
    return None


# --- the two tools ------------------------------------------------------------------------------------------

def our_audit_arguments(prefix, scope, cis_version="1.6"):
    """Docker Bench follows CIS v1.6, so our audit does too where it can choose (section 5's ids are the same)."""
    arguments = {"label_filter": ["%s=%s" % (LABEL, prefix)], "report": "all", "process_checks": True}
    if scope:
        arguments["scope"] = scope
    if supports_cis_version():
        arguments["cis_version"] = cis_version
    return arguments


def run_audit_function():
    ensure_farm()
    from ansible_collections.bulwark.hardening.plugins.module_utils.audit.run import run_audit  # pylint: disable=import-outside-toplevel
    return run_audit


def supports_cis_version():
    return "cis_version" in pyinspect.signature(run_audit_function()).parameters


def run_ours_module(prefix, scope, defaults=False):
    """The module through Ansible, as users run it; defaults: only the label filter and scope (report problems,
    no process checks) instead of the comparison's options."""
    arguments = our_audit_arguments(prefix, scope)
    if defaults:
        arguments = {"label_filter": arguments["label_filter"], "scope": scope}
    run = run_module("container_audit", arguments)
    if run.result.get("failed"):
        raise RuntimeError("container_audit failed: %s" % run.result.get("msg"))
    return run


def run_ours_library(prefix, cis_version="1.6"):
    """The library call (every scope), whose findings name targets unmasked: the verdicts compared."""
    started = time.monotonic()
    result = run_audit_function()(**our_audit_arguments(prefix, None, cis_version))
    return result, time.monotonic() - started


def run_docker_bench(directory, prefix, log, section5):
    command = ["bash", "docker-bench-security.sh", "-b", "-i", prefix, "-l", log]
    if section5:
        command += ["-c", "container_runtime"]
    started = time.monotonic()
    completed = subprocess.run(command, cwd=directory, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    if completed.returncode != 0:
        raise RuntimeError("Docker Bench failed (rc %d): %s" % (completed.returncode, completed.stderr[-2000:]))
    with open(log + ".json", "r", encoding="utf-8") as handle:
        return json.load(handle), seconds


def docker_bench_revision(directory, given=None):
    """The commit of the Docker Bench copy: given (for a copy without .git), else git's, else its version line."""
    if given:
        return given
    completed = subprocess.run(["git", "-C", directory, "log", "-1", "--format=%H %cs"], capture_output=True,
                               text=True, check=False)
    if completed.returncode == 0 and completed.stdout.strip():
        return completed.stdout.strip()
    with open(os.path.join(directory, "docker-bench-security.sh"), "r", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("version="):
                return "version %s (no git metadata)" % line.split("=", 1)[1].strip().strip("'\"")
    return "unknown"


# --- the comparison -----------------------------------------------------------------------------------------

DAEMON = "daemon"
MANUAL = "manual check:"
OURS = {"fail": "flag", "warn": "flag", "info": "flag", "waived": "flag", "pass": "ok", "skipped": "none"}


def docker_bench_verdicts(report, names):
    """{(id, target): (category, Docker Bench's result)} for section 5."""
    verdicts = {}
    section = next(test for test in report["tests"] if test["id"] == "5")
    for result in section["results"]:
        rule, outcome, items = result["id"], result["result"], result.get("items")
        if rule in ("5.1", "5.23", "5.24"):
            verdicts[(rule, DAEMON)] = ({"PASS": "ok", "WARN": "flag"}.get(outcome, "none"), outcome)
            continue
        listed = set()
        for item in items or []:
            listed.update(part for part in item.split(":") if part in names)
        for name in names:
            if outcome in ("NOTE",) or (outcome == "INFO" and not items):
                verdicts[(rule, name)] = ("none", outcome)
            elif name in listed:
                verdicts[(rule, name)] = ("flag", outcome)
            else:
                verdicts[(rule, name)] = ("ok", "PASS" if outcome == "PASS" else "unlisted")
    return verdicts


def our_verdicts(findings, names):
    """{(id, target): (category, status, evidence)} for section 5; a manual rule's info decides nothing."""
    verdicts = {}
    for finding in findings:
        rule, target = finding["rule"], finding["target"]
        if rule.split(".")[0] != "5" or (target not in names and target != DAEMON):
            continue
        category = "none" if finding["evidence"].startswith(MANUAL) else OURS[finding["status"]]
        verdicts[(rule, target)] = (category, finding["status"], finding["evidence"])
    return verdicts


def version_changes(ours, other):
    """{id: [targets]} where our verdict under another CIS version falls in another category."""
    changed = {}
    for key, verdict in ours.items():
        if key in other and other[key][0] != verdict[0]:
            changed.setdefault(key[0], []).append(key[1])
    return changed


def _id_key(rule):
    return tuple(int(part) for part in rule.split("."))


def compare(theirs, ours, kernel):
    """{id: {agree, disagree, pairs: {(db, ours): [targets]}, examples}} over every id either tool decided."""
    table = {}
    for key in sorted(set(theirs) | set(ours), key=lambda k: (_id_key(k[0]), k[1])):
        rule, target = key
        db = theirs.get(key, ("missing", "-"))
        us = ours.get(key, ("missing", "-", ""))
        row = table.setdefault(rule, {"agree": 0, "disagree": 0, "pairs": {}, "examples": {}})
        same = db[0] == us[0]
        row["agree" if same else "disagree"] += 1
        pair = "%s/%s" % (db[1], us[1])
        row["pairs"].setdefault(pair, []).append(target)
        if not same:
            examples = row["examples"].setdefault(pair, [])
            if len(examples) < 3:
                examples.append({"target": target, "evidence": us[2][:240],
                                 "kernel": kernel_verdict(rule, kernel.get(target, {}))})
    return table


def kernel_agreement(table, theirs, ours, kernel):
    """Per id where the kernel answers: whom it sides with where the tools differ, and where both are wrong."""
    for rule, row in table.items():
        sides = collections.Counter()
        for targets in row["pairs"].values():
            for target in targets:
                truth = kernel_verdict(rule, kernel.get(target, {}))
                db = theirs.get((rule, target), ("missing",))[0]
                us = ours.get((rule, target), ("missing",))[0]
                if truth is None:
                    continue
                if db != us:
                    sides["docker_bench" if db == truth else "ours" if us == truth else "neither"] += 1
                elif us != truth:
                    sides["both_wrong"] += 1
        if sides:
            row["kernel_sides_with"] = dict(sides)


def print_table(table, figures):
    print()
    print("container_audit vs Docker Bench for Security, section 5, %s" % figures["date"])
    print("machine: %(cpus)s CPUs, %(memory_gib)s GiB, kernel %(kernel)s, Python %(python)s" % figures["machine"])
    print("docker server %s; Docker Bench %s; %d running containers (%d planned, %d failed to start)" % (
        figures["docker_server"], figures["docker_bench"], figures["containers"], figures["planned"],
        len(figures["start_failures"])))
    print()
    print("%-6s %6s %9s  %s" % ("id", "agree", "disagree", "pairs (Docker Bench/ours: count), disagreements first"))
    for rule in sorted(table, key=_id_key):
        row = table[rule]
        agreeing = _agreeing(row)
        pairs = sorted(row["pairs"].items(), key=lambda item, agreeing=agreeing: (item[0] in agreeing, -len(item[1])))
        text = ", ".join("%s: %d" % (pair, len(targets)) for pair, targets in pairs)
        if row.get("kernel_sides_with"):
            text += "; kernel sides with %s" % row["kernel_sides_with"]
        print("%-6s %6d %9d  %s" % (rule, row["agree"], row["disagree"], text))
        for pair, examples in row["examples"].items():
            for example in examples[:2]:
                print("%26s %s  %s%s" % ("e.g.", example["target"], example["evidence"][:110],
                                         " [kernel: %s]" % example["kernel"] if example["kernel"] else ""))
    print()
    times = figures["wall_s"]
    print("wall times: Docker Bench section 5 %.1f s, whole Docker Bench %s s; container_audit (ansible ad hoc, "
          "scope containers) %.2f s (module's own %.2f s), whole default scope %.2f s (module's own %.2f s); "
          "Docker Bench section 5 / ours section 5: %.0fx"
          % (times["docker_bench_section5"], times["docker_bench_full"], times["ours_section5"],
             times["ours_section5_module"], times["ours_full"], times["ours_full_module"],
             times["docker_bench_section5"] / times["ours_section5"]))
    print("container_audit with its default options (scope containers, report problems, no process checks): %.2f s "
          "(module's own %.2f s); Docker Bench section 5 / that: %.0fx" % (
              times["ours_section5_defaults"], times["ours_section5_defaults_module"],
              times["docker_bench_section5"] / times["ours_section5_defaults"]))
    print("library call (every scope, the verdicts compared above) %.2f s; targets the module's output masked as "
          "secrets: %d %s" % (times["ours_library_full"], len(figures["masked_targets_in_module_output"]),
                              figures["masked_targets_in_module_output"][:3]))
    if figures["ours_changed_under_cis_1_8"] is not None:
        print("our section 5 verdicts that change under cis_version 1.8: %s" % dict(
            (rule, len(targets)) for rule, targets in figures["ours_changed_under_cis_1_8"].items()))
    print("host CPU busy before each run (2 s window, other jobs included): %s; load average (1 min): %s" % (
        figures["background_cpu_busy_percent"], figures["load_average_1m"]))


def _agreeing(row):
    return set(pair for pair in row["pairs"] if pair not in row["examples"])


# --- main ---------------------------------------------------------------------------------------------------

def measure(args, ctx, logs):
    busy, load = {}, {}

    def note(label):
        busy[label] = background_busy()
        load[label] = round(os.getloadavg()[0], 2)

    note("ours")
    section5 = run_ours_module(ctx.prefix, ["containers"])
    section5_defaults = run_ours_module(ctx.prefix, ["containers"], defaults=True)
    whole = run_ours_module(ctx.prefix, None)
    library, library_s = run_ours_library(ctx.prefix)
    # The same containers under CIS v1.8 (our default), to say which section 5 verdicts the version changes.
    default_version = run_ours_library(ctx.prefix, "1.8")[0] if supports_cis_version() else None
    note("docker_bench_section5")
    bench5, bench5_s = run_docker_bench(args.docker_bench, ctx.prefix, os.path.join(logs, "section5"), True)
    bench_full_s = None
    if not args.no_full_run:
        note("docker_bench_full")
        _bench_full, bench_full_s = run_docker_bench(args.docker_bench, ctx.prefix, os.path.join(logs, "full"), False)
    times = {"ours_section5": round(section5.seconds, 2), "ours_section5_module": section5.result["duration_s"],
             "ours_section5_defaults": round(section5_defaults.seconds, 2),
             "ours_section5_defaults_module": section5_defaults.result["duration_s"],
             "ours_full": round(whole.seconds, 2), "ours_full_module": whole.result["duration_s"],
             "ours_library_full": round(library_s, 2), "docker_bench_section5": round(bench5_s, 1),
             "docker_bench_full": bench_full_s and round(bench_full_s, 1)}
    return library, default_version, section5, bench5, times, busy, load


def save_inspect(path, containers, kernel):
    saved = {}
    for name, details in containers.items():
        details = dict(details)
        details.pop("GraphDriver", None)
        saved[name] = {"inspect": details, "proc_status": kernel.get(name, {}).get("status")}
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(saved, handle, indent=1, sort_keys=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docker-bench", required=True, help="a copy of docker-bench-security (run, never imported)")
    parser.add_argument("--docker-bench-commit", help="its commit and date, for a copy without git metadata")
    parser.add_argument("--count", type=int, default=200, help="containers to start (max %d)" % MAX_COUNT)
    parser.add_argument("--prefix", default="bwsbs-", help="name prefix of everything this run creates")
    parser.add_argument("--debian-image", default="bulwark-molecule/debian12:latest",
                        help="a local Debian image (sh, cp, ps) for the containers that need a userland")
    parser.add_argument("--no-full-run", action="store_true", help="skip the timing run of the whole Docker Bench")
    parser.add_argument("--seed", type=int, default=20, help="seed of the random everyday settings")
    parser.add_argument("--json", help="also write the figures and every disagreement to this file")
    parser.add_argument("--save-inspect", help="write every container's inspect and /proc status to this file")
    args = parser.parse_args()
    if not 1 <= args.count <= MAX_COUNT:
        parser.error("--count must be between 1 and %d" % MAX_COUNT)
    if os.geteuid() != 0:
        parser.error("run as root (Docker Bench, the shared bind mount and /proc/<pid> need it)")

    import docker  # pylint: disable=import-outside-toplevel

    api = docker.APIClient(version="auto", timeout=120, max_pool_size=CREATE_WORKERS * 2)
    ctx = Context(args.prefix, args.debian_image, random.Random(args.seed))
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))
    logs = tempfile.mkdtemp(prefix=args.prefix + "logs-")
    try:
        remove_everything(api, ctx)  # leftovers of an interrupted run with this prefix
        ensure_sleeper_image(api)
        api.create_network(ctx.network, driver="bridge", labels={LABEL: args.prefix})
        os.makedirs(ctx.data_dir, exist_ok=True)
        make_shared_dir(ctx.shared_dir)
        specs = plan(ctx, args.count)
        started = time.monotonic()
        failures = start_all(api, specs, args.prefix)
        print("started %d containers in %.1f s; %d failed: %s" % (len(specs) - len(failures), time.monotonic() - started,
                                                                  len(failures), failures[:5]), flush=True)
        time.sleep(5)  # health checks' first state, restart policies settle
        containers = running_ours(api, args.prefix)
        kernel = dict((name, kernel_view(details)) for name, details in containers.items())
        if args.save_inspect:
            save_inspect(args.save_inspect, containers, kernel)
        library, default_version, section5, bench5, times, busy, load = measure(args, ctx, logs)
        names = set(containers)
        # Containers the module's output does not name: the masking layer took their name for a secret.
        masked = sorted(names - set(finding["target"] for finding in section5.result["findings"]))
        theirs = docker_bench_verdicts(bench5, names)
        ours = our_verdicts(library["findings"], names)
        table = compare(theirs, ours, kernel)
        under_1_8 = version_changes(ours, our_verdicts(default_version["findings"], names)) if default_version else None
        kernel_agreement(table, theirs, ours, kernel)
        figures = {"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "machine": machine(),
                   "docker_server": api.version()["Version"], "docker_bench": docker_bench_revision(args.docker_bench, args.docker_bench_commit),
                   "cis_version_option": supports_cis_version(), "planned": len(specs), "containers": len(containers),
                   "start_failures": failures, "kinds": dict((spec["name"], spec["kind"]) for spec in specs),
                   "wall_s": times, "background_cpu_busy_percent": busy, "load_average_1m": load,
                   "api_calls": library["api_calls"], "masked_targets_in_module_output": masked, "table": table,
                   "ours_changed_under_cis_1_8": under_1_8}
    finally:
        removed = remove_everything(api, ctx)
        for entry in os.listdir(logs):
            os.remove(os.path.join(logs, entry))
        os.rmdir(logs)
        print("removed %d containers" % removed, flush=True)
    print_table(table, figures)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(figures, handle, indent=1, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
