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
A finding's rule metadata comes from the report's `rules` (model.details).

Every attribute and text is made printable (_clean; the report is printable
text already, model.build_report, and this holds for any dict given here
too): XML 1.0 cannot carry most control characters even escaped, and evidence
may quote any byte. They become backslash escapes (common.safe_text).

The document is written as text, escaped as xml.etree.ElementTree escapes
and indented as ElementTree.indent indents: the same bytes the ElementTree
version of this module wrote, 7x faster (a report of 40,000 findings is
40,000 testcases: 2.6 s with ElementTree, under 0.4 s now; see
benchmarks/report_render.py). A rule's <properties> block is written once and
reused by every testcase that shows the same values.
"""

from __future__ import annotations

import re

from ansible_collections.bulwark.hardening.plugins.module_utils.common.safe_text import escape_unprintable
from ansible_collections.bulwark.hardening.plugins.plugin_utils.report.model import details

INDENT = "  "
# A line break and the indentation of an element at depth 0 to 4 (testsuites, testsuite, testcase, its properties, a property).
NEWLINE = tuple("\n" + INDENT * depth for depth in range(5))
COUNTS = ("tests", "failures", "errors", "skipped")


def _clean(value):
    return escape_unprintable("" if value is None else value, keep_whitespace=True)


# What XML markup needs escaped, as xml.etree.ElementTree escapes it: in character data, and in attribute values.
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\r": "&#13;", "\n": "&#10;", "\t": "&#09;"}
_TEXT_MARKUP = re.compile("[&<>]")
_ATTRIBUTE_MARKUP = re.compile("[&<>\"\r\n\t]")


def _entity(match):
    return _ENTITIES[match.group(0)]


# text() and attribute() escape markup only; junit_parts() then makes the document printable piece by piece (_clean),
# which is what cleaning every value first gives: both replace single characters, and neither replaces a character
# the other makes or replaces (an escape for an unprintable character is printable ASCII without &, <, > or ").

def text(value):
    """Character data: &, < and > escaped."""
    return _TEXT_MARKUP.sub(_entity, "" if value is None else value if isinstance(value, str) else str(value))


def attribute(value):
    """An attribute value: &, <, >, the quote and the whitespace a parser would fold escaped."""
    return _ATTRIBUTE_MARKUP.sub(_entity, "" if value is None else value if isinstance(value, str) else str(value))


def start_tag(tag, attributes):
    """<tag name="value" ...> of (name, value) pairs, values escaped."""
    return "<%s%s>" % (tag, "".join(' %s="%s"' % (name, attribute(value)) for name, value in attributes))


def leaf(tag, attributes, content=None):
    """An element without children: <tag ... /> or <tag ...>text</tag>."""
    if content is None:
        return start_tag(tag, attributes)[:-1] + " />"
    return "%s%s</%s>" % (start_tag(tag, attributes), text(content), tag)


def _properties(values, depth):
    """<properties> of the (name, value) pairs whose value is not None, at indentation depth."""
    inner = NEWLINE[depth + 1]
    shown = [leaf("property", (("name", name), ("value", value))) for name, value in values if value is not None]
    if not shown:
        return "<properties />"
    return "<properties>" + inner + inner.join(shown) + NEWLINE[depth] + "</properties>"


def _outcome(finding):
    """The testcase's child that says how it ended (an element without children), or "" for a pass."""
    status = finding.get("status")
    evidence = "%s" % (finding.get("evidence") or "")
    if status == "fail":
        lines = ["%s: %s" % (finding.get("rule", ""), finding.get("title", "")), "evidence: " + evidence,
                 "remediation: %s" % (finding.get("remediation") or "")]
        if finding.get("fixed_by"):
            lines.append("fixed by: " + ", ".join("%s" % item for item in finding["fixed_by"]))
        lines.append("left open: %s" % finding["left_open"] if finding.get("left_open") else "left open: no reason given")
        return '<failure message="%s" type="%s">%s</failure>' % (
            attribute(evidence), attribute(finding.get("severity") or "fail"), text("\n".join(lines)))
    if status in ("skipped", "waived"):
        return '<skipped message="%s" />' % attribute("%s: %s" % (status, evidence))
    if evidence:
        return "<system-out>%s</system-out>" % text("%s: %s" % (status, evidence))
    return ""


PROPERTY_NAMES = ("severity", "level", "scored", "fix", "status", "title")


