# -*- coding: utf-8 -*-
"""The catalog and the roles name each other: a rule fixed by a role names its
variables (fixed_by) or says why the roles leave it open (left_open); every
named variable exists; every role variable that cites a CIS id is named by
that rule."""

from __future__ import annotations

import glob
import os

import pytest
import yaml

from ansible_collections.bulwark.hardening.plugins.module_utils.rules.rule import ROLE_FIX_CLASSES, rule_sort_key
from ansible_collections.bulwark.hardening.plugins.module_utils.rules import catalog

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CIS_PREFIX = "CIS "


def role_options():
    """{variable: description text} over every role's meta/argument_specs.yml."""
    options = {}
    for path in sorted(glob.glob(os.path.join(TOP, "roles", "*", "meta", "argument_specs.yml"))):
        with open(path, encoding="utf-8") as handle:
            specs = yaml.safe_load(handle)
        for name, spec in specs["argument_specs"]["main"]["options"].items():
            description = spec.get("description", "")
            options[name] = " ".join(description) if isinstance(description, list) else description
    return options


def cited_ids(description, known_ids):
    """CIS ids a description cites in its 'CIS 2.2, 3.1-3.24:' prefix; ranges follow catalog order."""
    text = " ".join(description.split())
    if not text.startswith(CIS_PREFIX) or ":" not in text:
        return []
    ordered = sorted(known_ids, key=rule_sort_key)
    ids = []
    for part in text[len(CIS_PREFIX):text.index(":")].split(","):
        first, _sep, last = part.strip().partition("-")
        if last:
            low, high = rule_sort_key(first), rule_sort_key(last)
            ids.extend(rule_id for rule_id in ordered if low <= rule_sort_key(rule_id) <= high)
        else:
            ids.append(first)
    return ids


RULES = dict((rule.id, rule) for rule in catalog.all_rules())
OPTIONS = role_options()


def test_cited_ids_reads_lists_and_ranges():
    assert cited_ids("CIS 2.14, 5.26: no new privileges", RULES) == ["2.14", "5.26"]
    assert cited_ids("CIS 3.1-3.4: units", RULES) == ["3.1", "3.2", "3.3", "3.4"]
    assert cited_ids("Any: further keys", RULES) == []


@pytest.mark.parametrize("rule_id", [rule.id for rule in RULES.values() if rule.fix in ROLE_FIX_CLASSES])
def test_a_rule_a_role_fixes_names_its_variables_or_why_it_is_left_open(rule_id):
    rule = RULES[rule_id]
    assert rule.fixed_by or rule.left_open, "rule %s (fix %s) names no role variable and no reason" % (rule_id, rule.fix)


def test_every_variable_a_rule_names_exists_in_a_role():
    missing = sorted("%s -> %s" % (rule.id, name) for rule in RULES.values() for name in rule.fixed_by
                     if name not in OPTIONS)
    assert missing == []


def test_every_role_variable_citing_a_cis_id_is_named_by_that_rule():
    unnamed, unknown = [], []
    for name, description in OPTIONS.items():
        for rule_id in cited_ids(description, RULES):
            if rule_id not in RULES:
                unknown.append("%s cites %s" % (name, rule_id))
            elif name not in RULES[rule_id].fixed_by:
                unnamed.append("%s cites %s, whose fixed_by does not name it" % (name, rule_id))
    assert unknown == []
    assert unnamed == []


def test_left_open_rules_include_the_documented_ones():
    # Open on purpose with the roles' defaults: no authorization plugin, no remote log target,
    # and the data root is never moved to its own partition.
    assert all(RULES[rule_id].left_open for rule_id in ("2.12", "2.13", "1.1.1"))


# --- the CIS profile: what the roles skip under Level 1 -------------------------------------------

# The areas the roles skip under the Level 1 profile (<role>_cis_level: 1), by the variable that
# switches each one, with the Level 1 rules they also serve and why skipping them is still right.
LEVEL_2_AREAS = {
    "host_auditd_enabled": {},
    "docker_daemon_userns_enabled": {},
    "docker_daemon_seccomp_enabled": {"5.22": "passes with Docker's built-in profile; the area installs a tighter one (2.17)"},
    "docker_daemon_content_trust_enabled": {},
}
LEVEL_VARIABLES = ("host_cis_level", "docker_daemon_cis_level", "containers_cis_level")


def area_switches():
    """Every `<role>_<area>_enabled` variable some rule names in fixed_by."""
    return sorted(set(name for rule in RULES.values() for name in rule.fixed_by if name.endswith("_enabled")))


def _strings(data):
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for value in data.values():
            yield from _strings(value)
    elif isinstance(data, list):
        for value in data:
            yield from _strings(value)


def level_gated_switches(role):
    """The area switches some condition or argument of the role's tasks ties to its _cis_level (an area's
    import in tasks/main.yml or tasks/plan.yml, or the preflight's decision for it)."""
    gated = set()
    tasks_dir = os.path.join(TOP, "roles", role, "tasks")
    for name in sorted(os.listdir(tasks_dir)):
        with open(os.path.join(tasks_dir, name), encoding="utf-8") as handle:
            for text in _strings(yaml.safe_load(handle)):
                if "%s_cis_level" % role in text:
                    gated.update(word for word in text.replace("{{", " ").split() if word.endswith("_enabled"))
    return sorted(gated)


def test_the_areas_skipped_under_level_1_are_those_whose_rules_are_all_level_2():
    all_level_2 = [name for name in area_switches()
                   if all(rule.level == 2 for rule in RULES.values() if name in rule.fixed_by)]
    assert sorted(all_level_2) == sorted(name for name, level_1 in LEVEL_2_AREAS.items() if not level_1)
    for name, level_1 in LEVEL_2_AREAS.items():
        assert sorted(rule.id for rule in RULES.values() if name in rule.fixed_by and rule.level == 1) == sorted(level_1), name


def test_the_roles_gate_exactly_those_areas_on_their_level():
    gated = level_gated_switches("host") + level_gated_switches("docker_daemon") + level_gated_switches("containers")
    assert sorted(gated) == sorted(LEVEL_2_AREAS)


def test_the_level_variables_take_1_or_2_default_2_and_cite_no_rule():
    for name in LEVEL_VARIABLES:
        assert name in OPTIONS, name
        assert cited_ids(OPTIONS[name], RULES) == [], name
    for role, name in zip(("host", "docker_daemon", "containers"), LEVEL_VARIABLES):
        with open(os.path.join(TOP, "roles", role, "meta", "argument_specs.yml"), encoding="utf-8") as handle:
            spec = yaml.safe_load(handle)["argument_specs"]["main"]["options"][name]
        assert (spec["type"], spec["choices"], spec["default"]) == ("int", [1, 2], 2), name
