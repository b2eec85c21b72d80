# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""One fleet report out of the JSON reports of one sliced audit run (AWX job slicing, docs/awx.md).

AWX runs a sliced job template as several jobs at once, each on its own part of
the inventory, and each job writes the report of its hosts. The reports of one
run carry the same run group (`run.group`: audit.yml's bulwark_audit_run_group,
by default the id of the workflow job AWX makes of the slices). set_group()
marks a report as a slice of a group; merge_reports() makes the fleet report of
a group's slices: every host once, the rules of every slice, the summary
counted again over the hosts (what one unsliced run of every host would have
made), and run.slices naming each slice.

The merge refuses rather than guesses: reports of different groups, of another
schema or version than this collection writes, a merged report given as a
slice, the same host twice with different content, two slices whose metadata of
one rule differs (slices run by different collection versions), or slices with
different labels. The fleet report's id comes from the time of the run's first
slice, its label and its group, so merging the same slices again gives the same
document and the same files.

Reports are read the way the trend reads earlier reports: only regular files of
root or this user that others cannot write, without following a symlink, and
every string made printable. Nothing here imports Ansible.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat

from ansible_collections.bulwark.hardening.plugins.module_utils.common.safe_text import clean_data, escape_unprintable, is_printable
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.rule import rule_sort_key
from ansible_collections.bulwark.hardening.plugins.plugin_utils.report import model

# Characters of a group at most: it is part of the fleet report's file name (slugged) and shown in every report.
MAX_GROUP = 100
# Hex digits of the slice's host names' SHA-256 in a slice's run id.
SLICE_DIGEST = 8
FLEET_PREFIX = "fleet-"  # before the group in a fleet report's run id
HOST_STATUSES = ("audited", "missing")


class MergeError(ValueError):
    """The reports cannot be merged; the message says which and why. Nothing was written."""


def _shown(text):
    return escape_unprintable(repr(text) if not isinstance(text, str) else text)


def group_problem(group):
    """Why group cannot name a run group, or None."""
    if not isinstance(group, str) or not group.strip():
        return "the run group must be a non-empty string"
    if len(group) > MAX_GROUP:
        return "the run group is %d characters long; at most %d" % (len(group), MAX_GROUP)
    if not is_printable(group):
        return "the run group %s holds a control character" % escape_unprintable(repr(group))
    return None


def hosts_digest(names):
    """SHA-256 of the sorted host names, SLICE_DIGEST hex digits: what tells the slices of one run apart."""
    text = "\n".join(sorted(names))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:SLICE_DIGEST]


def set_group(report, group):
    """report (model.build_report()) as a slice of the run group: run.group set, and the digest of its host names
    added to run.id, so the slices of one run - started together, with one label, often writing into one shared
    directory in the same second - never share a file name. MergeError for a group that cannot name one."""
    problem = group_problem(group)
    if problem:
        raise MergeError(problem)
    run = report["run"]
    run["group"] = group
    run["id"] = "%s-%s" % (run["id"], hosts_digest(host["name"] for host in report["hosts"]))
    return report


def fleet_run_id(group, label, started):
    """The fleet report's run id: <UTC time of the first slice>-<label>-fleet-<group> (model.run_id(), the group
    slugged uniquely), e.g. 20261126T053656Z-weekly-fleet-4711. Nothing in it depends on when the merge runs, so
    merging again writes the same files; a slice that comes late does not change it."""
    return "%s-%s%s" % (model.run_id(started, label), FLEET_PREFIX, model.slug(group, unique=True))


def is_fleet(report):
    """Whether report is a merged fleet report (its run lists the slices it was made of)."""
    return isinstance(report, dict) and isinstance(report.get("run"), dict) and "slices" in report["run"]


# --- reading ---------------------------------------------------------------------------------------------

def read_report(path):
    """The JSON document in path, every string made printable; MergeError when it is not a regular file of root or
    this user that only its owner may write (a symlink is not followed), is too large, or is not JSON."""
    shown = escape_unprintable(path)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError as error:
        raise MergeError("cannot open the report %s: %s" % (shown, error.strerror or error))
    with os.fdopen(descriptor, "rb") as handle:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise MergeError("the report %s is not a regular file" % shown)
        if info.st_uid not in (0, os.geteuid()):
            raise MergeError("the report %s is owned by uid %d, not by root or this user" % (shown, info.st_uid))
        if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise MergeError("the report %s is writable by group or others (mode %04o)" % (shown, stat.S_IMODE(info.st_mode)))
        if info.st_size > model.MAX_HISTORY_FILE:
            raise MergeError("the report %s is larger than %d bytes" % (shown, model.MAX_HISTORY_FILE))
        data = handle.read()
    try:
        return clean_data(json.loads(data.decode("utf-8")))
    except (ValueError, RecursionError) as error:
        raise MergeError("the report %s is not JSON: %s" % (shown, escape_unprintable(str(error)[:200])))


