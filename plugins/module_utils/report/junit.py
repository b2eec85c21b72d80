# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A compliance report as JUnit XML, for CI systems.

One <testsuite> per host and audit (container_audit, image_audit), with
its score, the run and the CIS profile level the audit reported as
<properties>, one <testcase> per listed finding: classname
"<host>.<section>", name "<rule> <target>". fail is a <failure> (message:
the evidence; text: the remediation and the role variables that fix it),
skipped and waived are <skipped> with the reason, warn and info pass with
the evidence in <system-out>. Each testcase carries its rule's severity, level, fix and status
as <properties>. A host without an audit result is one testcase with an <error>.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

# Characters XML 1.0 cannot carry, even escaped; evidence may quote any byte.
_NOT_XML = re.compile(u"[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(value):
    return _NOT_XML.sub(u"\ufffd", str(value))


def _properties(parent, values):
    properties = ET.SubElement(parent, "properties")
    for name, value in values:
        if value is not None:
            ET.SubElement(properties, "property", name=name, value=_clean(value))


def _testcase(suite, host, finding):
    case = ET.SubElement(suite, "testcase", classname="%s.%s" % (host, finding.get("section", "")),
                         name=_clean("%s %s" % (finding.get("rule", ""), finding.get("target", ""))), time="0")
    _properties(case, [("severity", finding.get("severity")), ("level", finding.get("level")),
                       ("scored", str(bool(finding.get("scored"))).lower()), ("fix", finding.get("fix")),
                       ("status", finding.get("status")), ("title", finding.get("title"))])
    status = finding.get("status")
    evidence = _clean(finding.get("evidence") or "")
    if status == "fail":
        failure = ET.SubElement(case, "failure", message=evidence, type=finding.get("severity") or "fail")
        text = ["%s: %s" % (finding.get("rule", ""), finding.get("title", "")), "evidence: " + evidence,
                "remediation: " + (finding.get("remediation") or "")]
        if finding.get("fixed_by"):
            text.append("fixed by: " + ", ".join(finding["fixed_by"]))
        if finding.get("left_open"):
            text.append("left open: " + finding["left_open"])
        failure.text = _clean("\n".join(text))
    elif status in ("skipped", "waived"):
        ET.SubElement(case, "skipped", message="%s: %s" % (status, evidence))
    elif evidence:
        ET.SubElement(case, "system-out").text = "%s: %s" % (status, evidence)
    return status


def render_junit(report):
    """The report as a JUnit XML document (str, with its XML declaration)."""
    root = ET.Element("testsuites", name="bulwark.hardening compliance %s" % report["run"]["label"])
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for host in report["hosts"]:
        sources = sorted(set(finding["source"] for finding in host["findings"])) or ["container_audit"]
        for source in sources:
            suite = ET.SubElement(root, "testsuite", name="%s %s" % (host["name"], source), hostname=host["name"],
                                  timestamp=report["run"]["generated_at"].rstrip("Z"))
            audit = host["audits"].get(source, {})
            _properties(suite, [("score", (audit.get("summary") or {}).get("score")), ("run", report["run"]["id"]),
                                ("level", (audit.get("summary") or {}).get("level"))])
            counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
            if host["status"] != "audited":
                case = ET.SubElement(suite, "testcase", classname="%s.audit" % host["name"], name="audit %s" % host["name"], time="0")
                ET.SubElement(case, "error", message=host.get("error", "no audit result"), type="missing")
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
            suite.set("time", str((audit.get("duration_s") or 0)))
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
