# -*- coding: utf-8 -*-
"""The rule catalog itself: complete, well-formed, and every rule tested."""

from __future__ import annotations

import glob
import os
import re

from ansible_collections.bulwark.hardening.plugins.module_utils.rules import catalog
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.rule import FIX_CLASSES, SECTIONS, SEVERITIES, Rule, register

HERE = os.path.dirname(os.path.abspath(__file__))

# Every check id of CIS Docker Benchmark v1.6 (sections 1 to 7): Docker Bench for Security's 117.
CIS_IDS = (["1.1.%d" % n for n in range(1, 19)] + ["1.2.1", "1.2.2"] + ["2.%d" % n for n in range(1, 19)]
           + ["3.%d" % n for n in range(1, 25)] + ["4.%d" % n for n in range(1, 13)] + ["5.%d" % n for n in range(1, 33)]
           + ["6.1", "6.2"] + ["7.%d" % n for n in range(1, 10)])


def test_every_cis_check_is_in_the_catalog():
    # Canonical ids are the v1.6 ids (test_cis_versions.py checks v1.8's against the reference list).
    ids = [rule.id_in("1.6") for rule in catalog.in_profile(catalog.all_rules(), 2, "1.6")]
    assert [rule_id for rule_id in ids if not rule_id.startswith("BW-")] == CIS_IDS
    assert all(rule.id == rule.id_in("1.6") for rule in catalog.all_rules() if rule.in_version("1.6"))
    assert len(CIS_IDS) == 117


def test_at_least_80_automated_checks():
    assert sum(1 for rule in catalog.all_rules() if rule.automated) >= 80


def test_rule_metadata_is_valid():
    for rule in catalog.all_rules():
        assert rule.section in SECTIONS and rule.severity in SEVERITIES and rule.fix in FIX_CLASSES
        assert rule.level in (1, 2) and isinstance(rule.scored, bool)
        assert rule.title and rule.reads and rule.remediation


def test_bulwark_rules_are_numbered():
    bw = [rule.id for rule in catalog.all_rules() if rule.section == "bulwark"]
    assert bw == ["BW-%03d" % n for n in range(1, len(bw) + 1)]


def test_every_rule_is_named_in_a_rule_test():
    # A new rule needs a unit test with a passing and a failing case: at least its id in a rules/test_*.py.
    text = ""
    for path in glob.glob(os.path.join(HERE, "..", "rules", "test_*.py")):
        with open(path, "r", encoding="utf-8") as handle:
            text += handle.read()
    named = set(re.findall(r'"((?:\d+\.)+\d+(?:@\d+\.\d+)?|BW-\d{3})"', text))
    # Section 1 audit rules and section 3 are parametrized from their tables (AUDITED_PATHS, FILE_CHECKS).
    named.update(rule.id for rule in catalog.all_rules() if re.match(r"^(1\.1\.([3-9]|1\d)|3\.\d+)$", rule.id))
    missing = [rule.id for rule in catalog.all_rules() if rule.id not in named]
    assert missing == []


def test_duplicate_ids_are_refused():
    rule = catalog.get("5.5")
    try:
        register(Rule(rule.id, "x", "containers", 1, True, "low", "live", "x", "x", "container"))
    except ValueError as error:
        assert "defined twice" in str(error)
    else:
        raise AssertionError("a duplicate rule id was accepted")


def test_bad_metadata_fails_at_definition():
    try:
        Rule("9.9", "x", "containers", 3, True, "urgent", "live", "x", "x", "container")
    except ValueError as error:
        assert "level" in str(error) and "severity" in str(error)
    else:
        raise AssertionError("bad metadata was accepted")
