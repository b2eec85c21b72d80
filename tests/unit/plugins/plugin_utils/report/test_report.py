# -*- coding: utf-8 -*-
"""The compliance report library: JSON schema, JUnit structure, HTML escaping, trend, empty runs, files."""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET

import pytest

import schema_check
from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.report_fixtures import HOSTILE, two_hosts
from ansible_collections.bulwark.hardening.plugins.plugin_utils.report import files, html, junit, model

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))))
SCHEMA_PATH = os.path.join(TOP, "docs", "report-schema.json")
NOW = "2026-11-26T05:36:56Z"


@pytest.fixture(scope="module")
def schema():
    with open(SCHEMA_PATH) as handle:
        return json.load(handle)


def report(results=None, label="weekly", when=NOW):
    return model.build_report(two_hosts(hostile=True) if results is None else results, label, when, collection_version="0.1.0")


# --- JSON -----------------------------------------------------------------------------------------

def test_report_round_trips_through_json_and_matches_the_schema(schema):
    document = json.loads(model.to_json(report()))
    assert document["schema"] == "bulwark.hardening/compliance-report" and document["version"] == 2
    assert schema_check.errors(document, schema) == []


def test_empty_run_and_missing_hosts_match_the_schema(schema):
    empty = model.build_report({}, "empty", NOW)
    assert schema_check.errors(json.loads(model.to_json(empty)), schema) == []
    assert empty["summary"] == {"hosts": 0, "audited": 0, "missing": [], "score": None,
                                "by_status": dict.fromkeys(model.STATUSES, 0), "fail_by_severity": {}}
    failed = model.build_report({"gone": {"container_audit": {"failed": True, "msg": "unreachable"}, "image_audit": None}}, "x", NOW)
    assert schema_check.errors(json.loads(model.to_json(failed)), schema) == []
    assert failed["summary"]["missing"] == ["gone"]
    assert failed["hosts"][0]["error"] == "container_audit failed: unreachable"


def test_the_validator_catches_what_the_schema_forbids(schema):
    document = json.loads(model.to_json(report()))
    document["version"] = 1
    document["hosts"][0]["findings"][0]["status"] = "maybe"
    del document["run"]["label"]
    document["surprise"] = True
    found = "\n".join(schema_check.errors(document, schema))
    for expected in ("$.version", "$.hosts[0].findings[0].status", "$.run: label is required", "surprise is not allowed"):
        assert expected in found


def test_the_schema_is_valid_for_jsonschema_too(schema):
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(json.loads(model.to_json(report())))


def test_hosts_sorted_counts_merged_over_both_audits():
    built = report()
    assert [host["name"] for host in built["hosts"]] == ["db1", "web1"]
    web = built["hosts"][1]
    assert web["by_status"]["fail"] == 4  # 2.2, 2.13, 5.11 + image 4.1
    assert web["by_section"]["4"]["fail"] == 1 and list(web["by_section"]) == ["1", "2", "4", "5", "7", "BW"]
    assert web["fail_by_severity"] == {"critical": 1, "low": 1, "high": 1, "medium": 1}
    assert web["score"] == 40.0 and web["image_score"] == 50.0
    assert {finding["source"] for finding in web["findings"]} == {"container_audit", "image_audit"}
    assert built["summary"]["score"] == 50.0 and built["run"]["id"] == "20261126T053656Z-weekly"


def test_an_image_audit_that_was_skipped_is_left_out():
    results = two_hosts()
    results["db1"]["image_audit"] = {"skipped": True, "changed": False}
    host = report(results)["hosts"][0]
    assert host["image_score"] is None and set(host["audits"]) == {"container_audit"}


