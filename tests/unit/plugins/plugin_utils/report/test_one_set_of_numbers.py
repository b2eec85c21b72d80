# -*- coding: utf-8 -*-
"""One set of numbers: the play's lines, the summary table, set_stats, the JSON, the JUnit XML and the HTML show the
same counts, from one definition (report.model.build_host), each finding counted once over both audits.

The input is real: what container_audit and image_audit returned (report: all) on `make demo`'s target after
harden.yml and remediate.yml (tests/unit/fixtures/demo_audit_results.json; the registered results without their
`invocation`). Both audits judged the workload's image there: before, the play printed the container audit's
counts and then the image audit's, the table and the HTML added both (4.6 failed twice, once per audit), and the
score was the container audit's alone."""

from __future__ import annotations

import copy
import json
import os
import re
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.bulwark.hardening.plugins.action.audit_verdict import verdict
from ansible_collections.bulwark.hardening.plugins.action.compliance_report import host_summary_lines
from ansible_collections.bulwark.hardening.plugins.filter.audit_report import audit_summary_lines, failing_at_or_above
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.findings import Finding, rules_of
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.status import FAIL
from ansible_collections.bulwark.hardening.plugins.plugin_utils.report import html, junit, model, text
from ansible_collections.bulwark.hardening.plugins.module_utils.rules import catalog

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "fixtures")
NOW = "2026-12-07T17:42:08Z"
HOST = "bulwark-demo"
WORKLOAD, IMAGE = "bulwark-workload", "bulwark-workload:latest"
# The demo target's figures, each finding counted once: the container audit's 130 findings and the image audit's
# 13, less the 10 image-rule verdicts container_audit made on the workload's image (image_audit's count) and the 3
# image forms image_audit made on it (4.1, BW-005, BW-006: the container's verdicts count).
COUNTED = {"fail": 9, "warn": 0, "pass": 71, "info": 19, "skipped": 31, "waived": 0}


@pytest.fixture(scope="module")
def results():
    with open(os.path.join(FIXTURES, "demo_audit_results.json"), encoding="utf-8") as handle:
        return json.load(handle)


@pytest.fixture(scope="module")
def report(results):
    return model.build_report({HOST: copy.deepcopy(results)}, "after hardening", NOW, collection_version="0.1.0")


@pytest.fixture(scope="module")
def host(results):
    # The host's entry as every output builds it (the report's host entry, with the rules its findings name).
    return model.host_entry(HOST, copy.deepcopy(results))


def test_the_reports_host_is_the_host_entry_with_its_rules_in_the_report(report, host):
    (entry,) = report["hosts"]
    assert dict(entry, rules=host["rules"]) == host
    assert report["rules"] == {"1.8": host["rules"]}


def scored_of(host, findings):
    scored = [finding for finding in (model.details(None, host, finding) for finding in findings) if finding.get("scored")]
    passed = sum(1 for finding in scored if finding["status"] == "pass")
    failed = sum(1 for finding in scored if finding["status"] == "fail")
    return passed, failed


def test_each_finding_counts_once_and_the_figures_add_up(results, host):
    assert host["by_status"] == COUNTED
    assert host["left_out"] == {"container_audit": 10, "image_audit": 3}
    own = [results[source]["summary"]["total"] for source in model.SOURCES]
    assert sum(host["by_status"].values()) == sum(own) - sum(host["left_out"].values()) == 130
    # Every finding is listed (report: all), so the counts are the listed findings', one per rule and target.
    pairs = [(finding["rule"], finding["target"]) for finding in host["findings"]]
    assert len(pairs) == len(set(pairs)) == 130
    assert dict((status, sum(1 for finding in host["findings"] if finding["status"] == status)) for status in COUNTED) == COUNTED
    assert sum(counts["fail"] for counts in host["by_section"].values()) == COUNTED["fail"]


def test_image_audit_owns_the_image_rules_and_the_container_audit_how_a_container_runs_its_image(host):
    def verdicts(rule_id):
        return sorted((finding["source"], finding["target"], finding["status"]) for finding in host["findings"] if finding["rule"] == rule_id)
    # 4.6 failed in both audits on the same image: once now, the image audit's.
    assert verdicts("4.6") == [("image_audit", IMAGE, "fail")]
    # The image audit read the history and the layers: its 4.7-4.10 and BW-010/BW-011 count, not the skipped ones.
    assert verdicts("4.10") == [("image_audit", IMAGE, "pass")]
    # 4.1 and BW-005: the container that runs the image decides (the image's own form is left out).
    assert verdicts("4.1") == [("container_audit", WORKLOAD, "fail")]
    assert verdicts("BW-005") == [("container_audit", WORKLOAD, "fail")]