def _group_of(report):
    run = report.get("run") if isinstance(report, dict) else None
    return run.get("group") if isinstance(run, dict) else None


def reports_in(directory, group, warnings=None):
    """[(path, report)] of the slices of group among the bulwark-report-*.json files of directory, sorted by path.
    Reports of other groups or of none, and merged fleet reports, are not slices and are passed over; a file that
    cannot be read is passed over with a warning appended to warnings. MergeError when the directory cannot be
    listed."""
    warnings = warnings if warnings is not None else []
    try:
        names = sorted(os.listdir(directory))
    except OSError as error:
        raise MergeError("cannot list %s: %s" % (escape_unprintable(directory), error.strerror or error))
    found = []
    for name in names:
        if not (name.startswith(model.FILE_PREFIX) and name.endswith(".json")):
            continue
        path = os.path.join(directory, name)
        try:
            report = read_report(path)
        except MergeError as error:
            warnings.append("%s; left out of the merge" % error)
            continue
        if _group_of(report) == group and not is_fleet(report):
            found.append((path, report))
    return found


# --- checking one slice -----------------------------------------------------------------------------------

def _count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _score(value):
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 100)


def _host_problem(host):
    """What the merge cannot use in a host entry, or None."""
    if not isinstance(host, dict) or not isinstance(host.get("name"), str):
        return "a host entry has no name"
    name = host["name"]
    if host.get("status") not in HOST_STATUSES:
        return "host %s has status %s, not audited or missing" % (name, _shown(host.get("status")))
    by_status = host.get("by_status")
    if not isinstance(by_status, dict) or not all(_count(by_status.get(status)) for status in model.STATUSES):
        return "host %s has no count of every status (by_status)" % name
    failing = host.get("fail_by_severity")
    if not isinstance(failing, dict) or not all(isinstance(key, str) and _count(count) for key, count in failing.items()):
        return "host %s has no count of failures per severity (fail_by_severity)" % name
    if not _score(host.get("score")):
        return "host %s has a score that is not a number from 0 to 100" % name
    if not isinstance(host.get("findings"), list):
        return "host %s has no findings list" % name
    return None


def _slice_problem(report):
    """Why report cannot be a slice of a merge (another schema or version, a fleet report, no group, a shape the
    merge cannot read), or None."""
    if not isinstance(report, dict) or report.get("schema") != model.SCHEMA:
        return "it is not a %s document" % model.SCHEMA
    version = report.get("version")
    if version != model.VERSION or isinstance(version, bool):
        shown = version if isinstance(version, int) and not isinstance(version, bool) else escape_unprintable(repr(version))
        return ("it is a version %s report, and this collection merges version %d reports: every slice of a run must "
                "be written by this collection's version" % (shown, model.VERSION))
    run = report.get("run")
    if not isinstance(run, dict) or not all(isinstance(run.get(field), str) for field in ("id", "label", "generated_at")):
        return "its run has no id, label or time"
    if not model.GENERATED_AT.match(run["generated_at"]):
        return "its run.generated_at is not a UTC time"
    if is_fleet(report):
        return "it is a merged fleet report (run.slices); merge the slices' own reports"
    if not isinstance(run.get("group"), str):
        return "it has no run group (run.group): audit.yml writes one when bulwark_audit_run_group is set, or under an AWX workflow"
    if not isinstance(report.get("hosts"), list):
        return "it has no hosts list"
    rules = report.get("rules", {})
    if not isinstance(rules, dict) or not all(isinstance(by_id, dict) and all(isinstance(meta, dict) for meta in by_id.values())
                                              for by_id in rules.values()):
        return "its rules are not a map of CIS versions to rule metadata"
    for host in report["hosts"]:
        problem = _host_problem(host)
        if problem:
            return problem
    return None


# --- merging ----------------------------------------------------------------------------------------------

def _one_report_per_run(named_reports):
    """{run id: (name, report)}: a report given twice (the same run id, the same content) counts once; MergeError
    for two different reports of one run id."""
    runs = {}
    for name, report in named_reports:
        run_id = report["run"]["id"]
        if run_id in runs:
            if runs[run_id][1] != report:
                raise MergeError("%s and %s are both run %s but differ" % (runs[run_id][0], name, run_id))
            continue
        runs[run_id] = (name, report)
    return runs


def _the_group(runs, group):
    """The run group every report carries (and the one asked for, when given); MergeError otherwise."""
    groups = {}
    for name, report in runs.values():
        groups.setdefault(report["run"]["group"], name)
    if group is not None:
        strangers = sorted((name, found) for found, name in groups.items() if found != group)
        if strangers:
            raise MergeError("%s belongs to run group %s, not %s: only the slices of one run are merged"
                             % (strangers[0][0], _shown(strangers[0][1]), _shown(group)))
        return group
    if len(groups) > 1:
        raise MergeError("the reports belong to different run groups (%s): only the slices of one run are merged"
                         % ", ".join("%s in %s" % (_shown(found), name) for found, name in sorted(groups.items())))
    return next(iter(groups))


