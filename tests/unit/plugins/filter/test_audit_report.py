# -*- coding: utf-8 -*-
"""audit_summary_lines: the score, the sections and the failing rules of a container_audit result."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.bulwark.hardening.plugins.filter.audit_report import FilterModule, audit_summary_lines

RESULT = {
    "summary": {
        "score": 62.5, "cis_score": 3,
        "by_status": {"fail": 3, "warn": 0, "pass": 5, "info": 1, "skipped": 0, "waived": 0},
        "by_section": {"BW": {"pass": 1}, "2": {"fail": 2, "pass": 3}, "5": {"fail": 1, "pass": 1, "info": 1}},
    },
    "findings": [
        {"rule": "5.11", "title": "Ensure that the memory usage for containers is limited", "status": "fail", "target": "a"},
        {"rule": "2.12", "title": "Ensure that authorization ... is enabled", "status": "fail", "target": "daemon",
         "left_open": "needs a plugin"},
        {"rule": "5.11", "title": "Ensure that the memory usage for containers is limited", "status": "fail", "target": "b"},
        {"rule": "2.13", "title": "Ensure centralized and remote logging is configured", "status": "fail",
         "target": "daemon", "left_open": "needs a log target"},
        {"rule": "5.5", "title": "Ensure that privileged containers are not used", "status": "pass", "target": "a"},
    ],
}


def test_heading_counts_and_sections_in_order():
    lines = audit_summary_lines(RESULT, "after hardening")
    assert lines[0] == "== after hardening: score 62.5% (cis_score 3); 3 fail, 5 pass, 1 info"
    assert [line.split()[0] for line in lines[1:4]] == ["2", "5", "BW"]


def test_failing_rules_in_rule_order_with_target_counts_and_reasons_once():
    lines = audit_summary_lines(RESULT, "audit")
    failing = lines[lines.index("   failing rules:") + 1:]
    assert failing[0].startswith("   FAIL 2.12") and failing[0].endswith("[left open]")
    assert failing[2].startswith("   FAIL 5.11") and failing[2].endswith("(2 targets)")
    assert failing[3:] == ["   left open on purpose:", "     2.12: needs a plugin", "     2.13: needs a log target"]


def test_no_score_when_nothing_scored_was_decided():
    result = {"summary": {"score": None, "cis_score": 0, "by_status": {}, "by_section": {}}, "findings": []}
    assert audit_summary_lines(result)[0].startswith("== audit: score n/a")


def test_anything_else_than_an_audit_result_is_refused():
    with pytest.raises(AnsibleFilterError):
        audit_summary_lines({"changed": False})


def test_the_filter_is_exported():
    assert FilterModule().filters()["audit_summary_lines"] is audit_summary_lines
