"""The CIS profile level against the real Docker Engine of this machine.

One container of our own (no memory limit, capabilities not dropped: it
fails 5.11, Level 1, and BW-008, Level 2), audited with level 1 and level 2
through the modules and through playbooks/audit.yml. Only that container is
selected (its name and a label no other container carries); it is removed
at the end, whatever happens. Image: bulwark-test/sleeper (images.py).
"""

import json
import os

import pytest

from ansible_collections.bulwark.hardening.tests.integration.adhoc import run_module, run_playbook
from ansible_collections.bulwark.hardening.tests.integration.images import docker_api, running_sleeper, SLEEPER_REF
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.findings import expand_all

pytestmark = pytest.mark.integration

DOCKER_HOST = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
NAME = "bulwark-it-cis-level"
LABEL = "bulwark.it.cis-level"
LABEL_FILTER = LABEL + "=1"
# Level 2 rules that every level 2 audit of this host reports (sections 1, 2 and BW), in the ids of CIS v1.8 (the
# default): user namespaces are 2.10 (v1.6's 2.9; v1.8's 2.9 is the Level 1 ulimit rule).
LEVEL_2_SEEN = {"1.1.3", "1.1.18", "2.10", "BW-008"}


@pytest.fixture(scope="module")
def container():
    api = docker_api(timeout=30)
    with running_sleeper(api, NAME, LABEL, host_config=api.create_host_config(read_only=True)) as container_id:
        yield container_id


def audit(level, **extra):
    args = {"docker_host": DOCKER_HOST, "scope": ["host", "daemon", "containers", "bulwark"], "name_filter": [NAME],
            "label_filter": [LABEL_FILTER], "report": "all", "level": level}
    args.update(extra)
    run = run_module("container_audit", args)
    assert run.returncode == 0 and not run.result.get("failed"), run.result.get("msg")
    return run.result


def rules(result, target=None):
    return set(finding["rule"] for finding in result["findings"] if target is None or finding["target"] == target)


@pytest.fixture(scope="module")
def audits(container):  # pylint: disable=unused-argument
    return audit(1), audit(2)


def test_level_2_rules_are_absent_at_level_1(audits):
    level_1, level_2 = audits
    assert LEVEL_2_SEEN <= rules(level_2)
    assert not rules(level_1) & LEVEL_2_SEEN
    assert all(finding["level"] == 1 for finding in expand_all(level_1))
    assert set(finding["level"] for finding in expand_all(level_2)) == {1, 2}
    assert rules(level_1) == set(finding["rule"] for finding in expand_all(level_2) if finding["level"] == 1)


def test_the_level_is_reported_and_the_counts_are_the_profiles(audits):
    level_1, level_2 = audits
    assert (level_1["summary"]["level"], level_2["summary"]["level"]) == (1, 2)
    assert level_1["summary"]["total"] == len(level_1["findings"]) < level_2["summary"]["total"]
    assert level_1["containers"] == level_2["containers"] == 1


def test_the_container_fails_5_11_at_both_levels_and_bw_008_only_at_level_2(audits):
    level_1, level_2 = audits
    failing = [set(finding["rule"] for finding in result["findings"] if finding["target"] == NAME and finding["status"] == "fail")
               for result in audits]
    assert "5.11" in failing[0] and "5.11" in failing[1]
    assert "BW-008" in failing[1] and "BW-008" not in failing[0]
    assert "BW-008" in level_2["summary"]["failed_rules"] and "BW-008" not in level_1["summary"]["failed_rules"]


def test_the_cis_version_names_the_rules_and_is_recorded(audits, container):  # pylint: disable=unused-argument
    v1_8 = audits[1]
    v1_6 = audit(2, cis_version="1.6", waivers=[{"rule": "2.9", "target": "daemon", "reason": "v1.6 id of userns"}])
    assert (v1_6["summary"]["cis_version"], v1_8["summary"]["cis_version"]) == ("1.6", "1.8")

    def ids_of(result, title):
        return [finding["rule"] for finding in expand_all(result) if finding["title"] == title]
    assert ids_of(v1_8, "Enable user namespace support") == ["2.10"]
    assert ids_of(v1_6, "Enable user namespace support") == ["2.9"]
    assert ids_of(v1_8, "Ensure devicemapper storage driver is not used") == ["2.7"]  # not evaluated under 1.6
    assert ids_of(v1_6, "Ensure devicemapper storage driver is not used") == []
    assert v1_8["summary"]["total"] == v1_6["summary"]["total"] + 1
    # The waiver names v1.6's id under 1.6: user namespaces are waived, when they fail here.
    assert all(finding["status"] in ("pass", "waived") for finding in v1_6["findings"] if finding["rule"] == "2.9")


