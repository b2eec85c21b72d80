# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""A compliance report as JUnit XML, for CI systems.

One <testsuite> per host and audit (container_audit, image_audit), with
the host's score and cis_score (each finding counted once over both audits,
as every report shows them), the run, and the CIS profile level and version
the audit reported as <properties>, one <testcase> per finding the host
counts (a verdict both audits made on one image is in one suite): classname
"<host>.<section>", name "<rule> <target>". fail is a <failure> (message:
the evidence; text: the remediation and the role variables that fix it),
skipped and waived are <skipped> with the reason, warn and info pass with
the evidence in <system-out>. Each testcase carries its rule's severity, level, fix and status
as <properties>. A host without an audit result is one testcase with an <error>.

Every attribute and text goes through _clean (the report is printable text
already, model.build_report; this holds for any dict given here too): XML
1.0 cannot carry most control characters even escaped, and evidence may
quote any byte. They become backslash escapes (common.safe_text).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ansible_collections.bulwark.hardening.plugins.module_utils.common.safe_text import escape_unprintable


def _clean(value):
    return escape_unprintable("" if value is None else value, keep_whitespace=True)


def _element(parent, tag, text=None, **attributes):
    """A child element whose attribute values and text are clean text."""
    element = ET.SubElement(parent, tag, dict((name, _clean(value)) for name, value in attributes.items()))
    if text is not None:
        element.text = _clean(text)
    return element


def _properties(parent, values):
    properties = _element(parent, "properties")
    for name, value in values:
        if value is not None:
            _element(properties, "property", name=name, value=value)


def _testcase(suite, host, finding):
    case = _element(suite, "testcase", classname="%s.%s" % (host, finding.get("section", "")),
                    name="%s %s" % (finding.get("rule", ""), finding.get("target", "")), time="0")
    _properties(case, [("severity", finding.get("severity")), ("level", finding.get("level")),
                       ("scored", str(bool(finding.get("scored"))).lower()), ("fix", finding.get("fix")),
                       ("status", finding.get("status")), ("title", finding.get("title"))])
    status = finding.get("status")
    evidence = "%s" % (finding.get("evidence") or "")
    if status == "fail":
        text = ["%s: %s" % (finding.get("rule", ""), finding.get("title", "")), "evidence: " + evidence,
                "remediation: %s" % (finding.get("remediation") or "")]
        if finding.get("fixed_by"):
            text.append("fixed by: " + ", ".join("%s" % item for item in finding["fixed_by"]))
        text.append("left open: %s" % finding["left_open"] if finding.get("left_open") else "left open: no reason given")
        _element(case, "failure", "\n".join(text), message=evidence, type=finding.get("severity") or "fail")
    elif status in ("skipped", "waived"):
        _element(case, "skipped", message="%s: %s" % (status, evidence))
    elif evidence:
        _element(case, "system-out", "%s: %s" % (status, evidence))
    return status


def render_junit(report):
    """The report as a JUnit XML document (str, with its XML declaration)."""
    root = ET.Element("testsuites", name=_clean("bulwark.hardening compliance %s" % report["run"]["label"]))
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for host in report["hosts"]:
        sources = sorted(set(finding["source"] for finding in host["findings"])) or ["container_audit"]
        for source in sources:
            suite = _element(root, "testsuite", name="%s %s" % (host["name"], source), hostname=host["name"],
                             timestamp=report["run"]["generated_at"].rstrip("Z"))
            audit = host["audits"].get(source, {})
            _properties(suite, [("score", host["score"]), ("cis_score", host["cis_score"]), ("run", report["run"]["id"]),
                                ("level", (audit.get("summary") or {}).get("level")),
                                ("cis_version", (audit.get("summary") or {}).get("cis_version"))])
            counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
            if host["status"] != "audited":
                case = _element(suite, "testcase", classname="%s.audit" % host["name"], name="audit %s" % host["name"], time="0")
                _element(case, "error", message=host.get("error", "no audit result"), type="missing")
                counts["tests"] += 1
                counts["errors"] += 1
            for finding in host["findings"]:
                if finding["source"] != source:
                    continue
                status = _testcase(suite, host["name"], finding)
                counts["tests"] += 1
                if status == "fail":
                    counts["failures"] += 1
                elif status in ("skipped", "waived"):
                    counts["skipped"] += 1
            for key, value in counts.items():
                suite.set(key, str(value))
                totals[key] += value
            suite.set("time", _clean(audit.get("duration_s") or 0))
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
