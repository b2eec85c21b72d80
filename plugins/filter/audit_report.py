# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render a container_audit result as lines a person reads at the end of a play."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.rule import SECTIONS, rule_sort_key
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.status import ALL_STATUSES, FAIL

SECTION_TITLES = dict(SECTIONS.values())


def _counts(by_status):
    return ", ".join("%d %s" % (by_status.get(status, 0), status) for status in ALL_STATUSES if by_status.get(status))


def _failing_rules(findings):
    """{rule id: (title, targets, left_open)} of failing findings, in rule order."""
    failing = {}
    for finding in findings:
        if finding.get("status") != FAIL:
            continue
        title, targets, left_open = failing.get(finding["rule"], (finding.get("title", ""), 0, finding.get("left_open")))
        failing[finding["rule"]] = (title, targets + 1, left_open)
    return [(rule_id,) + failing[rule_id] for rule_id in sorted(failing, key=rule_sort_key)]


def audit_summary_lines(result, label="audit"):
    if not isinstance(result, dict) or "summary" not in result:
        raise AnsibleFilterError("audit_summary_lines expects a registered container_audit result")
    summary = result["summary"]
    score = "%.1f%%" % summary["score"] if summary.get("score") is not None else "n/a"
    lines = ["== %s: score %s (cis_score %s); %s" % (label, score, summary.get("cis_score"), _counts(summary["by_status"]))]
    for section in sorted(summary.get("by_section") or {}, key=lambda key: (key == "BW", key)):
        lines.append("   %-3s %-36s %s" % (section, SECTION_TITLES.get(section, ""), _counts(summary["by_section"][section])))
    failing = _failing_rules(result.get("findings") or [])
    if failing:
        lines.append("   failing rules:")
    reasons = {}
    for rule_id, title, targets, left_open in failing:
        where = " (%d targets)" % targets if targets > 1 else ""
        lines.append("   FAIL %-7s %s%s%s" % (rule_id, title, where, " [left open]" if left_open else ""))
        if left_open:
            reasons.setdefault(left_open, []).append(rule_id)
    if reasons:
        lines.append("   left open on purpose:")
    for reason, rule_ids in reasons.items():
        lines.append("     %s: %s" % (", ".join(rule_ids), reason))
    return lines


class FilterModule:
    """bulwark.hardening report filters."""

    def filters(self):
        return {"audit_summary_lines": audit_summary_lines}
