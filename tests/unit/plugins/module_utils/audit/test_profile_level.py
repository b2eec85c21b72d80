# -*- coding: utf-8 -*-
"""CIS profiles: the Level 1 profile is the Level 1 rules, Level 2 (the default) every rule. Rules above the
level are neither evaluated nor reported and count nowhere in the summary; waivers stay checked against every rule."""

from __future__ import annotations

import collections

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.audit import run
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.run import AuditError, run_audit
from ansible_collections.bulwark.hardening.plugins.module_utils.rules import catalog
from ansible_collections.bulwark.hardening.plugins.modules import container_audit, container_remediate, image_audit

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils import rule_fixtures
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.findings import expand_all
AUDIT_RULES = ["1.1.%d" % number for number in range(3, 19)]  # CIS 1.1.3-1.1.18, every one Level 2
# Canonical (CIS v1.6) ids; an audit reports them in its cis_version's ids (as_reported).
LEVEL_2_SAMPLE = AUDIT_RULES + ["2.9", "2.17", "4.5", "BW-008"]
LEVEL_1_SAMPLE = ["1.1.1", "2.2", "5.11", "5.22", "BW-001"]


def as_reported(rule_ids, cis_version="1.8"):
    """Canonical ids as an audit of cis_version (the default 1.8) names them."""
    return set(catalog.get(rule_id).id_in(cis_version) for rule_id in rule_ids)


class NoEngine(object):
    """run_audit's client when gathering is replaced: no call is ever made."""

    def __init__(self):
        self.calls = collections.Counter()

    @property
    def total(self):
        return sum(self.calls.values())


@pytest.fixture(name="gathered")
def gathered_fixture(monkeypatch):
    """run_audit over a fixed state (every section): the fixture daemon, a hardened and an insecure container."""
    state = rule_fixtures.state(containers=[rule_fixtures.container("hardened"), rule_fixtures.container("insecure")])
    requests = []

    def gather(client, request, options):
        requests.append(request)
        return state
    monkeypatch.setattr(run.gathering, "gather", gather)
    return requests


def ids(result):
    return set(finding["rule"] for finding in result["findings"])


# --- the catalog ---------------------------------------------------------------------------------

def test_level_1_leaves_out_the_level_2_rules_and_keeps_the_level_1_ones():
    level_1 = set(rule.id for rule in catalog.rules_for(run.ALL_SCOPES, level=1))
    assert not level_1 & set(LEVEL_2_SAMPLE)
    assert set(LEVEL_1_SAMPLE) <= level_1
    assert all(catalog.get(rule_id).level == 1 for rule_id in level_1)


def test_level_2_is_every_rule_and_the_default():
    every = [rule.id for rule in catalog.all_rules()]
    assert [rule.id for rule in catalog.rules_for(run.ALL_SCOPES, level=2)] == every
    assert [rule.id for rule in catalog.rules_for(run.ALL_SCOPES)] == every


def test_profiles_are_cumulative():
    level_1 = catalog.rules_for(run.ALL_SCOPES, level=1)
    level_2 = catalog.rules_for(run.ALL_SCOPES, level=2)
    assert set(rule.id for rule in level_1) < set(rule.id for rule in level_2)
    assert sorted(rule.id for rule in level_2 if rule not in level_1) == sorted(
        rule.id for rule in catalog.all_rules() if rule.level == 2)


@pytest.mark.parametrize("level", [0, 3, "1", None, True])
def test_only_1_and_2_are_levels(level):
    with pytest.raises(ValueError, match="level must be one of 1, 2"):
        catalog.rules_for(["containers"], level=level)


def test_the_modules_take_level_1_or_2_default_2():
    for module in (container_audit, image_audit, container_remediate):
        assert module.ARGUMENT_SPEC["level"] == {"type": "int", "choices": [1, 2], "default": 2}, module.__name__


# --- run_audit -----------------------------------------------------------------------------------

def test_a_level_1_audit_neither_evaluates_nor_reports_level_2_rules(gathered):
    level_1 = run_audit(level=1, report="all", client=NoEngine())
    level_2 = run_audit(level=2, report="all", client=NoEngine())
    assert not ids(level_1) & as_reported(LEVEL_2_SAMPLE)
    assert as_reported(LEVEL_2_SAMPLE) <= ids(level_2)
    assert as_reported(LEVEL_1_SAMPLE) <= ids(level_1)
    assert ids(level_2) - ids(level_1) == set(rule.id_in("1.8") for rule in catalog.all_rules() if rule.level == 2)
    assert all(finding["level"] == 1 for finding in expand_all(level_1))
    assert (level_1["summary"]["level"], level_2["summary"]["level"]) == (1, 2)


def test_the_default_is_level_2(gathered):
    default = run_audit(report="all", client=NoEngine())
    assert default["summary"]["level"] == 2
    assert default["summary"] == run_audit(level=2, report="all", client=NoEngine())["summary"]


def test_the_summary_and_score_count_only_the_profiles_rules(gathered):
    level_1 = run_audit(level=1, report="all", client=NoEngine())["summary"]
    everything = run_audit(level=2, report="all", client=NoEngine())
    in_profile = [finding for finding in expand_all(everything) if finding["level"] == 1]
    passed = sum(1 for finding in in_profile if finding["scored"] and finding["status"] == "pass")
    failed = sum(1 for finding in in_profile if finding["scored"] and finding["status"] == "fail")
    assert level_1["total"] == len(in_profile) < everything["summary"]["total"]
    assert level_1["by_status"]["fail"] == sum(1 for finding in in_profile if finding["status"] == "fail")
    assert level_1["score"] == round(100.0 * passed / (passed + failed), 1)
    assert level_1["cis_score"] == passed - failed
    # User namespaces: 2.9 in CIS v1.6, 2.10 in v1.8 (the default).
    assert "2.10" in everything["summary"]["failed_rules"] and "BW-008" in everything["summary"]["failed_rules"]
    assert "2.10" not in level_1["failed_rules"] and "BW-008" not in level_1["failed_rules"]
    assert "5.11" in level_1["failed_rules"]


def test_problems_report_lists_only_the_profiles_rules(gathered):
    result = run_audit(level=1, client=NoEngine())
    assert result["findings"] and not ids(result) & as_reported(LEVEL_2_SAMPLE)
    assert result["summary"]["listed"] == len(result["findings"])


def test_a_waiver_of_a_rule_outside_the_profile_is_valid_and_waives_nothing(gathered):
    waivers = [{"rule": "BW-008", "target": "*", "reason": "Level 2 only"},
               {"rule": "5.11", "target": "fixture-insecure", "reason": "batch job"}]
    result = run_audit(level=1, report="all", waivers=waivers, client=NoEngine())
    assert "BW-008" not in ids(result)
    waived = [(finding["rule"], finding["target"]) for finding in result["findings"] if finding["status"] == "waived"]
    assert waived == [("5.11", "fixture-insecure")]
    with pytest.raises(AuditError, match="BW-999"):
        run_audit(level=1, waivers=[{"rule": "BW-999", "reason": "no such rule"}], client=NoEngine())


@pytest.mark.parametrize("level", [0, 3, "2"])
def test_a_bad_level_fails_before_anything_is_gathered(gathered, level):
    client = NoEngine()
    with pytest.raises(AuditError, match="level must be one of 1, 2"):
        run_audit(level=level, client=client)
    assert gathered == [] and client.total == 0
