# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""A host's compliance as lines a person reads: what audit.yml shows for each host and what the
<host>-<label>.txt file of a run holds.

The lines read the host entry model.build_host() makes, the one every other output reads, so their figures are
the table's, set_stats', the JSON's, the JUnit's and the HTML's: each finding counted once over both audits. They
say, for every rule that fails, why it is still open (the finding's left_open), or that no reason was given, and
which rules do not apply to this target and why. Nothing here imports Ansible.
"""

from __future__ import annotations

from ansible_collections.bulwark.hardening.plugins.module_utils.rules.rule import SECTIONS, rule_sort_key
from ansible_collections.bulwark.hardening.plugins.plugin_utils.report.model import STATUSES, details

SECTION_TITLES = dict(SECTIONS.values())
# How a rule that cannot apply to the target says so (its evidence starts with it): skipped, with the reason.
NOT_APPLICABLE = "not applicable: "
# The line that names failing rules without a reason; `make demo` fails when its summary holds it.
NO_REASON = "no reason given for:"


def _counts(by_status):
    return ", ".join("%d %s" % (by_status.get(status, 0), status) for status in STATUSES if by_status.get(status))


def _score(value):
    return "n/a" if value is None else "%.1f%%" % value


def _rule_key(rule_id):
    try:
        return (0,) + rule_sort_key(rule_id)
    except (ValueError, TypeError, AttributeError):
        return (1, str(rule_id))


def profile(host):
    """What the host was audited against: "CIS Docker Benchmark v1.8, Level 2 profile", fewer words when the audit
    did not say."""
    parts = []
    if host.get("cis_version"):
        parts.append("CIS Docker Benchmark v%s" % host["cis_version"])
    if host.get("level") is not None:
        parts.append("Level %s profile" % host["level"] if parts else "CIS Level %s profile" % host["level"])
    return ", ".join(parts)


def _failing(host):
    """The host's failing findings, each with its rule's title and its left_open resolved (model.details())."""
    return [details(None, host, finding) for finding in host["findings"] if finding["status"] == "fail"]


def failing_rules(host):
    """[(rule, title, failing targets, [reasons])] of the host's failing findings, in rule order; reasons are the
    distinct left_open texts of its findings (empty when none says why). host: an entry of model.host_entry()."""
    failing = {}
    for finding in _failing(host):
        title, targets, reasons = failing.get(finding["rule"], (finding.get("title", ""), 0, []))
        reason = finding.get("left_open")
        if reason and reason not in reasons:
            reasons = reasons + [reason]
        failing[finding["rule"]] = (title, targets + 1, reasons)
    return [(rule_id,) + failing[rule_id] for rule_id in sorted(failing, key=_rule_key)]


def unexplained(host):
    """Rule ids that fail on some target of the host with no reason given."""
    return sorted(set(finding["rule"] for finding in _failing(host) if not finding.get("left_open")), key=_rule_key)


def not_applicable(host):
    """[(reason, [rule ids])] of the listed findings skipped as not applicable to this target, by reason."""
    grouped = {}
    for finding in host["findings"]:
        evidence = finding.get("evidence") or ""
        if finding["status"] == "skipped" and evidence.startswith(NOT_APPLICABLE):
            rules = grouped.setdefault(evidence[len(NOT_APPLICABLE):], [])
            if finding["rule"] not in rules:
                rules.append(finding["rule"])
    return [(reason, sorted(rules, key=_rule_key)) for reason, rules in grouped.items()]


def _many(count, noun):
    if count is None:
        return "? %ss" % noun
    return "%d %s%s" % (count, noun, "" if count == 1 else "s")


def _sources_line(host):
    audits = host.get("audits") or {}
    parts = []
    if "container_audit" in audits:
        parts.append("container_audit (%s)" % _many(audits["container_audit"].get("containers"), "container"))
    if "image_audit" in audits:
        parts.append("image_audit (%s, image score %s)" % (_many(audits["image_audit"].get("images"), "image"),
                                                           _score(host.get("image_score"))))
    dropped = sum((host.get("left_out") or {}).values())
    line = "   over %s" % " and ".join(parts)
    if dropped:
        line += "; %s both audits made on one image counted once" % _many(dropped, "verdict")
    return line


def host_lines(host, heading):
    """The lines of one host entry (model.build_host()) under a heading such as "after hardening of web1"."""
    if host["status"] != "audited":
        return ["== %s: not audited: %s" % (heading, host.get("error", ""))]
    described = profile(host)
    lines = ["== %s%s: score %s (cis_score %s); %s" % (heading, " (%s)" % described if described else "", _score(host["score"]),
                                                       host["cis_score"], _counts(host["by_status"]) or "no finding"),
             _sources_line(host)]
    for section, counts in host["by_section"].items():
        lines.append("   %-3s %-36s %s" % (section, SECTION_TITLES.get(section, ""), _counts(counts)))
    failing = failing_rules(host)
    if failing:
        lines.append("   failing rules:")
    reasons = {}
    for rule_id, title, targets, rule_reasons in failing:
        where = " (%d targets)" % targets if targets > 1 else ""
        lines.append("   FAIL %-7s %s%s%s" % (rule_id, title, where, " [left open]" if rule_reasons else " [no reason given]"))
        for reason in rule_reasons:
            reasons.setdefault(reason, []).append(rule_id)
    if reasons:
        lines.append("   why they still fail:")
    lines.extend("     %s: %s" % (", ".join(rule_ids), reason) for reason, rule_ids in reasons.items())
    missing = unexplained(host)
    if missing:
        lines.append("   %s %s (the roles close them with their defaults: run harden.yml, or find the variable that "
                     "keeps them open; else waive them)" % (NO_REASON, ", ".join(missing)))
    applicable = not_applicable(host)
    if applicable:
        lines.append("   not applicable here:")
    lines.extend("     %s: %s" % (", ".join(rule_ids), reason) for reason, rule_ids in applicable)
    return lines
