# -*- coding: utf-8 -*-
"""The merge of one sliced run's reports into a fleet report (plugins/plugin_utils/report/merge.py).

Slices are reports model.build_report() makes of disjoint parts of one set of hosts, marked with one run group; the
fleet report of them must be what one unsliced run of every host reports (hosts, rules, summary), the same document
whatever the order or repetition of its inputs, and every input it cannot honestly merge is refused by name.
"""

from __future__ import annotations

import copy
import json
import os
import xml.etree.ElementTree as ET

import pytest

import schema_check
from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.report_fixtures import host_results
from ansible_collections.bulwark.hardening.plugins.plugin_utils.report import files, merge, model

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))))
GROUP = "4711"
TIMES = ("2026-11-26T05:36:56Z", "2026-11-26T05:36:56Z", "2026-11-26T05:37:40Z")


def fleet():
    """{host: results} of seven hosts: some fail 5.11, one was audited under CIS v1.6, one also fails 4.5 (a rule
    no other host names), one is missing (its audit failed)."""
    hosts = {}
    for number in range(6):
        name = "node-%d" % number
        hosts[name] = host_results(name, failing_memory=number % 2 == 0)
    hosts["node-1"]["container_audit"]["summary"]["cis_version"] = "1.6"
    extra = copy.deepcopy(hosts["node-3"]["container_audit"]["findings"][0])
    extra.update(rule="4.5", title="Ensure Content trust for Docker is Enabled", section="4", target="host", status="fail",
                 severity="medium", evidence="DOCKER_CONTENT_TRUST is not set")
    hosts["node-3"]["container_audit"]["findings"].append(extra)
    hosts["node-3"]["container_audit"]["summary"]["by_status"]["fail"] += 1
    hosts["node-3"]["container_audit"]["summary"]["by_section"]["4"] = dict.fromkeys(model.STATUSES, 0)
    hosts["node-3"]["container_audit"]["summary"]["by_section"]["4"]["fail"] = 1
    hosts["gone"] = {"container_audit": {"failed": True, "msg": "unreachable"}}
    return hosts


SLICES = (("node-0", "node-3", "gone"), ("node-1", "node-4"), ("node-2", "node-5"))


def slice_reports(group=GROUP, label="weekly", version="0.1.0", parts=SLICES):
    """[(file name, report)] of each slice of fleet(), each a slice of group."""
    results = fleet()
    named = []
    for number, names in enumerate(parts):
        report = model.build_report(dict((name, results[name]) for name in names), label, TIMES[number % len(TIMES)],
                                    check_mode=True, collection_version=version)
        report = json.loads(model.to_json(merge.set_group(report, group)))  # as read back from its file
        named.append(("slice-%d.json" % number, report))
    return named


@pytest.fixture(scope="module")
def whole():
    """The report one unsliced run of every host makes."""
    return json.loads(model.to_json(model.build_report(fleet(), "weekly", TIMES[2], check_mode=True, collection_version="0.1.0")))


@pytest.fixture(scope="module")
def fleet_report():
    return merge.merge_reports(slice_reports(), GROUP)


# --- a fleet report is the unsliced run's ------------------------------------------------------------------

def test_the_fleet_report_is_what_one_unsliced_run_reports(fleet_report, whole):
    assert fleet_report["hosts"] == whole["hosts"]
    assert fleet_report["rules"] == whole["rules"] and set(whole["rules"]) == {"1.6", "1.8"}
    assert "4.5" in fleet_report["rules"]["1.8"] and "4.5" not in fleet_report["rules"]["1.6"]
    assert fleet_report["summary"] == whole["summary"]
    assert list(fleet_report) == list(whole) and fleet_report["schema"] == model.SCHEMA and fleet_report["version"] == model.VERSION


