# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The compliance report of one run, as plain data (schema bulwark.hardening/compliance-report, version 1).

build_report() turns each host's registered container_audit and image_audit
results into one document for every host of the play; the JSON file is that
document, and the JUnit, HTML and text renderers read it. load_history()
reads the earlier reports of the same directory for the trend. Nothing here
imports Ansible: plain functions over plain data.
"""

from __future__ import annotations

import json
import os
import re

from ansible_collections.bulwark.hardening.plugins.module_utils.audit.rule import LEVELS as CIS_LEVELS

SCHEMA = "bulwark.hardening/compliance-report"
VERSION = 1
STATUSES = ("fail", "warn", "pass", "info", "skipped", "waived")
SEVERITIES = ("critical", "high", "medium", "low")
# The two audits audit.yml runs per host, in the order they run.
SOURCES = ("container_audit", "image_audit")
FINDING_FIELDS = ("rule", "title", "section", "level", "scored", "target", "status", "severity", "evidence",
                  "remediation", "fix", "fixed_by", "left_open")
AUDIT_FIELDS = ("containers", "images", "duration_s", "api_calls")
FILE_PREFIX = "bulwark-report-"
_SLUG = re.compile(r"[^A-Za-z0-9_.-]+")


def slug(text):
    """A label as it may appear in a file name: spaces and other odd characters become '-'."""
    return _SLUG.sub("-", str(text)).strip("-") or "audit"


def run_id(generated_at, label):
    """20261126T053656Z-after-hardening from an ISO UTC time (2026-11-26T05:36:56Z) and a label."""
    return "%s-%s" % (generated_at.replace("-", "").replace(":", ""), slug(label))


def _zero_counts():
    return dict((status, 0) for status in STATUSES)


def _add_counts(total, counts):
    for status in STATUSES:
        total[status] += int((counts or {}).get(status) or 0)
    return total


def _section_key(section):
    """Sections in the benchmark's order (1..7), bulwark's BW last, anything else after."""
    return (0, int(section), "") if str(section).isdigit() else (1 if section == "BW" else 2, 0, str(section))


def _finding(source, finding):
    shown = {"source": source}
    for field in FINDING_FIELDS:
        if field in finding and finding[field] is not None:
            value = finding[field]
            shown[field] = list(value) if field == "fixed_by" else value
    shown.setdefault("evidence", "")
    shown.setdefault("remediation", "")
    shown["section"] = str(shown.get("section", ""))
    return shown


def _audit_result(result):
    """The registered result when it is a usable audit result, else None (skipped, failed, absent)."""
    if not isinstance(result, dict) or result.get("skipped") or result.get("failed") or "summary" not in result:
        return None
    return result


def _why_missing(results):
    for source in SOURCES:
        result = results.get(source)
        if isinstance(result, dict) and result.get("failed"):
            return "%s failed: %s" % (source, result.get("msg") or "see the play's output")
    return "no audit result (host unreachable, failed earlier, or not in this run)"


def _level(summary):
    """The CIS profile an audit's summary reports, or None (a result without summary.level)."""
    level = summary.get("level")
    return level if level in CIS_LEVELS and not isinstance(level, bool) else None


def build_host(name, results):
    """One host's entry from {"container_audit": registered result, "image_audit": registered result or None}."""
    results = results or {}
    audits = {}
    for source in SOURCES:
        result = _audit_result(results.get(source))
        if result is not None:
            audits[source] = result
    if "container_audit" not in audits:
        return {"name": name, "status": "missing", "error": _why_missing(results), "score": None, "cis_score": None,
                "image_score": None, "by_status": _zero_counts(), "by_section": {}, "fail_by_severity": {}, "audits": {},
                "findings": []}
    by_status = _zero_counts()
    by_section = {}
    findings = []
    summaries = {}
    for source in SOURCES:
        if source not in audits:
            continue
        result = audits[source]
        summary = result["summary"]
        _add_counts(by_status, summary.get("by_status"))
        for section, counts in (summary.get("by_section") or {}).items():
            _add_counts(by_section.setdefault(str(section), _zero_counts()), counts)
        findings.extend(_finding(source, finding) for finding in result.get("findings") or [])
        kept = ("total", "listed", "by_status", "by_section", "score", "cis_score", "failed_rules")
        entry = {"summary": dict((key, summary.get(key)) for key in kept)}
        level = _level(summary)
        if level is not None:
            entry["summary"]["level"] = level
        entry.update((key, result[key]) for key in AUDIT_FIELDS if key in result)
        summaries[source] = entry
    fail_by_severity = {}
    for finding in findings:
        if finding["status"] == "fail":
            severity = finding.get("severity", "unknown")
            fail_by_severity[severity] = fail_by_severity.get(severity, 0) + 1
    image = summaries.get("image_audit", {}).get("summary", {})
    main = summaries["container_audit"]["summary"]
    host = {
        "name": name, "status": "audited", "score": main.get("score"), "cis_score": main.get("cis_score"),
        "image_score": image.get("score"), "by_status": by_status,
        "by_section": dict((key, by_section[key]) for key in sorted(by_section, key=_section_key)),
        "fail_by_severity": fail_by_severity, "audits": summaries, "findings": findings,
    }
    # The CIS profile the host was audited against (container_audit's level); absent when its result has none.
    if main.get("level") is not None:
        host["level"] = main["level"]
    return host


