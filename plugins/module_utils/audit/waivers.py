# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Waivers: accepted findings, with a reason and an optional expiry date.

A waiver names a rule id and a target glob. A fail or warn finding it
matches becomes `waived` (evidence keeps the original verdict and gains the
reason). Once the expiry date has passed, the waiver no longer hides
anything: the finding becomes `fail`, whatever it was, and its evidence
says the waiver expired, so a forgotten exception surfaces as a failure.
"""

from __future__ import annotations

import datetime
import fnmatch

from ansible_collections.bulwark.hardening.plugins.module_utils.audit.status import FAIL, WAIVABLE_STATUSES, WAIVED


class WaiverError(ValueError):
    """A waiver is malformed (bad date, missing rule)."""


class Waiver(object):
    __slots__ = ("rule", "target", "reason", "expires")

    def __init__(self, rule, target="*", reason="", expires=None):
        if not rule:
            raise WaiverError("a waiver needs a rule id")
        self.rule = rule
        self.target = target or "*"
        self.reason = reason or "no reason given"
        self.expires = parse_date(expires) if expires else None

    def matches(self, finding):
        return finding.rule.id == self.rule and fnmatch.fnmatchcase(finding.target, self.target)

    def expired(self, today):
        return self.expires is not None and self.expires < today


def parse_date(value):
    """A date from YYYY-MM-DD text (YAML may already have made it a date)."""
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.datetime.strptime(str(value), "%Y-%m-%d").date()
    except ValueError:
        raise WaiverError("waiver expiry %r is not a YYYY-MM-DD date" % (value,))


def parse_waivers(entries):
    """Waiver objects from the module's list of dicts (rule, target, reason, expires)."""
    return [Waiver(entry.get("rule"), entry.get("target"), entry.get("reason"), entry.get("expires"))
            for entry in entries or []]


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