def test_stats_and_summary_table():
    built = report()
    assert model.stats(built)["web1"] == {"status": "audited", "score": 40.0, "cis_score": -1, "image_score": 50.0, "fail": 4,
                                          "warn": 1, "waived": 1, "pass": 3,
                                          "fail_by_severity": {"critical": 1, "low": 1, "high": 1, "medium": 1}}
    lines = model.summary_table(built)
    assert lines[0].split()[:3] == ["host", "score", "images"]
    assert lines[2].split()[:5] == ["web1", "40.0%", "50.0%", "4", "1"]
    assert lines[-1] == "2/2 hosts audited, mean score 50.0%, 7 fail, 2 warn, 2 waived"


def test_labels_become_file_names():
    assert model.slug("after hardening / v2") == "after-hardening-v2"
    assert model.file_names(report(label="before hardening"))["html"] == "bulwark-report-20261126T053656Z-before-hardening.html"


# --- JUnit ----------------------------------------------------------------------------------------

def test_junit_one_testcase_per_rule_and_target():
    root = ET.fromstring(junit.render_junit(report()).encode("utf-8"))
    assert root.tag == "testsuites"
    assert [suite.get("name") for suite in root] == ["db1 container_audit", "db1 image_audit", "web1 container_audit", "web1 image_audit"]
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == int(root.get("tests")) == 20
    names = [(case.get("classname"), case.get("name")) for case in cases]
    assert len(set(names)) == len(names)
    assert ("web1.5", "5.11 web-1") in names and ("web1.BW", "BW-001 web-1") in names and ("web1.4", "4.1 app:1.2") in names


def test_junit_failures_skips_and_properties():
    root = ET.fromstring(junit.render_junit(report()).encode("utf-8"))
    suite = root.find("./testsuite[@name='web1 container_audit']")
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped"), suite.get("errors")) == ("8", "3", "2", "0")
    cases = dict((case.get("name"), case) for case in suite.findall("testcase"))
    failure = cases["5.11 web-1"].find("failure")
    assert failure.get("message") == HOSTILE and failure.get("type") == "high"
    assert "fixed by: containers_memory" in failure.text
    assert "left open: needs a log server" in cases["2.13 daemon"].find("failure").text
    assert cases["5.10 web-1"].find("skipped").get("message").startswith("waived: no pids limit; waived: batch job")
    assert cases["7.1 swarm"].find("skipped").get("message") == "skipped: swarm mode is not active"
    assert cases["5.11 db-1"].find("failure") is None and cases["5.11 db-1"].find("skipped") is None
    properties = dict((p.get("name"), p.get("value")) for p in cases["2.2 daemon"].findall("properties/property"))
    assert properties["severity"] == "critical" and properties["status"] == "fail"
    assert int(root.get("failures")) == 7 and int(root.get("skipped")) == 4


def test_junit_missing_host_is_an_error_and_control_characters_are_escaped():
    results = two_hosts()
    results["web1"]["container_audit"]["findings"][0]["evidence"] = "bad\x00byte\x1b"
    results["gone"] = {}
    root = ET.fromstring(junit.render_junit(report(results)).encode("utf-8"))
    assert root.find("./testsuite[@name='gone container_audit']/testcase/error").get("type") == "missing"
    assert root.get("errors") == "1"
    assert "bad\\x00byte\\x1b" in [case.find("failure").get("message") for case in root.iter("testcase") if case.get("name") == "2.2 daemon"]


def test_junit_of_an_empty_run():
    root = ET.fromstring(junit.render_junit(model.build_report({}, "empty", NOW)).encode("utf-8"))
    assert root.get("tests") == "0" and list(root) == []


# --- HTML -----------------------------------------------------------------------------------------

def page(built=None, points=None):
    built = built or report()
    return html.render_html(built, model.trend([], built) if points is None else points)


def test_hostile_evidence_is_escaped_everywhere():
    results = two_hosts(hostile=True)
    results[HOSTILE] = results.pop("db1")
    results["web1"]["container_audit"]["findings"][2]["remediation"] = '"><img src=x onerror=alert(2)>'
    text = page(report(results, label="<b>label</b>"))
    assert HOSTILE not in text and "<img" not in text and "<b>label" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert text.count("<script>") == 1  # the page's own


