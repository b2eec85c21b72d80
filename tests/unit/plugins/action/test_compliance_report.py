# -*- coding: utf-8 -*-
"""The compliance_report action's helpers: plain data out of registered results, the per-host text lines."""

from __future__ import annotations

import os
from collections import OrderedDict

import yaml

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.report_fixtures import two_hosts
from ansible_collections.bulwark.hardening.plugins.action import compliance_report
from ansible_collections.bulwark.hardening.plugins.action.compliance_report import ARGUMENT_SPEC, collection_version, host_summary_lines
from ansible_collections.bulwark.hardening.plugins.plugin_utils.arguments import plain
from ansible_collections.bulwark.hardening.plugins.plugin_utils.report import model
from ansible_collections.bulwark.hardening.plugins.module_utils.common.safe_text import escape_unprintable

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))


class Tagged(str):
    pass


def test_plain_turns_mappings_and_str_subclasses_into_json_types():
    value = plain(OrderedDict(a=(1, Tagged("x"), True, None, 2.5)))
    assert value == {"a": [1, "x", True, None, 2.5]} and not isinstance(value["a"][1], Tagged) and not isinstance(value, OrderedDict)


def test_host_summary_lines_match_the_play_debug():
    lines = host_summary_lines("after hardening", "web1", two_hosts()["web1"])
    assert lines[0].startswith("== after hardening of web1: score 40.0%")
    assert lines[1] == "   over container_audit (2 containers) and image_audit (1 image, image score 50.0%)"
    assert host_summary_lines("audit", "gone", {"container_audit": {"failed": True}}) == []


def test_options_and_version():
    assert ARGUMENT_SPEC["history"]["default"] == 20 and ARGUMENT_SPEC["label"]["default"] == "audit"
    with open(os.path.join(TOP, "galaxy.yml")) as handle:
        assert collection_version() == yaml.safe_load(handle)["version"]


def test_host_summary_lines_are_printable_and_survive_results_of_any_shape():
    lines = host_summary_lines("weekly", "web\x1b[2J1\u202e", two_hosts()["web1"])
    assert lines[0].startswith("== weekly of web\\x1b[2J1\\u202e: score 40.0%")
    assert not any("\x1b" in line or "\u202e" in line for line in lines)
    broken = {"container_audit": {"summary": {"by_status": "x", "by_image": [1], "scored": "x"}}, "image_audit": {"summary": None}}
    assert host_summary_lines("weekly", "h", broken)[0] == "== weekly of h: score n/a (cis_score None); no finding"
    assert host_summary_lines("weekly", "h", {"container_audit": "text"}) == []


def test_the_mode_option_is_taken_as_given():
    assert ARGUMENT_SPEC["mode"] == {"type": "raw"}  # 0640 unquoted in YAML is an int; a string is octal text


def test_results_given_as_one_audit_result_per_host_are_split_into_both_audits():
    image = {"summary": {"total": 1}, "findings": []}
    combined = {"summary": {"total": 2}, "findings": [], "image_audit": image}
    given = compliance_report.given_results({"web1": {"container_audit": combined}, "db1": {"container_audit": {"summary": {}}},
                                             "gone": "not a mapping"})
    assert given["web1"] == {"container_audit": {"summary": {"total": 2}, "findings": []}, "image_audit": image}
    assert given["db1"] == {"container_audit": {"summary": {}}, "image_audit": None} and given["gone"] == {}


def test_the_lines_of_a_reports_host_entry_are_those_of_the_hosts_results():
    results = two_hosts(hostile=True)
    results["gone"] = {"container_audit": {"failed": True, "msg": "unreachable"}}
    report = model.build_report(results, "weekly", "2026-11-26T05:36:56Z")
    entries = dict((entry["name"], entry) for entry in report["hosts"])
    for host in sorted(results):
        entry = entries[escape_unprintable(host)]
        assert compliance_report.report_host_lines("weekly", report, entry) == host_summary_lines("weekly", host, results[host])
    assert compliance_report.report_host_lines("weekly", report, entries["gone"]) == []