def test_score_and_cis_score_are_over_the_counted_findings(host):
    passed, failed = scored_of(host, host["findings"])
    assert host["score"] == round(100.0 * passed / (passed + failed), 1) == 87.7
    assert host["cis_score"] == passed - failed == 49
    image_passed, image_failed = scored_of(host, [finding for finding in host["findings"] if finding["source"] == "image_audit"])
    assert host["image_score"] == round(100.0 * image_passed / (image_passed + image_failed), 1) == 75.0


def test_the_play_lines_table_stats_json_junit_and_html_show_the_same_counts(results, report, host):
    heading = "after hardening of %s" % HOST
    headline = "score 87.7% (cis_score 49); 9 fail, 71 pass, 19 info, 31 skipped"
    # The play's lines (the verdict task, the filter, and the .txt file hold the same).
    played = verdict("after hardening", HOST, copy.deepcopy(results), "none")["summary_lines"]
    assert headline in played[0]
    assert played == host_summary_lines("after hardening", HOST, copy.deepcopy(results)) == audit_summary_lines(copy.deepcopy(results), heading)
    # The table at the end of the play.
    row = model.summary_table(report)[1].split()
    assert row[:5] == [HOST, "87.7%", "75.0%", "9", "0"]
    # set_stats.
    stats = model.stats(report)[HOST]
    assert (stats["score"], stats["cis_score"], stats["fail"], stats["pass"], stats["warn"]) == (87.7, 49, 9, 71, 0)
    # The JSON file.
    document = json.loads(model.to_json(report))
    assert document["hosts"][0]["by_status"] == COUNTED and document["summary"]["by_status"] == COUNTED
    # JUnit: one testcase per counted finding, the failures are the fails.
    root = ET.fromstring(junit.render_junit(report).split("\n", 1)[1])
    assert (int(root.get("tests")), int(root.get("failures"))) == (130, 9)
    assert set(prop.get("value") for prop in root.iter("property") if prop.get("name") == "score") == {"87.7"}
    # The HTML: the hosts table's row and the fail card.
    page = html.render_html(report, model.trend([], report))
    cells = re.findall(r'<td class="n">([^<]*)</td>', re.search(r'<table id="hosts">.*?</table>', page).group(0))
    assert cells[:7] == ["87.7%", "75.0%", "49", "9", "0", "0", "71"]
    assert '<b id="run-fail" class="s-fail">9</b>' in page


def test_the_html_explains_every_figure_where_it_shows_it(report):
    page = html.render_html(report, model.trend([], report))
    hosts = re.search(r'<table id="hosts">.*?</p>', page).group(0)
    for figure in ("score", "image score", "cis_score"):
        assert '<th title="%s">%s</th>' % (html.esc(html.EXPLAIN[figure]), figure) in hosts
        assert "<b>%s</b>: %s" % (figure, html.esc(html.EXPLAIN[figure])) in hosts
    assert "+1 per scored pass, -1 per scored fail" in hosts and "counted once" in hosts
    cards = re.search(r'<div class="cards">.*?</p>', page).group(0)
    assert "mean score" in cards and html.esc(html.EXPLAIN["mean score"]) in cards
    assert "CIS Docker Benchmark v1.8 and bulwark rules" in page and "CIS v1.8 Level 2 profile" in hosts


def test_the_cis_version_is_in_every_output(report, host):
    assert host["cis_version"] == "1.8" and host["audits"]["image_audit"]["summary"]["cis_version"] == "1.8"
    assert model.stats(report)[HOST]["cis_version"] == "1.8"
    assert "(CIS Docker Benchmark v1.8, Level 2 profile)" in text.host_lines(host, "x")[0]
    root = ET.fromstring(junit.render_junit(report).split("\n", 1)[1])
    assert set(prop.get("value") for prop in root.iter("property") if prop.get("name") == "cis_version") == {"1.8"}


def test_results_without_a_cis_version_or_the_new_counts_still_report(results):
    # Results of modules from before (no cis_version, scored, by_image): nothing to count once by, nothing fails.
    older = copy.deepcopy(results)
    for source in model.SOURCES:
        for key in ("cis_version", "scored", "by_image"):
            older[source]["summary"].pop(key)
    built = model.build_report({HOST: older}, "after hardening", NOW)
    (entry,) = built["hosts"]
    assert "cis_version" not in entry and entry["left_out"] == {"container_audit": 0, "image_audit": 0}
    assert entry["score"] == older["container_audit"]["summary"]["score"]
    assert text.host_lines(entry, "x")[0].startswith("== x (CIS Level 2 profile): score")
    assert "CIS Docker Benchmark and bulwark rules" in html.render_html(built, [])