def test_page_is_self_contained():
    text = page()
    assert not re.search(r"""(src|href)\s*=""", text, re.I) and "<link" not in text and "@import" not in text
    assert not re.search(r"https?://", text)
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', text).group(1)
    assert "default-src &#x27;none&#x27;" in csp and "sha256-" in csp


def test_csp_hash_matches_the_script():
    text = page()
    script = re.search(r"<script>(.*)</script>", text, re.S).group(1)
    assert html._script_hash(script) in text


def test_findings_table_lists_problems_worst_first_and_filters_on_fail():
    text = page()
    # The page's script draws the rows from this data (html.findings_data; tests/integration/test_report_browser.py).
    data = json.loads(re.search(r'<script type="application/json" id="findings-data">(.*?)</script>', text, re.S).group(1))
    width, strings = len(data["fields"]), data["strings"]
    rows = [tuple(strings[data["rows"][start + data["fields"].index(field)]] for field in ("host", "status", "severity"))
            for start in range(0, len(data["rows"]), width)]
    assert len(rows) == 13  # web1: 4 fail, 1 warn, 1 waived, 1 skipped; db1 the same but 5.11 passes
    assert rows[0] == ("db1", "fail", "critical") and rows[-1][1] == "skipped"
    assert [row[1] for row in rows] == sorted((row[1] for row in rows), key=html.TABLE_STATUSES.index)
    assert '<option value="fail" selected>' in text
    assert ["docker_daemon_icc"] == [rule[4] for rule in data["rules"] if rule[0] == "2.2"] and "needs a log server" in strings


def test_section_chart_has_a_bar_per_section_and_status():
    svg = html.section_chart(report())
    bars = dict(((section, status), int(count)) for status, section, count in
                re.findall(r'<rect class="bar-(\w+)" data-section="([^"]+)" data-count="(\d+)"', svg))
    assert bars[("2", "fail")] == 4 and bars[("5", "pass")] == 3 and bars[("4", "fail")] == 2 and bars[("5", "waived")] == 2
    assert html.section_chart(model.build_report({}, "x", NOW)).startswith("<p")


def test_empty_run_renders():
    empty = model.build_report({}, "empty", NOW)
    text = page(empty)
    assert "No failing, warning, waived or skipped finding." in text and 'id="trend-chart"' in text


# --- trend ----------------------------------------------------------------------------------------

def write_run(directory, when, score_bias=0, label="weekly"):
    results = two_hosts()
    for host in results.values():
        host["container_audit"]["summary"]["score"] += score_bias
    built = model.build_report(results, label, when)
    files.write_reports(str(directory), built)
    return built


def test_trend_reads_earlier_runs_oldest_first_and_skips_foreign_files(tmp_path):
    write_run(tmp_path, "2026-11-20T10:00:00Z", 10)
    write_run(tmp_path, "2026-11-13T10:00:00Z", 0)
    (tmp_path / "bulwark-report-broken.json").write_text("{not json")
    (tmp_path / "bulwark-report-other.json").write_text(json.dumps({"schema": "other", "version": 1}))
    (tmp_path / "bulwark-report-future.json").write_text(json.dumps({"schema": model.SCHEMA, "version": 99}))
    history = model.load_history(str(tmp_path))
    assert [point["generated_at"] for point in history] == ["2026-11-13T10:00:00Z", "2026-11-20T10:00:00Z"]
    assert [point["score"] for point in history] == [50.0, 60.0]
    current = report(two_hosts())
    points = model.trend(history, current)
    assert [point["id"] for point in points][-1] == current["run"]["id"] and len(points) == 3
    assert [point["id"] for point in model.trend(history, current, limit=2)] == [history[1]["id"], current["run"]["id"]]
    svg = html.trend_chart(points)
    assert re.findall(r'class="trend-point" data-run="[^"]+" data-score="([^"]+)"', svg) == ["50.0", "60.0", "50.0"]


