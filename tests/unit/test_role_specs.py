# -*- coding: utf-8 -*-
"""Each role's meta/argument_specs.yml is the truth about its variables, and
what the roles repeat from elsewhere stays equal to its source: the defaults
in defaults/main.yml, and the containers role's rule lists, tags and policy
fields, which come from container_remediate."""

from __future__ import annotations

import glob
import os

import pytest
import yaml

from ansible_collections.bulwark.hardening.plugins.module_utils.remediate import remedies
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.policy import POLICY_FIELDS
from ansible_collections.bulwark.hardening.plugins.modules import container_remediate

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROLES = sorted(os.path.basename(path) for path in glob.glob(os.path.join(TOP, "roles", "*")))
CONTAINERS = os.path.join(TOP, "roles", "containers")


def load(*parts):
    with open(os.path.join(*parts), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def options_of(role):
    return load(TOP, "roles", role, "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]


@pytest.mark.parametrize("role", ROLES)
def test_defaults_equal_the_argument_specs(role):
    defaults = load(TOP, "roles", role, "defaults", "main.yml")
    specs = dict((name, spec.get("default")) for name, spec in options_of(role).items())
    assert sorted(defaults) == sorted(specs), "declared in one file only: %s" % sorted(set(defaults) ^ set(specs))
    assert [name for name in specs if defaults[name] != specs[name]] == []


@pytest.mark.parametrize("role", ROLES)
def test_variables_are_prefixed_by_the_role_name(role):
    assert [name for name in options_of(role) if not name.startswith(role + "_")] == []


def test_the_role_takes_its_rule_lists_from_the_remedies():
    # The lists are derived (the remedy_rules filter), never written out: the remedies are their one statement.
    role_vars = load(CONTAINERS, "vars", "main.yml")
    assert role_vars["__containers_live_rules"] == "{{ 'live' | bulwark.hardening.remedy_rules }}"
    assert role_vars["__containers_recreate_rules"] == "{{ 'recreate' | bulwark.hardening.remedy_rules }}"


def rule_tag(rule_id):
    """The tag vars/main.yml reads for a rule: cis_5.11, bw_008."""
    return rule_id.lower().replace("-", "_") if rule_id.startswith("BW-") else "cis_" + rule_id


def test_every_rule_the_role_fixes_has_its_tag():
    # Tags of an import are read when the play is parsed, before any variable: this list stays written out.
    tags = load(CONTAINERS, "tasks", "main.yml")[0]["tags"]
    fixed = remedies.live_rules() + remedies.recreate_rules()
    assert sorted(tags) == sorted([rule_tag(rule) for rule in fixed] + ["containers_live", "containers_recreate"])


def test_the_policy_variables_document_every_policy_field_the_module_takes():
    options = options_of("containers")
    policy = options["containers_policy"]["options"]
    override = options["containers_overrides"]["options"]["policy"]["options"]
    # recreate is containers_recreate_enabled's; overrides switch it per container.
    assert sorted(policy) == sorted(set(POLICY_FIELDS) - {"recreate"})
    assert sorted(override) == sorted(POLICY_FIELDS)
    for name, spec in override.items():
        module = container_remediate.POLICY_OPTIONS[name]
        assert (spec["type"], spec.get("elements")) == (module["type"], module.get("elements")), name


def test_overrides_and_exemptions_take_what_the_module_takes():
    options = options_of("containers")
    for variable, option in (("containers_overrides", "overrides"), ("containers_exemptions", "exemptions")):
        role = options[variable]["options"]
        module = container_remediate.ARGUMENT_SPEC[option]["options"]
        assert sorted(role) == sorted(module), variable
        for name, spec in role.items():
            assert (spec["type"], spec.get("required", False), spec.get("default")) == (
                module[name]["type"], module[name].get("required", False), module[name].get("default")), (variable, name)


def test_the_role_variables_match_the_module_defaults():
    options = options_of("containers")
    spec = container_remediate.ARGUMENT_SPEC
    pairs = {"containers_targets": "containers", "containers_labels": "labels", "containers_include_stopped": "include_stopped",
             "containers_grace_period": "grace_period", "containers_health_timeout": "health_timeout",
             "containers_cis_level": "level", "containers_compose_override_write": "compose_override_write"}
    for variable, option in pairs.items():
        assert (options[variable]["type"], options[variable]["default"]) == (spec[option]["type"], spec[option]["default"]), variable
