# -*- coding: utf-8 -*-
"""Findings, summaries and the score."""

from __future__ import annotations

import json

from ansible_collections.bulwark.hardening.plugins.module_utils.rules import catalog
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.findings import Finding, evaluate, expand, expand_all, rules_of, summarize

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.rule_fixtures import container, state


def test_summary_counts_and_score():
    findings = [
        Finding(catalog.get("5.11"), "a", "pass", ""),
        Finding(catalog.get("5.11"), "b", "fail", ""),
        Finding(catalog.get("5.13"), "a", "pass", ""),
        Finding(catalog.get("5.30"), "a", "fail", ""),  # not scored
        Finding(catalog.get("5.9"), "a", "warn", ""),
        Finding(catalog.get("2.2"), "daemon", "waived", ""),
    ]
    summary = summarize(findings)
    assert summary["by_status"] == {"fail": 2, "warn": 1, "pass": 2, "info": 0, "skipped": 0, "waived": 1}
    assert summary["by_section"]["5"]["fail"] == 2 and summary["by_section"]["2"]["waived"] == 1
    assert summary["score"] == 66.7  # 2 scored passes, 1 scored fail
    assert summary["cis_score"] == 1
    assert summary["failed_rules"] == ["5.11", "5.30"]


def test_score_is_none_when_nothing_scored_was_decided():
    assert summarize([])["score"] is None


def test_finding_dict_shape():
    findings = evaluate([catalog.get("5.11")], state([container("hostnet")]))
    assert findings[0].to_dict() == {"rule": "5.11", "target": "fixture-hostnet", "status": "fail", "severity": "medium",
                                     "evidence": "HostConfig.Memory=0 (no limit)"}
    assert rules_of(findings) == {"5.11": {
        "title": "Ensure that the memory usage for containers is limited", "section": "5", "level": 1, "scored": True,
        "severity": "medium", "remediation": catalog.get("5.11").remediation, "fix": "live",
        "fixed_by": ["containers_live_enabled", "containers_policy"]}}


def test_expand_gives_the_whole_finding_and_keeps_what_a_finding_of_an_older_result_carries():
    findings = evaluate([catalog.get("5.11")], state([container("hostnet")]))
    whole = expand(findings[0].to_dict(), rules_of(findings))
    assert whole["title"] == "Ensure that the memory usage for containers is limited" and whole["fix"] == "live"
    assert whole["target"] == "fixture-hostnet" and whole["fixed_by"] == ["containers_live_enabled", "containers_policy"]
    older = dict(whole, title="as the older module said")
    assert expand(older, {})["title"] == "as the older module said"
    assert expand_all({"findings": [findings[0].to_dict()], "rules": rules_of(findings)}) == [whole]


def test_every_rule_evaluates_on_the_real_fixtures_without_error():
    audit = state([container(name) for name in ("hardened", "insecure", "hostnet", "stopped")])
    findings = evaluate(catalog.all_rules(), audit)
    assert set(f.status for f in findings) <= {"pass", "fail", "warn", "info", "skipped"}
    assert set(f.rule.id for f in findings) == set(rule.id for rule in catalog.all_rules())


def test_a_rule_over_many_targets_is_listed_once():
    containers = [container(name) for name in ("hardened", "insecure", "hostnet", "stopped")] * 50
    findings = evaluate(catalog.all_rules(), state(containers))
    listed = {"findings": [finding.to_dict() for finding in findings], "rules": rules_of(findings)}
    every_field = [dict(finding, left_open=None) for finding in expand_all(listed)]
    assert len(listed["rules"]) == len(set(finding.rule.id for finding in findings))
    assert len(json.dumps(listed)) < 0.5 * len(json.dumps(every_field))
