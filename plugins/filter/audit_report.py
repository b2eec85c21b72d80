# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render container_audit and container_remediate results as lines a person reads at the end of a play."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.status import severity_rank
from ansible_collections.bulwark.hardening.plugins.plugin_utils.report import model, text

SOURCES = model.SOURCES


def _is_host_results(value):
    """A mapping of one host's results ({"container_audit": ..., "image_audit": ...}), or a registered
    bulwark.hardening.audit result, which holds the image audit's result in image_audit."""
    return isinstance(value, dict) and (("summary" not in value and any(source in value for source in SOURCES))
                                        or ("summary" in value and isinstance(value.get("image_audit"), dict)))


def _as_results(value):
    """{"container_audit": result, "image_audit": result or None} from a registered container_audit or audit result,
    or from such a mapping."""
    if isinstance(value, dict) and "summary" in value:
        return {"container_audit": value, "image_audit": value.get("image_audit") if isinstance(value.get("image_audit"), dict) else None}
    if isinstance(value, dict) and any(source in value for source in SOURCES):
        return dict((source, value.get(source)) for source in SOURCES)
    return {"container_audit": value, "image_audit": None}


def audit_summary_lines(result, label="audit"):
    """A host's audit as lines (report.text.host_lines over report.model.host_entry): the same figures as the
    report's table, set_stats, JSON, JUnit and HTML, each finding counted once over both audits."""
    results = _as_results(result)
    main = results["container_audit"]
    if not isinstance(main, dict) or not isinstance(main.get("summary"), dict):
        raise AnsibleFilterError("audit_summary_lines expects a registered container_audit result, or a mapping of "
                                 "container_audit and image_audit results")
    return text.host_lines(model.host_entry("host", results), label)


def _remediation_headline(summary, check_mode):
    if check_mode:
        return ("plan (check mode): %d containers audited, %d to change live, %d to recreate; %d rule failures to fix, "
                "%d would still fail" % (summary["audited"], summary["live"], summary["recreated"], summary["fixed"],
                                         summary["still_failing"]))
    return ("result: %d containers audited, %d changed live, %d recreated, %d rolled back; %d rule failures fixed, "
            "%d still failing" % (summary["audited"], summary["live"], summary["recreated"], summary["rolled_back"],
                                  summary["fixed"], summary["still_failing"]))


def _recovery_lines(result):
    """What an interrupted earlier run left: each replacement finished or undone, and containers left alone."""
    lines = []
    for entry in result.get("recovered") or []:
        if entry.get("status") == "failed":
            lines.append("recovery failed %s (interrupted at %s): %s" % (entry.get("name"), entry.get("step"), entry.get("detail")))
        else:
            lines.append("recovered %s (interrupted at %s): %s - %s"
                         % (entry.get("name"), entry.get("step"), entry.get("action"), entry.get("detail")))
    lines.extend("left alone %s (%s): %s" % (entry["name"], entry["id"], entry["reason"]) for entry in result.get("leftovers") or [])
    return lines


def remediation_summary_lines(result, check_mode=False):
    """A container_remediate result as lines: counts, replacements that failed (with their last log lines), what
    was fixed per container, and each rule still failing with the reason it was left alone (or the evidence)."""
    if not isinstance(result, dict):
        raise AnsibleFilterError("remediation_summary_lines expects a registered container_remediate result")
    if "summary" not in result:
        if result.get("skipped"):
            return ["nothing to do: no rule selected (live and recreate fixes off, or --tags selected none of them)"]
        return ["failed: %s" % result.get("msg", "see the error above")]
    lines = [_remediation_headline(result["summary"], check_mode)]
    lines.extend(_recovery_lines(result))
    actions = {}
    for container in result.get("containers") or []:
        actions[container["name"]] = container["action"]
        if container["status"] in ("rolled_back", "failed"):
            lines.append("%s: %s - %s" % (container["name"], container["status"].replace("_", " "), container.get("detail", "")))
            lines.extend("%s: replacement log: %s" % (container["name"], line) for line in container.get("logs", "").splitlines())
    fixed = {}
    for entry in result.get("fixed") or []:
        fixed.setdefault(entry["target"], []).append(entry["rule"])
    for target in sorted(fixed):
        lines.append("%s %s (%s): %s" % ("would fix" if check_mode else "fixed", target, actions.get(target, "?"),
                                         ", ".join(fixed[target])))
    reasons = dict(((entry["target"], entry["rule"]), entry["reason"]) for entry in result.get("not_fixed") or [])
    for entry in result.get("still_failing") or []:
        reason = reasons.get((entry["target"], entry["rule"]))
        lines.append("still failing %s %s: %s" % (entry["target"], entry["rule"],
                                                  "left alone, " + reason if reason else entry.get("evidence", "")))
    for project in result.get("compose") or []:
        lines.append("compose project %s: %s" % (project["project"], project.get("detail", "")))
        lines.extend("compose project %s: edit the compose file - %s" % (project["project"], edit)
                     for edit in project.get("edits") or [])
    if not result["summary"]["audited"]:
        lines.append("no container to audit (none running, or none matches the targets and labels)")
    elif not fixed and not result.get("still_failing"):
        lines.append("nothing to fix: the selected rules pass on every audited container")
    return lines


# A severity or none, which fails nothing (report.model derives them from rules.status).
THRESHOLDS = model.THRESHOLDS


def failing_at_or_above(results, threshold="high"):
    """'<rule> <target> (<severity>)' for every failing finding (waived ones are not failing) at or above threshold.

    Given a mapping {"container_audit": ..., "image_audit": ...} of one host's results, over the findings the
    host counts (report.model.blocking: a verdict both audits made on one image once); given a result or a list
    of results (skipped ones ignored), over each result's own findings."""
    if threshold not in THRESHOLDS:
        raise AnsibleFilterError("the severity threshold must be one of %s, not %r" % (", ".join(THRESHOLDS), threshold))
    if _is_host_results(results):
        return model.blocking(model.host_entry("host", _as_results(results)), threshold)
    if threshold == "none":
        return []
    lowest = severity_rank(threshold)
    found = []
    for result in results if isinstance(results, list) else [results]:
        for finding in (result or {}).get("findings") or []:
            severity = finding.get("severity")
            if finding.get("status") == "fail" and severity_rank(severity) >= lowest:
                found.append("%s %s (%s)" % (finding["rule"], finding["target"], severity))
    return found


class FilterModule:
    """bulwark.hardening report filters."""

    def filters(self):
        return {"audit_summary_lines": audit_summary_lines, "remediation_summary_lines": remediation_summary_lines,
                "failing_at_or_above": failing_at_or_above}
