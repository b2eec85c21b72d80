# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check container_remediate's input on the controller, before any host is changed."""

from __future__ import annotations

from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.policy import Policy, PolicyError
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.run import (
    RemediationError, container_rule_ids, wanted_rules,
)


def remediation_input_problems(policy, overrides=None, exemptions=None, rules=None, level=2):
    """What container_remediate would refuse in this input, as lines ([] when it takes it).

    The same validation the module makes (remediate.run and remediate.policy),
    so the containers role's preflight refuses bad input before harden.yml
    changes anything on any host, with no round trip.
    """
    problems = []
    try:
        wanted_rules(rules, int(level))
    except (RemediationError, ValueError) as error:
        problems.append(str(error))
    try:
        Policy(policy, overrides, exemptions, known_rules=container_rule_ids())
    except PolicyError as error:
        problems.append(str(error))
    return problems


class FilterModule(object):
    def filters(self):
        return {"remediation_input_problems": remediation_input_problems}