def testcase(host, finding, blocks=None):
    """One finding (its full view, model.details) as a <testcase> at depth 2, indented, without the leading newline.
    blocks: a dict to keep each <properties> block written in, for the next testcase with the same values (most
    findings of one rule share them: at fleet size this halves the time)."""
    values = (finding.get("severity"), finding.get("level"), str(bool(finding.get("scored"))).lower(), finding.get("fix"),
              finding.get("status"), finding.get("title"))
    try:
        properties = blocks.get(values) if blocks is not None else None
    except TypeError:  # a value that cannot be a key (a list where the report has text): written, not kept
        properties = blocks = None
    if properties is None:
        properties = _properties(zip(PROPERTY_NAMES, values), 3)
        if blocks is not None:
            blocks[values] = properties
    outcome = _outcome(finding)
    return '<testcase classname="%s.%s" name="%s %s" time="0">%s%s%s%s</testcase>' % (
        attribute(host), attribute(finding.get("section", "")), attribute(finding.get("rule", "")), attribute(finding.get("target", "")),
        NEWLINE[3], properties, NEWLINE[3] + outcome if outcome else "", NEWLINE[2])


def _suite_counts(host, source):
    """The counts of one host's audit's <testsuite>: tests, failures, errors, skipped."""
    counts = dict.fromkeys(COUNTS, 0)
    if host["status"] != "audited":
        counts["tests"] += 1
        counts["errors"] += 1
    for finding in host["findings"]:
        if finding["source"] != source:
            continue
        counts["tests"] += 1
        if finding.get("status") == "fail":
            counts["failures"] += 1
        elif finding.get("status") in ("skipped", "waived"):
            counts["skipped"] += 1
    return counts


def _suite(report, host, source, blocks, counts):
    """The <testsuite> of one host's audit at depth 1, as texts one after the other (a testcase each), made as they
    are written: at 40,000 findings no list of every testcase is ever in memory."""
    inner = NEWLINE[2]
    audit = host["audits"].get(source, {})
    summary = audit.get("summary") or {}
    attributes = [("name", "%s %s" % (host["name"], source)), ("hostname", host["name"]),
                  ("timestamp", report["run"]["generated_at"].rstrip("Z"))]
    attributes.extend((key, str(counts[key])) for key in COUNTS)
    attributes.append(("time", audit.get("duration_s") or 0))
    yield start_tag("testsuite", attributes)
    yield inner + _properties([("score", host["score"]), ("cis_score", host["cis_score"]), ("run", report["run"]["id"]),
                               ("level", summary.get("level")), ("cis_version", summary.get("cis_version"))], 2)
    if host["status"] != "audited":
        yield inner + start_tag("testcase", (("classname", "%s.audit" % host["name"]), ("name", "audit %s" % host["name"]),
                                             ("time", "0"))) \
            + NEWLINE[3] + leaf("error", (("message", host.get("error", "no audit result")), ("type", "missing"))) + inner + "</testcase>"
    for finding in host["findings"]:
        if finding["source"] == source:
            yield inner + testcase(host["name"], details(report, host, finding), blocks)
    yield NEWLINE[1] + "</testsuite>"


def junit_parts(report):
    """The report as a JUnit XML document, as texts to write one after the other, made as they are written
    (render_junit() joins them): at 40,000 findings the document is 29 MB, and a writer that takes them one at a time
    never holds it whole."""
    suites = [(host, source, _suite_counts(host, source)) for host in report["hosts"]
              for source in (sorted(set(finding["source"] for finding in host["findings"])) or ["container_audit"])]
    totals = dict((key, sum(counts[key] for _host, _source, counts in suites)) for key in COUNTS)
    attributes = [("name", "bulwark.hardening compliance %s" % report["run"]["label"])]
    attributes.extend((key, str(totals[key])) for key in COUNTS)
    yield '<?xml version="1.0" encoding="UTF-8"?>\n'
    if not suites:
        yield _clean(leaf("testsuites", attributes)) + "\n"
        return
    # Made printable piece by piece (escape_unprintable works character by character), never as a whole.
    yield _clean(start_tag("testsuites", attributes))
    blocks = {}
    for host, source, counts in suites:
        yield NEWLINE[1]
        for part in _suite(report, host, source, blocks, counts):
            yield _clean(part)
    yield NEWLINE[0] + "</testsuites>\n"


def render_junit(report):
    """The report as a JUnit XML document (str, with its XML declaration)."""
    return "".join(junit_parts(report))