def test_the_fleet_counts_are_the_sums_of_the_slices_counts(fleet_report):
    slices = [report for _name, report in slice_reports()]
    summary = fleet_report["summary"]
    assert summary["hosts"] == sum(len(report["hosts"]) for report in slices) == 7
    assert summary["audited"] == sum(report["summary"]["audited"] for report in slices) == 6
    assert summary["missing"] == ["gone"]
    for status in model.STATUSES:
        assert summary["by_status"][status] == sum(report["summary"]["by_status"][status] for report in slices)
    for severity in summary["fail_by_severity"]:
        assert summary["fail_by_severity"][severity] == sum(report["summary"]["fail_by_severity"].get(severity, 0) for report in slices)
    by_host = dict((host["name"], host) for report in slices for host in report["hosts"])
    assert [host["name"] for host in fleet_report["hosts"]] == sorted(by_host)
    assert all(host == by_host[host["name"]] for host in fleet_report["hosts"]), "each host's figures as its slice has them"
    assert model.stats(fleet_report) == dict(item for report in slices for item in model.stats(report).items())


def test_the_fleet_run_names_its_group_and_slices(fleet_report):
    run = fleet_report["run"]
    slices = dict(slice_reports())
    assert run["id"] == "20261126T053656Z-weekly-fleet-4711" and run["group"] == GROUP and run["label"] == "weekly"
    assert run["generated_at"] == max(TIMES) and run["check_mode"] is True and run["collection_version"] == "0.1.0"
    assert run["slices"] == sorted(({"id": report["run"]["id"], "hosts": len(report["hosts"])} for report in slices.values()),
                                   key=lambda entry: entry["id"])
    assert [entry["hosts"] for entry in run["slices"]] != [] and sum(entry["hosts"] for entry in run["slices"]) == 7
    assert model.file_names(fleet_report)["json"] == "bulwark-report-20261126T053656Z-weekly-fleet-4711.json"
    late = merge.merge_reports(slice_reports(parts=SLICES[:2]), GROUP)
    assert late["run"]["id"] == run["id"], "the first slice's time: the same files when a late slice is merged too"


def test_the_same_slices_in_any_order_or_twice_give_the_same_document(fleet_report):
    named = slice_reports()
    assert merge.merge_reports(list(reversed(named))) == fleet_report, "the group is the one every slice carries"
    twice = merge.merge_reports(named + [("copy-of-slice-0.json", copy.deepcopy(named[0][1]))], GROUP)
    assert model.to_json(twice) == model.to_json(fleet_report)


def test_a_group_that_is_a_path_or_long_gets_a_safe_unique_file_name():
    named = slice_reports(group="../../etc/x")
    report = merge.merge_reports(named)
    assert report["run"]["group"] == "../../etc/x"
    assert report["run"]["id"].startswith("20261126T053656Z-weekly-fleet-etc-x-")
    assert files.SAFE_NAME.match(model.file_names(report)["json"])
    assert merge.fleet_run_id("etc/x", "weekly", TIMES[0]) != merge.fleet_run_id("etc-x", "weekly", TIMES[0])


def test_the_collection_version_is_null_when_the_slices_differ():
    named = slice_reports()
    named[1][1]["run"]["collection_version"] = "0.1.1"
    assert merge.merge_reports(named, GROUP)["run"]["collection_version"] is None


# --- slices --------------------------------------------------------------------------------------------

def test_slices_of_one_second_and_label_get_different_run_ids():
    first, second = slice_reports(parts=SLICES[:2])
    assert first[1]["run"]["generated_at"] == second[1]["run"]["generated_at"]
    ids = [report["run"]["id"] for _name, report in (first, second)]
    assert ids[0] != ids[1] and all(run_id.startswith("20261126T053656Z-weekly-") for run_id in ids)
    assert ids[0] == "20261126T053656Z-weekly-" + merge.hosts_digest(["node-0", "node-3", "gone"])
    assert all(report["run"]["group"] == GROUP for _name, report in (first, second))


@pytest.mark.parametrize("group, problem", [("", "non-empty"), ("  ", "non-empty"), (None, "non-empty"), (4711, "non-empty"),
                                            ("x" * 101, "at most 100"), ("a\x1bb", "control character")])
