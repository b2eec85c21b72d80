# -*- coding: utf-8 -*-
"""Waivers: matching, expiry, and what they do to findings."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.rules import catalog
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.findings import Finding
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.waivers import WaiverError, apply_waivers, parse_waivers

TODAY = datetime.date(2026, 6, 1)
KNOWN_RULES = [rule.id for rule in catalog.all_rules()]


def parse(entries):
    return parse_waivers(entries, KNOWN_RULES)


def finding(rule_id="5.11", target="web-1", status="fail"):
    return Finding(catalog.get(rule_id), target, status, "HostConfig.Memory=0 (no limit)")


def test_matching_waiver_marks_finding_waived_with_reason():
    found = apply_waivers([finding()], parse([{"rule": "5.11", "target": "web-*", "reason": "sized by cgroup"}]), TODAY)[0]
    assert found.status == "waived"
    assert "sized by cgroup" in found.evidence and "was fail" in found.evidence


def test_expired_waiver_is_a_failure_saying_so():
    waiver = parse([{"rule": "5.9", "target": "*", "reason": "temporary", "expires": "2026-05-31"}])
    found = apply_waivers([finding("5.9", status="warn")], waiver, TODAY)[0]
    assert found.status == "fail"
    assert "waiver expired on 2026-05-31" in found.evidence


def test_waiver_valid_on_its_last_day():
    waiver = parse([{"rule": "5.11", "reason": "r", "expires": "2026-06-01"}])
    assert apply_waivers([finding()], waiver, TODAY)[0].status == "waived"


@pytest.mark.parametrize("entry", [
    {"rule": "5.12", "reason": "other rule"},
    {"rule": "5.11", "target": "db-*", "reason": "other target"},
])
def test_non_matching_waivers_change_nothing(entry):
    assert apply_waivers([finding()], parse([entry]), TODAY)[0].status == "fail"


def test_passing_findings_are_left_alone():
    waiver = parse([{"rule": "5.11", "reason": "r", "expires": "2020-01-01"}])
    assert apply_waivers([finding(status="pass")], waiver, TODAY)[0].status == "pass"


def test_bad_date_is_refused():
    with pytest.raises(WaiverError, match="YYYY-MM-DD"):
        parse([{"rule": "5.11", "reason": "r", "expires": "31/12/2026"}])


@pytest.mark.parametrize("rule_id,closest", [("5.100", "5.10"), ("2.7.1", "2.7"), ("bw-001", "BW-001")])
def test_unknown_rule_is_refused_naming_the_closest_ids(rule_id, closest):
    # A waiver for an id the catalog does not have would silently never match.
    with pytest.raises(WaiverError) as error:
        parse([{"rule": rule_id, "reason": "r"}])
    assert repr(rule_id) in str(error.value) and closest in str(error.value)


def test_unknown_rule_without_close_ids_points_to_the_rule_list():
    with pytest.raises(WaiverError, match="docs/rules.md"):
        parse([{"rule": "no-such-check", "reason": "r"}])


@pytest.mark.parametrize("entry,message", [
    ({"rule": "5.11", "target": ["web-1", "web-2"], "reason": "r"}, "target for rule 5.11 must be a string"),
    ({"rule": "5.11", "target": 7, "reason": "r"}, "must be a string"),
    ({"rule": 5.1, "reason": "r"}, "quote it in YAML"),
])
def test_non_string_rule_or_target_is_refused(entry, message):
    with pytest.raises(WaiverError, match=message):
        parse([entry])
