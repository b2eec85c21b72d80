"""A sliced audit run as AWX runs one, merged into one fleet report (issue 22, AWX at fleet size).

AWX runs a sliced job template as several ansible-runner jobs, each over its
part of the inventory, all with the same run group (the workflow job's id).
Here: audit.yml through ansible-runner three times, over three disjoint
inventories of local-connection hosts that audit this machine's Docker Engine
(one container of our own, bulwark-test/sleeper, is what the container and
image audits look at; one host of the third slice is unreachable), with one
bulwark_audit_run_group, writing into one report directory. Then
playbooks/merge_reports.yml, also through ansible-runner, as the workflow's
last node: its figures must be the sums of the slices', merging again must
write the same files and report no change, and reports of another group or of
another version must be refused by name. The container is removed at the end,
whatever happens.
"""

import json
import os
import shutil
import sys
import uuid
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.bulwark.hardening.tests.integration.adhoc import ansible_env, run_playbook
from ansible_collections.bulwark.hardening.tests.integration.images import docker_api, running_sleeper, SLEEPER_REF
from ansible_collections.bulwark.hardening.plugins.plugin_utils.report import model

ansible_runner = pytest.importorskip("ansible_runner")

pytestmark = pytest.mark.integration

DOCKER_HOST = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
NAME = "bulwark-it-fleet-merge"
LABEL = "bulwark.it.fleet-merge"
SLICES = (("fleet-a", "fleet-b"), ("fleet-c", "fleet-d"), ("fleet-e", "fleet-gone"))
UNREACHABLE = "fleet-gone"
MERGE_TASK = "Merge the slices' reports of run group %s"

MERGE_PLAYBOOK = """
- name: Merge named reports
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Merge
      bulwark.hardening.compliance_report:
        merge: "{{ merge_paths }}"
        group: "{{ merge_group | default(omit) }}"
        dest: "{{ merge_dest }}"
"""


@pytest.fixture(scope="module")
def container():
    with running_sleeper(docker_api(timeout=30), NAME, LABEL):
        yield NAME


def _inventory(path, hosts):
    lines = ["[fleet]"]
    for host in hosts:
        if host == UNREACHABLE:  # nothing listens on port 9: the host is unreachable at once
            lines.append("%s ansible_connection=ssh ansible_host=127.0.0.1 ansible_port=9 ansible_ssh_common_args='-o ConnectTimeout=2'" % host)
        else:
            lines.append("%s ansible_connection=local" % host)
    lines += ["", "[fleet:vars]", "ansible_python_interpreter=%s" % sys.executable, "ansible_become=false"]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def _runner_env():
    """The collection from this checkout (the tests' symlink farm), the venv's ansible, as adhoc.ansible_env()."""
    env = ansible_env()
    keep = ("ANSIBLE_COLLECTIONS_PATH", "PATH", "ANSIBLE_LOCALHOST_WARNING", "ANSIBLE_INVENTORY_UNPARSED_WARNING", "HOME")
    return dict((key, env[key]) for key in keep if key in env)


def run_job(tmp_path, name, playbook, extravars, inventory=None):
    """One job as AWX runs it: ansible-runner with a private data dir; (runner, {task name: [its result, failed saying whether
    it failed]}, the artifacts set_stats published)."""
    private = tmp_path / ("runner-" + name)
    private.mkdir()
    runner = ansible_runner.run(private_data_dir=str(private), playbook=playbook, inventory=inventory, quiet=True,
                                envvars=_runner_env(), extravars=extravars)
    results = {}
    for event in runner.events:
        data = event.get("event_data") or {}
        if event.get("event") in ("runner_on_ok", "runner_on_failed") and "res" in data:
            results.setdefault(data.get("task"), []).append(dict(data["res"], failed=event["event"] == "runner_on_failed"))
    stats = [event for event in runner.events if event.get("event") == "playbook_on_stats"]
    assert len(stats) == 1, runner.stdout.read()[-3000:]
    return runner, results, stats[0]["event_data"].get("artifact_data") or {}


def _read(path):
    with open(path, "rb") as handle:
        return handle.read()


