# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""Why a rule can still fail after the roles ran with their defaults, from how the rule is fixed.

A failing finding says why it is still open (findings.Finding.left_open), asking in order: the evaluation (a
reason this target's state shows, such as the containers a change would hide), the rule (Rule.left_open: the
roles never close it, and what would), and last this module, which derives the reason from the rule's fix class
and fixed_by - facts the catalog states once:

- the containers role fixes it by replacing the container (containers_recreate_enabled is in fixed_by): the one
  fix switch the roles leave off by default, because a replacement restarts the service;
- a manual fix: no role makes it (an image rule: no role builds or changes images);
- a container setting no role variable changes (a live or recreate fix with no fixed_by): it is for whoever
  defines the container to change.

A rule the roles close with their defaults (any other fixed_by) gets no reason here: when it fails after harden,
that is news, and the reports say that no reason was given.

Nothing here imports Ansible.
"""

from __future__ import annotations

from ansible_collections.bulwark.hardening.plugins.module_utils.rules.rule import KIND_IMAGE

# The containers role's switch for fixes that replace a container; off in its defaults.
RECREATE_SWITCH = "containers_recreate_enabled"
# What the policy of a replacement is named in (the value to set, e.g. a user or capabilities).
RECREATE_POLICY = "containers_policy"


def _recreate_reason(rule):
    policy = " and the value in %s (or an override's policy)" % RECREATE_POLICY if RECREATE_POLICY in rule.fixed_by else ""
    return ("the containers role fixes it only by replacing the container, which is off by default (a replacement "
            "restarts the service): set %s: true%s" % (RECREATE_SWITCH, policy))


def reason_by_fix(rule):
    """Why a failure of rule stays open after the roles ran with their defaults, derived from its fix; None for a
    rule the roles close with their defaults."""
    if RECREATE_SWITCH in rule.fixed_by:
        return _recreate_reason(rule)
    if rule.fixed_by:
        return None
    if rule.fix == "manual":
        if rule.kind == KIND_IMAGE:
            return "no role builds or changes images: the image's owner fixes it in its build and rebuilds it (fix: manual)"
        return "no role makes this change: a person decides and makes it (fix: manual)"
    if rule.fix in ("live", "recreate"):
        return ("the containers role does not change this setting of a service: change it where the container is "
                "defined (compose file, run command), or waive it")
    return None
