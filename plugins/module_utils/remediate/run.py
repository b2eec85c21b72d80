# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""One remediation run: recover, audit the targets, plan, fix, audit them again, report the difference.

The container_remediate module is a thin wrapper around run_remediation().
Every run starts by finishing or undoing the replacements an interrupted
earlier run left (recovery.py, from the journal); containers set aside or
recorded by a replacement are never targets. The audit is the audit engine's
own gather and rules (scopes containers and bulwark), so "failing" means
exactly what container_audit reports. Recreate candidates are looked at
before anything changes (safety.py). Compose projects get the override that
keeps their fixes (compose.py).
"""

from __future__ import annotations

import json
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.bulwark.hardening.plugins.module_utils.audit import gather as gathering
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.findings import evaluate
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.rule import (
    DEFAULT_CIS_VERSION, KIND_CONTAINER, check_cis_version, rule_sort_key,
)
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.state import AuditOptions
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.status import FAIL, PASS
from ansible_collections.bulwark.hardening.plugins.module_utils.engine.connection import connect, connection_from, guarded, sdk
from ansible_collections.bulwark.hardening.plugins.module_utils.common.private_dir import private_dir_problem
from ansible_collections.bulwark.hardening.plugins.module_utils.common.secrets import mask_text
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate import compose, execute, safety
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.journal import DEFAULT_STATE_DIR, LOCK_FILE, Journal
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.plan import plan_container
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.ports import endpoint_text, is_local
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.recovery import recorded_ids, recover
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.policy import Policy, PolicyError
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.remedies import LIVE, RECREATE, Context, needs_usage
from ansible_collections.bulwark.hardening.plugins.module_utils.rules import catalog

# The sections with container rules: 4.1 (the container's user) is in images.
SCOPES = ("images", "containers", "bulwark")
STATS_PATH = "/containers/{0}/stats"
# stats requests in flight at once (engine.connection keeps up to 64 connections).
STATS_WORKERS = 50
# The names a replacement gives: the old container set aside, the new one before it takes the name.
SET_ASIDE = re.compile(r"-bulwark-(old|new)-[0-9a-f]{12}$")


class RemediationError(ValueError):
    """Bad input: unknown rule ids, a malformed policy, override, exemption or finding, a level not 1 or 2, an
    unknown CIS version."""


def container_rule_ids(level=2):
    """Ids of the container rules of the CIS Level `level` profile (2: every one)."""
    return [rule.id for rule in catalog.rules_for(SCOPES, level) if rule.kind == KIND_CONTAINER]


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
    return state, evaluate(catalog.rules_for(SCOPES, level, options.cis_version), state)


def failing_by_container(findings, wanted, only=None):
    failing = {}
    for finding in findings:
        if finding.status == FAIL and finding.rule.id in wanted and finding.rule.kind == KIND_CONTAINER:
            if only is None or (finding.rule.id, finding.target) in only:
                failing.setdefault(finding.target, []).append(finding.rule.id)
    return failing


def _needs_usage(container, failing, policy):
    """Only the limits that could starve a running service need its usage (one stats call)."""
    return container.running and needs_usage(failing, policy)


def usage_of(client, containers):
    """{container id: (memory, pids)} for the containers, asked in parallel: dockerd answers a stats
    request on its next sampling tick (up to 1 s), so one after the other would cost a second each."""
    if not containers:
        return {}
    with ThreadPoolExecutor(max_workers=min(STATS_WORKERS, len(containers))) as pool:
        return dict(zip([container.id for container in containers],
                        pool.map(lambda container: current_usage(client, container), containers)))


def _exemptions_of(policy, container):
    """exemption_for(rule_id) of one container, for plan_container."""
    def exemption_for(rule_id):
        return policy.exemption_for(rule_id, container.name, container.labels)
    return exemption_for


def make_plans(client, state, failing, policy, docker_host, neighbours=None, journal_problem=lambda: None):
    """A plan per failing container. A recreate candidate is looked at first (safety.py: its writable layer,
    its dependants, where it answers) and planned again with what was found; the others cost no call."""
    chosen = [(container, failing[container.name], policy.resolve(container.name, container.labels))
              for container in state.containers if failing.get(container.name)]
    usage = usage_of(client, [container for container, rules, resolved in chosen if _needs_usage(container, rules, resolved)])
    neighbours = neighbours or safety.Neighbours(client, [], state.containers)
    plans = []
    for container, rules, resolved in chosen:
        memory, pids = usage.get(container.id, (None, None))
        context = Context(memory, pids, docker_host, cis_version=state.options.cis_version)
        exemption_for = _exemptions_of(policy, container)
        plan = plan_container(container, rules, resolved, context, exemption_for=exemption_for)
        if plan.needs_recreate:
            facts = safety.facts_for(client, container, neighbours, resolved, docker_host)
            context = context._replace(listening=facts.listening, listening_unknown=facts.listening_unknown)
            plan = plan_container(container, rules, resolved, context, exemption_for=exemption_for,
                                  refusal=safety.refusal_of(container, facts, journal_problem()))
            plan.verify_ports = facts.answering if plan.needs_recreate else []
        plans.append(plan)
    return plans


def carry_out(client, plan, state, grace_period, health_timeout, sleep, journal=None):
    if plan.action == LIVE:
        return execute.update_live(client, plan)
    if plan.action == RECREATE:
        image = state.image_of(plan.container)
        return execute.recreate(client, plan, image.inspect if image else None, grace_period, health_timeout,
                                sleep=sleep, journal=journal, engine_id=(state.info or {}).get("ID", ""))
    return execute.Outcome("unchanged")


LONG_TEXT = 120


def describe(value):
    """A setting's value as the result and the diff show it: unset for None, long strings (an inline seccomp
    profile in SecurityOpt) shortened."""
    if value is None:
        return "unset"
    if isinstance(value, str) and len(value) > LONG_TEXT:
        # Masked before it is cut short: a secret cut in two is no longer recognisable.
        return "%s...<%d chars>" % (mask_text(value)[:40], len(value))
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
    if plan.verify_ports and outcome.status in ("changed", "planned"):
        result["verified_ports"] = [endpoint_text(endpoint) for endpoint in plan.verify_ports]
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


def recover_earlier(client, journal, check_mode):
    """Finish or undo what interrupted runs left (their journal), for this Engine; [] when nothing is left."""
    if not journal.entries():
        return []
    return recover(client, journal, client.call("info").get("ID", ""), check_mode)


def leftovers_of(summaries, recorded):
    """Containers named like a replacement's set-aside or temporary container that no journal entry records:
    never targets, never touched (a name is no proof they are ours), reported."""
    found = []
    for summary in summaries:
        name = ((summary.get("Names") or ["/"])[0]).lstrip("/")
        if SET_ASIDE.search(name) and summary["Id"] not in recorded:
            found.append({"name": name, "id": summary["Id"][:12], "reason": (
                "named like a container a replacement sets aside, but no journal entry of this host records it: "
                "left alone and not remediated; if it is an earlier run's, rename it back or remove it by hand")})
    return sorted(found, key=lambda item: item["name"])


def never_targets(summaries, recorded):
    """Names of the containers a run must not plan for: set aside by name, or recorded by the journal."""
    names = set()
    for summary in summaries:
        for name in summary.get("Names") or []:
            if SET_ASIDE.search(name) or summary["Id"] in recorded:
                names.add(name.lstrip("/"))
    return names


def compose_results(state, plans, outcomes, state_dir, check_mode, write, docker_host, state_dir_problem):
    """One entry per Compose project of the audited containers with fixes on record: its override, where it
    goes, whether it was written. The record is updated with this run's applied fixes (not in check mode)."""
    records, labels = {}, {}
    for container in state.containers:
        if compose.is_compose(container):
            project = container.labels[compose.PROJECT]
            labels.setdefault(project, container.labels)
            records.setdefault(project, compose.load_record(state_dir, project))
    loaded = dict((project, json.dumps(record, sort_keys=True)) for project, record in records.items())
    for plan, outcome in zip(plans, outcomes):
        if outcome.status in ("changed", "planned") and compose.is_compose(plan.container) and plan.changes():
            settings, edits = compose.service_settings(plan.changes())
            compose.add_fixes(records[plan.container.labels[compose.PROJECT]], plan.container.labels[compose.SERVICE],
                              settings, edits)
    results = []
    for project in sorted(records):
        record = records[project]
        if not record["services"]:
            continue
        text = compose.render_override(record)
        path, problem = compose.override_path(labels[project])
        entry = {"project": project, "working_dir": labels[project].get(compose.WORKING_DIR), "path": path,
                 "services": sorted(record["services"]), "override": text, "written": False,
                 "edits": ["%s: %s" % (service, edit) for service in sorted(record["edits"])
                           for edit in record["edits"][service]]}
        if problem:
            entry["detail"] = "not written: %s" % problem
        elif not write:
            entry["detail"] = "not written (compose_override_write is off): keep it as %s to keep the fixes" % path
        elif not is_local(docker_host):
            entry["detail"] = "not written: the project's directory is on the Engine's host (%s), not here" % docker_host
        elif check_mode:
            entry["detail"] = "would be written to %s unless another file is there" % path
        else:
            entry["written"], entry["detail"] = compose.write_override(path, text, record)
        if not check_mode and json.dumps(record, sort_keys=True) != loaded[project]:
            if state_dir_problem():
                entry["detail"] += "; its record could not be kept (%s)" % state_dir_problem()
            else:
                compose.save_record(state_dir, record)
        results.append(entry)
    return results


