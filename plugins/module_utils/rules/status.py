# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""Every status a finding can have, and every severity, in one place.

Rules decide fail, warn, pass, info or skipped; waivers turn an accepted
fail or warn into waived. How each counts in the summary:

- score (percent): pass / (pass + fail) over findings of scored rules;
- cis_score: +1 per scored pass, -1 per scored fail (the benchmark's tally);
- warn, info, skipped and waived count in neither. A scored rule never
  answers warn for an insecure setting: it fails, and a person who accepts
  the setting waives the finding, which keeps the reason on record. warn is
  for what only a person can judge (unscored rules, read-only mounts of
  system directories under 5.6). The class test
  tests/unit/plugins/module_utils/rules/test_scored_rules.py holds every
  scored rule to this: each fails on an insecure world, and only the
  exceptions it lists may warn.

Severities rank failures: a rule has one, and a failure may lower it where
the evidence says why. The rule registry, the report (its checks, its order,
the HTML page's severity filter) and the fail thresholds of audit_verdict and
failing_at_or_above all derive from SEVERITIES here.
"""

from __future__ import annotations

FAIL = "fail"
WARN = "warn"
PASS = "pass"
INFO = "info"
SKIPPED = "skipped"
WAIVED = "waived"

# What a rule's evaluate function may answer, worst first.
RULE_STATUSES = (FAIL, WARN, PASS, INFO, SKIPPED)
# Every status a finding can end with (waivers add WAIVED), worst first.
ALL_STATUSES = RULE_STATUSES + (WAIVED,)
# Findings that need someone's attention; `report: problems` lists these.
PROBLEM_STATUSES = (FAIL, WARN, WAIVED)
# Findings a waiver may accept.
WAIVABLE_STATUSES = (FAIL, WARN)

LOW = "low"
MEDIUM = "medium"
HIGH = "high"
CRITICAL = "critical"

# Every severity a rule or a finding can have, lowest first.
SEVERITIES = (LOW, MEDIUM, HIGH, CRITICAL)


def severity_rank(severity):
    """1 for low up to 4 for critical; 0 for anything that is not a severity, so it ranks below every one."""
    return SEVERITIES.index(severity) + 1 if severity in SEVERITIES else 0
