#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the audit_verdict action (plugins/action/audit_verdict.py); the action runs on the controller."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: audit_verdict
short_description: Show one host's compliance once, as lines, and fail the host at or above a severity
version_added: 0.2.0
description:
  - Reads the host's registered result of M(bulwark.hardening.audit), which holds the image audit's too (O(audit_var)),
    or those of M(bulwark.hardening.container_audit) and M(bulwark.hardening.image_audit) run as two tasks
    (O(audit_var) and O(image_audit_var)), or O(results), and returns the host's summary as lines in
    RV(summary_lines) - the score and cis_score, the counts per status and per section, every failing rule with why it
    is still open (or that no reason was given), and the rules that do not apply to this target with the reason.
  - The figures are the ones M(bulwark.hardening.compliance_report) writes into the table, C(set_stats), the JSON,
    the JUnit XML and the HTML - each finding counted once over both audits (which audit's verdict counts when both
    judged one image is documented in C(docs/report-schema.md)).
  - The host fails when a failing finding (waived ones are not failing) is at or above O(fail_severity), and when its
    image audit failed (M(bulwark.hardening.audit) keeps the container audit's result then), whatever O(fail_severity)
    says; the failure's message is one line naming those findings and that failure, so the summary is printed once.
  - Without a usable container_audit result (the audit failed, or was left out of the run), the task is skipped.
  - An action that runs on the controller only; it never connects to the host.
author:
  - bulwark.hardening contributors (@bulwark)
options:
  fail_severity:
    description:
      - Fail the host when a failing finding is at or above this severity; V(none) fails nothing.
    type: str
    choices: [none, low, medium, high, critical]
    default: high
  results:
    description:
      - The host's results, a dict with the keys C(container_audit) and C(image_audit) (each a registered result, the
        image audit's may be absent or skipped), instead of reading O(audit_var) and O(image_audit_var). A
        M(bulwark.hardening.audit) result as C(container_audit) brings its image audit's result with it.
    type: dict
attributes:
  check_mode:
    support: full
    description: Reads registered results only; the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing.
  platform:
    platforms: posix
    support: full
    description: Runs on the controller.
extends_documentation_fragment:
  - bulwark.hardening.audit_options.results
seealso:
  - module: bulwark.hardening.audit
  - module: bulwark.hardening.container_audit
  - module: bulwark.hardening.image_audit
  - module: bulwark.hardening.compliance_report
"""

EXAMPLES = r"""
- name: Show each host's compliance and fail hosts with high or critical findings
  bulwark.hardening.audit_verdict:
    label: weekly
    fail_severity: high

- name: Show it and fail nothing
  bulwark.hardening.audit_verdict:
    label: before hardening
    fail_severity: none
"""

RETURN = r"""
summary_lines:
  description: The host's summary, one line per item (what the C(<host>-<label>.txt) report file holds).
  returned: unless skipped
  type: list
  elements: str
  sample: ["== weekly of web1 (CIS Docker Benchmark v1.8, Level 2 profile): score 91.2% (cis_score 57); 5 fail, 62 pass",
           "   over container_audit (4 containers) and image_audit (3 images, image score 80.0%)",
           "   failing rules:", "   FAIL 2.12    Ensure that authorization for Docker client commands is enabled [left open]"]
blocking:
  description: C(<rule> <target> (<severity>)) of each failing finding at or above O(fail_severity).
  returned: unless skipped
  type: list
  elements: str
  sample: ["2.9 daemon (high)"]
msg:
  description: One line - the failing findings at or above O(fail_severity) and a failed image audit, or that there is none.
  returned: always
  type: str
  sample: "web1: 1 failing finding at or above high: 2.9 daemon (high)"
"""
