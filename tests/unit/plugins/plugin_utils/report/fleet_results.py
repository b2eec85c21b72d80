# -*- coding: utf-8 -*-
"""Registered audit results of a large fleet, made up but shaped like real ones, for the report renderers at
fleet size (benchmarks/report_render.py, tests/integration/test_report_browser.py, the unit tests).

Each host gets the catalog's real rules (CIS v1.8, Level 2): every global rule once (target "host", "daemon",
...), each container rule on every one of its containers, each image rule on every one of its images, until the
host has its share of the findings. Statuses come from a seeded random generator (so every run builds the same
results) with a fleet that is far from compliant: about half pass. Each result carries its rules once in `rules`
and the full finding too (the v1 fields), so a report model of either format reads it. The summaries are counted
from the findings, so every count a report shows adds up to the findings listed.

fleet_results(40000, hosts=8) is 40,000 findings, 5,000 per host.
"""

from __future__ import annotations

import random

from ansible_collections.bulwark.hardening.plugins.module_utils.rules import catalog
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.open_reasons import reason_by_fix
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.status import PROBLEM_STATUSES

CIS_VERSION = "1.8"
STATUS_WEIGHTS = (("pass", 50), ("fail", 25), ("warn", 6), ("info", 5), ("skipped", 8), ("waived", 6))
STATUSES = ("fail", "warn", "pass", "info", "skipped", "waived")
GLOBAL_TARGETS = {"host": "host", "daemon": "daemon", "files": "/etc/docker/daemon.json", "swarm": "swarm",
                  "operations": "host", "containers": "host", "images": "host"}


def rule_meta(rule):
    """What a result lists once per rule (its `rules` map), from the catalog."""
    meta = {"title": rule.title_in(CIS_VERSION), "section": rule.section_number, "level": rule.level, "scored": rule.scored,
            "severity": rule.severity, "remediation": rule.remediation, "fix": rule.fix}
    if rule.fixed_by:
        meta["fixed_by"] = list(rule.fixed_by)
    reason = rule.left_open or reason_by_fix(rule)
    if reason:
        meta["left_open"] = reason
    return meta


def _pairs(rules, containers, images):
    """(rule, target) of one host: every global rule once, then the container and image rules on each target."""
    pairs = [(rule, GLOBAL_TARGETS.get(rule.section, rule.section)) for rule in rules if rule.kind in ("global", "manual")]
    container_rules = [rule for rule in rules if rule.kind == "container"]
    image_rules = [rule for rule in rules if rule.kind == "image"]
    for container in containers:
        pairs.extend((rule, container) for rule in container_rules)
    for image in images:
        pairs.extend((rule, image) for rule in image_rules)
    return pairs


def _finding(rule, target, status, index, rng):
    """A finding with every field of the full view; evidence differs per finding, as real evidence mostly does."""
    meta = rule_meta(rule)
    finding = dict(meta)
    finding.update({"rule": rule.id_in(CIS_VERSION), "target": target, "status": status,
                    "evidence": "%s %s: observed value %d (%s)" % (rule.id_in(CIS_VERSION), target, rng.randrange(100000), status)})
    if status not in PROBLEM_STATUSES:
        finding.pop("left_open", None)
    elif index % 11 == 0:  # a reason of this target's own; the others keep their rule's, as results of either format say
        finding["left_open"] = "kept open on %s for its owner's change window (ticket OPS-%d)" % (target, index % 997)
    return finding


def _summary(findings):
    by_status = dict.fromkeys(STATUSES, 0)
    by_section = {}
    scored = {"pass": 0, "fail": 0}
    for finding in findings:
        by_status[finding["status"]] += 1
        section = by_section.setdefault(finding["section"], dict.fromkeys(STATUSES, 0))
        section[finding["status"]] += 1
        if finding["scored"] and finding["status"] in scored:
            scored[finding["status"]] += 1
    total = scored["pass"] + scored["fail"]
    return {"total": len(findings), "listed": len(findings), "by_status": by_status, "by_section": by_section,
            "score": round(100.0 * scored["pass"] / total, 1) if total else None, "cis_score": scored["pass"] - scored["fail"],
            "scored": scored, "failed_rules": sorted(set(f["rule"] for f in findings if f["status"] == "fail")),
            "level": 2, "cis_version": CIS_VERSION}


def _result(findings, **counts):
    """An audit result: its findings (full view), each rule they name once in `rules`, the summary counted from them."""
    rules = {}
    for finding in findings:
        if finding["rule"] not in rules:
            rules[finding["rule"]] = rule_meta(catalog.get_in(finding["rule"], CIS_VERSION))
    result = {"changed": False, "summary": _summary(findings), "findings": findings, "rules": rules, "duration_s": 1.5,
              "api_calls": 40}
    result.update(counts)
    return result


def host_results(name, count, seed=0):
    """container_audit and image_audit results of one host with `count` findings in all."""
    rng = random.Random("%s-%s" % (seed, name))
    rules = catalog.in_profile(catalog.all_rules(), 2, CIS_VERSION)
    images = ["registry.example/%s/app-%02d:1.%d" % (name, number, number % 7) for number in range(max(1, count // 100))]
    containers = ["%s-app-%04d" % (name, number) for number in range(count)]  # more than needed: cut below
    statuses = [status for status, weight in STATUS_WEIGHTS for _copy in range(weight)]
    container_findings, image_findings = [], []
    image_pairs = [pair for pair in _pairs(rules, [], images) if pair[0].kind == "image"]
    chosen = image_pairs[:count // 9]
    for rule, target in _pairs(rules, containers, []):
        if len(container_findings) + len(chosen) >= count:
            break
        container_findings.append(_finding(rule, target, rng.choice(statuses), len(container_findings), rng))
    for rule, target in chosen:
        image_findings.append(_finding(rule, target, rng.choice(statuses), len(image_findings), rng))
    audit = _result(container_findings, containers=len(set(f["target"] for f in container_findings)), images=len(images))
    if not image_findings:
        return {"container_audit": audit}
    return {"container_audit": audit, "image_audit": _result(image_findings, images=len(images))}


def fleet_results(findings=40000, hosts=8, seed=0):
    """{host name: results} of `hosts` hosts with `findings` findings in all (spread evenly)."""
    names = ["node-%03d.fleet.example" % number for number in range(hosts)]
    shares = [findings // hosts + (1 if number < findings % hosts else 0) for number in range(hosts)]
    return dict((name, host_results(name, share, seed)) for name, share in zip(names, shares))
