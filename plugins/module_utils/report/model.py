# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The compliance report of one run, as plain data (schema bulwark.hardening/compliance-report, version 1).

build_report() turns each host's registered container_audit and image_audit
results into one document for every host of the play; the JSON file is that
document, and the JUnit, HTML and text renderers read it. load_history()
reads the earlier reports of the same directory for the trend. Nothing here
imports Ansible: plain functions over plain data.

Hostile input is the normal case: host names come from inventories, labels
from operators, evidence from what containers and images hold, earlier
reports from a directory. So:
- every string of the report (host names and keys included) is printable
  text: control characters, undecodable bytes and bidirectional controls
  are backslash escapes (common.safe_text), which JSON, XML 1.0, HTML and a
  terminal all carry as they are;
- every file name comes from slug(), which keeps [A-Za-z0-9_.-] only, never
  starts with a dot, is never longer than MAX_SLUG, and for host names adds
  a digest of the name whenever it had to change it, so two hosts never
  share a file;
- a label is checked (label_problem()) before anything is written;
- an earlier report is used in the trend only when every value the trend
  reads has the right type, otherwise it is left out with a warning.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import stat

from ansible_collections.bulwark.hardening.plugins.module_utils.audit.rule import LEVELS as CIS_LEVELS
from ansible_collections.bulwark.hardening.plugins.module_utils.common.safe_text import clean_data, escape_unprintable, is_printable

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
# Characters of a slug before its digest: a file name stays far below 255 bytes with a label and a host in it.
MAX_SLUG = 100
MAX_LABEL = 100
# An earlier report larger than this is not read for the trend.
MAX_HISTORY_FILE = 256 << 20
GENERATED_AT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def slug(text, unique=False):
    """Text as it may appear in a file name: runs of characters other than [A-Za-z0-9_.-] become '-', leading and
    trailing '-' and '.' go, at most MAX_SLUG characters ('audit' when nothing is left).

    unique: when that changed the text, add '-' and 8 hex digits of its SHA-256, so that different texts never
    share a slug (host names: one file per host).
    """
    text = text if isinstance(text, str) else str(text)
    cleaned = _SLUG.sub("-", text).strip("-.")[:MAX_SLUG].rstrip("-.")
    if unique and cleaned != text:
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        return (cleaned + "-" if cleaned else "") + digest
    return cleaned or "audit"


def label_problem(label):
    """Why label cannot name a run (it is part of every file name and shown in every report), or None."""
    if not isinstance(label, str) or not label.strip():
        return "label must be a non-empty string"
    if len(label) > MAX_LABEL:
        return "label is %d characters long; at most %d" % (len(label), MAX_LABEL)
    if not is_printable(label) or "/" in label or "\\" in label:
        return "label %s holds a control character, a slash or a backslash" % escape_unprintable(repr(label))
    if not any(char.isalnum() for char in label):
        return "label %s has no letter or digit" % escape_unprintable(repr(label))
    return None


def host_file_name(host, label):
    """The per-host text file of a run: <host>-<label>.txt, both slugged (the host name uniquely)."""
    return "%s-%s.txt" % (slug(host, unique=True), slug(label))


def run_id(generated_at, label):
    """20261126T053656Z-after-hardening from an ISO UTC time (2026-11-26T05:36:56Z) and a label."""
    return "%s-%s" % (generated_at.replace("-", "").replace(":", ""), slug(label))


def _zero_counts():
    return dict((status, 0) for status in STATUSES)


# --- values of registered results, as the schema has them ---------------------------------------------
# A result comes from a host, and a host can be compromised: anything of the wrong type is left out (a
# score, a count) rather than trusted, so a report of any input matches the schema and renders.

def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_score(value):
    return value is None or (_number(value) and 0 <= value <= 100)


def _as_score(value):
    return value if _is_score(value) else None


def _as_int(value, minimum=None):
    if isinstance(value, int) and not isinstance(value, bool) and (minimum is None or value >= minimum):
        return value
    return None


def _as_count(value):
    return _as_int(value, 0) or 0


def _as_counts(counts):
    return dict((status, _as_count(counts.get(status))) for status in STATUSES) if isinstance(counts, dict) else None


def _as_strings(values):
    return ["%s" % value for value in values] if isinstance(values, list) else None


def _add_counts(total, counts):
    for status in STATUSES:
        total[status] += _as_count((counts if isinstance(counts, dict) else {}).get(status))
    return total


def _section_key(section):
    """Sections in the benchmark's order (1..7), bulwark's BW last, anything else after."""
    text = str(section)
    return (0, int(text), "") if text.isascii() and text.isdigit() else (1 if text == "BW" else 2, 0, text)


FIX_CLASSES = ("live", "recreate", "daemon", "files", "host", "manual")
_ENUMS = {"status": STATUSES, "severity": SEVERITIES, "fix": FIX_CLASSES, "level": CIS_LEVELS}


def _finding(source, finding):
    """A finding as the report lists it, or None when it is not one (not a mapping, an unknown status)."""
    if not isinstance(finding, dict) or finding.get("status") not in STATUSES:
        return None
    shown = {"source": source}
    for field in FINDING_FIELDS:
        value = finding.get(field)
        if value is None:
            continue
        if field in _ENUMS:
            if value in _ENUMS[field] and not isinstance(value, bool):
                shown[field] = value
        elif field == "scored":
            shown[field] = bool(value)
        elif field == "fixed_by":
            if _as_strings(value) is not None:
                shown[field] = _as_strings(value)
        else:
            shown[field] = "%s" % (value,)
    for field in ("rule", "target", "evidence", "remediation", "section"):
        shown.setdefault(field, "")
    return shown


