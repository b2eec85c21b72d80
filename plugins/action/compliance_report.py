# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""bulwark.hardening.compliance_report: the reports of one audit run, written on the controller.

Runs on the controller only (never connects to a host): reads each play
host's registered audit results from hostvars (or takes them as O(results)),
builds the report (plugins/plugin_utils/report) and, with O(dest), writes the
run's JSON, JUnit XML and HTML files and one text summary per host. With
O(group) the report is one slice of that run group (AWX job slicing). With
O(merge) it reads the JSON reports of one run group's slices instead and
writes the fleet report made of them (report.merge). The documentation lives
in plugins/modules/compliance_report.py.

Everything the action is given is checked before anything is written - the
label (model.label_problem), the mode (files.parse_mode) and the directory
(files.destination_problem) - so bad input never leaves half a run behind.
File names come from model.slug only; the text is printable (the report
model escapes what is not).
"""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Mapping

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible_collections.bulwark.hardening.plugins.module_utils.common.masking import masked_action
from ansible_collections.bulwark.hardening.plugins.module_utils.common.safe_text import escape_unprintable
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.rule import DEFAULT_CIS_VERSION
from ansible_collections.bulwark.hardening.plugins.plugin_utils.arguments import checked_arguments, host_results
from ansible_collections.bulwark.hardening.plugins.plugin_utils.report import files, merge, model, text

ARGUMENT_SPEC = dict(
    dest=dict(type="path"),
    label=dict(type="str", default="audit"),
    hosts=dict(type="list", elements="str"),
    results=dict(type="dict"),
    audit_var=dict(type="str", default="bulwark_audit"),
    image_audit_var=dict(type="str", default="bulwark_image_audit"),
    history=dict(type="int", default=20),
    host_summaries=dict(type="bool", default=True),
    mode=dict(type="raw"),
    group=dict(type="str"),
    merge=dict(type="list", elements="path"),
)


def collection_version():
    """The version of this collection: MANIFEST.json when installed, galaxy.yml in a checkout."""
    top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        with open(os.path.join(top, "MANIFEST.json")) as handle:
            return json.load(handle)["collection_info"]["version"]
    except (OSError, ValueError, KeyError):
        pass
    try:
        with open(os.path.join(top, "galaxy.yml")) as handle:
            for line in handle:
                if line.startswith("version:"):
                    return line.split(":", 1)[1].strip().strip("\"'")
    except OSError:
        pass
    return None


def _lines(label, entry):
    """report.text.host_lines() of a host entry (with its rules) as printable text; one line saying so when the
    entry's shape cannot be read."""
    heading = "%s of %s" % (label, entry["name"])
    try:
        lines = text.host_lines(entry, heading)
    except (KeyError, TypeError, ValueError, AttributeError):
        lines = ["== %s: the result could not be read" % heading]
    return [escape_unprintable(line) for line in lines]


def host_summary_lines(label, host, results):
    """The lines audit.yml shows for one host (and the .txt file holds): report.text.host_lines() of the host's
    entry, the figures every other output shows, as printable text (a host name or evidence cannot move the cursor
    of whoever reads the file in a terminal). Without a usable container_audit result there are no lines."""
    main = results.get("container_audit")
    if not isinstance(main, dict) or not isinstance(main.get("summary"), dict) or main.get("failed") or main.get("skipped"):
        return []
    try:
        entry = model.host_entry(host, results)
    except (KeyError, TypeError, ValueError, AttributeError):
        return ["== %s of %s: the result could not be read" % (label, escape_unprintable(host))]
    return _lines(label, entry)


def report_host_lines(label, report, host):
    """host_summary_lines() of a host entry of the built report, its rules taken from the report's: the same lines
    without building the host's entry again (at 1000 containers, a second copy of 39,131 findings in memory)."""
    if host["status"] != "audited":
        return []
    return _lines(label, dict(host, rules=(report.get("rules") or {}).get(host.get("cis_version") or DEFAULT_CIS_VERSION, {})))


