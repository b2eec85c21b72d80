# -*- coding: utf-8 -*-
"""container_remediate and the catalog agree: every container rule of the live and recreate fix
classes has a remedy or a reason it stays manual, a remedy's class is the rule's, and the module's
documentation lists each rule under the class that fixes it."""

from __future__ import annotations

import re

import yaml

from ansible_collections.bulwark.hardening.plugins.module_utils.rules.rule import KIND_CONTAINER
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.remedies import MANUAL, REMEDIES
from ansible_collections.bulwark.hardening.plugins.module_utils.rules import catalog
from ansible_collections.bulwark.hardening.plugins.modules import container_remediate

FIXABLE = dict((rule.id, rule) for rule in catalog.all_rules()
               if rule.kind == KIND_CONTAINER and rule.fix in ("live", "recreate"))
RULE_ID = re.compile(r"\b(?:BW-\d{3}|[45]\.\d+)\b")


def description_paragraph(starting):
    description = yaml.safe_load(container_remediate.DOCUMENTATION)["description"]
    return [paragraph for paragraph in description if paragraph.startswith(starting)][0]


def test_every_fixable_container_rule_has_a_remedy_or_a_manual_reason():
    assert sorted(set(FIXABLE) - set(REMEDIES) - set(MANUAL)) == []
    assert set(REMEDIES) & set(MANUAL) == set()


def test_remedies_and_manual_reasons_only_name_fixable_container_rules():
    assert sorted((set(REMEDIES) | set(MANUAL)) - set(FIXABLE)) == []


def test_a_remedy_fixes_its_rule_the_way_the_catalog_says():
    assert [(rule_id, remedy.fix) for rule_id, remedy in REMEDIES.items() if FIXABLE[rule_id].fix != remedy.fix] == []


def test_the_documentation_lists_each_rule_under_its_class():
    documented = {
        "live": set(RULE_ID.findall(description_paragraph("B(Live fixes)"))),
        "recreate": set(RULE_ID.findall(description_paragraph("B(Recreate fixes)"))),
        "manual": set(RULE_ID.findall(description_paragraph("Rules that stay manual"))),
    }
    assert documented["live"] == set(rule for rule, remedy in REMEDIES.items() if remedy.fix == "live")
    assert documented["recreate"] == set(rule for rule, remedy in REMEDIES.items() if remedy.fix == "recreate")
    assert documented["manual"] == set(MANUAL)