def test_a_group_that_cannot_name_a_run_is_refused(group, problem):
    assert problem in merge.group_problem(group)
    report = model.build_report({"h": host_results("h")}, "weekly", TIMES[0])
    with pytest.raises(merge.MergeError, match=problem):
        merge.set_group(report, group)
    assert merge.group_problem("4711") is None and merge.group_problem("weekly run #12 (Mon)") is None


# --- refusals --------------------------------------------------------------------------------------------

def _refused(named, match, group=GROUP):
    with pytest.raises(merge.MergeError, match=match) as caught:
        merge.merge_reports(named, group)
    return str(caught.value)


def test_reports_of_another_group_are_refused():
    named = slice_reports()
    other = slice_reports(group="4712")[1]
    message = _refused([named[0], ("other.json", other[1])], r"other\.json belongs to run group 4712, not 4711")
    assert "only the slices of one run are merged" in message
    _refused([named[0], ("other.json", other[1])], r"different run groups \(4711 in slice-0\.json, 4712 in other\.json\)", group=None)
    _refused(named, "belongs to run group 4711, not 4712", group="4712")


def test_a_report_without_a_group_is_refused():
    named = slice_reports()
    del named[2][1]["run"]["group"]
    _refused(named, r"cannot merge slice-2\.json: it has no run group \(run\.group\)")


@pytest.mark.parametrize("version, shown", [(1, "1"), (3, "3"), ("2", "'2'"), (None, "None"), (True, "True")])
def test_a_report_of_another_version_is_refused(version, shown):
    named = slice_reports()
    named[1][1]["version"] = version
    _refused(named, r"cannot merge slice-1\.json: it is a version %s report, and this collection merges version %d reports"
             % (shown, model.VERSION))


def test_a_document_of_another_schema_is_refused():
    named = slice_reports()
    named[0][1]["schema"] = "someone/else"
    _refused(named, r"cannot merge slice-0\.json: it is not a bulwark\.hardening/compliance-report document")
    _refused([("list.json", [1, 2])], "it is not a bulwark.hardening/compliance-report document")


def test_a_fleet_report_is_not_a_slice(fleet_report):
    _refused(slice_reports() + [("fleet.json", fleet_report)], r"cannot merge fleet\.json: it is a merged fleet report")


def test_the_same_host_twice_with_different_content_is_refused():
    named = slice_reports()
    twin = copy.deepcopy(named[1][1]["hosts"][0])
    twin["score"] = 12.5
    named[2][1]["hosts"].append(twin)
    message = _refused(named, r"host node-1 is in slice-1\.json and in slice-2\.json with different content")
    assert "was one slice run again?" in message


def test_a_slice_run_again_gives_the_same_hosts_another_run_id_and_is_refused():
    named = slice_reports()
    again = copy.deepcopy(named[1][1])
    again["run"]["id"] = again["run"]["id"].replace("T0536", "T0640")
    again["hosts"][0]["score"] = 99.0
    _refused(named + [("rerun.json", again)], "host node-1 is in")


def test_one_rule_described_differently_by_two_slices_is_refused():
    named = slice_reports()
    named[2][1]["rules"]["1.8"]["5.11"]["remediation"] = "another collection version's advice"
    _refused(named, r"rule 5\.11 of CIS v1\.8 is described differently in slice-[01]\.json and in slice-2\.json "
                    r"\(slices run by different collection versions\?\)")


def test_slices_with_different_labels_are_refused():
    named = slice_reports()
    named[1][1]["run"]["label"] = "daily"
    _refused(named, r"different labels \(daily in slice-1\.json, weekly in slice-0\.json\)")


def test_two_different_reports_of_one_run_id_are_refused():
    named = slice_reports()
    changed = copy.deepcopy(named[0][1])
    changed["hosts"] = changed["hosts"][:1]
    _refused(named + [("changed.json", changed)], r"slice-0\.json and changed\.json are both run .* but differ")


def test_nothing_to_merge_is_refused():
    _refused([], "no report to merge of run group 4711")
    _refused([], "no report to merge$", group=None)


