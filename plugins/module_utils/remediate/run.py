# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One remediation run: audit the targets, plan, fix, audit them again, report the difference.

The container_remediate module is a thin wrapper around run_remediation().
The audit is the audit engine's own gather and rules (scopes containers
and bulwark), so "failing" means exactly what container_audit reports.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.bulwark.hardening.plugins.module_utils.audit import gather as gathering
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.findings import evaluate
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.rule import KIND_CONTAINER, rule_sort_key
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.state import AuditOptions
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.status import FAIL, PASS
from ansible_collections.bulwark.hardening.plugins.module_utils.engine.connection import connect, connection_from, guarded, sdk
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate import execute
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.plan import plan_container
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.policy import Policy, PolicyError
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.remedies import LIVE, RECREATE, Context
from ansible_collections.bulwark.hardening.plugins.module_utils.rules import catalog as rulebook

# The sections with container rules: 4.1 (the container's user) is in images.
SCOPES = ("images", "containers", "bulwark")
STATS_PATH = "/containers/{0}/stats"
# stats requests in flight at once (engine.connection keeps up to 64 connections).
STATS_WORKERS = 50


class RemediationError(ValueError):
    """Bad input: unknown rule ids, a malformed policy, override, exemption or finding, a level not 1 or 2."""


def container_rule_ids(level=2):
    """Ids of the container rules of the CIS Level `level` profile (2: every one)."""
    return [rule.id for rule in rulebook.rules_for(SCOPES, level) if rule.kind == KIND_CONTAINER]


def wanted_rules(rules, level=2):
    """The rule ids to act on: all container rules of the profile by default; unknown ids are an error.

    Ids are checked against every container rule: one above the profile level (BW-008 under level 1)
    is valid and left out, so the same rule list serves both profiles (the containers role passes its own).
    """
    try:
        profile = container_rule_ids(level)
    except ValueError as error:
        raise RemediationError(str(error))
    if not rules:
        return set(profile)
    known = container_rule_ids()
    unknown = [str(rule) for rule in rules if str(rule) not in known]
    if unknown:
        verb = "is" if len(unknown) == 1 else "are"
        raise RemediationError("rules: %s %s no container rule; container rules are %s (quote ids in YAML: "
                               "5.10 unquoted is 5.1)" % (", ".join(unknown), verb, ", ".join(known)))
    return set(str(rule) for rule in rules) & set(profile)


def failing_pairs(findings):
    """{(rule, target)} of the failing entries of container_audit findings."""
    pairs = set()
    for index, finding in enumerate(findings or []):
        if not isinstance(finding, dict) or "rule" not in finding or "target" not in finding:
            raise RemediationError("findings[%d]: expected a container_audit finding with rule and target" % index)
        if finding.get("status", FAIL) == FAIL:
            pairs.add((str(finding["rule"]), str(finding["target"])))
    return pairs


def current_usage(client, container):
    """(memory in use in bytes, page cache left out; processes and threads) now; None for what is unknown."""
    try:
        stats = client.get_json("stats", STATS_PATH, {"stream": "false", "one-shot": "true"}, container.id)
    except sdk().errors.APIError:
        return None, None
    memory = stats.get("memory_stats") or {}
    details = memory.get("stats") or {}
    cache = details.get("inactive_file", details.get("total_inactive_file", details.get("cache", 0))) or 0
    usage = memory.get("usage")
    return (None if usage is None else max(usage - cache, 0)), (stats.get("pids_stats") or {}).get("current")


def audit(client, request, options, level=2):
    state = gathering.gather(client, request, options)
    return state, evaluate(rulebook.rules_for(SCOPES, level), state)


def failing_by_container(findings, wanted, only=None):
    failing = {}
    for finding in findings:
        if finding.status == FAIL and finding.rule.id in wanted and finding.rule.kind == KIND_CONTAINER:
            if only is None or (finding.rule.id, finding.target) in only:
                failing.setdefault(finding.target, []).append(finding.rule.id)
    return failing


