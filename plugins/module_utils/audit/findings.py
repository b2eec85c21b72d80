# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""Evaluate rules over gathered state, and summarize the findings.

A finding is one rule's verdict on one target (a container, an image, a
file, the daemon or the host). Evaluation is pure: it reads AuditState and
never calls Docker.
"""

from __future__ import annotations

import collections

from ansible_collections.bulwark.hardening.plugins.module_utils.rules.rule import (
    DEFAULT_CIS_VERSION, KIND_CONTAINER, KIND_IMAGE, KIND_MANUAL, Outcome, rule_sort_key,
)
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.open_reasons import reason_by_fix
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.status import ALL_STATUSES, FAIL, INFO, PASS, PROBLEM_STATUSES
from ansible_collections.bulwark.hardening.plugins.module_utils.common.secrets import mask_text


class Finding(object):
    """One rule's verdict on one target."""

    __slots__ = ("rule", "target", "status", "evidence", "left_open", "severity", "on_image")

    def __init__(self, rule, target, status, evidence, left_open=None, severity=None, on_image=False):
        self.rule = rule
        # The target is an image (an image rule, or a container rule's image form), not a container or the host.
        self.on_image = on_image
        self.target = target
        self.status = status
        self.evidence = evidence
        # Why the roles leave this failure open on this target; else the rule's own reason; else the one its fix
        # class gives (open_reasons), so a rule the roles' defaults do not close always says why.
        self.left_open = left_open or rule.left_open or reason_by_fix(rule)
        # This finding's severity when the evaluation set one (rule.Outcome.severity), else the rule's.
        self.severity = severity or rule.severity

    def to_dict(self, cis_version=DEFAULT_CIS_VERSION):
        """The finding as results and reports list it: rule id (in CIS version cis_version), target, status,
        severity and evidence, URL credentials and other secrets masked. Its rule's title, remediation and the
        rest are the rule's, listed once per result (rule_entry(), rules_of()).

        left_open (why the roles leave it failing) is present only on a problem finding whose reason is this
        target's own (the evaluation found it on the state), not the rule's: expand() adds the rule's.
        """
        shown = {
            "rule": self.rule.id_in(cis_version),
            "target": self.target,
            "status": self.status,
            "severity": self.severity,
            "evidence": mask_text(self.evidence),
        }
        if self.left_open and self.status in PROBLEM_STATUSES and self.left_open != rule_left_open(self.rule):
            shown["left_open"] = mask_text(self.left_open)
        return shown


def rule_left_open(rule):
    """Why a rule stays open after the roles ran with their defaults: its own reason, else its fix class's
    (open_reasons); None for a rule the roles close."""
    return rule.left_open or reason_by_fix(rule)


def rule_entry(rule, cis_version=DEFAULT_CIS_VERSION):
    """A rule's metadata as results list it once (the `rules` map): title (in CIS version cis_version), section,
    level, scored, severity, remediation and fix; fixed_by (the role variables that fix it) when a role does;
    left_open (why it stays open after the roles' defaults) when it does."""
    entry = {
        "title": rule.title_in(cis_version),
        "section": rule.section_number,
        "level": rule.level,
        "scored": rule.scored,
        "severity": rule.severity,
        "remediation": rule.remediation,
        "fix": rule.fix,
    }
    if rule.fixed_by:
        entry["fixed_by"] = list(rule.fixed_by)
    reason = rule_left_open(rule)
    if reason:
        entry["left_open"] = mask_text(reason)
    return entry


def rules_of(findings, cis_version=DEFAULT_CIS_VERSION):
    """{rule id: rule_entry()} of every rule the findings name, ids in CIS version cis_version."""
    rules = {}
    for finding in findings:
        rule_id = finding.rule.id_in(cis_version)
        if rule_id not in rules:
            rules[rule_id] = rule_entry(finding.rule, cis_version)
    return rules


# What expand() takes from a finding's rule, and what a result's finding never carries itself.
RULE_FIELDS = ("title", "section", "level", "scored", "remediation", "fix", "fixed_by")


def expand(finding, rules):
    """The whole view of one listed finding (a dict of a result's `findings`) with its rule's metadata from the
    result's `rules` map: title, section, level, scored, remediation, fix, fixed_by, and left_open resolved (the
    finding's own, else its rule's when the finding is a problem). A finding that already carries them (results
    of collection versions before 2.0, or an unknown rule) keeps its own."""
    rule = rules.get(finding.get("rule")) if isinstance(rules, dict) else None
    if not isinstance(rule, dict):
        return dict(finding)
    shown = dict((field, rule[field]) for field in RULE_FIELDS if field in rule)
    shown.update(finding)
    if not shown.get("left_open") and rule.get("left_open") and finding.get("status") in PROBLEM_STATUSES:
        shown["left_open"] = rule["left_open"]
    return shown


