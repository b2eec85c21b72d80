"""harden.yml (host and docker_daemon roles) on a fresh emulated Debian VM: first and second run.

    .venv/bin/python benchmarks/harden_vm.py [--suite bookworm|trixie] [--json FILE]

Boots a throw-away VM from the Molecule scenario's image (built or reused by
molecule/resources/vm/build-image.sh, booted by vm.sh), then runs
`ansible-playbook bulwark.hardening.harden` on it twice, as the image's sudo
user, with the role defaults (plus host_ssh_allow_groups: [sudo], the group
that user is in). For each run it reports the wall time of the command, the
number of tasks, how many of them reached the host (round trips: every
executed task but set_fact, debug, assert and the argument checks, which run
on the controller), and changed/failed counts. The VM is stopped at the end,
also on failure or Ctrl-C. Targets (docs/performance.md): first run under
3 minutes, second run (changed=0) under 90 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VM_TOOLS = os.path.join(TOP, "molecule", "resources", "vm")
# Actions that run on the controller: no round trip to the host.
CONTROLLER_ACTIONS = {"set_fact", "debug", "assert", "validate_argument_spec", "meta", "include_tasks",
                      "import_tasks", "fail"}


def vm_start(suite, name):
    image = subprocess.run([os.path.join(VM_TOOLS, "build-image.sh"), suite], check=True,
                           capture_output=True, text=True).stdout.strip().splitlines()[-1]
    started = subprocess.run([os.path.join(VM_TOOLS, "vm.sh"), "start", name, image, "2048", "2"],
                             check=True, capture_output=True, text=True)
    return json.loads(started.stdout.strip().splitlines()[-1])


def ssh_argv(vm):
    return ["ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10", "-i", vm["identity_file"], "-p", str(vm["port"]),
            "%s@%s" % (vm["user"], vm["address"])]


def wait_for_ssh(vm, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if subprocess.run(ssh_argv(vm) + ["true"], capture_output=True, check=False, timeout=30).returncode == 0:
            return
        time.sleep(2)
    raise SystemExit("no SSH login into %s within %d s" % (vm["instance"], timeout))


def write_inventory(vm, directory):
    path = os.path.join(directory, "inventory.json")
    host = dict(ansible_host=vm["address"], ansible_port=vm["port"], ansible_user=vm["user"],
                ansible_ssh_private_key_file=vm["identity_file"], ansible_python_interpreter="/usr/bin/python3",
                ansible_ssh_common_args="-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null",
                host_ssh_allow_groups=["sudo"])
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({"all": {"hosts": {vm["instance"]: host}}}, handle)
    return path


def count_tasks(report):
    """(tasks, round trips, changed, failed) from the json callback's report."""
    tasks = trips = changed = failed = 0
    for play in report["plays"]:
        for task in play["tasks"]:
            for result in task["hosts"].values():
                tasks += 1
                changed += bool(result.get("changed"))
                failed += bool(result.get("failed"))
                if not result.get("skipped") and result.get("action", "").split(".")[-1] not in CONTROLLER_ACTIONS:
                    trips += 1
    return tasks, trips, changed, failed


def harden(inventory, environment):
    started = time.time()
    result = subprocess.run(["ansible-playbook", "-i", inventory, "bulwark.hardening.harden"], env=environment,
                            capture_output=True, text=True, check=False)
    wall = time.time() - started
    try:
        report = json.loads(result.stdout)
    except ValueError:
        raise SystemExit("ansible-playbook printed no JSON report:\n%s\n%s" % (result.stdout[-3000:], result.stderr[-3000:]))
    tasks, trips, changed, failed = count_tasks(report)
    return dict(wall_s=round(wall, 1), rc=result.returncode, tasks=tasks, round_trips=trips, changed=changed,
                failed=failed)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="bookworm", choices=["bookworm", "trixie"])
    parser.add_argument("--json", help="also write the figures to this file")
    options = parser.parse_args()
    environment = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json", ANSIBLE_GATHERING="explicit",
                       ANSIBLE_PIPELINING="true", ANSIBLE_HOST_KEY_CHECKING="false",
                       ANSIBLE_SSH_ARGS="-o ControlMaster=auto -o ControlPersist=300s",
                       ANSIBLE_COLLECTIONS_PATH=os.path.join(TOP, ".cache", "collections"))
    name = "bulwark-bench-%s" % options.suite
    figures = dict(date=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), suite=options.suite,
                   machine="%s, %d cores, Python %s" % (platform.platform(), os.cpu_count(), platform.python_version()))
    try:
        vm = vm_start(options.suite, name)
        figures["accel"] = vm["accel"]
        wait_for_ssh(vm)
        with tempfile.TemporaryDirectory() as directory:
            inventory = write_inventory(vm, directory)
            figures["first_run"] = harden(inventory, environment)
            figures["second_run"] = harden(inventory, environment)
    finally:
        subprocess.run([os.path.join(VM_TOOLS, "vm.sh"), "stop", name], check=False, capture_output=True)
    print(json.dumps(figures, indent=2))
    if options.json:
        with open(options.json, "w", encoding="utf-8") as handle:
            json.dump(figures, handle, indent=2)
    return 0 if figures["first_run"]["rc"] == 0 and figures["second_run"]["rc"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
