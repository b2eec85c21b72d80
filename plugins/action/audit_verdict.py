# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""bulwark.hardening.audit_verdict: one host's compliance, shown once as lines, and its verdict.

Runs on the controller only, once per host: reads the host's registered audit result, whose image_audit key holds
the image audit's (or the results of container_audit and image_audit, registered by two tasks; or takes them as
O(results)), builds the host's entry as the compliance report does (report.model.host_entry: each finding counted
once over both audits) and returns its lines (report.text.host_lines) in RV(summary_lines), which the default
callback prints one per line. The host fails when it has a failing finding at or above O(fail_severity), or when
its image audit failed where the container audit did not (the audit module keeps the container audit's result
then); the failure's message is then one line saying why, so the summary is printed once (Ansible prints a
failure's message twice: as the error and in the result). The documentation lives in
plugins/modules/audit_verdict.py.
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase
from ansible_collections.bulwark.hardening.plugins.module_utils.common.masking import masked_action
from ansible_collections.bulwark.hardening.plugins.module_utils.common.safe_text import escape_unprintable
from ansible_collections.bulwark.hardening.plugins.plugin_utils.arguments import checked_arguments, host_results
from ansible_collections.bulwark.hardening.plugins.plugin_utils.report import model, text

ARGUMENT_SPEC = dict(
    label=dict(type="str", default="audit"),
    fail_severity=dict(type="str", default="high", choices=list(model.THRESHOLDS)),
    results=dict(type="dict"),
    audit_var=dict(type="str", default="bulwark_audit"),
    image_audit_var=dict(type="str", default="bulwark_image_audit"),
)


def _image_audit_failure(results):
    """The message of a failed image audit in results (the audit module's image part, or a failed image_audit task
    under ignore_errors), else None. Whatever fail_severity says: an audit that did not run decides nothing."""
    image = results.get("image_audit")
    if isinstance(image, dict) and image.get("failed"):
        return "%s" % (image.get("msg") or "see the play's output",)
    return None


def verdict(label, host, results, fail_severity="high"):
    """The action's result for one host: summary_lines, blocking and, when something blocks or the image audit failed,
    failed and a one-line msg; {"skipped": True, ...} without a usable container_audit result (it failed, or was not
    run)."""
    entry = model.host_entry(host, results)
    if entry["status"] != "audited":
        return {"skipped": True, "changed": False, "msg": "no container_audit result for %s to judge" % escape_unprintable(host)}
    lines = [escape_unprintable(line) for line in text.host_lines(entry, "%s of %s" % (label, host))]
    blocking = model.blocking(entry, fail_severity)
    result = {"changed": False, "summary_lines": lines, "blocking": blocking}
    reasons = []
    if blocking:
        reasons.append("%d failing finding%s at or above %s: %s" % (
            len(blocking), "" if len(blocking) == 1 else "s", fail_severity, ", ".join(blocking)))
    image_failure = _image_audit_failure(results)
    if image_failure:
        reasons.append("the image audit failed: %s" % image_failure)
    if reasons:
        result.update(failed=True, msg="%s: %s" % (escape_unprintable(host), escape_unprintable("; ".join(reasons))))
    elif fail_severity == "none":
        result["msg"] = "%s: not failed on findings (fail_severity none)" % escape_unprintable(host)
    else:
        result["msg"] = "%s: no failing finding at or above %s" % (escape_unprintable(host), fail_severity)
    return result


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _requires_connection = False

    @masked_action
    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        task_vars = task_vars or {}
        args = checked_arguments("audit_verdict", ARGUMENT_SPEC, self._task.args)
        if args["results"] is not None:
            given = args["results"]
            results = host_results(given.get("container_audit"), given.get("image_audit"))
        else:
            results = host_results(task_vars.get(args["audit_var"]), task_vars.get(args["image_audit_var"]))
        result.update(verdict(args["label"], task_vars.get("inventory_hostname", "localhost"), results, args["fail_severity"]))
        # Shown without -v, as ansible.builtin.debug's result is: the lines are what the task is for.
        result["_ansible_verbose_always"] = True
        return result
