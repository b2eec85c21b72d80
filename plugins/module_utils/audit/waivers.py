# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""Waivers: accepted findings, with a reason and an optional expiry date.

A waiver names a rule id and a target glob. A fail or warn finding it
matches becomes `waived` (evidence keeps the original verdict and gains the
reason). Once the expiry date has passed, the waiver no longer hides
anything: the finding becomes `fail`, whatever it was, and its evidence
says the waiver expired, so a forgotten exception surfaces as a failure.

A waiver names its rule by the id of the CIS version the audit uses
(cis_version): under 1.8, "2.10" is user namespaces; under 1.6, the cgroup
parent. parse_waivers translates it to the rule's canonical id once.
"""

from __future__ import annotations

import datetime
import difflib
import fnmatch

from ansible_collections.bulwark.hardening.plugins.module_utils.common.dates import parse_day
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.status import FAIL, WAIVABLE_STATUSES, WAIVED


class WaiverError(ValueError):
    """A waiver is malformed (bad date, missing or unknown rule, a target that is not a glob)."""


class Waiver(object):
    # rule: the id as given (in the audit's CIS version); canonical: the rule's canonical id (rules.rule).
    __slots__ = ("rule", "target", "reason", "expires", "canonical")

    def __init__(self, rule, target="*", reason="", expires=None):
        if not rule:
            raise WaiverError("a waiver needs a rule id")
        if not isinstance(rule, str):
            raise WaiverError("waiver rule must be a rule id string such as '5.10', got %r (quote it in YAML: "
                              "an unquoted 5.10 is the number 5.1)" % (rule,))
        if target is not None and not isinstance(target, str):
            raise WaiverError("waiver target for rule %s must be a string (a glob over finding targets), got %r"
                              % (rule, target))
        self.rule = rule
        self.canonical = rule
        self.target = target or "*"
        self.reason = reason or "no reason given"
        try:
            # YAML may already have made the date a datetime.date; common.dates reads both.
            self.expires = parse_day(expires) if expires else None
        except ValueError:
            raise WaiverError("waiver expiry %r is not a YYYY-MM-DD date" % (expires,))

    def matches(self, finding):
        return finding.rule.id == self.canonical and fnmatch.fnmatchcase(finding.target, self.target)

    def expired(self, today):
        return self.expires is not None and self.expires < today


def parse_waivers(entries, known_rules):
    """Waiver objects from the module's list of dicts (rule, target, reason, expires).

    known_rules: every rule id of the catalog, or {id in the audit's CIS version:
    canonical id} (catalog.ids_in), which translates each waiver's id. A
    waiver naming another id would never match anything, so it is refused
    with the closest ids.
    """
    waivers = [Waiver(entry.get("rule"), entry.get("target"), entry.get("reason"), entry.get("expires"))
               for entry in entries or []]
    canonical = known_rules if isinstance(known_rules, dict) else dict((rule_id, rule_id) for rule_id in known_rules)
    for waiver in waivers:
        if waiver.rule not in canonical:
            raise WaiverError(_unknown_rule(waiver.rule, canonical))
        waiver.canonical = canonical[waiver.rule]
    return waivers


def _unknown_rule(rule_id, known_rules):
    close = difflib.get_close_matches(rule_id, list(known_rules), n=3, cutoff=0.6)
    hint = "closest known ids: %s" % ", ".join(close) if close else "docs/rules.md lists every rule"
    return "waiver names unknown rule %r, so it would never match a finding (%s)" % (rule_id, hint)


def apply_waivers(findings, waivers, today=None):
    """Rewrite matching fail/warn findings in place; the first matching waiver wins."""
    today = today or datetime.date.today()
    for finding in findings:
        if finding.status not in WAIVABLE_STATUSES:
            continue
        waiver = next((candidate for candidate in waivers if candidate.matches(finding)), None)
        if waiver is None:
            continue
        if waiver.expired(today):
            finding.evidence = "%s; waiver expired on %s (%s)" % (finding.evidence, waiver.expires.isoformat(), waiver.reason)
            finding.status = FAIL
        else:
            until = " until %s" % waiver.expires.isoformat() if waiver.expires else ""
            finding.evidence = "%s; waived%s: %s (was %s)" % (finding.evidence, until, waiver.reason, finding.status)
            finding.status = WAIVED
    return findings
