# -*- coding: utf-8 -*-
"""Waivers: matching, expiry, and what they do to findings."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.rules import catalog as rulebook
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.findings import Finding
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.waivers import WaiverError, apply_waivers, parse_waivers

TODAY = datetime.date(2026, 6, 1)


def finding(rule_id="5.11", target="web-1", status="fail"):
    return Finding(rulebook.get(rule_id), target, status, "HostConfig.Memory=0 (no limit)")


def test_matching_waiver_marks_finding_waived_with_reason():
    found = apply_waivers([finding()], parse_waivers([{"rule": "5.11", "target": "web-*", "reason": "sized by cgroup"}]), TODAY)[0]
    assert found.status == "waived"
    assert "sized by cgroup" in found.evidence and "was fail" in found.evidence


def test_expired_waiver_is_a_failure_saying_so():
    waiver = parse_waivers([{"rule": "5.9", "target": "*", "reason": "temporary", "expires": "2026-05-31"}])
    found = apply_waivers([finding("5.9", status="warn")], waiver, TODAY)[0]
    assert found.status == "fail"
    assert "waiver expired on 2026-05-31" in found.evidence


def test_waiver_valid_on_its_last_day():
    waiver = parse_waivers([{"rule": "5.11", "reason": "r", "expires": "2026-06-01"}])
    assert apply_waivers([finding()], waiver, TODAY)[0].status == "waived"


@pytest.mark.parametrize("entry", [
    {"rule": "5.12", "reason": "other rule"},
    {"rule": "5.11", "target": "db-*", "reason": "other target"},
])
def test_non_matching_waivers_change_nothing(entry):
    assert apply_waivers([finding()], parse_waivers([entry]), TODAY)[0].status == "fail"


def test_passing_findings_are_left_alone():
    waiver = parse_waivers([{"rule": "5.11", "reason": "r", "expires": "2020-01-01"}])
    assert apply_waivers([finding(status="pass")], waiver, TODAY)[0].status == "pass"


def test_bad_date_is_refused():
    with pytest.raises(WaiverError, match="YYYY-MM-DD"):
        parse_waivers([{"rule": "5.11", "reason": "r", "expires": "31/12/2026"}])
