# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""The compliance report of one run, as plain data (schema bulwark.hardening/compliance-report, version 2).

build_report() turns each host's registered container_audit and image_audit
results into one document for every host of the play; the JSON file is that
document, and the JUnit, HTML and text renderers read it (a finding with its
rule's metadata through details()). Each rule's metadata is in the document
once, in `rules`, and findings name their rule by id (version 2; version 1
repeated the rule in every finding). load_history() reads the earlier reports
of the same directory, of either version, for the trend. Nothing here
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

from ansible_collections.bulwark.hardening.plugins.module_utils.rules.rule import CIS_VERSIONS, DEFAULT_CIS_VERSION, FIX_CLASSES, rule_sort_key
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.rule import LEVELS as CIS_LEVELS
from ansible_collections.bulwark.hardening.plugins.module_utils.common.safe_text import clean_data, escape_unprintable, is_printable
from ansible_collections.bulwark.hardening.plugins.module_utils.rules import catalog as rulebook
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.findings import expand
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.status import ALL_STATUSES, SEVERITIES, severity_rank

SCHEMA = "bulwark.hardening/compliance-report"
VERSION = 2
# The versions whose earlier reports the trend reads: version 2 changed the findings, not what the trend reads.
TREND_VERSIONS = (1, 2)
# Every status a finding can end with (rules.status), in the order the counts list them.
STATUSES = ALL_STATUSES
# The two audits audit.yml runs per host, in the order they run.
SOURCES = ("container_audit", "image_audit")
# A finding names its rule by id; the rule's metadata (RULE_FIELDS) is in the report once, in `rules`.
FINDING_FIELDS = ("rule", "target", "status", "severity", "evidence", "left_open")
RULE_FIELDS = ("title", "section", "level", "scored", "severity", "remediation", "fix", "fixed_by", "left_open")
AUDIT_FIELDS = ("containers", "images", "duration_s", "api_calls")
# The thresholds a play fails a host at: a severity (rules.status, lowest first), or none, which fails nothing.
THRESHOLDS = ("none",) + SEVERITIES
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


_ENUMS = {"status": STATUSES, "severity": SEVERITIES, "fix": FIX_CLASSES, "level": CIS_LEVELS}


def _typed(field, value):
    """value as the schema has the field (an enum member, a boolean, a list of strings, a string), or None."""
    if field in _ENUMS:
        return value if value in _ENUMS[field] and not isinstance(value, bool) else None
    if field == "scored":
        return bool(value)
    if field == "fixed_by":
        return _as_strings(value)
    return "%s" % (value,)


def _typed_fields(data, fields, shown):
    """shown with each of fields that data has, as the schema has it (_typed); values of the wrong type left out."""
    for field in fields:
        value = data.get(field)
        typed = _typed(field, value) if value is not None else None
        if typed is not None:
            shown[field] = typed
    return shown


def _rule_entry(meta):
    """A rule's metadata as the report keeps it (RULE_FIELDS, each of its type), or None when it is not a mapping."""
    if not isinstance(meta, dict):
        return None
    entry = _typed_fields(meta, RULE_FIELDS, {})
    for field in ("title", "section", "remediation"):
        entry.setdefault(field, "")
    return entry


def _result_rules(result):
    """{rule id: metadata} of an audit result: its `rules` map, else (results of the modules before they listed
    each rule once) what its findings carried of their rules."""
    listed = result.get("rules")
    if isinstance(listed, dict):
        pairs = listed.items()
    else:
        # A finding of those results carried its own left_open, resolved for its target: not the rule's.
        pairs = ((finding.get("rule"), dict((key, value) for key, value in finding.items() if key != "left_open"))
                 for finding in result.get("findings") or [] if isinstance(finding, dict))
    rules = {}
    for rule_id, meta in pairs:
        entry = _rule_entry(meta)
        if rule_id is not None and entry is not None:
            rules.setdefault("%s" % (rule_id,), entry)
    return rules


def _finding(source, finding, rules):
    """A finding as the report lists it (its rule named by id, that rule's metadata in rules), or None when it is
    not one (not a mapping, an unknown status). left_open is kept when it is the finding's own: rules has the
    rule's."""
    if not isinstance(finding, dict) or finding.get("status") not in STATUSES:
        return None
    shown = _typed_fields(finding, FINDING_FIELDS, {"source": source})
    for field in ("rule", "target", "evidence"):
        shown.setdefault(field, "")
    rule = rules.get(shown["rule"], {})
    if "left_open" in shown and shown["left_open"] == rule.get("left_open"):
        del shown["left_open"]
    if "severity" not in shown and rule.get("severity"):
        shown["severity"] = rule["severity"]
    return shown


def details(report, host, finding):
    """The whole view of one of a host's findings: its fields with its rule's metadata (title, section, level,
    scored, remediation, fix, fixed_by) and left_open resolved (the finding's own, else its rule's when it is a
    problem). The rule is looked up in the host entry's own `rules` (host_entry()), else in the report's rules of
    the host's CIS version."""
    rules = host.get("rules")
    if not isinstance(rules, dict):
        rules = ((report or {}).get("rules") or {}).get(host.get("cis_version") or DEFAULT_CIS_VERSION) or {}
    return expand(finding, rules)


def _audit_summary(summary):
    """What the report keeps of an audit's summary (its own figures, before the host counts each finding once),
    each value of the type the schema says or None."""
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
    version = _cis_version(summary)
    if version is not None:
        kept["cis_version"] = version
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


def _cis_version(summary):
    """The CIS Docker Benchmark version an audit's summary reports ("1.6", "1.8"), or None (a result without one)."""
    version = summary.get("cis_version")
    return version if version in CIS_VERSIONS else None


# --- counting each finding once ---------------------------------------------------------------------------
# A host's figures are over its findings, each one rule's verdict on one target, counted once. Both audits judge
# images: container_audit the images of the containers it audits, image_audit every image it audits. When both
# judged the same image:
# - the image rules (4.2, 4.4, 4.6-4.10, BW-003, BW-010, BW-011) are image_audit's: it reads the build history and
#   every layer, container_audit only the image's inspect data (its 4.7-4.10, BW-010 and BW-011 are skipped or
#   decided from less), so container_audit's findings of them on that image are left out;
# - 4.1, BW-005 and BW-006 judge how a container runs its image (--user overrides USER; the reference it was
#   created from is what a recreate pulls), so on an image an audited container runs, container_audit's findings on
#   the containers count and image_audit's image form of them on that image is left out. On images no audited
#   container runs, the image form is the only verdict and counts.
# Every output (the play's lines, the table, set_stats, JSON, JUnit, HTML) reads the host entry build_host() makes.

def _rule_facts(rule_id, cis_version):
    """(section, scored, has an image form) of a rule by its id in CIS version cis_version; None when the catalog
    has no such rule (then its verdict is never left out)."""
    try:
        rule = rulebook.get_in(rule_id, cis_version)
    except (KeyError, ValueError, TypeError):
        return None
    return rule.section_number, bool(rule.scored), rule.image_evaluate is not None


def _image_verdicts(summary):
    """An audit summary's by_image ({image: {rule: status}}), well-formed entries only; {} when it has none."""
    by_image = summary.get("by_image") if isinstance(summary, dict) else None
    if not isinstance(by_image, dict):
        return {}
    return dict(("%s" % image, dict(("%s" % rule, status) for rule, status in verdicts.items() if status in STATUSES))
                for image, verdicts in by_image.items() if isinstance(verdicts, dict))


def _scored(summary):
    """(scored passes, scored failures) of an audit summary, or None when it does not say."""
    scored = summary.get("scored") if isinstance(summary, dict) else None
    if not isinstance(scored, dict):
        return None
    counts = (_as_int(scored.get("pass"), 0), _as_int(scored.get("fail"), 0))
    return None if None in counts else counts


def left_out(container_summary, image_summary):
    """{"container_audit": {(image, rule): status}, "image_audit": {(image, rule): status}}: the verdicts each audit
    made that the host does not count, because the other audit's verdict on the same image counts (see above)."""
    dropped = {"container_audit": {}, "image_audit": {}}
    if not isinstance(image_summary, dict) or not isinstance(container_summary, dict):
        return dropped
    container_images, image_images = _image_verdicts(container_summary), _image_verdicts(image_summary)
    version = _cis_version(container_summary) or DEFAULT_CIS_VERSION
    container_sections = set("%s" % section for section in (container_summary.get("by_section") or {}))
    for image in sorted(set(container_images) & set(image_images)):
        for rule_id, status in container_images[image].items():
            facts = _rule_facts(rule_id, version)
            if facts is not None and not facts[2]:
                dropped["container_audit"][(image, rule_id)] = status
        for rule_id, status in image_images[image].items():
            facts = _rule_facts(rule_id, _cis_version(image_summary) or version)
            # container_audit judged the containers that run this image under the rule when it audited its section
            if facts is not None and facts[2] and facts[0] in container_sections:
                dropped["image_audit"][(image, rule_id)] = status
    return dropped


def _take_away(counts, status):
    counts[status] = max(0, counts.get(status, 0) - 1)


def _score_of(scored):
    if scored is None:
        return None, None
    passed, failed = scored
    return (round(100.0 * passed / (passed + failed), 1) if passed + failed else None), passed - failed


def host_counts(summaries, dropped):
    """The host's by_status, by_section, (score, cis_score) and the image audit's (score, cis_score), over the
    audits' summaries ({source: summary}) without the verdicts dropped (left_out()). A summary that does not say its
    scored passes and failures (results of older modules) leaves the host with container_audit's own scores."""
    by_status, by_section = _zero_counts(), {}
    scored = {}
    for source in SOURCES:
        if source not in summaries:
            continue
        summary = summaries[source]
        _add_counts(by_status, summary.get("by_status"))
        sections = summary.get("by_section")
        for section, counts in (sections.items() if isinstance(sections, dict) else ()):
            _add_counts(by_section.setdefault(str(section), _zero_counts()), counts)
        version = _cis_version(summary) or _cis_version(summaries["container_audit"]) or DEFAULT_CIS_VERSION
        passed_failed = _scored(summary)
        for (_image, rule_id), status in dropped.get(source, {}).items():
            facts = _rule_facts(rule_id, version)
            if facts is None:
                continue
            section, is_scored, _form = facts
            _take_away(by_status, status)
            _take_away(by_section.setdefault(section, _zero_counts()), status)
            if passed_failed is not None and is_scored and status in ("pass", "fail"):
                passed_failed = (max(0, passed_failed[0] - (status == "pass")), max(0, passed_failed[1] - (status == "fail")))
        scored[source] = passed_failed
    known = [scored[source] for source in scored]
    if known and None not in known:
        host_score = _score_of((sum(pair[0] for pair in known), sum(pair[1] for pair in known)))
    else:
        main = summaries.get("container_audit", {})
        host_score = (_as_score(main.get("score")), _as_int(main.get("cis_score")))
    image = summaries.get("image_audit")
    if image is None:
        image_score = (None, None)
    elif scored.get("image_audit") is not None:
        image_score = _score_of(scored["image_audit"])
    else:
        image_score = (_as_score(image.get("score")), _as_int(image.get("cis_score")))
    return {"by_status": by_status, "by_section": dict((key, by_section[key]) for key in sorted(by_section, key=_section_key)),
            "score": host_score[0], "cis_score": host_score[1], "image_score": image_score[0]}


def build_host(name, results):
    """One host's entry from {"container_audit": registered result, "image_audit": registered result or None}:
    every figure over its findings counted once (left_out(), host_counts()), the findings both audits listed
    without those left out."""
    results = results or {}
    audits = {}
    for source in SOURCES:
        result = _audit_result(results.get(source))
        if result is not None:
            audits[source] = result
    if "container_audit" not in audits:
        return {"name": name, "status": "missing", "error": _why_missing(results), "score": None, "cis_score": None,
                "image_score": None, "by_status": _zero_counts(), "by_section": {}, "fail_by_severity": {}, "audits": {},
                "findings": [], "rules": {}}
    raw = dict((source, audits[source]["summary"]) for source in audits)
    dropped = left_out(raw["container_audit"], raw.get("image_audit"))
    counts = host_counts(raw, dropped)
    findings = []
    summaries = {}
    rules = {}
    for source in SOURCES:
        if source not in audits:
            continue
        result = audits[source]
        listed = result.get("findings")
        known = _result_rules(result)
        for shown in (_finding(source, finding, known) for finding in (listed if isinstance(listed, list) else [])):
            if shown is not None and (shown["target"], shown["rule"]) not in dropped[source]:
                findings.append(shown)
                if shown["rule"] in known:
                    rules.setdefault(shown["rule"], known[shown["rule"]])
        entry = {"summary": _audit_summary(raw[source])}
        entry.update((key, result[key]) for key in AUDIT_FIELDS
                     if _number(result.get(key)) and (key == "duration_s" or _as_int(result[key]) is not None))
        summaries[source] = entry
    fail_by_severity = {}
    for finding in findings:
        if finding["status"] == "fail":
            severity = finding.get("severity", "unknown")
            fail_by_severity[severity] = fail_by_severity.get(severity, 0) + 1
    main = summaries["container_audit"]["summary"]
    host = {
        "name": name, "status": "audited", "score": counts["score"], "cis_score": counts["cis_score"],
        "image_score": counts["image_score"], "by_status": counts["by_status"], "by_section": counts["by_section"],
        "fail_by_severity": fail_by_severity, "audits": summaries, "findings": findings, "rules": rules,
        # Verdicts each audit made that count as the other audit's (left_out()), so the figures add up.
        "left_out": dict((source, len(dropped[source])) for source in summaries),
    }
    # The CIS profile and version the host was audited against (container_audit's); absent when its result has none.
    if main.get("level") is not None:
        host["level"] = main["level"]
    if main.get("cis_version") is not None:
        host["cis_version"] = main["cis_version"]
    return host


def host_entry(name, results):
    """build_host() over results made printable (what build_report() does for every host): for the per-host
    verdict and lines of a play, which report on one host at a time."""
    return build_host(escape_unprintable(name), clean_data(results))


def blocking(host, threshold="high"):
    """'<rule> <target> (<severity>)' of every failing finding (waived ones are not failing) the host counts at or
    above threshold (low, medium, high, critical; none: nothing). ValueError for another threshold."""
    if threshold not in THRESHOLDS:
        raise ValueError("the severity threshold must be one of %s, not %r" % (", ".join(THRESHOLDS), threshold))
    if threshold == "none":
        return []
    lowest = severity_rank(threshold)
    return ["%s %s (%s)" % (finding["rule"], finding["target"], finding["severity"]) for finding in host["findings"]
            if finding["status"] == "fail" and severity_rank(finding.get("severity")) >= lowest]


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
    rules = {}
    for host in hosts:
        # Each rule once in the document, by the CIS version whose ids the host's findings use ("2.10" is user
        # namespaces under 1.8 and the cgroup parent under 1.6).
        by_id = rules.setdefault(host.get("cis_version") or DEFAULT_CIS_VERSION, {})
        for rule_id, entry in host.pop("rules").items():
            by_id.setdefault(rule_id, entry)
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
        "rules": dict((version, dict(sorted(by_id.items(), key=lambda item: rule_sort_key(item[0]))))
                      for version, by_id in sorted(rules.items()) if by_id),
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
            if not isinstance(report, dict) or report.get("schema") != SCHEMA or report.get("version") not in TREND_VERSIONS:
                raise ValueError("not a %s document of version %s" % (SCHEMA, " or ".join(str(v) for v in TREND_VERSIONS)))
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


def json_parts(report):
    """The report as JSON text, in the pieces the encoder makes (to_json() joins them): a writer that never joins
    them holds no whole copy of a large report."""
    yield from json.JSONEncoder(indent=1, sort_keys=False, ensure_ascii=False).iterencode(report)
    yield "\n"


def to_json(report):
    return "".join(json_parts(report))


def stats(report):
    """A small per-host summary for set_stats (AWX workflows), the host entry's figures (each finding counted once):
    score, cis_score, image score, counts of fail/warn/waived/pass, failures by severity, and the CIS version and
    level when the audit reported them."""
    entries = {}
    for host in report["hosts"]:
        entry = {"status": host["status"], "score": host["score"], "cis_score": host["cis_score"],
                 "image_score": host["image_score"], "fail": host["by_status"]["fail"], "warn": host["by_status"]["warn"],
                 "waived": host["by_status"]["waived"], "pass": host["by_status"]["pass"],
                 "fail_by_severity": host["fail_by_severity"]}
        entry.update((key, host[key]) for key in ("cis_version", "level") if host.get(key) is not None)
        entries[host["name"]] = entry
    return entries


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