def test_the_trend_reads_version_1_reports_written_before_rules_were_listed_once(tmp_path):
    earlier = model.build_report(two_hosts(), "weekly", "2026-11-06T10:00:00Z")
    earlier["version"] = 1
    del earlier["rules"]
    name = tmp_path / ("bulwark-report-%s.json" % earlier["run"]["id"])
    name.write_text(model.to_json(earlier))
    name.chmod(0o640)
    (tmp_path / "bulwark-report-future.json").write_text(json.dumps({"schema": model.SCHEMA, "version": 3}))
    warnings = []
    history = model.load_history(str(tmp_path), warnings=warnings)
    assert [point["id"] for point in history] == [earlier["run"]["id"]] and history[0]["score"] == earlier["summary"]["score"]
    assert len(warnings) == 1 and "future" in warnings[0] and "version 1 or 2" in warnings[0]


def test_trend_of_a_rerun_and_of_no_scores(tmp_path):
    built = write_run(tmp_path, NOW)
    assert [point["id"] for point in model.trend(model.load_history(str(tmp_path)), built)] == [built["run"]["id"]]
    assert model.load_history(str(tmp_path / "absent")) == []
    points = [{"id": "a", "label": "x", "generated_at": NOW, "score": None, "fail": 0, "hosts": {}}]
    assert "trend-point" not in html.trend_chart(points) and html.trend_chart([]).startswith("<p")


def test_write_reports_writes_three_files_and_the_html_has_the_trend(tmp_path):
    write_run(tmp_path, "2026-11-01T00:00:00Z", -20)
    written = write_run(tmp_path, "2026-11-02T00:00:00Z")
    paths = files.write_reports(str(tmp_path), written)
    assert sorted(os.path.basename(path) for path in paths.values()) == [
        "bulwark-report-20261102T000000Z-weekly.html", "bulwark-report-20261102T000000Z-weekly.json",
        "bulwark-report-20261102T000000Z-weekly.xml"]
    assert oct(os.stat(paths["json"]).st_mode & 0o777) == "0o640"
    text = open(paths["html"]).read()
    assert len(re.findall(r'class="trend-point"', text)) == 2
    assert not [name for name in os.listdir(str(tmp_path)) if name.startswith(".bulwark-report-")]


# --- the CIS profile level ----------------------------------------------------------------------

def with_levels(container_level=1, image_level=1):
    """two_hosts() as audit.yml registers them with bulwark_cis_level set: web1 at container_level, db1 at 2."""
    results = two_hosts()
    results["web1"]["container_audit"]["summary"]["level"] = container_level
    results["web1"]["image_audit"]["summary"]["level"] = image_level
    results["db1"]["container_audit"]["summary"]["level"] = 2
    results["db1"]["image_audit"]["summary"]["level"] = 2
    return results


def test_each_hosts_level_is_in_the_json_report_and_matches_the_schema(schema):
    built = report(with_levels())
    web, db = built["hosts"][1], built["hosts"][0]
    assert (web["name"], web["level"], db["level"]) == ("web1", 1, 2)
    assert web["audits"]["container_audit"]["summary"]["level"] == 1 and web["audits"]["image_audit"]["summary"]["level"] == 1
    document = json.loads(model.to_json(built))
    assert document["version"] == 2 and schema_check.errors(document, schema) == []


def test_results_without_a_level_leave_it_out(schema):
    built = report(two_hosts())
    assert all("level" not in host and "level" not in host["audits"]["container_audit"]["summary"] for host in built["hosts"])
    missing = model.build_report({"gone": {}}, "x", NOW)["hosts"][0]
    assert "level" not in missing


def test_the_schema_allows_only_levels_1_and_2(schema):
    document = json.loads(model.to_json(report(with_levels())))
    document["hosts"][0]["level"] = 3
    document["hosts"][1]["audits"]["container_audit"]["summary"]["level"] = "1"
    found = "\n".join(schema_check.errors(document, schema))
    assert "$.hosts[0].level" in found and "$.hosts[1].audits.container_audit.summary.level" in found