def _needs_usage(container, failing, policy):
    """Only the limits that could starve a running service need its usage (one stats call)."""
    return container.running and (("5.11" in failing and policy.get("memory") is not None)
                                  or ("5.29" in failing and policy.get("pids_limit") is not None))


def usage_of(client, containers):
    """{container id: (memory, pids)} for the containers, asked in parallel: dockerd answers a stats
    request on its next sampling tick (up to 1 s), so one after the other would cost a second each."""
    if not containers:
        return {}
    with ThreadPoolExecutor(max_workers=min(STATS_WORKERS, len(containers))) as pool:
        return dict(zip([container.id for container in containers],
                        pool.map(lambda container: current_usage(client, container), containers)))


def make_plans(client, state, failing, policy, docker_host):
    chosen = [(container, failing[container.name], policy.resolve(container.name, container.labels))
              for container in state.containers if failing.get(container.name)]
    usage = usage_of(client, [container for container, rules, resolved in chosen if _needs_usage(container, rules, resolved)])
    plans = []
    for container, rules, resolved in chosen:
        memory, pids = usage.get(container.id, (None, None))
        plans.append(plan_container(
            container, rules, resolved, Context(memory, pids, docker_host),
            exemption_for=lambda rule_id, c=container: policy.exemption_for(rule_id, c.name, c.labels)))
    return plans


def carry_out(client, plan, state, grace_period, health_timeout, sleep):
    if plan.action == LIVE:
        return execute.update_live(client, plan)
    if plan.action == RECREATE:
        try:
            image = state.image_of(plan.container)
            return execute.recreate(client, plan, image.inspect if image else None, grace_period, health_timeout,
                                    sleep=sleep)
        except sdk().errors.APIError as error:  # before anything changed: the rename aside was refused
            return execute.Outcome("failed", "Docker refused: %s" % (error.explanation or error))
    return execute.Outcome("unchanged")


LONG_TEXT = 120


def describe(value):
    """A setting's value as the result and the diff show it: unset for None, long strings (an inline seccomp
    profile in SecurityOpt) shortened."""
    if value is None:
        return "unset"
    if isinstance(value, str) and len(value) > LONG_TEXT:
        return "%s...<%d chars>" % (value[:40], len(value))
    if isinstance(value, list):
        return [describe(item) for item in value]
    return value


def plan_result(plan, outcome):
    result = {
        "name": plan.name,
        "id": plan.id[:12],
        "action": plan.action,
        "fixes": sorted(plan.fixes, key=rule_sort_key),
        "changes": dict(("%s.%s" % (section, key), {"before": describe(before), "after": describe(after)})
                        for section, key, before, after in plan.changes()),
        "skipped": [{"rule": rule, "reason": reason} for rule, reason in plan.skipped],
        "status": outcome.status,
    }
    if outcome.detail:
        result["detail"] = outcome.detail
    if outcome.new_id:
        result["new_id"] = outcome.new_id[:12]
    if outcome.logs:
        result["logs"] = outcome.logs
    return result


def diff_of(plan):
    lines = [("%s.%s: %s" % (section, key, describe(before)), "%s.%s: %s" % (section, key, describe(after)))
             for section, key, before, after in plan.changes()]
    return {
        "before_header": "%s (%s)" % (plan.name, plan.id[:12]),
        "after_header": "%s (%s, %s)" % (plan.name, plan.action, ", ".join(sorted(plan.fixes))),
        "before": "".join(before + "\n" for before, _after in lines),
        "after": "".join(after + "\n" for _before, after in lines),
    }


