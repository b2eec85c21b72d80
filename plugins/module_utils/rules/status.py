# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every status a finding can have, in one place.

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
