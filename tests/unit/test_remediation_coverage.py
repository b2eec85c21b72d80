# -*- coding: utf-8 -*-
"""container_remediate and the catalog agree: every container rule of the live and recreate fix
classes has a remedy or a reason it stays manual, a remedy's class is the rule's, and the module's
documentation lists each rule under the class that fixes it."""

from __future__ import annotations

import re

import pytest
import yaml

from ansible_collections.bulwark.hardening.plugins.module_utils.rules.rule import KIND_CONTAINER
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.remedies import MANUAL, REMEDIES, remedy
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


def test_a_remedy_takes_its_fix_class_from_the_catalog_and_refuses_a_rule_it_cannot_fix():
    # 5.11 is a live fix in the catalog alone; 2.2 (a daemon setting) is no container's to fix.
    assert REMEDIES["5.11"].fix == "live" and REMEDIES["5.13"].fix == "recreate"
    with pytest.raises(ValueError, match="2.2 is a daemon fix in the catalog"):
        remedy("2.2", "nothing")


def test_the_documentation_lists_each_rule_under_its_class():
    documented = {
        "live": set(RULE_ID.findall(description_paragraph("B(Live fixes)"))),
        "recreate": set(RULE_ID.findall(description_paragraph("B(Recreate fixes)"))),
        "manual": set(RULE_ID.findall(description_paragraph("Rules that stay manual"))),
    }
    assert documented["live"] == set(rule for rule, remedy in REMEDIES.items() if remedy.fix == "live")
    assert documented["recreate"] == set(rule for rule, remedy in REMEDIES.items() if remedy.fix == "recreate")
    assert documented["manual"] == set(MANUAL)