def _audit_summary(summary):
    """What the report keeps of an audit's summary, each value of the type the schema says or None."""
    by_section = summary.get("by_section")
    kept = {
        "total": _as_int(summary.get("total"), 0), "listed": _as_int(summary.get("listed"), 0),
        "by_status": _as_counts(summary.get("by_status")),
        "by_section": dict(("%s" % section, _as_counts(counts) or _zero_counts()) for section, counts in by_section.items())
        if isinstance(by_section, dict) else None,
        "score": _as_score(summary.get("score")), "cis_score": _as_int(summary.get("cis_score")),
        "failed_rules": _as_strings(summary.get("failed_rules")),
    }
    level = _level(summary)
    if level is not None:
        kept["level"] = level
    return kept


def _audit_result(result):
    """The registered result when it is a usable audit result, else None (skipped, failed, absent)."""
    if not isinstance(result, dict) or result.get("skipped") or result.get("failed") or not isinstance(result.get("summary"), dict):
        return None
    return result


def _why_missing(results):
    for source in SOURCES:
        result = results.get(source)
        if isinstance(result, dict) and result.get("failed"):
            return "%s failed: %s" % (source, "%s" % (result.get("msg") or "see the play's output",))
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
        sections = summary.get("by_section")
        for section, counts in (sections.items() if isinstance(sections, dict) else ()):
            _add_counts(by_section.setdefault(str(section), _zero_counts()), counts)
        listed = result.get("findings")
        findings.extend(shown for shown in (_finding(source, finding) for finding in (listed if isinstance(listed, list) else []))
                        if shown is not None)
        entry = {"summary": _audit_summary(summary)}
        entry.update((key, result[key]) for key in AUDIT_FIELDS
                     if _number(result.get(key)) and (key == "duration_s" or _as_int(result[key]) is not None))
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
    ({"container_audit": ..., "image_audit": ...}); a host without a usable container_audit result is "missing".
    Every string of the report is printable text (common.safe_text), host names included."""
    results_by_host = clean_data(results_by_host)
    label = escape_unprintable(label, keep_whitespace=True)
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


def history_point(report):
    """run_point() of an earlier report read from a file, its text made printable; ValueError naming what the
    trend cannot use (a score that is not a number, a time that is not one, ...)."""
    if not isinstance(report, dict) or not isinstance(report.get("run"), dict) or not isinstance(report.get("summary"), dict):
        raise ValueError("not a report (no run or summary)")
    run, summary = report["run"], report["summary"]
    for field in ("id", "label", "generated_at"):
        if not isinstance(run.get(field), str):
            raise ValueError("run.%s is not a string" % field)
    if not GENERATED_AT.match(run["generated_at"]):
        raise ValueError("run.generated_at is not a UTC time")
    if not _is_score(summary.get("score")):
        raise ValueError("summary.score is not a number from 0 to 100")
    fail = (summary.get("by_status") or {}).get("fail", 0) if isinstance(summary.get("by_status"), dict) else None
    if not (_number(fail) and fail >= 0):
        raise ValueError("summary.by_status.fail is not a count")
    hosts = report.get("hosts")
    if not isinstance(hosts, list) or not all(isinstance(host, dict) and isinstance(host.get("name"), str)
                                              and _is_score(host.get("score")) for host in hosts):
        raise ValueError("a host has no name or a score that is not a number")
    return clean_data(run_point(report))


def _open_report(name, dir_fd, directory):
    """A file object of an earlier report, opened without following a symlink; ValueError when it is not a
    regular file of root or this user that only its owner may write, or is too large."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        descriptor = os.open(name, flags, dir_fd=dir_fd) if dir_fd is not None else os.open(os.path.join(directory, name), flags)
    except OSError as error:
        raise ValueError("cannot be opened (%s)" % (error.strerror or error))
    handle = os.fdopen(descriptor, "rb")
    info = os.fstat(descriptor)
    problem = None
    if not stat.S_ISREG(info.st_mode):
        problem = "not a regular file"
    elif info.st_uid not in (0, os.geteuid()):
        problem = "owned by uid %d, not by root or this user" % info.st_uid
    elif info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        problem = "writable by group or others (mode %04o)" % stat.S_IMODE(info.st_mode)
    elif info.st_size > MAX_HISTORY_FILE:
        problem = "larger than %d bytes" % MAX_HISTORY_FILE
    if problem:
        handle.close()
        raise ValueError(problem)
    return handle


def load_history(directory, exclude=None, warnings=None, dir_fd=None):
    """Run points of the earlier JSON reports in directory (or the open directory dir_fd), oldest first.

    Only bulwark-report-*.json files are read, without following symlinks, and only those of root or this user
    that others cannot write. A file the trend cannot use (not JSON, another schema or version, a score that is
    not a number, ...) is left out with a warning appended to warnings. Never fatal.
    """
    points = []
    warnings = warnings if warnings is not None else []
    try:
        names = os.listdir(dir_fd if dir_fd is not None else directory)
    except OSError:
        return points
    for name in sorted(names):
        if not (name.startswith(FILE_PREFIX) and name.endswith(".json")) or name == exclude:
            continue
        shown = escape_unprintable(name)
        try:
            with _open_report(name, dir_fd, directory) as handle:
                report = json.loads(handle.read().decode("utf-8"))
            if not isinstance(report, dict) or report.get("schema") != SCHEMA or report.get("version") != VERSION:
                raise ValueError("not a %s version %d document" % (SCHEMA, VERSION))
            points.append(history_point(report))
        except (ValueError, RecursionError, OSError) as error:
            warnings.append("earlier report %s left out of the trend: %s"
                            % (shown, escape_unprintable(str(error)[:200], keep_whitespace=False)))
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