def test_a_failing_audit_prints_its_summary_once_as_lines_and_fails_on_one_line(results):
    failed = verdict("after hardening", HOST, copy.deepcopy(results), "high")
    assert failed["failed"] is True and failed["blocking"] == ["4.1 %s (high)" % WORKLOAD]
    assert failed["msg"] == "%s: 1 failing finding at or above high: 4.1 %s (high)" % (HOST, WORKLOAD)
    assert "\n" not in failed["msg"] and not any(line in failed["msg"] for line in failed["summary_lines"])
    passed = verdict("after hardening", HOST, copy.deepcopy(results), "critical")
    assert "failed" not in passed and passed["summary_lines"] == failed["summary_lines"]
    # The filter agrees, counting a verdict both audits made once (4.6 is low: one entry, not two).
    assert failing_at_or_above(copy.deepcopy(results), "low").count("4.6 %s (low)" % IMAGE) == 1
    assert verdict("x", HOST, {"container_audit": {"failed": True, "msg": "boom"}}, "high")["skipped"] is True


def test_every_rule_failing_on_the_demo_target_after_harden_says_why(host):
    # The demo after harden: 2.13, 2.14, 4.1, 4.6, 5.13, 5.27, 5.30, BW-005, BW-008 fail, each with its reason, from
    # the catalog as it is now (a reason dropped from a rule fails here).
    failing = [finding for finding in host["findings"] if finding["status"] == "fail"]
    assert sorted(set(finding["rule"] for finding in failing)) == sorted(
        ["2.13", "2.14", "4.1", "4.6", "5.13", "5.27", "5.30", "BW-005", "BW-008"])
    for finding in failing:
        rule = catalog.get_in(finding["rule"], "1.8")
        assert Finding(rule, finding["target"], FAIL, finding["evidence"]).left_open, finding["rule"]
    assert text.unexplained(host) == []
    assert not any(line.strip().startswith(text.NO_REASON) for line in text.host_lines(host, "x"))


def test_the_kernels_audit_rules_are_not_applicable_on_the_container_target(host):
    (reason, rule_ids), = [group for group in text.not_applicable(host) if group[1][0] == "1.1.3"]
    assert rule_ids == ["1.1.%d" % number for number in range(3, 19)]
    assert reason.startswith("in a container (docker): the kernel and its audit rules belong to the host")


def test_a_failure_without_a_reason_is_named(host):
    unexplained = copy.deepcopy(host)
    unexplained["findings"][0] = dict(unexplained["findings"][0], status="fail", rule="2.2")
    unexplained["findings"][0].pop("left_open", None)
    lines = text.host_lines(unexplained, "x")
    assert text.unexplained(unexplained) == ["2.2"]
    assert any(line.startswith("   FAIL 2.2") and line.endswith("[no reason given]") for line in lines)
    assert any(line.strip().startswith(text.NO_REASON + " 2.2") for line in lines)


def test_an_image_only_one_audit_judged_keeps_that_audits_verdicts(results):
    # The image audit narrowed to other images (bulwark_audit_images), or an image no audited container runs:
    # nothing is left out, and the image form counts where no container decides.
    apart = copy.deepcopy(results)
    image = apart["image_audit"]
    image["summary"]["by_image"] = {"other:1": image["summary"]["by_image"][IMAGE]}
    for finding in image["findings"]:
        finding["target"] = "other:1"
    (entry,) = model.build_report({HOST: apart}, "x", NOW)["hosts"]
    assert entry["left_out"] == {"container_audit": 0, "image_audit": 0}
    assert sum(entry["by_status"].values()) == 130 + 13
    assert sorted(finding["target"] for finding in entry["findings"] if finding["rule"] == "4.1") == [WORKLOAD, "other:1"]


def as_listed_once(result):
    """A result of the modules before they listed each rule once (every finding repeating its rule), as they return
    it now: the rules in `rules`, the findings without them, left_open only where it is the finding's own."""
    version = result["summary"].get("cis_version", "1.8")
    findings = [Finding(catalog.get_in(old["rule"], version), old["target"], old["status"], old["evidence"],
                        old.get("left_open"), old["severity"]) for old in result["findings"]]
    return dict(result, findings=[finding.to_dict(version) for finding in findings], rules=rules_of(findings, version))


def test_results_listing_each_rule_once_report_as_the_earlier_results_did(results, report):
    now = dict((source, as_listed_once(result)) for source, result in results.items())
    again = model.build_report({HOST: now}, "after hardening", NOW, collection_version="0.1.0")
    assert [dict(host, findings=None) for host in again["hosts"]] == [dict(host, findings=None) for host in report["hosts"]]
    # The same findings with their rules (but the remediation texts, which the catalog changed since the fixture).

    def shown(of):
        return [dict(model.details(of, of["hosts"][0], finding), remediation=None) for finding in of["hosts"][0]["findings"]]
    assert shown(again) == shown(report)
