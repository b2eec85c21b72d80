# -*- coding: utf-8 -*-
"""The JUnit and HTML renderers as they work at fleet size (issue 22, point 3): JUnit written as text, byte for byte
what ElementTree wrote; the HTML's findings as JSON data its script draws a page at a time, every text of it safe
inside its <script> element. The times are measured by benchmarks/report_render.py and the page in Chromium by
tests/integration/test_report_browser.py, not here."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.report_fixtures import HOSTILE, two_hosts
from ansible_collections.bulwark.hardening.tests.unit.plugins.plugin_utils.report.fleet_results import fleet_results
from ansible_collections.bulwark.hardening.plugins.module_utils.common.safe_text import escape_unprintable
from ansible_collections.bulwark.hardening.plugins.plugin_utils.report import html, junit, model

NOW = "2026-11-26T06:00:00Z"
# Evidence that would end the data's <script> element, open a comment in it, or end a JavaScript string in old parsers.
NASTY = ["</script><script>alert(1)</script>", "</SCRIPT >", "<!--", "<script>", "-->", "\u2028\u2029", "&amp;&lt;",
         "\"quoted\" 'single' \\backslash\\", "nul\x00esc\x1b[2J bidi\u202e\u2066 bad\udcff", "caf\u00e9 \u0663 \U0001f600"]


@pytest.fixture(scope="module")
def fleet():
    return model.build_report(fleet_results(4000, hosts=4), "fleet", NOW)


def nasty_results():
    results = two_hosts(hostile=True)
    findings = results["web1"]["container_audit"]["findings"]
    assert len(findings) + len(results["web1"]["image_audit"]["findings"]) >= len(NASTY)
    for finding, evidence in zip(findings + results["web1"]["image_audit"]["findings"], NASTY):
        finding["evidence"] = evidence
        finding["target"] = "t-" + evidence
    findings[0]["left_open"] = "</script>" + HOSTILE
    # web1's result lists its rules (as the modules do since 2.0), so the reason above is this finding's own
    results["web1"]["container_audit"]["rules"] = dict(
        (finding["rule"], dict((key, finding[key]) for key in model.RULE_FIELDS if key in finding and key != "left_open"))
        for finding in findings)
    results["</script><b>" + HOSTILE] = results.pop("db1")
    return results


# --- JUnit --------------------------------------------------------------------------------------------------------

def reference_junit(report):
    """The report as the ElementTree version of junit.py wrote it (the collection until 2026-12), for comparison."""
    def clean(value):
        return escape_unprintable("" if value is None else value, keep_whitespace=True)

    def element(parent, tag, content=None, **attributes):
        made = ET.SubElement(parent, tag, dict((name, clean(value)) for name, value in attributes.items()))
        if content is not None:
            made.text = clean(content)
        return made

    def properties(parent, values):
        block = element(parent, "properties")
        for name, value in values:
            if value is not None:
                element(block, "property", name=name, value=value)

    root = ET.Element("testsuites", name=clean("bulwark.hardening compliance %s" % report["run"]["label"]))
    totals = dict.fromkeys(junit.COUNTS, 0)
    for host in report["hosts"]:
        for source in sorted(set(finding["source"] for finding in host["findings"])) or ["container_audit"]:
            suite = element(root, "testsuite", name="%s %s" % (host["name"], source), hostname=host["name"],
                            timestamp=report["run"]["generated_at"].rstrip("Z"))
            audit = host["audits"].get(source, {})
            summary = audit.get("summary") or {}
            properties(suite, [("score", host["score"]), ("cis_score", host["cis_score"]), ("run", report["run"]["id"]),
                               ("level", summary.get("level")), ("cis_version", summary.get("cis_version"))])
            counts = dict.fromkeys(junit.COUNTS, 0)
            if host["status"] != "audited":
                case = element(suite, "testcase", classname="%s.audit" % host["name"], name="audit %s" % host["name"], time="0")
                element(case, "error", message=host.get("error", "no audit result"), type="missing")
                counts["tests"] += 1
                counts["errors"] += 1
            for finding in (model.details(report, host, one) for one in host["findings"] if one["source"] == source):
                case = element(suite, "testcase", classname="%s.%s" % (host["name"], finding.get("section", "")),
                               name="%s %s" % (finding.get("rule", ""), finding.get("target", "")), time="0")
                properties(case, [("severity", finding.get("severity")), ("level", finding.get("level")),
                                  ("scored", str(bool(finding.get("scored"))).lower()), ("fix", finding.get("fix")),
                                  ("status", finding.get("status")), ("title", finding.get("title"))])
                status, evidence = finding.get("status"), "%s" % (finding.get("evidence") or "")
                counts["tests"] += 1
                if status == "fail":
                    lines = ["%s: %s" % (finding.get("rule", ""), finding.get("title", "")), "evidence: " + evidence,
                             "remediation: %s" % (finding.get("remediation") or "")]
                    if finding.get("fixed_by"):
                        lines.append("fixed by: " + ", ".join("%s" % item for item in finding["fixed_by"]))
                    lines.append("left open: %s" % (finding.get("left_open") or "no reason given"))
                    element(case, "failure", "\n".join(lines), message=evidence, type=finding.get("severity") or "fail")
                    counts["failures"] += 1
                elif status in ("skipped", "waived"):
                    element(case, "skipped", message="%s: %s" % (status, evidence))
                    counts["skipped"] += 1
                elif evidence:
                    element(case, "system-out", "%s: %s" % (status, evidence))
            for key, value in counts.items():
                suite.set(key, str(value))
                totals[key] += value
            suite.set("time", clean(audit.get("duration_s") or 0))
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def test_junit_written_as_text_is_what_elementtree_wrote(fleet):
    for report in (fleet, model.build_report(nasty_results(), "weekly <&> \"q\"\x07", NOW), model.build_report({}, "empty", NOW),
                   model.build_report(dict(two_hosts(), gone={}), "weekly", NOW)):
        assert junit.render_junit(report) == reference_junit(report)


def test_junit_of_hostile_text_parses_and_keeps_the_text(fleet):
    report = model.build_report(nasty_results(), "weekly", NOW)
    root = ET.fromstring(junit.render_junit(report).encode("utf-8"))
    cases = dict((case.get("name"), case) for case in root.iter("testcase"))
    first = cases["2.2 t-</script><script>alert(1)</script>"]
    assert first.find("failure").get("message") == "</script><script>alert(1)</script>"
    assert "left open: </script>" + HOSTILE in first.find("failure").text
    said = set()
    for case in cases.values():
        for child in case:
            said.update(value.split(": ", 1)[-1] for value in (child.get("message"), child.text) if value)
    assert set(escape_unprintable(evidence, keep_whitespace=True) for evidence in NASTY) <= said


def test_junit_counts_at_fleet_size_are_the_reports(fleet):
    root = ET.fromstring(junit.render_junit(fleet).encode("utf-8"))
    by_status = fleet["summary"]["by_status"]
    assert int(root.get("tests")) == sum(len(host["findings"]) for host in fleet["hosts"]) == 4000
    assert int(root.get("failures")) == by_status["fail"] and int(root.get("skipped")) == by_status["skipped"] + by_status["waived"]
    assert len(list(root.iter("testcase"))) == 4000


def test_a_value_that_cannot_be_a_key_is_still_written():
    finding = {"rule": "x", "target": "t", "status": "fail", "title": ["not", "text"], "severity": "low", "evidence": "e"}
    case = ET.fromstring(junit.testcase("h", finding, {}))
    assert dict((p.get("name"), p.get("value")) for p in case.iter("property"))["title"] == "['not', 'text']"


# --- HTML: the findings as data -------------------------------------------------------------------------------------

def page_data(page):
    """The findings data of a rendered page, and its rows as {field: value} with every index resolved."""
    data = json.loads(re.search(r'<script type="application/json" id="findings-data">(.*?)</script>', page, re.S).group(1))
    width = len(data["fields"])
    rows = []
    for start in range(0, len(data["rows"]), width):
        row = dict(zip(data["fields"], data["rows"][start:start + width]))
        rule = data["rules"][row.pop("rule")]
        row = dict((field, "" if number < 0 else data["strings"][number]) for field, number in row.items())
        row.update(zip(("rule", "section", "title", "remediation", "fixed_by"), rule))
        rows.append(row)
    return data, rows


def test_the_data_holds_every_listed_finding_in_table_order_with_its_rule(fleet):
    data, rows = page_data(html.render_html(fleet, []))
    pairs = html.table_findings(fleet)
    assert data["fields"] == list(html.DATA_FIELDS) and len(rows) == len(pairs) > 1000
    for row, (host, finding) in zip(rows, pairs):
        full = model.details(fleet, host, finding)
        assert row["host"] == host["name"] and row["source"] == finding["source"]
        for field in ("rule", "section", "title", "remediation", "target", "status", "severity", "evidence"):
            assert row[field] == "%s" % full.get(field, ""), field
        assert row["fixed_by"] == ", ".join(full.get("fixed_by") or []) and row["left_open"] == (full.get("left_open") or "")
    # each text and each rule once
    assert len(set(data["strings"])) == len(data["strings"]) and len(set(map(tuple, data["rules"]))) == len(data["rules"])
    assert len(data["rules"]) <= len(fleet["rules"]["1.8"])


def test_the_page_carries_each_rules_text_once_however_many_findings_show_it(fleet):
    page = html.render_html(fleet, [])
    listed = [model.details(fleet, host, finding) for host, finding in html.table_findings(fleet)]
    remediation = max(set(full["remediation"] for full in listed), key=lambda text: sum(full["remediation"] == text for full in listed))
    assert sum(full["remediation"] == remediation for full in listed) >= 20
    assert page.count(html.script_json(remediation)[1:-1]) == 1
    data = re.search(r'<script type="application/json" id="findings-data">(.*?)</script>', page, re.S).group(1)
    assert data.count('"%s"' % fleet["hosts"][0]["name"]) == 1  # a host name too, however many rows name it


@pytest.mark.parametrize("text", NASTY + [HOSTILE])
def test_script_json_cannot_end_or_change_its_element_and_reads_back_the_same(text):
    data = {"strings": [text, text.upper(), "x" + text + "y"], "rows": [0, 1, -1]}
    written = html.script_json(data)
    assert not re.search(u"[<>&\u2028\u2029]", written)
    assert json.loads(written) == data


def test_hostile_text_is_data_never_markup_and_the_csp_still_matches_the_one_script():
    report = model.build_report(nasty_results(), "weekly", NOW)
    page = html.render_html(report, model.trend([], report))
    assert page.count("<script") == 2 and page.count("</script>") == 2  # the data and the page's script, nothing else
    assert re.search(r"<script>(.*)</script>", page, re.S).group(1) == html.JS
    assert html._script_hash(html.JS) in page  # pylint: disable=protected-access
    assert "</script><b>" not in page and HOSTILE not in page and "<!--" not in page
    data, rows = page_data(page)
    shown = set(row["evidence"] for row in rows)
    assert set(escape_unprintable(text, keep_whitespace=True) for text in NASTY[:8] if text) <= shown | set(
        finding["evidence"] for host in report["hosts"] for finding in host["findings"] if finding["status"] == "pass")
    assert "</script>" + HOSTILE in set(row["left_open"] for row in rows)
    assert "</script><b>" + HOSTILE in set(row["host"] for row in rows)
    assert all(escape_unprintable(text, keep_whitespace=True) == text for text in data["strings"])


def test_the_script_does_not_depend_on_the_report():
    pages = [html.render_html(model.build_report(results, "weekly", NOW), []) for results in (two_hosts(), {}, nasty_results())]
    scripts = set(re.search(r"<script>(.*)</script>", page, re.S).group(1) for page in pages)
    assert scripts == {html.JS} and "@" not in html.JS  # every placeholder of the template filled


def test_pagers_filters_and_the_note_without_javascript():
    page = html.render_html(model.build_report(two_hosts(), "weekly", NOW), [])
    for where in ("top", "bottom"):
        pager = re.search(r'<div class="pager" id="pager-%s">(.*?)</div>' % where, page).group(1)
        assert re.findall(r'data-go="(\w+)"', pager) == ["first", "previous", "next", "last"]
    assert '<input id="page-input" type="number" min="1" value="1">' in page
    assert "<noscript>" in page and '<tbody></tbody>' in page
    assert '<option value="fail" selected>' in page and "%d findings a page" % html.PAGE_SIZE in page
    empty = html.render_html(model.build_report({}, "empty", NOW), [])
    assert "No failing, warning, waived or skipped finding." in empty and page_data(empty)[1] == []


@pytest.mark.parametrize("finding,shown", [
    ({"status": "fail", "fixed_by": ["a", "b"], "left_open": "needs a log server"}, "a, b; left open: needs a log server"),
    ({"status": "fail", "fixed_by": ["a"]}, "a; no reason given"),
    ({"status": "fail"}, "no reason given"),
    ({"status": "warn", "left_open": "why"}, "left open: why"),
    ({"status": "skipped", "fixed_by": ["a"]}, "a"),
    ({"status": "waived"}, ""),
])
def test_the_last_column_says_what_fixes_a_finding_and_why_it_is_open(finding, shown):
    assert html.fixed_text(finding) == shown
