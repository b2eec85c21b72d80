# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""One audit run: gather once, evaluate every rule in memory, apply waivers, summarize.

The container_audit module is a thin wrapper around run_audit(); the
benchmark and the tests call it directly.
"""

from __future__ import annotations

import time

from ansible_collections.bulwark.hardening.plugins.module_utils.audit import gather as gathering
from ansible_collections.bulwark.hardening.plugins.module_utils.rules import catalog
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.state import AuditOptions
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.findings import evaluate, rules_of, summarize
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.rule import DEFAULT_CIS_VERSION, SECTIONS, check_cis_version
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.status import PROBLEM_STATUSES
from ansible.module_utils.basic import missing_required_lib
from ansible_collections.bulwark.hardening.plugins.module_utils.engine.connection import (
    DOCKER_IMPORT_ERROR, OPTION_NAMES, EngineError, audit_sdk_problem, connect, connection_from,
)
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.waivers import apply_waivers, parse_waivers

ALL_SCOPES = list(SECTIONS)

# What the findings list holds: `problems` (fail, warn, waived) or `all`. Every
# finding is counted in the summary either way; with hundreds of containers the
# passing ones are most of the output (about 10,000 entries for 500 containers).
REPORT_CHOICES = ("problems", "all")


class AuditError(Exception):
    """Bad audit input (unknown scope, malformed or unknown-rule waiver, bad label filter, a level not 1 or 2,
    an unknown CIS version)."""


def _check_scopes(scopes):
    unknown = [scope for scope in scopes if scope not in SECTIONS]
    if unknown:
        raise AuditError("unknown scope %s; valid: %s" % (", ".join(unknown), ", ".join(SECTIONS)))


def _check_labels(label_filter):
    for entry in label_filter:
        if not entry or entry.startswith("="):
            raise AuditError("label_filter entry %r must be `key` or `key=value`" % (entry,))


def check_level(level):
    """AuditError unless level is a CIS profile level, 1 or 2 (both audits take it)."""
    try:
        catalog.check_level(level)
    except ValueError as error:
        raise AuditError(str(error))


def check_version(cis_version):
    """AuditError unless cis_version is a CIS Docker Benchmark version the audit speaks ("1.6", "1.8")."""
    try:
        check_cis_version(cis_version)
    except ValueError as error:
        raise AuditError(str(error))


def check_report_and_waivers(report, waivers, cis_version=DEFAULT_CIS_VERSION):
    """The parsed waivers; AuditError naming the problem for a bad report choice or waiver (both audits take them).

    Waivers name rules by their ids in CIS version cis_version (under 1.8, "2.10" is user namespaces; under
    1.6, the cgroup parent) and are checked against every rule of that version, whatever the profile level:
    a waiver of a Level 2 rule stays valid in a Level 1 audit, where it waives nothing.
    """
    if report not in REPORT_CHOICES:
        raise AuditError("report must be one of %s, not %r" % (", ".join(REPORT_CHOICES), report))
    check_version(cis_version)
    try:
        return parse_waivers(waivers, catalog.ids_in(cis_version))
    except ValueError as error:
        raise AuditError("%s (ids of CIS Docker Benchmark v%s, the audit's cis_version)" % (error, cis_version))


def run_audit(connection=None, scope=None, include_stopped=False, name_filter=None,
              label_filter=None, waivers=None, trusted_registries=None, trusted_users=None,
              process_checks=False, image_history=False, report="problems", client=None, drift_checks=False, level=2,
              cis_version=DEFAULT_CIS_VERSION):
    """Audit and return {summary, rules, findings, api_calls, api_calls_by_endpoint, containers, images, duration_s}.

    connection: engine.connection.Connection (default: the local socket). level: the CIS profile, 1 or
    2 (every rule); rules above it are neither evaluated nor reported, and summary.level says which.
    cis_version: the CIS Docker Benchmark version ("1.6" or "1.8"): the checks it has, its ids in findings,
    summary and waivers, and summary.cis_version says which.
    Raises AuditError on bad input and engine.connection.EngineError when the Docker API is unusable.
    """
    started = time.monotonic()
    scopes = list(scope or ALL_SCOPES)
    _check_scopes(scopes)
    _check_labels(label_filter or [])
    check_level(level)
    parsed_waivers = check_report_and_waivers(report, waivers, cis_version)
    connection = connection or connection_from({})
    options = AuditOptions(docker_host=connection.docker_host, trusted_registries=trusted_registries,
                           trusted_users=trusted_users, process_checks=process_checks, image_history=image_history,
                           drift_checks=drift_checks, cis_version=cis_version)
    request = gathering.GatherRequest(scopes, include_stopped=include_stopped, name_filter=name_filter,
                                      label_filter=label_filter, process_checks=process_checks,
                                      image_history=image_history, drift_checks=drift_checks)
    client = client or connect(connection)
    state = gathering.gather(client, request, options)
    findings = apply_waivers(evaluate(catalog.rules_for(scopes, level, cis_version), state), parsed_waivers)
    listed = [finding for finding in findings if report == "all" or finding.status in PROBLEM_STATUSES]
    summary = summarize(findings, cis_version)
    summary["listed"] = len(listed)
    summary["level"] = level
    return {
        "summary": summary,
        "rules": rules_of(listed, cis_version),
        "findings": [finding.to_dict(cis_version) for finding in listed],
        "api_calls": client.total,
        "api_calls_by_endpoint": dict(client.calls),
        "containers": len(state.containers),
        "images": len(state.images),
        "duration_s": round(time.monotonic() - started, 3),
    }


def module_audit(module, run, **extra):
    """The result of one audit module's run (run: run_audit, run_image_audit or audit.host_run.run_host_audit), its
    options the module's parameters less the Docker connection's, plus extra; the module fails, naming why, when the
    Engine cannot be reached (the SDK missing where TLS or ssh:// needs it, the API unusable) or the input is bad.
    What container_audit, image_audit and audit share: each builds its MaskedModule and exits with the result."""
    connection = connection_from(module.params)
    sdk_problem = audit_sdk_problem(connection, missing_required_lib("docker"))
    if sdk_problem:
        module.fail_json(msg=sdk_problem, exception=DOCKER_IMPORT_ERROR)
    options = dict((name, value) for name, value in module.params.items() if name not in OPTION_NAMES)
    options.update(extra)
    try:
        return run(connection=connection, **options)
    except (AuditError, EngineError) as error:
        module.fail_json(msg=str(error))