def report(plans, outcomes, before_failing, after_findings, check_mode):
    """fixed / still_failing / not_fixed (left alone, with the reason), by rule and container."""
    after = {}
    for finding in after_findings:
        after[(finding.rule.id, finding.target)] = finding
    fixed, still_failing, not_fixed = [], [], []
    planned = dict((plan.name, plan) for plan in plans)
    for target in sorted(before_failing):
        plan = planned.get(target)
        for rule_id in before_failing[target]:
            now = after.get((rule_id, target))
            if check_mode and plan is not None and rule_id in plan.fixes:
                fixed.append({"rule": rule_id, "target": target})
            elif now is not None and now.status == PASS:
                fixed.append({"rule": rule_id, "target": target})
            else:
                still_failing.append({"rule": rule_id, "target": target,
                                      "evidence": now.evidence if now is not None else "not audited again"})
    for plan in plans:
        not_fixed.extend({"rule": rule, "target": plan.name, "reason": reason} for rule, reason in plan.skipped)
    return fixed, still_failing, not_fixed


def run_remediation(connection=None, containers=None, labels=None, include_stopped=False, rules=None,
                    findings=None, policy=None, overrides=None, exemptions=None, grace_period=10,
                    health_timeout=120, check_mode=False, client=None, sleep=time.sleep, level=2):
    """Remediate and return the module's result (changed, containers, fixed, still_failing, not_fixed, ...).

    level: the CIS profile, 1 or 2 (every rule); rules above it are neither audited, reported nor fixed.
    No key is named `skipped`: Ansible would show the whole task as skipped."""
    started = time.monotonic()
    wanted = wanted_rules(rules, level)
    only = failing_pairs(findings) if findings is not None else None
    try:
        resolved_policy = Policy(policy, overrides, exemptions, known_rules=container_rule_ids())
    except PolicyError as error:
        raise RemediationError(str(error))
    connection = connection or connection_from({})
    client = client or connect(connection)
    options = AuditOptions(docker_host=connection.docker_host)
    request = gathering.GatherRequest(SCOPES, include_stopped=include_stopped, name_filter=containers,
                                      label_filter=labels)
    state, before = audit(client, request, options, level)
    failing = failing_by_container(before, wanted, only)
    plans = guarded(client, make_plans, client, state, failing, resolved_policy, connection.docker_host)
    outcomes = []
    for plan in plans:
        if check_mode or plan.action == "none":
            outcomes.append(execute.Outcome("planned" if plan.action != "none" else "unchanged"))
        else:
            outcomes.append(guarded(client, carry_out, client, plan, state, grace_period, health_timeout, sleep))
    touched = [plan.name for plan, outcome in zip(plans, outcomes) if outcome.status in ("changed", "rolled_back", "failed")]
    after = before
    if touched:
        again = gathering.GatherRequest(SCOPES, include_stopped=True, name_filter=touched)
        after = audit(client, again, options, level)[1]
        after += [finding for finding in before if finding.target not in touched]
    fixed, still_failing, not_fixed = report(plans, outcomes, failing, after, check_mode)
    results = [plan_result(plan, outcome) for plan, outcome in zip(plans, outcomes)]
    return {
        "changed": any(outcome.status in ("changed", "planned") for outcome in outcomes),
        "containers": results,
        "fixed": fixed,
        "still_failing": still_failing,
        "not_fixed": not_fixed,
        "summary": {
            "level": level,
            "audited": len(state.containers),
            "live": sum(1 for r in results if r["action"] == LIVE and r["status"] in ("changed", "planned")),
            "recreated": sum(1 for r in results if r["action"] == RECREATE and r["status"] in ("changed", "planned")),
            "rolled_back": sum(1 for r in results if r["status"] == "rolled_back"),
            "failed": sum(1 for r in results if r["status"] == "failed"),
            "fixed": len(fixed),
            "still_failing": len(still_failing),
            "not_fixed": len(not_fixed),
        },
        "diff": [diff_of(plan) for plan, outcome in zip(plans, outcomes)
                 if plan.changes() and outcome.status in ("changed", "planned")],
        "api_calls": client.total,
        "api_calls_by_endpoint": dict(client.calls),
        "duration_s": round(time.monotonic() - started, 3),
    }
