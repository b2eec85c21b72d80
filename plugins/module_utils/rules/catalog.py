# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""The complete rule catalog: imports every rules module so each registers its rules.

Imports are static on purpose: Ansible packs a module's module_utils by
reading its import statements, so a dynamic import would leave rules out.
"""

from __future__ import annotations

from ansible_collections.bulwark.hardening.plugins.module_utils.rules.rule import (
    DEFAULT_CIS_VERSION, LEVELS, check_cis_version, registered, rule_sort_key,
)
from ansible_collections.bulwark.hardening.plugins.module_utils.rules import cis1_host as rules_host
from ansible_collections.bulwark.hardening.plugins.module_utils.rules import cis2_daemon as rules_daemon
from ansible_collections.bulwark.hardening.plugins.module_utils.rules import cis3_files as rules_files
from ansible_collections.bulwark.hardening.plugins.module_utils.rules import cis4_images as rules_images
from ansible_collections.bulwark.hardening.plugins.module_utils.rules import cis5_containers as rules_containers
from ansible_collections.bulwark.hardening.plugins.module_utils.rules import cis6_operations as rules_operations
from ansible_collections.bulwark.hardening.plugins.module_utils.rules import cis7_swarm as rules_swarm
from ansible_collections.bulwark.hardening.plugins.module_utils.rules import bulwark as rules_bulwark

RULE_MODULES = (rules_host, rules_daemon, rules_files, rules_images, rules_containers, rules_operations, rules_swarm,
                rules_bulwark)


def all_rules():
    """Every rule, in id order."""
    return registered()


def check_level(level):
    """ValueError naming the choices unless level is a CIS profile level (1 or 2)."""
    if isinstance(level, bool) or level not in LEVELS:
        raise ValueError("level must be one of %s (the CIS profile), not %r" % (", ".join(str(one) for one in LEVELS), level))


def in_profile(rules, level=2, cis_version=DEFAULT_CIS_VERSION):
    """The rules of the CIS Level `level` profile of CIS version `cis_version`, in the order of that version's ids.
    Profiles are cumulative: Level 1 keeps the Level 1 rules, Level 2 (the default) keeps every rule. A check the
    version does not have (v1.8's 2.7 under 1.6) is left out. ValueError for another level or version."""
    check_level(level)
    check_cis_version(cis_version)
    chosen = [rule for rule in rules if rule.level <= level and rule.in_version(cis_version)]
    return sorted(chosen, key=lambda rule: rule_sort_key(rule.id_in(cis_version)))


def rules_for(scopes, level=2, cis_version=DEFAULT_CIS_VERSION):
    """Rules of the given sections (module scope values) in the CIS Level `level` profile of CIS version
    `cis_version`, in that version's id order."""
    return in_profile([rule for rule in all_rules() if rule.section in scopes], level, cis_version)


def ids_in(cis_version):
    """{id in CIS version cis_version: canonical id} of every rule that version has (BW rules included)."""
    check_cis_version(cis_version)
    return dict((rule.id_in(cis_version), rule.id) for rule in all_rules() if rule.in_version(cis_version))


def get(rule_id):
    """The rule whose canonical id (its CIS v1.6 id, see rules.rule) is rule_id."""
    for rule in all_rules():
        if rule.id == rule_id:
            return rule
    raise KeyError(rule_id)


def get_in(rule_id, cis_version):
    """The rule whose id in CIS version cis_version is rule_id."""
    return get(ids_in(cis_version)[rule_id])
