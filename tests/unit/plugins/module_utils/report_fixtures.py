# -*- coding: utf-8 -*-
"""Registered audit results of two hosts, as audit.yml's hosts return them, for the report tests (unit and browser)."""

from __future__ import annotations

import copy

HOSTILE = "<script>alert(1)</script>"


def _finding(rule, target, status, severity="medium", section=None, evidence="", **extra):
    finding = {"rule": rule, "title": "Title of %s" % rule, "section": section or rule.split(".")[0], "level": 1, "scored": True,
               "target": target, "status": status, "severity": severity, "evidence": evidence or "observed %s" % status,
               "remediation": "Fix %s on %s" % (rule, target), "fix": "live"}
    finding.update(extra)
    return finding


def _summary(findings, score):
    by_status = dict.fromkeys(("fail", "warn", "pass", "info", "skipped", "waived"), 0)
    by_section = {}
    for finding in findings:
        by_status[finding["status"]] += 1
        section = by_section.setdefault(finding["section"], dict.fromkeys(by_status, 0))
        section[finding["status"]] += 1
    return {"total": len(findings), "listed": len(findings), "by_status": by_status, "by_section": by_section, "score": score,
            "cis_score": by_status["pass"] - by_status["fail"],
            "failed_rules": sorted(set(f["rule"] for f in findings if f["status"] == "fail"))}


def host_results(name, failing_memory=True, hostile=False):
    """container_audit and image_audit results of one host: web-1 fails 5.11 (twice, with a hostile evidence when
    asked), 2.2 fails (critical), a waived 5.10, a skipped 7.1, and passes."""
    findings = [
        _finding("2.2", "daemon", "fail", "critical", evidence="icc=true", fix="daemon", fixed_by=["docker_daemon_icc"]),
        _finding("2.13", "daemon", "fail", "low", evidence="no log target", fix="daemon", left_open="needs a log server"),
        _finding("5.11", "web-1", "fail" if failing_memory else "pass", "high",
                 evidence=HOSTILE if hostile else "HostConfig.Memory=0", fixed_by=["containers_memory"]),
        _finding("5.11", "db-1", "pass", "high", evidence="HostConfig.Memory=536870912"),
        _finding("5.10", "web-1", "waived", "medium", evidence="no pids limit; waived: batch job (was fail)"),
        _finding("7.1", "swarm", "skipped", "low", evidence="swarm mode is not active"),
        _finding("1.1.1", "host", "pass", "medium", evidence="/var/lib/docker is a separate partition"),
        _finding("BW-001", "web-1", "warn", "high", section="BW", evidence="PASSWORD=********"),
    ]
    passed = sum(1 for f in findings if f["status"] == "pass")
    failed = sum(1 for f in findings if f["status"] == "fail")
    audit = {"changed": False, "summary": _summary(findings, round(100.0 * passed / (passed + failed), 1)), "findings": findings,
             "containers": 2, "images": 1, "duration_s": 0.2, "api_calls": 5}
    image_findings = [_finding("4.1", "app:1.2", "fail", "medium", evidence="Config.User is empty", fix="manual"),
                      _finding("4.6", "app:1.2", "pass", "low")]
    image = {"changed": False, "summary": _summary(image_findings, 50.0), "findings": image_findings, "images": 1}
    return {"container_audit": audit, "image_audit": image}


def two_hosts(hostile=False):
    return {"web1": host_results("web1", hostile=hostile), "db1": host_results("db1", failing_memory=False)}


def results_copy(results):
    return copy.deepcopy(results)
