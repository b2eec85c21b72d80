"""Every boolean and integer variable of every role, given with -e, plans what its typed value plans.

`-e name=value` hands Ansible strings ('false', '0', '5'). Two real check-mode
runs of playbooks/harden.yml and playbooks/remediate.yml (one ansible-playbook
call each) against a throwaway target: one with every such variable as a JSON
-e (typed), one with the same values as key=value -e (strings; booleans spelt
true/false for half of them and 1/0 for the other half). Both must succeed and
plan the same: the same changed, skipped and ok tasks, the same daemon.json
diff, the same remediation plan. The values are the defaults except for
booleans turned the other way where that keeps the run meaningful (a string
'false' is true in Jinja, so an unconverted read shows there) and counts that
differ from their defaults.

The target is an instance of the Molecule image, started exactly as
molecule/default/molecule.yml starts it, with one workload container in its own
dockerd for remediate.yml; it is removed at the end, whatever happens.
tests/unit/test_extra_var_strings.py checks the same class statically.
"""

import json
import os

import pytest
import yaml

from ansible_collections.bulwark.hardening.tests.integration.images import docker_api
from ansible_collections.bulwark.hardening.tests.integration.instances import TOP, check_in, instance, run_playbooks, write_inventory

pytestmark = pytest.mark.integration

LABEL = "bulwark.it.extra-var-strings"
PLAYBOOKS = ["harden.yml", "remediate.yml"]
ROLES = ("host", "docker_daemon", "containers")

# Values other than the defaults. Booleans that default to true are turned off
# where the run still plans the areas that matter (daemon.json, the workload's
# fixes); defaults that are false stay false, which a bare read gets wrong.
VALUES = {
    "host_install_packages": False,
    "host_mounts_enabled": False,
    "host_basics_age_existing_accounts": False,
    "host_basics_time_sync": False,
    "host_basics_apparmor": False,
    "docker_daemon_userns_enabled": False,
    "docker_daemon_seccomp_enabled": False,
    "docker_daemon_content_trust_enabled": False,
    "docker_daemon_log_max_file": 3,
    "docker_daemon_restart_timeout": 90,
    "docker_daemon_userns_subid_count": 70000,
    "containers_recreate_enabled": True,
    "containers_grace_period": 7,
    "containers_health_timeout": 100,
}
# The playbooks' own typed variable (they hand it to every role's *_cis_level).
PLAYBOOK_VALUES = {"bulwark_cis_level": 2}

# A workload for remediate.yml, made from the target's static busybox as molecule/resources/converge.yml does.
WORKLOAD = """set -eu
d=$(mktemp -d); mkdir -p "$d/bin"; cp /bin/busybox "$d/bin/"; ln -s busybox "$d/bin/sh"; ln -s busybox "$d/bin/sleep"
tar -C "$d" -c . | docker import - bwev-workload:latest >/dev/null; rm -rf "$d"
docker run -d --name bwev-workload --restart no bwev-workload:latest sleep 1000000 >/dev/null
"""


def typed_variables():
    """{name: default} of every bool and int option of every role."""
    found = {}
    for role in ROLES:
        with open(os.path.join(TOP, "roles", role, "meta", "argument_specs.yml"), encoding="utf-8") as handle:
            options = yaml.safe_load(handle)["argument_specs"]["main"]["options"]
        found.update((name, spec["default"]) for name, spec in options.items() if spec.get("type") in ("bool", "int"))
    return found


def chosen_values():
    values = typed_variables()
    assert set(VALUES) <= set(values), "not a bool or int role variable: %s" % sorted(set(VALUES) - set(values))
    values.update(VALUES)
    values.update(PLAYBOOK_VALUES)
    return values


def as_strings(values):
    """key=value -e arguments: booleans as true/false and 1/0 alternately, integers as digits."""
    arguments = []
    for index, (name, value) in enumerate(sorted(values.items())):
        if isinstance(value, bool):
            text = ("true" if value else "false") if index % 2 == 0 else ("1" if value else "0")
        else:
            text = str(value)
        arguments += ["-e", "%s=%s" % (name, text)]
    return arguments


@pytest.fixture(scope="module")
def target():
    """The name of a running instance of the Molecule image that runs one workload in its own dockerd."""
    with instance("bwev-extra-vars-", LABEL) as name:
        check_in(docker_api(timeout=120), name, WORKLOAD)
        yield name


def run_check(target, tmp_path, extra_arguments):
    """One ansible-playbook run of harden.yml then remediate.yml in check mode with diff; the json callback's output."""
    run = run_playbooks(write_inventory(target, tmp_path), PLAYBOOKS, ["--check", "--diff"] + extra_arguments)
    assert run.returncode == 0 and not run.failures(target), (run.returncode, run.failures(target), run.stderr[-3000:])
    print("%s: %.1f s" % (" ".join(extra_arguments)[:80], run.seconds))
    return run.outputs


def plan(outputs, target):
    """What a run planned: each task's outcome in order, the daemon.json diff, the remediation summary, the counts."""
    outcomes, daemon_json_diff, remediation = [], None, None
    for play in [play for output in outputs for play in output["plays"]]:
        for task in play["tasks"]:
            result = task["hosts"].get(target)
            if result is None:
                continue
            outcome = "skipped" if result.get("skipped") else "changed" if result.get("changed") else "ok"
            outcomes.append((play["play"]["name"], task["task"]["name"], outcome))
            if result.get("action") == "bulwark.hardening.daemon_config":
                daemon_json_diff = result.get("diff")
            if task["task"]["name"].endswith("Remediate | Fixed, still failing and skipped, with the reasons"):
                remediation = result.get("msg")
    counts = [{key: output["stats"][target][key] for key in ("ok", "changed", "skipped", "failures", "unreachable")}
              for output in outputs]
    return {"tasks": outcomes, "daemon_json_diff": daemon_json_diff, "remediation": remediation, "counts": counts}


def test_string_extra_vars_plan_what_typed_ones_plan(target, tmp_path):
    values = chosen_values()
    typed = plan(run_check(target, tmp_path, ["-e", json.dumps(values)]), target)
    strings = plan(run_check(target, tmp_path, as_strings(values)), target)

    # The runs planned something worth comparing: daemon.json with the chosen values, fixes for the workload.
    after = json.loads(typed["daemon_json_diff"]["after"])
    assert after["icc"] is False and after["live-restore"] is True and after["log-opts"]["max-file"] == "3"
    assert "userns-remap" not in after and "seccomp-profile" not in after
    assert all(counts["changed"] > 0 for counts in typed["counts"]) and "bwev-workload" in json.dumps(typed["remediation"])

    assert strings == typed