def _the_label(runs):
    labels = {}
    for name, report in runs.values():
        labels.setdefault(report["run"]["label"], name)
    if len(labels) > 1:
        raise MergeError("the slices carry different labels (%s): the slices of one run share theirs"
                         % ", ".join("%s in %s" % (_shown(label), name) for label, name in sorted(labels.items())))
    return next(iter(labels))


def _every_host_once(runs):
    """Every host of the slices, sorted by name; MergeError for a host two slices report differently."""
    hosts, where = {}, {}
    for run_id in sorted(runs):
        name, report = runs[run_id]
        for host in report["hosts"]:
            seen = hosts.get(host["name"])
            if seen is None:
                hosts[host["name"]], where[host["name"]] = host, name
            elif seen != host:
                raise MergeError("host %s is in %s and in %s with different content: the slices of one run audit "
                                 "different hosts (was one slice run again?)" % (host["name"], where[host["name"]], name))
    return [hosts[name] for name in sorted(hosts)]


def _sort_key(rule_id):
    try:
        return (0, rule_sort_key(rule_id), rule_id)
    except (ValueError, AttributeError):
        return (1, (), rule_id)


def _every_rule_once(runs):
    """{CIS version: {rule id: metadata}} of every slice, ids in the catalog's order; MergeError when two slices
    describe one rule of one version differently."""
    merged, where = {}, {}
    for run_id in sorted(runs):
        name, report = runs[run_id]
        for version, by_id in (report.get("rules") or {}).items():
            known = merged.setdefault(version, {})
            for rule_id, meta in by_id.items():
                if rule_id not in known:
                    known[rule_id], where[(version, rule_id)] = meta, name
                elif known[rule_id] != meta:
                    raise MergeError("rule %s of CIS v%s is described differently in %s and in %s (slices run by "
                                     "different collection versions?)" % (rule_id, version, where[(version, rule_id)], name))
    return dict((version, dict((rule_id, merged[version][rule_id]) for rule_id in sorted(merged[version], key=_sort_key)))
                for version in sorted(merged) if merged[version])


def fleet_summary(hosts):
    """The run summary over hosts (sorted by name), counted as model.build_report() counts one run's."""
    by_status = dict((status, 0) for status in model.STATUSES)
    fail_by_severity = {}
    for host in hosts:
        for status in model.STATUSES:
            by_status[status] += host["by_status"][status]
        for severity, count in host["fail_by_severity"].items():
            fail_by_severity[severity] = fail_by_severity.get(severity, 0) + count
    audited = [host for host in hosts if host["status"] == "audited"]
    scores = [host["score"] for host in audited if host["score"] is not None]
    return {"hosts": len(hosts), "audited": len(audited), "missing": [host["name"] for host in hosts if host["status"] == "missing"],
            "score": round(sum(scores) / len(scores), 1) if scores else None,
            "by_status": by_status, "fail_by_severity": fail_by_severity}


def _slice_entry(report):
    return {"id": report["run"]["id"], "hosts": len(report["hosts"])}


def merge_reports(named_reports, group=None):
    """The fleet report of the slices named_reports ([(name, report)], name saying which file it is in messages),
    all of run group group (or of the one group they carry when group is None). Every host once, sorted by name;
    the rules of every slice; the summary counted again over the hosts; run.id from the first slice's time, the
    label and the group (fleet_run_id()), run.generated_at the latest slice's, run.check_mode whether any slice ran
    in check mode, run.collection_version the slices' when they agree (else null), run.group, and run.slices: each
    slice's run id and number of hosts, sorted by id. The same slices in any order give the same report.
    MergeError naming the report and the reason when they cannot be merged."""
    if group is not None and group_problem(group):
        raise MergeError(group_problem(group))
    named_reports = list(named_reports)
    if not named_reports:
        raise MergeError("no report to merge%s" % (" of run group %s" % _shown(group) if group is not None else ""))
    for name, report in named_reports:
        problem = _slice_problem(report)
        if problem:
            raise MergeError("cannot merge %s: %s" % (name, problem))
    runs = _one_report_per_run(named_reports)
    group = _the_group(runs, group)
    label = _the_label(runs)
    hosts = _every_host_once(runs)
    rules = _every_rule_once(runs)
    slices = [_slice_entry(runs[run_id][1]) for run_id in sorted(runs)]
    times = sorted(report["run"]["generated_at"] for _name, report in runs.values())
    versions = set(report["run"].get("collection_version") for _name, report in runs.values())
    run = {"id": fleet_run_id(group, label, times[0]), "label": label, "generated_at": times[-1],
           "check_mode": any(bool(report["run"].get("check_mode")) for _name, report in runs.values()),
           "collection_version": versions.pop() if len(versions) == 1 else None,
           "group": group, "slices": slices}
    return {"schema": model.SCHEMA, "version": model.VERSION, "run": run, "summary": fleet_summary(hosts), "hosts": hosts, "rules": rules}