def _mean(values):
    values = [value for value in values if value is not None]
    return round(sum(values) / len(values), 1) if values else None


def build_report(results_by_host, label="audit", generated_at="1970-01-01T00:00:00Z", check_mode=False, collection_version=None):
    """The report of one run: results_by_host maps each host of the play to its registered results
    ({"container_audit": ..., "image_audit": ...}); a host without a usable container_audit result is "missing"."""
    hosts = [build_host(name, results_by_host[name]) for name in sorted(results_by_host)]
    by_status = _zero_counts()
    fail_by_severity = {}
    for host in hosts:
        _add_counts(by_status, host["by_status"])
        for severity, count in host["fail_by_severity"].items():
            fail_by_severity[severity] = fail_by_severity.get(severity, 0) + count
    audited = [host for host in hosts if host["status"] == "audited"]
    return {
        "schema": SCHEMA,
        "version": VERSION,
        "run": {"id": run_id(generated_at, label), "label": str(label), "generated_at": generated_at,
                "check_mode": bool(check_mode), "collection_version": collection_version},
        "summary": {
            "hosts": len(hosts), "audited": len(audited),
            "missing": [host["name"] for host in hosts if host["status"] == "missing"],
            "score": _mean(host["score"] for host in audited),
            "by_status": by_status, "fail_by_severity": fail_by_severity,
        },
        "hosts": hosts,
    }


def run_point(report):
    """What the trend keeps of a run: id, label, time, the run's score and each host's."""
    return {"id": report["run"]["id"], "label": report["run"]["label"], "generated_at": report["run"]["generated_at"],
            "score": report["summary"]["score"], "fail": report["summary"]["by_status"].get("fail", 0),
            "hosts": dict((host["name"], host["score"]) for host in report["hosts"])}


def load_history(directory, exclude=None):
    """Run points of the earlier JSON reports in directory, oldest first; files that are not our
    reports (or not of a version this code reads) are ignored, never fatal."""
    points = []
    try:
        names = os.listdir(directory)
    except OSError:
        return points
    for name in names:
        if not (name.startswith(FILE_PREFIX) and name.endswith(".json")) or name == exclude:
            continue
        try:
            with open(os.path.join(directory, name)) as handle:
                report = json.load(handle)
            if report.get("schema") != SCHEMA or report.get("version") != VERSION:
                continue
            points.append(run_point(report))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
    return sorted(points, key=lambda point: (point["generated_at"], point["id"]))


def trend(history, report, limit=20):
    """The last `limit` runs, this one included, oldest first (a rerun of the same id replaces the earlier point)."""
    current = run_point(report)
    points = [point for point in history if point["id"] != current["id"]] + [current]
    points.sort(key=lambda point: (point["generated_at"], point["id"]))
    return points[-limit:] if limit else points


def file_names(report):
    """The run's files: bulwark-report-<id>.json, .xml (JUnit) and .html."""
    base = FILE_PREFIX + report["run"]["id"]
    return {"json": base + ".json", "junit": base + ".xml", "html": base + ".html"}


def to_json(report):
    return json.dumps(report, indent=1, sort_keys=False, ensure_ascii=False) + "\n"


def stats(report):
    """A small per-host summary for set_stats (AWX workflows): score, image score, counts of fail/warn/waived and
    failures by severity."""
    return dict((host["name"], {"status": host["status"], "score": host["score"], "image_score": host["image_score"],
                                "fail": host["by_status"]["fail"], "warn": host["by_status"]["warn"],
                                "waived": host["by_status"]["waived"], "fail_by_severity": host["fail_by_severity"]})
                for host in report["hosts"])


def _score(value):
    return "n/a" if value is None else "%.1f%%" % value


def summary_table(report):
    """The short table printed at the end of the play: one line per host, then the run's."""
    lines = ["%-24s %7s %7s %5s %5s %6s %5s  %s" % ("host", "score", "images", "fail", "warn", "waived", "crit", "high")]
    for host in report["hosts"]:
        if host["status"] != "audited":
            lines.append("%-24s %s" % (host["name"], "MISSING: " + host.get("error", "")))
            continue
        counts = host["by_status"]
        lines.append("%-24s %7s %7s %5d %5d %6d %5d  %d" % (
            host["name"], _score(host["score"]), _score(host["image_score"]), counts["fail"], counts["warn"],
            counts["waived"], host["fail_by_severity"].get("critical", 0), host["fail_by_severity"].get("high", 0)))
    summary = report["summary"]
    lines.append("%d/%d hosts audited, mean score %s, %d fail, %d warn, %d waived" % (
        summary["audited"], summary["hosts"], _score(summary["score"]), summary["by_status"]["fail"],
        summary["by_status"]["warn"], summary["by_status"]["waived"]))
    return lines