@pytest.fixture(scope="module")
def fleet_run(container, tmp_path_factory):
    """Three slices of one run group audited into one directory, merged by merge_reports.yml."""
    tmp_path = tmp_path_factory.mktemp("fleet")
    reports = tmp_path / "reports"
    group = "it-%s" % uuid.uuid4().hex[:8]
    common = {"bulwark_audit_report_dir": str(reports), "bulwark_audit_label": "weekly", "bulwark_audit_run_group": group,
              "bulwark_audit_fail_severity": "none", "bulwark_audit_docker_host": DOCKER_HOST,
              "bulwark_audit_containers": [container], "bulwark_audit_images": [SLEEPER_REF]}
    slices = []
    for number, hosts in enumerate(SLICES):
        inventory = _inventory(tmp_path / ("slice-%d.ini" % number), hosts)
        runner, results, artifacts = run_job(tmp_path, "slice-%d" % number, "bulwark.hardening.audit", common, inventory)
        written = results["Report the compliance of every host (files into bulwark_audit_report_dir when set)"][0]["files"]
        with open(written["json"]) as handle:
            slices.append({"runner": runner, "report": json.load(handle), "files": written, "artifacts": artifacts})
    merge_vars = {"bulwark_audit_report_dir": str(reports), "bulwark_audit_run_group": group, "bulwark_audit_fail_severity": "none"}
    merged = run_job(tmp_path, "merge", "bulwark.hardening.merge_reports", merge_vars)
    return {"tmp_path": tmp_path, "reports": reports, "group": group, "slices": slices, "merge": merged, "merge_vars": merge_vars}


def _merge_result(results, group):
    (result,) = results[MERGE_TASK % group]
    return result


def test_each_slice_is_one_job_of_the_group(fleet_run):
    for hosts, entry in zip(SLICES, fleet_run["slices"]):
        runner, report = entry["runner"], entry["report"]
        expected = ("failed" if UNREACHABLE in hosts else "successful")
        assert runner.status == expected, runner.stdout.read()[-3000:]
        assert [host["name"] for host in report["hosts"]] == sorted(hosts)
        assert report["run"]["group"] == fleet_run["group"] and report["version"] == model.VERSION
        assert entry["artifacts"]["bulwark_audit_run_group"] == fleet_run["group"], "published for the workflow's next node"
        assert set(entry["artifacts"]["bulwark_compliance"]) == set(hosts), "a slice publishes its own hosts only"
    ids = [entry["report"]["run"]["id"] for entry in fleet_run["slices"]]
    assert len(set(ids)) == 3, "one file per slice, even when two start in the same second"


def test_the_fleet_report_counts_every_slice(fleet_run):
    runner, results, artifacts = fleet_run["merge"]
    result = _merge_result(results, fleet_run["group"])
    with open(result["files"]["json"]) as handle:
        fleet = json.load(handle)
    slices = [entry["report"] for entry in fleet_run["slices"]]
    summary = fleet["summary"]
    assert summary["hosts"] == sum(report["summary"]["hosts"] for report in slices) == 6
    assert summary["audited"] == sum(report["summary"]["audited"] for report in slices) == 5
    assert summary["missing"] == [UNREACHABLE]
    for status in model.STATUSES:
        assert summary["by_status"][status] == sum(report["summary"]["by_status"][status] for report in slices), status
    severities = set(severity for report in slices for severity in report["summary"]["fail_by_severity"])
    assert summary["fail_by_severity"] == dict((severity, sum(report["summary"]["fail_by_severity"].get(severity, 0) for report in slices))
                                               for severity in severities)
    assert summary["by_status"]["fail"] > 0 and summary["by_status"]["pass"] > 0, "the container fails some rules, passes others"
    by_host = dict((host["name"], host) for report in slices for host in report["hosts"])
    assert [host["name"] for host in fleet["hosts"]] == sorted(by_host)
    for host in fleet["hosts"]:
        for figure in ("status", "score", "cis_score", "image_score", "by_status", "by_section", "fail_by_severity", "findings"):
            assert host.get(figure) == by_host[host["name"]].get(figure), (host["name"], figure)
    for version, rules in fleet["rules"].items():
        assert set(rules) == set(rule for report in slices for rule in report["rules"].get(version, {}))
    run = fleet["run"]
    first = min(report["run"]["generated_at"] for report in slices)
    assert run["id"] == model.run_id(first, "weekly") + "-fleet-" + fleet_run["group"] and run["group"] == fleet_run["group"]
    assert run["generated_at"] == max(report["run"]["generated_at"] for report in slices)
    assert [(entry["id"], entry["hosts"]) for entry in run["slices"]] == sorted((report["run"]["id"], len(report["hosts"])) for report in slices)
    assert artifacts["bulwark_compliance"].keys() == by_host.keys(), "the merge publishes every host of the fleet"
    suites = ET.fromstring(_read(result["files"]["junit"])).findall("testsuite")
    assert set(suite.get("name").split(" ")[0] for suite in suites) == set(by_host)
    assert b"fleet-e" in _read(result["files"]["html"])


def test_the_merge_fails_the_workflow_for_the_missing_host_after_writing_the_report(fleet_run):
    runner, results, _artifacts = fleet_run["merge"]
    assert runner.status == "failed" and _merge_result(results, fleet_run["group"])["changed"] is True
    (failure,) = results["Fail when a host is missing or fails at or above none"]
    assert "missing: %s." % UNREACHABLE in failure["msg"] and "-weekly-fleet-%s.html" % fleet_run["group"] in failure["msg"]


