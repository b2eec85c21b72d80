# -*- coding: utf-8 -*-
"""audit_summary_lines: the score, the sections, the failing rules with why each is still open, of a container_audit
result (or of both audits' results, each finding counted once: test_one_set_of_numbers.py)."""

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
    assert lines[1] == "   over container_audit (? containers)"
    assert [line.split()[0] for line in lines[2:5]] == ["2", "5", "BW"]


def test_failing_rules_in_rule_order_with_target_counts_and_reasons_once():
    lines = audit_summary_lines(RESULT, "audit")
    failing = lines[lines.index("   failing rules:") + 1:]
    assert failing[0].startswith("   FAIL 2.12") and failing[0].endswith("[left open]")
    assert failing[2].startswith("   FAIL 5.11") and failing[2].endswith("(2 targets) [no reason given]")
    assert failing[3:6] == ["   why they still fail:", "     2.12: needs a plugin", "     2.13: needs a log target"]
    assert failing[6].startswith("   no reason given for: 5.11 (")


def test_heading_names_the_cis_profile_when_the_result_has_one():
    result = dict(RESULT, summary=dict(RESULT["summary"], level=1))
    assert audit_summary_lines(result, "weekly")[0] == "== weekly (CIS Level 1 profile): score 62.5% (cis_score 3); 3 fail, 5 pass, 1 info"


def test_no_score_when_nothing_scored_was_decided():
    result = {"summary": {"score": None, "cis_score": 0, "by_status": {}, "by_section": {}}, "findings": []}
    assert audit_summary_lines(result)[0].startswith("== audit: score n/a")


def test_anything_else_than_an_audit_result_is_refused():
    with pytest.raises(AnsibleFilterError):
        audit_summary_lines({"changed": False})


def test_the_filter_is_exported():
    assert FilterModule().filters()["audit_summary_lines"] is audit_summary_lines


# --- remediation_summary_lines ------------------------------------------------------------------

REMEDIATION = {
    "summary": {"audited": 3, "live": 1, "recreated": 1, "rolled_back": 1, "failed": 0, "fixed": 3,
                "still_failing": 2, "not_fixed": 1},
    "containers": [
        {"name": "web", "action": "live", "status": "changed"},
        {"name": "db", "action": "recreate", "status": "changed"},
        {"name": "cache", "action": "recreate", "status": "rolled_back", "detail": "the replacement stopped (exit code 3)",
         "logs": "touch: cannot touch '/state': Read-only file system"},
    ],
    "fixed": [{"rule": "5.11", "target": "web"}, {"rule": "5.29", "target": "web"}, {"rule": "5.13", "target": "db"}],
    "still_failing": [{"rule": "5.13", "target": "cache", "evidence": "HostConfig.ReadonlyRootfs=false"},
                      {"rule": "5.27", "target": "db", "evidence": "no health check"}],
    "not_fixed": [{"rule": "5.27", "target": "db", "reason": "manual: add a HEALTHCHECK"}],
}


def test_remediation_lines_give_counts_failures_fixes_and_reasons():
    from ansible_collections.bulwark.hardening.plugins.filter.audit_report import remediation_summary_lines
    lines = remediation_summary_lines(REMEDIATION)
    assert lines[0] == ("result: 3 containers audited, 1 changed live, 1 recreated, 1 rolled back; "
                        "3 rule failures fixed, 2 still failing")
    assert "cache: rolled back - the replacement stopped (exit code 3)" in lines
    assert "cache: replacement log: touch: cannot touch '/state': Read-only file system" in lines
    assert "fixed db (recreate): 5.13" in lines and "fixed web (live): 5.11, 5.29" in lines
    assert "still failing cache 5.13: HostConfig.ReadonlyRootfs=false" in lines
    assert "still failing db 5.27: left alone, manual: add a HEALTHCHECK" in lines