@pytest.mark.parametrize("field, value, match", [
    ("score", "high", "a score that is not a number"), ("score", float("nan"), "a score that is not a number"),
    ("by_status", {"fail": -1}, "no count of every status"), ("status", "hacked", "status hacked"),
    ("fail_by_severity", [], "no count of failures per severity"), ("findings", None, "no findings list"),
    ("name", 7, "a host entry has no name")])
def test_host_entries_the_merge_cannot_count_are_refused(field, value, match):
    named = slice_reports()
    named[1][1]["hosts"][0][field] = value
    _refused(named, match)


def test_run_fields_the_merge_reads_must_be_there():
    named = slice_reports()
    named[0][1]["run"]["generated_at"] = "yesterday"
    _refused(named, "run.generated_at is not a UTC time")
    named = slice_reports()
    named[0][1]["rules"] = {"1.8": ["5.11"]}
    _refused(named, "its rules are not a map")


# --- reading -------------------------------------------------------------------------------------------------

def _write(path, document, mode=0o640):
    path.write_text(document if isinstance(document, str) else model.to_json(document))
    os.chmod(str(path), mode)
    return str(path)


def test_a_directory_gives_the_slices_of_the_group_and_passes_over_the_rest(tmp_path, fleet_report):
    for name, report in slice_reports():
        _write(tmp_path / ("bulwark-report-" + report["run"]["id"] + ".json"), report)
    _write(tmp_path / "bulwark-report-other.json", slice_reports(group="4712")[0][1])
    _write(tmp_path / model.file_names(fleet_report)["json"], fleet_report)
    _write(tmp_path / "bulwark-report-broken.json", "{not json")
    _write(tmp_path / "bulwark-report-open.json", slice_reports()[0][1], mode=0o666)
    _write(tmp_path / "notes.json", slice_reports()[0][1])
    warnings = []
    found = merge.reports_in(str(tmp_path), GROUP, warnings)
    assert sorted(report["run"]["id"] for _path, report in found) == sorted(entry["id"] for entry in fleet_report["run"]["slices"])
    assert len(warnings) == 2 and "bulwark-report-broken.json is not JSON" in warnings[0]
    assert "bulwark-report-open.json is writable by group or others (mode 0666)" in warnings[1]
    assert all(warning.endswith("left out of the merge") for warning in warnings)
    assert merge.merge_reports(found, GROUP) == fleet_report


def test_a_report_is_read_without_following_a_symlink_and_made_printable(tmp_path):
    report = slice_reports()[0][1]
    report["hosts"][0]["error"] = "bell\x07"
    path = _write(tmp_path / "bulwark-report-a.json", json.dumps(report))
    assert merge.read_report(path)["hosts"][0]["error"] == "bell\\x07"
    os.symlink(path, str(tmp_path / "link.json"))
    with pytest.raises(merge.MergeError, match="cannot open the report .*link.json"):
        merge.read_report(str(tmp_path / "link.json"))
    with pytest.raises(merge.MergeError, match="cannot list"):
        merge.reports_in(str(tmp_path / "absent"), GROUP)


# --- the fleet report's files -----------------------------------------------------------------------------------

def test_the_fleet_report_renders_and_rewrites_the_same_files(tmp_path, fleet_report):
    first = files.write_reports(str(tmp_path), fleet_report)
    contents = dict((kind, open(path, "rb").read()) for kind, path in first.items())
    again = files.write_reports(str(tmp_path), merge.merge_reports(list(reversed(slice_reports())), GROUP))
    assert again == first and dict((kind, open(path, "rb").read()) for kind, path in again.items()) == contents
    suites = ET.fromstring(contents["junit"]).findall("testsuite")
    assert {suite.get("name").split(" ")[0] for suite in suites} == {host["name"] for host in fleet_report["hosts"]}
    assert b"node-5" in contents["html"] and b"20261126T053656Z-weekly-fleet-4711" in contents["html"]


def test_the_fleet_report_matches_the_published_schema(fleet_report):
    with open(os.path.join(TOP, "docs", "report-schema.json")) as handle:
        schema = json.load(handle)
    assert schema_check.errors(json.loads(model.to_json(fleet_report)), schema) == []
    assert schema_check.errors(slice_reports()[0][1], schema) == []
