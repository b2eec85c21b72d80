"""audit.yml over a fleet: N hosts (containers that boot systemd and run their own Docker Engine), with forks.

    .venv/bin/python benchmarks/audit_fleet.py --hosts 50 --forks 50 --runs cold,warm

Each host is an instance of the Molecule image bulwark-molecule/debian12
(make images), started with the Molecule scenario's settings (capabilities
by name, no --privileged), with the benchmark sleeper image loaded into its
own dockerd and --containers containers of measure.py's mix running in it.
The controller reaches the hosts with the community.docker.docker connection
(`docker exec`), as Molecule does.

Every run is a whole `ansible-playbook bulwark.hardening.audit` over all
hosts, reports written (JSON, JUnit, HTML), with the given forks and
connection settings. It records the wall time; the CPU time of the controller
(ansible-playbook, its workers and the `docker exec` clients it starts: every
process the run started on the controller side; the modules run inside the
hosts and are not in it), per host; the largest controller process; and the
machine's CPU use over the run (controller and hosts share its cores).

Each host runs one module process per audit (bulwark.hardening.audit: the
container audit, then the image audit). Before the runs, the hosts' own CPU
use while idle (systemd, dockerd, the containers) is measured over
--idle-seconds; each run then reports module_cpu_per_host_s: the hosts' CPU
over the run, less that idle use, per host - what the audit costs each host.

Runs: `cold` is the first audit of fresh hosts (the image audit scans every
image's layers and fills its cache), `warm` an audit of the same hosts again
(what a weekly AWX job sees when the images did not change); a run name can
carry settings: `warm-nopipe` turns pipelining off, `warm-f10` uses 10 forks,
`warm-free` the free strategy, `warm-poll` internal_poll_interval 0.05 s.

The hosts are removed at the end unless --keep; --reuse takes hosts left by --keep.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)

import measure  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.bulwark.hardening.tests.integration.images import SLEEPER_REF  # noqa: E402  pylint: disable=wrong-import-position

IMAGE = "bulwark-molecule/debian12:latest"
LABEL = "bulwark.fleet"
PREFIX = "bulwark-fleet-"
START_WORKERS = 4
# The Molecule scenario's platform settings (molecule/default/molecule.yml).
CAPABILITIES = ("AUDIT_CONTROL AUDIT_READ AUDIT_WRITE BLOCK_SUSPEND CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID "
                "IPC_LOCK IPC_OWNER KILL LEASE LINUX_IMMUTABLE MAC_ADMIN MAC_OVERRIDE MKNOD NET_ADMIN NET_BIND_SERVICE "
                "NET_BROADCAST NET_RAW SETFCAP SETGID SETPCAP SETUID SYSLOG SYS_ADMIN SYS_BOOT SYS_CHROOT SYS_MODULE "
                "SYS_NICE SYS_PACCT SYS_PTRACE SYS_RAWIO SYS_TIME SYS_TTY_CONFIG WAKE_ALARM").split()
# Containers inside each host: hardened, defaults, weak, with a secret (measure.py's kinds).
INNER_RUNS = (
    "--read-only --cap-drop ALL --security-opt no-new-privileges --memory 16m --pids-limit 16 --user 65534:65534",
    "",
    "--cap-add NET_ADMIN -v /tmp:/host-tmp:rw",
    "-e APP_TOKEN=fleet-Zq8xTr4Lm2Vb7Nc5 --memory 32m",
)


def docker(*args, **options):
    return subprocess.run(["docker"] + list(args), check=True, capture_output=True, text=True, **options).stdout


def host_names(count):
    return ["%s%02d" % (PREFIX, number) for number in range(1, count + 1)]


def start_host(name, sleeper_tar, containers):
    arguments = ["run", "-d", "--name", name, "--hostname", name, "--label", LABEL + "=1", "--label", "bulwark.test=1",
                 "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
                 "-v", "/sys/fs/cgroup:/sys/fs/cgroup:ro", "-v", "/var/lib/docker",
                 "--tmpfs", "/run", "--tmpfs", "/run/lock", "--tmpfs", "/tmp"]
    for capability in CAPABILITIES:
        arguments += ["--cap-add", capability]
    docker(*(arguments + [IMAGE]))
    deadline = time.monotonic() + 300
    while subprocess.run(["docker", "exec", name, "docker", "info"], capture_output=True, check=False).returncode != 0:
        if time.monotonic() > deadline:
            raise RuntimeError("%s: its dockerd did not answer within 300 s" % name)
        time.sleep(2)
    with open(sleeper_tar, "rb") as handle:
        subprocess.run(["docker", "exec", "-i", name, "docker", "load"], stdin=handle, check=True, capture_output=True)
    for number in range(containers):
        options = INNER_RUNS[number % len(INNER_RUNS)].split()
        docker("exec", name, "docker", "run", "-d", "--name", "app-%d" % number, "--network", "none",
               *(options + [SLEEPER_REF]))


INOTIFY_INSTANCES = "/proc/sys/fs/inotify/max_user_instances"
# systemd, dbus, dockerd and containerd of one host take about 15 inotify instances; the kernel's
# default of 128 per user (all hosts run as root) stops the ninth host's systemd from booting.
INOTIFY_PER_HOST = 20


def raise_inotify_limit(count):
    """Raise fs.inotify.max_user_instances for count hosts; the previous value, to restore, or None."""
    with open(INOTIFY_INSTANCES, "r", encoding="ascii") as handle:
        previous = int(handle.read())
    wanted = INOTIFY_PER_HOST * count + 128
    if previous >= wanted:
        return None
    with open(INOTIFY_INSTANCES, "w", encoding="ascii") as handle:
        handle.write(str(wanted))
    print("fs.inotify.max_user_instances %d -> %d for %d hosts (restored at the end)" % (previous, wanted, count))
    return previous


def restore_inotify_limit(previous):
    if previous is not None:
        with open(INOTIFY_INSTANCES, "w", encoding="ascii") as handle:
            handle.write(str(previous))


def start_fleet(count, containers):
    import docker as sdk  # pylint: disable=import-outside-toplevel

    api = sdk.APIClient(version="auto", timeout=120)
    measure.ensure_sleeper_image(api)
    with tempfile.TemporaryDirectory(prefix="bulwark-fleet-") as directory:
        sleeper_tar = os.path.join(directory, "sleeper.tar")
        docker("save", "-o", sleeper_tar, SLEEPER_REF)
        with ThreadPoolExecutor(max_workers=START_WORKERS) as pool:
            list(pool.map(lambda name: start_host(name, sleeper_tar, containers), host_names(count)))


def running_hosts():
    return docker("ps", "-q", "--filter", "label=%s=1" % LABEL).split()


def remove_fleet():
    every = docker("ps", "-aq", "--filter", "label=%s=1" % LABEL).split()
    if every:
        docker("rm", "-f", "-v", *every)
    return len(every)


def hosts_cpu_s(host_ids):
    """CPU seconds the hosts' cgroups used so far (everything inside them: systemd, dockerd, the modules), or None."""
    total = 0
    for host_id in host_ids:
        for path, scale_to_s in (("/sys/fs/cgroup/cpuacct/docker/%s/cpuacct.usage" % host_id, 1e-9),  # cgroup v1
                                 ("/sys/fs/cgroup/system.slice/docker-%s.scope/cpu.stat" % host_id, 1e-6)):  # v2
            try:
                with open(path, "r", encoding="ascii") as handle:
                    text = handle.read()
            except OSError:
                continue
            value = int(text.split()[0]) if path.endswith("usage") else int(text.split("usage_usec")[1].split()[0])
            total += value * scale_to_s
            break
        else:
            return None
    return total