def test_remediation_lines_in_check_mode_speak_of_a_plan():
    from ansible_collections.bulwark.hardening.plugins.filter.audit_report import remediation_summary_lines
    lines = remediation_summary_lines(REMEDIATION, True)
    assert lines[0].startswith("plan (check mode): 3 containers audited, 1 to change live, 1 to recreate")
    assert "would fix web (live): 5.11, 5.29" in lines


def test_remediation_lines_for_a_skipped_task_a_failure_and_nothing_to_do():
    from ansible_collections.bulwark.hardening.plugins.filter.audit_report import remediation_summary_lines
    assert remediation_summary_lines({"skipped": True, "changed": False})[0].startswith("nothing to do: no rule selected")
    assert remediation_summary_lines({"failed": True, "msg": "policy.memory: bad"}) == ["failed: policy.memory: bad"]
    empty = {"summary": dict(REMEDIATION["summary"], audited=0), "containers": [], "fixed": [], "still_failing": []}
    assert remediation_summary_lines(empty)[-1].startswith("no container to audit")
    clean = {"summary": dict(REMEDIATION["summary"], audited=2), "containers": [], "fixed": [], "still_failing": []}
    assert remediation_summary_lines(clean)[-1] == "nothing to fix: the selected rules pass on every audited container"


def test_remediation_lines_name_recoveries_leftovers_and_compose_overrides():
    from ansible_collections.bulwark.hardening.plugins.filter.audit_report import remediation_summary_lines
    result = dict(REMEDIATION, recovered=[
        {"name": "web", "step": "stop_old", "action": "restored", "status": "changed", "detail": "renamed it back"},
        {"name": "db", "step": "verify", "action": "restored", "status": "failed", "detail": "the old container is gone"}],
        leftovers=[{"name": "x-bulwark-old-0123456789ab", "id": "0123456789ab", "reason": "no journal entry: left alone"}],
        compose=[{"project": "shop", "detail": "written to /srv/shop/docker-compose.override.yml",
                  "edits": ["web: remove \"apparmor=unconfined\" from security_opt"]}])
    lines = remediation_summary_lines(result)
    assert "recovered web (interrupted at stop_old): restored - renamed it back" in lines
    assert "recovery failed db (interrupted at verify): the old container is gone" in lines
    assert "left alone x-bulwark-old-0123456789ab (0123456789ab): no journal entry: left alone" in lines
    assert "compose project shop: written to /srv/shop/docker-compose.override.yml" in lines
    assert 'compose project shop: edit the compose file - web: remove "apparmor=unconfined" from security_opt' in lines


# --- failing_at_or_above: what fails audit.yml ---------------------------------------------------

def test_failing_at_or_above_counts_failures_of_the_threshold_and_higher_only():
    from ansible_collections.bulwark.hardening.plugins.filter.audit_report import failing_at_or_above
    audit = {"findings": [
        {"rule": "2.2", "target": "daemon", "status": "fail", "severity": "medium"},
        {"rule": "5.5", "target": "web", "status": "fail", "severity": "critical"},
        {"rule": "5.4", "target": "web", "status": "waived", "severity": "high"},
        {"rule": "5.11", "target": "db", "status": "warn", "severity": "high"},
    ]}
    images = {"findings": [{"rule": "BW-010", "target": "app:1", "status": "fail", "severity": "critical"}]}
    skipped_task = {"skipped": True, "changed": False}
    assert failing_at_or_above([audit, images, skipped_task], "high") == ["5.5 web (critical)", "BW-010 app:1 (critical)"]
    assert failing_at_or_above([audit], "medium") == ["2.2 daemon (medium)", "5.5 web (critical)"]
    assert failing_at_or_above([audit, images], "none") == []
    assert failing_at_or_above(audit, "critical") == ["5.5 web (critical)"]


def test_failing_at_or_above_refuses_an_unknown_threshold():
    from ansible.errors import AnsibleFilterError
    from ansible_collections.bulwark.hardening.plugins.filter.audit_report import failing_at_or_above
    with pytest.raises(AnsibleFilterError, match="one of none, low, medium, high, critical"):
        failing_at_or_above([], "severe")