def test_merging_again_writes_the_same_files_and_changes_nothing(fleet_run):
    first = _merge_result(fleet_run["merge"][1], fleet_run["group"])
    before = dict((kind, _read(path)) for kind, path in first["files"].items())
    _runner, results, _artifacts = run_job(fleet_run["tmp_path"], "merge-again", "bulwark.hardening.merge_reports", fleet_run["merge_vars"])
    again = _merge_result(results, fleet_run["group"])
    assert again["changed"] is False and again["files"] == first["files"]
    assert dict((kind, _read(path)) for kind, path in again["files"].items()) == before
    fleet_dir = os.path.dirname(first["files"]["json"])
    assert sorted(os.listdir(fleet_dir)) == sorted(os.path.basename(path) for path in first["files"].values())


@pytest.fixture(scope="module")
def merge_playbook(fleet_run):
    path = fleet_run["tmp_path"] / "merge.yml"
    path.write_text(MERGE_PLAYBOOK)
    return str(path)


def _refused(fleet_run, merge_playbook, name, paths):
    run = run_playbook(merge_playbook, {"merge_paths": paths, "merge_dest": str(fleet_run["tmp_path"] / name)})
    result = run.tasks()["Merge"]
    assert result.get("failed") is True and not os.path.exists(str(fleet_run["tmp_path"] / name)), "nothing written"
    return result["msg"]


@pytest.fixture(scope="module")
def foreign(fleet_run):
    """A copy of the first slice's report as another group's, and one as a version 1 report."""
    source = fleet_run["slices"][0]["files"]["json"]
    other = fleet_run["tmp_path"] / "elsewhere"
    other.mkdir(mode=0o750)
    made = {}
    for kind in ("group", "version"):
        with open(source) as handle:
            report = json.load(handle)
        if kind == "group":
            report["run"]["group"] = "another-run"
        else:
            report["version"] = 1
        path = other / ("bulwark-report-%s.json" % kind)
        path.write_text(json.dumps(report))
        os.chmod(str(path), 0o640)
        made[kind] = str(path)
    yield made
    shutil.rmtree(str(other))


def test_a_report_of_another_group_is_refused(fleet_run, foreign, merge_playbook):
    paths = [entry["files"]["json"] for entry in fleet_run["slices"][1:]] + [foreign["group"]]
    message = _refused(fleet_run, merge_playbook, "out-group", paths)
    assert "belongs to run group another-run" in message or "different run groups" in message, message
    assert "only the slices of one run are merged" in message and "bulwark-report-group.json" in message


def test_a_report_of_another_version_is_refused(fleet_run, foreign, merge_playbook):
    paths = [entry["files"]["json"] for entry in fleet_run["slices"][1:]] + [foreign["version"]]
    message = _refused(fleet_run, merge_playbook, "out-version", paths)
    assert "cannot merge %s: it is a version 1 report, and this collection merges version %d reports" % (foreign["version"], model.VERSION) in message


def test_a_directory_without_the_group_finds_nothing_and_says_where_it_looked(fleet_run):
    _runner, results, _artifacts = run_job(fleet_run["tmp_path"], "merge-unknown", "bulwark.hardening.merge_reports",
                                           dict(fleet_run["merge_vars"], bulwark_audit_run_group="no-such-run"))
    (result,) = results[MERGE_TASK % "no-such-run"]
    assert result["failed"] is True and "no report of run group no-such-run in %s" % fleet_run["reports"] in result["msg"]


def test_check_mode_says_whether_the_merge_would_write_and_writes_nothing(fleet_run, merge_playbook):
    files = _merge_result(fleet_run["merge"][1], fleet_run["group"])["files"]
    fleet_dir = os.path.dirname(files["json"])
    stamps = dict((name, os.stat(os.path.join(fleet_dir, name)).st_mtime_ns) for name in os.listdir(fleet_dir))
    variables = {"merge_paths": [str(fleet_run["reports"])], "merge_group": fleet_run["group"]}
    same = run_playbook(merge_playbook, dict(variables, merge_dest=fleet_dir), check=True).tasks()["Merge"]
    assert same.get("failed") is not True and same["changed"] is False and "nothing to write" in same["msg"], same
    assert dict((name, os.stat(os.path.join(fleet_dir, name)).st_mtime_ns) for name in os.listdir(fleet_dir)) == stamps
    elsewhere = str(fleet_run["tmp_path"] / "check-elsewhere")
    new = run_playbook(merge_playbook, dict(variables, merge_dest=elsewhere), check=True).tasks()["Merge"]
    assert new["changed"] is True and new["msg"].startswith("check mode: would write") and not os.path.exists(elsewhere)
