# -*- coding: utf-8 -*-
"""The audit_verdict action as audit.yml runs it: the host's registered results read from its variables, the lines
shown without -v, the failure on one line; bad input refused (test_one_set_of_numbers.py covers the figures)."""

from __future__ import annotations

import json
import os
from unittest import mock

from ansible.playbook.task import Task
from ansible.template import Templar
from ansible_collections.bulwark.hardening.plugins.action.audit_verdict import ActionModule

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures")


def run_action(args, task_vars):
    task = Task.load({"action": {"module": "bulwark.hardening.audit_verdict", "args": args}})
    task.args = args
    action = ActionModule(task, mock.MagicMock(), mock.MagicMock(check_mode=False), loader=None, templar=Templar(loader=None),
                          shared_loader_obj=None)
    return action.run(task_vars=task_vars)


def demo_results():
    with open(os.path.join(FIXTURES, "demo_audit_results.json"), encoding="utf-8") as handle:
        return json.load(handle)


def test_reads_the_registered_results_and_fails_on_one_line():
    results = demo_results()
    result = run_action({"label": "weekly"}, {"inventory_hostname": "bulwark-demo", "bulwark_audit": results["container_audit"],
                                              "bulwark_image_audit": results["image_audit"]})
    assert result["failed"] is True and result["_ansible_verbose_always"] is True
    assert result["msg"] == "bulwark-demo: 1 failing finding at or above high: 4.1 bulwark-workload (high)"
    assert result["summary_lines"][0].startswith("== weekly of bulwark-demo (CIS Docker Benchmark v1.8, Level 2 profile)")


def test_fails_nothing_at_none_and_skips_a_host_without_a_container_audit():
    results = demo_results()
    quiet = run_action({"fail_severity": "none", "results": results}, {"inventory_hostname": "h"})
    assert not quiet.get("failed") and quiet["blocking"] == [] and quiet["summary_lines"]
    skipped = run_action({}, {"inventory_hostname": "h", "bulwark_audit": {"failed": True, "msg": "no socket"}})
    assert skipped["skipped"] is True and not skipped.get("failed")


def test_refuses_a_bad_threshold_and_label():
    assert "fail_severity" in run_action({"fail_severity": "severe"}, {})["msg"]
    assert "label" in run_action({"label": "a/b"}, {})["msg"]


def test_reads_the_image_audit_from_the_audit_modules_one_result():
    results = demo_results()
    two_tasks = run_action({"label": "weekly"}, {"inventory_hostname": "h", "bulwark_audit": results["container_audit"],
                                                 "bulwark_image_audit": results["image_audit"]})
    one = dict(results["container_audit"], image_audit=results["image_audit"])
    one_task = run_action({"label": "weekly"}, {"inventory_hostname": "h", "bulwark_audit": one})
    assert one_task["summary_lines"] == two_tasks["summary_lines"] and one_task["msg"] == two_tasks["msg"]
    assert any(" and image_audit (" in line for line in one_task["summary_lines"])
    given = run_action({"label": "weekly", "results": {"container_audit": one}}, {"inventory_hostname": "h"})
    assert given["summary_lines"] == two_tasks["summary_lines"]


def test_a_failed_image_audit_fails_the_host_whatever_the_threshold():
    results = demo_results()
    one = dict(results["container_audit"], image_audit={"failed": True, "msg": "image audit: the Engine went away"})
    result = run_action({"label": "weekly", "fail_severity": "none"}, {"inventory_hostname": "h", "bulwark_audit": one})
    assert result["failed"] is True and result["blocking"] == []
    assert result["msg"] == "h: the image audit failed: image audit: the Engine went away"
    assert result["summary_lines"] and not any(" and image_audit (" in line for line in result["summary_lines"])
    both = run_action({"label": "weekly"}, {"inventory_hostname": "h", "bulwark_audit": one})
    assert both["msg"] == ("h: 1 failing finding at or above high: 4.1 bulwark-workload (high); "
                           "the image audit failed: image audit: the Engine went away")
