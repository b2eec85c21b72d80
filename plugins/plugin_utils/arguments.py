# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""What the report actions (compliance_report, audit_verdict) do alike with what a task gives them.

Controller side: an action plugin imports this, never another action or a filter plugin, so each plugin loads on
its own. The task's arguments are validated against the action's spec, with a label that can name a run, and
registered results become plain JSON data before the report model reads them, each host's two audits apart
(host_results: the audit module registers both in one result).
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible_collections.bulwark.hardening.plugins.plugin_utils.report import model


def plain(value):
    """Registered results as plain JSON data (no lazy or tagged containers)."""
    if isinstance(value, Mapping):
        return dict((str(key), plain(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


def checked_arguments(plugin, spec, task_args):
    """The task's arguments validated against spec, with a label that can name a run (every report action
    takes one); AnsibleActionFail naming the plugin otherwise."""
    validation = ArgumentSpecValidator(spec).validate(task_args)
    if validation.error_messages:
        raise AnsibleActionFail("%s: %s" % (plugin, "; ".join(validation.error_messages)))
    args = validation.validated_parameters
    problem = model.label_problem(args["label"])
    if problem:
        raise AnsibleActionFail("%s: %s" % (plugin, problem))
    return args


def host_results(audit_result, image_audit_result=None, copy=True):
    """One host's {"container_audit": ..., "image_audit": ...} (report.model.SOURCES) as plain data, from what it
    registered. The audit module's result carries the image audit's whole result under its image_audit key, which
    is then taken from there (and image_audit_result is not read); container_audit's result has none, and
    image_audit_result is what a separate image_audit task registered (None when it did not run).

    copy=False leaves the results as they are (the container audit's without its image_audit key) for a reader
    that copies them itself: report.model.build_report() makes its own printable copy, and at 1000 containers
    each copy of a result is about 30 MB of the controller's memory."""
    take = plain if copy else (lambda value: value)
    container = take(audit_result) if isinstance(audit_result, Mapping) else None
    if container is not None and isinstance(container.get("image_audit"), Mapping):
        image = container["image_audit"]
        container = dict((key, value) for key, value in container.items() if key != "image_audit")
        return {"container_audit": container, "image_audit": image}
    return {"container_audit": container, "image_audit": take(image_audit_result) if isinstance(image_audit_result, Mapping) else None}