def expand_all(result):
    """expand() of every listed finding of an audit result ({findings, rules})."""
    rules = result.get("rules") or {}
    return [expand(finding, rules) for finding in result.get("findings") or []]


def _global_findings(rule, state):
    result = rule.evaluate(state)
    if isinstance(result, Outcome):
        return [Finding(rule, rule.subject, result.status, result.evidence, result.left_open, result.severity)]
    return [Finding(rule, target, outcome.status, outcome.evidence, outcome.left_open, outcome.severity)
            for target, outcome in result]


def _each(rule, items, state, function=None):
    findings = []
    on_image = rule.kind == KIND_IMAGE or function is not None  # an image form's function judges images
    for item in items:
        outcome = (function or rule.evaluate)(item, state)
        if outcome is not None:  # None: the rule does not apply to this item
            findings.append(Finding(rule, item.name, outcome.status, outcome.evidence, outcome.left_open, outcome.severity,
                                    on_image))
    return findings


def _manual_finding(rule):
    return Finding(rule, rule.subject, INFO, "manual check: decide from %s" % rule.reads)


def evaluate_rule(rule, state):
    """Findings of one rule over the state."""
    if rule.kind == KIND_MANUAL:
        return [_manual_finding(rule)]
    if rule.kind == KIND_CONTAINER:
        return _each(rule, state.containers, state)
    if rule.kind == KIND_IMAGE:
        return _each(rule, sorted(state.images.values(), key=lambda image: image.name), state)
    return _global_findings(rule, state)


def evaluate(rules, state):
    """Findings of every rule, in rule order then target order."""
    findings = []
    for rule in rules:
        findings.extend(evaluate_rule(rule, state))
    return findings


def evaluate_images(rules, state):
    """image_audit's findings: image rules, and container rules in their image form, over every image."""
    images = sorted(state.images.values(), key=lambda image: image.name)
    findings = []
    for rule in rules:
        if rule.kind == KIND_IMAGE:
            findings.extend(_each(rule, images, state))
        elif rule.image_evaluate is not None:
            findings.extend(_each(rule, images, state, rule.image_evaluate))
    return findings


def summarize(findings, cis_version=DEFAULT_CIS_VERSION):
    """Counts by status and by section, and the score; failed_rules in the ids of CIS version cis_version,
    which cis_version records.

    score: passed / (passed + failed) over findings of scored rules, as a
    percentage with one decimal (None when nothing scored was decided).
    warn, info, skipped and waived findings are not counted either way:
    they need a person's judgement or were accepted. cis_score is the
    benchmark's own tally over scored rules: +1 per pass, -1 per fail.
    scored holds those passes and failures, and by_image the verdicts on
    images (image_verdicts), so that a report over both audits can count
    each finding once and recompute both scores.
    """
    by_status = collections.OrderedDict((status, 0) for status in ALL_STATUSES)
    by_section = collections.OrderedDict()
    scored_pass = scored_fail = 0
    for finding in findings:
        by_status[finding.status] += 1
        section = by_section.setdefault(
            finding.rule.section_number, collections.OrderedDict((status, 0) for status in ALL_STATUSES))
        section[finding.status] += 1
        if finding.rule.scored:
            scored_pass += finding.status == PASS
            scored_fail += finding.status == FAIL
    decided = scored_pass + scored_fail
    return {
        "total": len(findings),
        "by_status": dict(by_status),
        "by_section": dict((key, dict(value)) for key, value in by_section.items()),
        "score": round(100.0 * scored_pass / decided, 1) if decided else None,
        "cis_score": scored_pass - scored_fail,
        "scored": {"pass": scored_pass, "fail": scored_fail},
        "by_image": image_verdicts(findings, cis_version),
        "failed_rules": sorted(set(f.rule.id_in(cis_version) for f in findings if f.status == FAIL), key=rule_sort_key),
        "cis_version": cis_version,
    }


def image_verdicts(findings, cis_version=DEFAULT_CIS_VERSION):
    """{image: {rule id: status}} of the findings whose target is an image, rule ids in CIS version cis_version.

    container_audit judges the image rules on the images of the containers it audits, image_audit every rule on
    every image it audits: with both results, the compliance report counts each finding once from these
    (report.model.host_counts decides which audit's verdict counts).
    """
    verdicts = {}
    for finding in findings:
        if finding.on_image:
            verdicts.setdefault(finding.target, {})[finding.rule.id_in(cis_version)] = finding.status
    return verdicts
