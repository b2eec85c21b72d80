# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check container_remediate's input on the controller, before any host is changed."""

from __future__ import annotations

from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.policy import Policy, PolicyError
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.remedies import LIVE, RECREATE, rules_fixed
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


def remedy_rules(fix_class):
    """The rule ids container_remediate fixes in this fix class (live or recreate), in catalog order.

    The containers role takes its rule lists from here, so the remedies (remediate/remedies.py, each
    classed by the catalog) are the one statement of which rule is fixed how.
    """
    if fix_class not in (LIVE, RECREATE):
        raise ValueError("remedy_rules: expected live or recreate, got %r" % (fix_class,))
    return rules_fixed(fix_class)


class FilterModule(object):
    def filters(self):
        return {"remediation_input_problems": remediation_input_problems, "remedy_rules": remedy_rules}