def test_the_html_shows_each_hosts_cis_profile():
    text = page(report(with_levels()))
    hosts = text[text.index('<table id="hosts">'):text.index("</table>", text.index('<table id="hosts">'))]
    assert ">profile</th>" in hosts
    profiles = dict(re.findall(r'<tr data-host="([^"]+)"><td>[^<]*</td><td class="profile" data-level="\d">([^<]+)</td>', hosts))
    assert profiles == {"web1": "CIS Level 1 profile", "db1": "CIS Level 2 profile"}
    old = page(report(two_hosts()))
    assert "CIS Level" not in old and old.count('<td class="profile" data-level="">not reported</td>') == 2
    missing = page(model.build_report({"gone": {}}, "x", NOW))
    assert '<td colspan="10" class="missing">' in missing


def test_junit_suites_carry_the_level():
    root = ET.fromstring(junit.render_junit(report(with_levels(image_level=2))).encode("utf-8"))

    def level(name):
        suite = root.find("./testsuite[@name='%s']" % name)
        return dict((p.get("name"), p.get("value")) for p in suite.findall("properties/property")).get("level")
    assert (level("web1 container_audit"), level("web1 image_audit"), level("db1 container_audit")) == ("1", "2", "2")
    old = ET.fromstring(junit.render_junit(report(two_hosts())).encode("utf-8"))
    assert set(p.get("name") for p in old.findall("./testsuite/properties/property")) == {"score", "cis_score", "run"}


# --- hostile input: what the reports write ---------------------------------------------------------

def test_report_files_are_0640_in_a_0750_directory(tmp_path):
    directory = tmp_path / "reports"
    paths = files.write_reports(str(directory), report())
    assert oct(os.stat(str(directory)).st_mode & 0o7777) == "0o750"
    assert sorted(oct(os.stat(path).st_mode & 0o7777) for path in paths.values() if isinstance(path, str)) == ["0o640"] * 3


def test_an_earlier_report_whose_score_is_not_a_number_is_left_out_of_the_trend(tmp_path):
    earlier = write_run(tmp_path, "2026-11-19T10:00:00Z")
    path = tmp_path / ("bulwark-report-%s.json" % earlier["run"]["id"])
    document = json.loads(path.read_text())
    document["summary"]["score"] = "high"
    path.write_text(json.dumps(document))
    paths = files.write_reports(str(tmp_path), report())  # a crash here, before: str / float in the trend chart
    text = open(paths["html"]).read()
    assert re.findall(r'class="trend-point" data-run="([^"]+)"', text) == [report()["run"]["id"]]


@pytest.mark.parametrize("name", ["web\x1b[2J1", "db\x00", "tab\there", "bad\udcffbyte", "\ufffe"])
def test_control_characters_in_host_names_give_valid_junit(name):
    results = two_hosts()
    results[name] = results.pop("web1")
    root = ET.fromstring(junit.render_junit(report(results)).encode("utf-8"))
    assert len(root.findall("testsuite")) == 4


def test_a_reason_of_one_hosts_finding_in_results_of_the_earlier_shape_stays_that_hosts():
    # Results of the modules before they listed each rule once: every finding carried its own left_open.
    results = two_hosts()
    results["db1"]["container_audit"]["findings"][0]["left_open"] = "db1 own reason"
    rule_id = results["db1"]["container_audit"]["findings"][0]["rule"]
    built = report(results)
    shown = dict((host["name"], [model.details(built, host, finding) for finding in host["findings"] if finding["rule"] == rule_id])
                 for host in built["hosts"])
    assert [finding.get("left_open") for finding in shown["db1"]][0] == "db1 own reason"
    assert all(finding.get("left_open") != "db1 own reason" for finding in shown["web1"])
