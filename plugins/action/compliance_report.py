# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""bulwark.hardening.compliance_report: the reports of one audit run, written on the controller.

Runs on the controller only (never connects to a host): reads each play
host's registered audit results from hostvars (or takes them as O(results)),
builds the report (plugins/plugin_utils/report) and, with O(dest), writes the
run's JSON, JUnit XML and HTML files and one text summary per host. The
documentation lives in plugins/modules/compliance_report.py.

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
from ansible_collections.bulwark.hardening.plugins.plugin_utils.arguments import checked_arguments, plain
from ansible_collections.bulwark.hardening.plugins.plugin_utils.report import files, model, text

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


def host_summary_lines(label, host, results):
    """The lines audit.yml shows for one host (and the .txt file holds): report.text.host_lines() of the host's
    entry, the figures every other output shows, as printable text (a host name or evidence cannot move the cursor
    of whoever reads the file in a terminal). Without a usable container_audit result there are no lines; results
    whose shape the lines cannot read give one line saying so."""
    main = results.get("container_audit")
    if not isinstance(main, dict) or not isinstance(main.get("summary"), dict) or main.get("failed") or main.get("skipped"):
        return []
    heading = "%s of %s" % (label, host)
    try:
        lines = text.host_lines(model.host_entry(host, results), heading)
    except (KeyError, TypeError, ValueError, AttributeError):
        lines = ["== %s: the result could not be read" % heading]
    return [escape_unprintable(line) for line in lines]


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
            results[host] = {"container_audit": plain(variables.get(args["audit_var"])),
                             "image_audit": plain(variables.get(args["image_audit_var"]))}
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
        if args["results"] is not None:
            results = dict((str(host), plain(value) if isinstance(value, Mapping) else {}) for host, value in args["results"].items())
        else:
            results = self._results_from_hostvars(args, task_vars)
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        report = model.build_report(results, label=args["label"], generated_at=now, check_mode=bool(task_vars.get("ansible_check_mode")),
                                    collection_version=collection_version())
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
            for host in sorted(results):
                lines = host_summary_lines(args["label"], host, results[host])
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