def existing_files(dest, names):
    """{kind: bytes} of the report files names ({kind: file name}) already in dest, None for one that is missing or
    cannot be read (a symlink is not followed): what a merge compares its files with to say whether it changed any."""
    found = {}
    for kind, name in names.items():
        try:
            descriptor = os.open(os.path.join(dest, name), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
            with os.fdopen(descriptor, "rb") as handle:
                found[kind] = handle.read()
        except OSError:
            found[kind] = None
    return found


def merge_inputs(paths, group, warnings):
    """[(path, report)] of the merge option's entries: a file is one report; a directory gives the reports of
    group in it (merge.reports_in). MergeError for a file that cannot be read, or a directory without a group."""
    named = []
    for path in paths:
        if os.path.isdir(path):
            if group is None:
                raise merge.MergeError("%s is a directory: give group, the run group whose reports to merge from it" % escape_unprintable(path))
            named.extend(merge.reports_in(path, group, warnings))
        else:
            named.append((path, merge.read_report(path)))
    if not named:
        raise merge.MergeError("no report of run group %s in %s" % (escape_unprintable(str(group)), ", ".join(escape_unprintable(path) for path in paths)))
    return named


def given_results(results):
    """The O(results) option as {host: {"container_audit": ..., "image_audit": ...}}: a bulwark.hardening.audit
    result given as container_audit carries its image audit's (arguments.host_results); a host whose value is not
    a mapping has no result."""
    return dict((str(host), host_results(value.get("container_audit"), value.get("image_audit")) if isinstance(value, Mapping) else {})
                for host, value in results.items())


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _requires_connection = False

    def _results_from_hostvars(self, args, task_vars):
        hosts = args["hosts"] if args["hosts"] is not None else task_vars.get("ansible_play_hosts_all") or []
        hostvars = task_vars.get("hostvars") or {}
        results = {}
        for host in hosts:
            try:
                variables = hostvars[host]
            except KeyError:
                variables = {}
            # The audit module's result carries the image audit's; a separate image_audit task's is read otherwise.
            # Not copied here: build_report() makes the one printable copy the report needs.
            results[host] = host_results(variables.get(args["audit_var"]), variables.get(args["image_audit_var"]), copy=False)
        return results

    @masked_action
    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        task_vars = task_vars or {}
        # Every check before anything is written: a bad label or mode never leaves half a run behind.
        args = checked_arguments("compliance_report", ARGUMENT_SPEC, self._task.args)
        try:
            mode = files.parse_mode(args["mode"])
        except files.ReportError as error:
            raise AnsibleActionFail("compliance_report: %s" % error)
        if args["merge"] is not None:
            return self._merge(args, mode, result)
        if args["group"] is not None and merge.group_problem(args["group"]):
            raise AnsibleActionFail("compliance_report: %s" % merge.group_problem(args["group"]))
        if args["results"] is not None:
            results = given_results(args["results"])
        else:
            results = self._results_from_hostvars(args, task_vars)
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        report = model.build_report(results, label=args["label"], generated_at=now, check_mode=bool(task_vars.get("ansible_check_mode")),
                                    collection_version=collection_version())
        if args["group"] is not None:
            report = merge.set_group(report, args["group"])
        result.update(changed=False, run_id=report["run"]["id"], summary=report["summary"], stats=model.stats(report),
                      summary_lines=model.summary_table(report), files={})
        if not args["dest"]:
            return result
        dest = args["dest"]
        problem = files.destination_problem(dest)
        if problem:
            raise AnsibleActionFail("compliance_report: cannot write the reports into %s: %s" % (escape_unprintable(dest), problem))
        names = model.file_names(report)
        texts = {}
        if args["host_summaries"]:
            # The report's host entries are named as the report shows them (printable); files keep the inventory's name.
            entries = dict((entry["name"], entry) for entry in report["hosts"])
            for host in sorted(results):
                entry = entries.get(escape_unprintable(host))
                lines = (report_host_lines(args["label"], report, entry) if entry is not None
                         else host_summary_lines(args["label"], host, results[host]))
                if lines:
                    texts[model.host_file_name(host, args["label"])] = "\n".join(lines) + "\n"
        if self._task.check_mode:
            result.update(changed=True, msg="check mode: would write %s into %s" % (", ".join(sorted(names.values())), dest),
                          files=dict((kind, os.path.join(dest, name)) for kind, name in names.items()))
            return result
        warnings = []
        try:
            written = files.write_reports(dest, report, limit=args["history"], mode=mode,
                                          texts=texts if args["host_summaries"] else None, warnings=warnings)
        except (OSError, files.ReportError) as error:
            raise AnsibleActionFail("compliance_report: cannot write the reports into %s: %s" % (escape_unprintable(dest), error))
        result.update(changed=True, files=written, msg="wrote %s" % written["html"])
        if warnings:
            result["warnings"] = warnings
        return result

    def _merge(self, args, mode, result):
        """The fleet report of one run group's slices (the merge option), written into dest; changed when the files
        there did not already hold it."""
        if not args["dest"]:
            raise AnsibleActionFail("compliance_report: merge needs dest, the directory to write the fleet report into")
        if args["results"] is not None or args["hosts"] is not None:
            raise AnsibleActionFail("compliance_report: merge reads reports; it takes neither results nor hosts")
        warnings = []
        try:
            report = merge.merge_reports(merge_inputs(args["merge"], args["group"], warnings), args["group"])
        except merge.MergeError as error:
            raise AnsibleActionFail("compliance_report: %s" % error)
        dest = args["dest"]
        result.update(changed=False, run_id=report["run"]["id"], summary=report["summary"], stats=model.stats(report),
                      summary_lines=model.summary_table(report), files={},
                      merged={"group": report["run"]["group"], "slices": report["run"]["slices"]})
        problem = files.destination_problem(dest)
        if problem:
            raise AnsibleActionFail("compliance_report: cannot write the reports into %s: %s" % (escape_unprintable(dest), problem))
        names = model.file_names(report)
        before = existing_files(dest, names)
        if self._task.check_mode:
            history = model.load_history(dest, exclude=names["json"])
            rendered = files.render_all(report, history, args["history"])
            changed = any(before[kind] != rendered[kind].encode("utf-8") for kind in names)
            shown = "%s into %s" % (", ".join(sorted(names.values())), escape_unprintable(dest))
            result.update(changed=changed, files=dict((kind, os.path.join(dest, name)) for kind, name in names.items()),
                          msg="check mode: %s %s" % ("would write" if changed else "nothing to write: the files hold this report already,", shown))
        else:
            try:
                written = files.write_reports(dest, report, limit=args["history"], mode=mode, warnings=warnings)
            except (OSError, files.ReportError) as error:
                raise AnsibleActionFail("compliance_report: cannot write the reports into %s: %s" % (escape_unprintable(dest), error))
            changed = existing_files(dest, names) != before
            result.update(changed=changed, files=written,
                          msg="%s %s" % ("wrote" if changed else "unchanged:", written["html"]))
        if warnings:
            result["warnings"] = warnings
        return result