def settings_of(run_name, default_forks):
    """(forks, environment) of a run name such as warm, warm-nopipe, warm-f10, warm-free."""
    forks, env = default_forks, {"ANSIBLE_PIPELINING": "true"}
    for part in run_name.split("-")[1:]:
        if part == "nopipe":
            env["ANSIBLE_PIPELINING"] = "false"
        elif part == "free":
            env["ANSIBLE_STRATEGY"] = "free"
        elif part == "poll":  # the controller's loop waits 50 ms between looks at its workers, not 1 ms
            env["ANSIBLE_INTERNAL_POLL_INTERVAL"] = "0.05"
        elif part.startswith("f") and part[1:].isdigit():
            forks = int(part[1:])
        else:
            raise SystemExit("unknown run setting %r in %r" % (part, run_name))
    return forks, env


def hosts_idle_rate(host_ids, seconds):
    """CPU seconds per second the idle hosts use (systemd, dockerd, their containers), measured over seconds; None
    where the hosts' cgroups cannot be read."""
    before = hosts_cpu_s(host_ids)
    started = time.monotonic()
    time.sleep(seconds)
    after = hosts_cpu_s(host_ids)
    if before is None or after is None:
        return None
    return (after - before) / (time.monotonic() - started)


def run_audit(directory, names, run_name, default_forks, idle_rate=None):
    forks, settings = settings_of(run_name, default_forks)
    inventory = os.path.join(directory, "inventory")
    with open(inventory, "w", encoding="utf-8") as handle:
        handle.write("[fleet]\n")
        for name in names:
            handle.write("%s ansible_connection=community.docker.docker ansible_python_interpreter=/usr/bin/python3\n" % name)
    reports = os.path.join(directory, "reports-" + run_name)
    env = measure.ansible_env()
    env.update(settings)
    env.update({"ANSIBLE_STDOUT_CALLBACK": "default", "ANSIBLE_HOST_KEY_CHECKING": "false"})
    extra = {"bulwark_audit_report_dir": reports, "bulwark_audit_fail_severity": "none"}
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", inventory, "-f", str(forks),
               "bulwark.hardening.audit", "-e", json.dumps(extra)]
    host_ids = docker("ps", "-q", "--no-trunc", "--filter", "label=%s=1" % LABEL).split()
    hosts_before = hosts_cpu_s(host_ids)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    total_before, idle_before = measure.cpu_times()
    started = time.monotonic()
    completed = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    wall = time.monotonic() - started
    total_after, idle_after = measure.cpu_times()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    hosts_after = hosts_cpu_s(host_ids)
    if completed.returncode != 0:
        raise RuntimeError("audit.yml failed (%d): %s" % (completed.returncode, (completed.stdout + completed.stderr)[-3000:]))
    recap = completed.stdout[completed.stdout.rfind("PLAY RECAP"):]
    controller_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    json_reports = [name for name in os.listdir(reports) if name.endswith(".json")]
    with open(os.path.join(reports, json_reports[0]), "r", encoding="utf-8") as handle:
        report = json.load(handle)
    machine_busy_s = ((total_after - total_before) - (idle_after - idle_before)) / float(os.sysconf("SC_CLK_TCK"))
    hosts_cpu = round(hosts_after - hosts_before, 1) if hosts_before is not None and hosts_after is not None else None
    # What the audit cost the hosts: their CPU over the run less what they use idle over the same time.
    module_cpu = (hosts_after - hosts_before - idle_rate * wall) / len(names) if hosts_cpu is not None and idle_rate is not None else None
    return {
        "hosts_idle_cpu_s": round(idle_rate * wall, 1) if idle_rate is not None else None,
        "module_cpu_per_host_s": round(module_cpu, 3) if module_cpu is not None else None,
        "machine_busy_cpu_s": round(machine_busy_s, 1), "hosts_cpu_s": hosts_cpu,
        # the outer Docker Engine serving the `docker exec` calls, and everything else on the machine
        "rest_cpu_s": round(machine_busy_s - controller_cpu - (hosts_cpu or 0), 1) if hosts_cpu is not None else None,
        "run": run_name, "forks": forks, "settings": settings, "hosts": len(names), "wall_s": round(wall, 1),
        "controller_cpu_s": round(controller_cpu, 1), "controller_cpu_per_host_s": round(controller_cpu / len(names), 2),
        "largest_controller_process_mb": round(after.ru_maxrss / 1024.0, 1),
        "machine_cpu_busy_percent": round(100.0 * (1 - (idle_after - idle_before) / float(total_after - total_before)), 1),
        "hosts_audited": sum(1 for host in report["hosts"] if host["status"] != "missing"),
        "findings_in_report": sum(len(host["findings"]) for host in report["hosts"]),
        "recap_ok": recap.count("failed=0"),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--containers", type=int, default=4, help="containers running in each host")
    parser.add_argument("--forks", type=int, default=50)
    parser.add_argument("--runs", default="cold,warm", help="comma-separated run names (see the docstring)")
    parser.add_argument("--idle-seconds", type=float, default=20, help="how long the idle hosts' CPU use is measured")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--json")
    args = parser.parse_args()
    names = host_names(args.hosts)
    measure.ensure_farm()
    results = []
    previous_limit = raise_inotify_limit(args.hosts)
    try:
        if not (args.reuse and len(running_hosts()) == args.hosts):
            remove_fleet()
            started = time.monotonic()
            start_fleet(args.hosts, args.containers)
            print("started %d hosts in %.0f s" % (args.hosts, time.monotonic() - started), flush=True)
        busy = measure.wait_for_quiet(limit_s=120)
        idle_rate = hosts_idle_rate(docker("ps", "-q", "--no-trunc", "--filter", "label=%s=1" % LABEL).split(), args.idle_seconds)
        print("idle hosts use %s CPU seconds per second" % (round(idle_rate, 3) if idle_rate is not None else "unknown"), flush=True)
        with tempfile.TemporaryDirectory(prefix="bulwark-fleet-") as directory:
            for run_name in args.runs.split(","):
                results.append(run_audit(directory, names, run_name, args.forks, idle_rate))
                print(json.dumps(results[-1]), flush=True)
    finally:
        if not args.keep:
            print("removed %d hosts" % remove_fleet(), flush=True)
            restore_inotify_limit(previous_limit)
    figures = {"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "machine": measure.machine(), "hosts": args.hosts,
               "containers_per_host": args.containers, "background_cpu_busy_percent": busy,
               "hosts_idle_cpu_per_s": round(idle_rate, 3) if idle_rate is not None else None, "runs": results}
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(figures, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