def _memo(function):
    """function() computed once, on first use."""
    cache = []

    def once():
        if not cache:
            cache.append(function())
        return cache[0]
    return once


def run_remediation(connection=None, containers=None, labels=None, include_stopped=False, rules=None,
                    findings=None, policy=None, overrides=None, exemptions=None, grace_period=10,
                    health_timeout=120, check_mode=False, client=None, sleep=time.sleep, level=2,
                    state_dir=DEFAULT_STATE_DIR, compose_override_write=False, journal=None,
                    cis_version=DEFAULT_CIS_VERSION):
    """Remediate and return the module's result (changed, containers, fixed, still_failing, not_fixed, ...).

    level: the CIS profile, 1 or 2 (every rule); rules above it are neither audited, reported nor fixed.
    cis_version: the CIS Docker Benchmark version audited ("1.6" or "1.8"; container rule ids are the same in
    both, what 5.6 judges is not: v1.8 adds /lib64).
    state_dir: the root-only directory of the replacement journal and the Compose records.
    No key is named `skipped`: Ansible would show the whole task as skipped."""
    started = time.monotonic()
    wanted = wanted_rules(rules, level)
    try:
        check_cis_version(cis_version)
    except ValueError as error:
        raise RemediationError(str(error))
    only = failing_pairs(findings) if findings is not None else None
    try:
        resolved_policy = Policy(policy, overrides, exemptions, known_rules=container_rule_ids())
    except PolicyError as error:
        raise RemediationError(str(error))
    connection = connection or connection_from({})
    client = client or connect(connection)
    journal = journal or Journal(state_dir)
    if not check_mode and journal.exists() and not private_dir_problem(journal.directory) and not journal.lock():
        # Its journal entries are in progress, not interrupted: recovering them would undo a live replacement.
        raise RemediationError("another container_remediate run is replacing containers on this host (it holds %s): "
                               "run again when it has finished" % os.path.join(journal.directory, LOCK_FILE))
    # In check mode nothing is created: a missing directory is a problem only when it cannot be made.
    state_dir_problem = _memo(lambda: private_dir_problem(journal.directory) if check_mode else journal.problem())
    recovered = guarded(client, recover_earlier, client, journal, check_mode)
    options = AuditOptions(docker_host=connection.docker_host, cis_version=cis_version)
    request = gathering.GatherRequest(SCOPES, include_stopped=include_stopped, name_filter=containers,
                                      label_filter=labels)
    state, before = audit(client, request, options, level)
    everything = guarded(client, lambda: client.call("containers", all=True))
    recorded = recorded_ids(journal)
    excluded = never_targets(everything, recorded)
    failing = dict((name, rule_ids) for name, rule_ids in failing_by_container(before, wanted, only).items()
                   if name not in excluded)
    neighbours = safety.Neighbours(client, everything, state.containers)
    plans = guarded(client, make_plans, client, state, failing, resolved_policy, connection.docker_host, neighbours,
                    state_dir_problem)
    outcomes = []
    for plan in plans:
        if check_mode or plan.action == "none":
            outcomes.append(execute.Outcome("planned" if plan.action != "none" else "unchanged"))
        else:
            outcomes.append(guarded(client, carry_out, client, plan, state, grace_period, health_timeout, sleep, journal))
    touched = [plan.name for plan, outcome in zip(plans, outcomes) if outcome.status in ("changed", "rolled_back", "failed")]
    after = before
    if touched:
        again = gathering.GatherRequest(SCOPES, include_stopped=True, name_filter=touched)
        after = audit(client, again, options, level)[1]
        after += [finding for finding in before if finding.target not in touched]
    fixed, still_failing, not_fixed = report(plans, outcomes, failing, after, check_mode)
    results = [plan_result(plan, outcome) for plan, outcome in zip(plans, outcomes)]
    projects = compose_results(state, plans, outcomes, journal.directory, check_mode, compose_override_write,
                               connection.docker_host, state_dir_problem)
    return {
        "changed": any(outcome.status in ("changed", "planned") for outcome in outcomes)
        or any(entry["status"] in ("changed", "planned") for entry in recovered)
        or any(project["written"] for project in projects),
        "containers": results,
        "fixed": fixed,
        "still_failing": still_failing,
        "not_fixed": not_fixed,
        "recovered": recovered,
        "leftovers": leftovers_of(everything, recorded),
        "compose": projects,
        "summary": {
            "level": level,
            "cis_version": cis_version,
            "audited": len(state.containers),
            "live": sum(1 for r in results if r["action"] == LIVE and r["status"] in ("changed", "planned")),
            "recreated": sum(1 for r in results if r["action"] == RECREATE and r["status"] in ("changed", "planned")),
            "rolled_back": sum(1 for r in results if r["status"] == "rolled_back"),
            "failed": sum(1 for r in results if r["status"] == "failed"),
            "fixed": len(fixed),
            "still_failing": len(still_failing),
            "not_fixed": len(not_fixed),
            "recovered": sum(1 for entry in recovered if entry["status"] in ("changed", "planned")),
        },
        "diff": [diff_of(plan) for plan, outcome in zip(plans, outcomes)
                 if plan.changes() and outcome.status in ("changed", "planned")],
        "api_calls": client.total,
        "api_calls_by_endpoint": dict(client.calls),
        "duration_s": round(time.monotonic() - started, 3),
    }
