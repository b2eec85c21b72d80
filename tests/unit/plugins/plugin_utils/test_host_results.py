# -*- coding: utf-8 -*-
"""Each host's two audits as the report actions read them: from the audit module's one result (the image audit's
under its image_audit key), or from container_audit's and image_audit's results registered by two tasks."""

from __future__ import annotations

import copy
import json
import os

from ansible_collections.bulwark.hardening.plugins.action.compliance_report import ActionModule as ComplianceReport
from ansible_collections.bulwark.hardening.plugins.plugin_utils.arguments import host_results
from ansible_collections.bulwark.hardening.plugins.plugin_utils.report import model

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures")


def demo_results():
    with open(os.path.join(FIXTURES, "demo_audit_results.json"), encoding="utf-8") as handle:
        return json.load(handle)


def one_result(results):
    """What the audit module registers for the same audits: the container audit's result with the image audit's in it."""
    return dict(copy.deepcopy(results["container_audit"]), image_audit=copy.deepcopy(results["image_audit"]))


def test_the_audit_modules_result_gives_both_audits():
    results = demo_results()
    assert host_results(one_result(results)) == results
    # Its own image audit wins over a variable a separate image_audit task may have left from another play.
    assert host_results(one_result(results), {"summary": {}, "findings": []}) == results


def test_two_tasks_results_are_read_as_they_were():
    results = demo_results()
    assert host_results(results["container_audit"], results["image_audit"]) == results
    assert host_results(results["container_audit"]) == {"container_audit": results["container_audit"], "image_audit": None}
    # The image audit left out (image_audit: false) or a failed audit: no image result of its own, the variable is read.
    failed = {"failed": True, "msg": "no socket"}
    assert host_results(failed, None) == {"container_audit": failed, "image_audit": None}
    assert host_results(None, None) == {"container_audit": None, "image_audit": None}
    assert host_results("text", ["x"]) == {"container_audit": None, "image_audit": None}


def test_the_report_reads_each_hosts_image_audit_from_the_one_result():
    results = demo_results()
    hostvars = {"one": {"bulwark_audit": one_result(results)},
                "two": {"bulwark_audit": results["container_audit"], "bulwark_image_audit": results["image_audit"]},
                "none": {"bulwark_audit": dict(results["container_audit"])}}
    args = {"hosts": None, "audit_var": "bulwark_audit", "image_audit_var": "bulwark_image_audit"}
    read = ComplianceReport._results_from_hostvars(None, args, {"ansible_play_hosts_all": ["one", "two", "none"], "hostvars": hostvars})
    assert read["one"] == read["two"] == results
    assert read["none"]["image_audit"] is None
    report = model.build_report(read, label="t")
    entries = dict((host["name"], host) for host in report["hosts"])
    assert entries["one"]["by_status"] == entries["two"]["by_status"] != entries["none"]["by_status"]
    assert "image_audit" in entries["one"]["audits"] and "image_audit" not in entries["none"]["audits"]


def test_without_a_copy_the_registered_result_is_left_as_it_was():
    registered = {"summary": {"total": 1}, "findings": [{"rule": "5.11"}], "image_audit": {"summary": {"total": 2}}}
    before = copy.deepcopy(registered)
    split = host_results(registered, copy=False)
    assert split == {"container_audit": {"summary": {"total": 1}, "findings": [{"rule": "5.11"}]}, "image_audit": {"summary": {"total": 2}}}
    assert registered == before and split["container_audit"]["findings"] is registered["findings"]
