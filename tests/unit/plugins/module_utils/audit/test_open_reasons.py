# -*- coding: utf-8 -*-
"""Every rule that can still fail after harden.yml ran with the roles' defaults says why, in the finding itself
(left_open, which every report shows), and names what closes it where a variable does.

`make demo` listed 24 failing rules after harden and explained 3: the 15 auditd rules (now not applicable in a
container, test_cis1_host.py) and 5.13, 5.27, 5.30, BW-008, 4.6 and BW-005 carried no reason. This holds the whole
class: any rule the roles' defaults do not close, read from the roles' own defaults files."""

from __future__ import annotations

import glob
import os

import pytest
import yaml

from ansible_collections.bulwark.hardening.plugins.module_utils.audit import open_reasons
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.findings import Finding, expand, rules_of
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.rule import KIND_MANUAL
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.status import FAIL, PASS
from ansible_collections.bulwark.hardening.plugins.module_utils.rules import catalog

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))))
# Off by default, and still closing its rule: with TLS off the docker_daemon role removes every tcp:// listener
# (roles/docker_daemon/vars/main.yml), which is what 2.7 asks when there is no TLS.
OFF_AND_STILL_CLOSING = {"docker_daemon_tls_enabled"}


def role_defaults():
    defaults = {}
    for path in glob.glob(os.path.join(TOP, "roles", "*", "defaults", "main.yml")):
        with open(path, encoding="utf-8") as handle:
            defaults.update(yaml.safe_load(handle) or {})
    return defaults


SWITCHES_OFF = set(name for name, value in role_defaults().items() if name.endswith("_enabled") and value is False)


def closed_by_the_defaults(rule):
    """A role variable fixes it and no switch it needs is off by default."""
    return bool(rule.fixed_by) and not set(rule.fixed_by) & (SWITCHES_OFF - OFF_AND_STILL_CLOSING)


def shown_of(finding):
    """The finding as a report shows it: its listed fields with its rule's (findings.expand over the result's rules)."""
    return expand(finding.to_dict(), rules_of([finding]))


AUTOMATED = [rule for rule in catalog.all_rules() if rule.kind != KIND_MANUAL]
LEFT_OPEN_BY_DEFAULT = [rule.id for rule in AUTOMATED if not closed_by_the_defaults(rule)]


def test_the_switches_off_by_default_are_the_known_ones():
    # A new switch that is off by default leaves its rules open: decide their reason (open_reasons) first.
    assert SWITCHES_OFF == {open_reasons.RECREATE_SWITCH} | OFF_AND_STILL_CLOSING


@pytest.mark.parametrize("rule_id", LEFT_OPEN_BY_DEFAULT)
def test_a_failure_the_roles_defaults_leave_says_why(rule_id):
    rule = catalog.get(rule_id)
    shown = shown_of(Finding(rule, "target", FAIL, "observed"))
    assert shown.get("left_open"), "rule %s can fail after harden with no reason" % rule_id
    if open_reasons.RECREATE_SWITCH in rule.fixed_by:
        assert open_reasons.RECREATE_SWITCH + ": true" in shown["left_open"]


@pytest.mark.parametrize("rule_id", [rule.id for rule in AUTOMATED if closed_by_the_defaults(rule) and not rule.left_open])
def test_a_failure_of_a_rule_the_defaults_close_gives_no_made_up_reason(rule_id):
    # After harden such a failure is news (a variable changed, or a defect): the reports say no reason was given.
    assert "left_open" not in shown_of(Finding(catalog.get(rule_id), "target", FAIL, "observed"))


def test_the_rules_the_demo_left_unexplained_say_why_and_what_closes_them():
    reasons = dict((rule_id, Finding(catalog.get(rule_id), "t", FAIL, "e").left_open)
                   for rule_id in ("5.13", "5.27", "5.30", "BW-008", "4.6", "BW-005"))
    assert "containers_recreate_enabled: true" in reasons["5.13"] and "containers_policy" in reasons["5.13"]
    assert "containers_recreate_enabled: true" in reasons["BW-008"]
    assert "HEALTHCHECK" in reasons["5.27"] and "--health-cmd" in reasons["5.27"]
    assert "user-defined network" in reasons["5.30"]
    assert "digest" in reasons["BW-005"]
    assert "rebuilds" in reasons["4.6"]


def test_a_passing_finding_carries_no_reason():
    assert "left_open" not in shown_of(Finding(catalog.get("5.13"), "t", PASS, "e"))


def test_the_evaluation_and_the_rule_come_before_the_fix_class():
    assert Finding(catalog.get("5.13"), "t", FAIL, "e", "a reason this target shows").left_open == "a reason this target shows"
    assert Finding(catalog.get("4.1"), "t", FAIL, "e").left_open == catalog.get("4.1").left_open


def test_a_reason_the_target_shows_is_the_findings_own_and_the_rules_is_listed_once():
    rule = catalog.get("5.13")
    own, general = Finding(rule, "a", FAIL, "e", "a reason this target shows"), Finding(rule, "b", FAIL, "e")
    rules = rules_of([own, general])
    assert own.to_dict()["left_open"] == "a reason this target shows" and "left_open" not in general.to_dict()
    assert rules["5.13"]["left_open"] == general.left_open
    assert [expand(finding.to_dict(), rules)["left_open"] for finding in (own, general)] == ["a reason this target shows", general.left_open]