def test_a_waiver_of_a_level_2_rule_is_valid_at_level_1(container):  # pylint: disable=unused-argument
    result = audit(1, scope=["containers", "bulwark"], waivers=[{"rule": "BW-008", "target": NAME, "reason": "Level 2 only"}])
    assert "BW-008" not in rules(result) and result["summary"]["by_status"]["waived"] == 0


def test_image_audit_level_1_leaves_out_the_level_2_image_rules(container, tmp_path):  # pylint: disable=unused-argument
    results = {}
    for level in (1, 2):
        run = run_module("image_audit", {"docker_host": DOCKER_HOST, "images": [SLEEPER_REF], "layer_scan": False,
                                         "cache_dir": str(tmp_path / "cache"), "report": "all", "level": level})
        assert run.returncode == 0 and not run.result.get("failed"), run.result.get("msg")
        results[level] = run.result
    assert "BW-005" in rules(results[2]) and "BW-005" not in rules(results[1])  # digest pinning, Level 2
    assert (results[1]["summary"]["level"], results[2]["summary"]["level"]) == (1, 2)


def test_remediation_at_level_1_plans_no_level_2_fix(container):  # pylint: disable=unused-argument
    run = run_module("container_remediate", {
        "docker_host": DOCKER_HOST, "containers": [NAME], "labels": [LABEL_FILTER], "rules": ["5.11", "BW-008"],
        "policy": {"memory": "64m", "recreate": True, "cap_add": []}, "level": 1}, check=True)
    assert run.returncode == 0 and not run.result.get("failed"), run.result.get("msg")
    assert run.result["summary"]["level"] == 1
    assert [(entry["name"], entry["fixes"]) for entry in run.result["containers"]] == [(NAME, ["5.11"])]
    assert "BW-008" not in json.dumps(run.result["fixed"] + run.result["still_failing"] + run.result["not_fixed"])


def test_audit_playbook_with_only_the_container_audit_tag_still_reports_and_fails(container, tmp_path):  # pylint: disable=unused-argument
    reports = tmp_path / "reports"
    run = run_playbook("bulwark.hardening.audit", tags=["container_audit"], extra_vars={
        "bulwark_cis_level": 1, "bulwark_cis_version": 1.6,  # a YAML number, as an unquoted 1.6 would be
        "bulwark_audit_scope": ["containers", "bulwark"], "bulwark_audit_containers": [NAME],
        "bulwark_audit_docker_host": DOCKER_HOST, "bulwark_audit_report_dir": str(reports), "bulwark_audit_label": "level one",
        "bulwark_audit_fail_severity": "low"})
    tasks = run.tasks()
    assert "image_audit" not in tasks["Audit the host, its daemon and files, images and containers in one pass"]  # not selected
    assert tasks["Audit the host, its daemon and files, images and containers in one pass"]["summary"]["level"] == 1
    assert tasks["Audit the host, its daemon and files, images and containers in one pass"]["summary"]["cis_version"] == "1.6"
    assert "Publish the per-host summary for AWX workflows" in tasks
    failed = tasks["Show the compliance of each host, failing it at or above low"]
    assert failed["summary_lines"][0].startswith("== level one of localhost (CIS Docker Benchmark v1.6, Level 1 profile): score")
    assert failed.get("failed") is True and "5.11 %s" % NAME in failed["msg"] and "BW-008" not in failed["msg"]
    assert run.returncode == 2
    written = tasks["Report the compliance of every host (files into bulwark_audit_report_dir when set)"]["files"]
    with open(written["json"]) as handle:
        report = json.load(handle)
    host = report["hosts"][0]
    assert (host["name"], host["level"], report["version"]) == ("localhost", 1, 2)
    assert host["findings"] and all(report["rules"][host["cis_version"]][finding["rule"]]["level"] == 1 for finding in host["findings"])
    with open(written["html"]) as handle:
        assert "CIS v1.6 Level 1 profile" in handle.read()
