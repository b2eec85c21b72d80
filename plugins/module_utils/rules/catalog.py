# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The complete rule catalog: imports every rules module so each registers its rules.

Imports are static on purpose: Ansible packs a module's module_utils by
reading its import statements, so a dynamic import would leave rules out.
"""

from __future__ import annotations

from ansible_collections.bulwark.hardening.plugins.module_utils.audit import rule as catalog
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
    return catalog.registered()


def rules_for(scopes):
    """Rules of the given sections (module scope values), in id order."""
    return [rule for rule in all_rules() if rule.section in scopes]


def get(rule_id):
    for rule in all_rules():
        if rule.id == rule_id:
            return rule
    raise KeyError(rule_id)
