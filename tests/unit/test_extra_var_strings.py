# -*- coding: utf-8 -*-
"""Every boolean and integer variable works when it comes from -e.

Extra vars are strings ('false', '0', '5') and take precedence over
everything, so no set_fact can normalise them, and argument_specs
validation checks them without converting what the tasks read. Every
place a role or playbook reads such a variable must therefore convert it
itself: `| bool` or `| int` (after an optional `| default(...)`), or test
only whether it is defined. A bare read is wrong twice over: the string
'false' is true in a Jinja `if`/`and`, and ansible-core 2.19 refuses a
`when:` whose result is a string.

The check parses every Jinja template and conditional of the roles' tasks,
vars, defaults and templates and of the playbooks, and looks at the node
each reference of such a variable sits in, so neither spacing nor a filter
elsewhere in the expression satisfies it.
"""

from __future__ import annotations

import glob
import os

import jinja2
import jinja2.nodes
import pytest
import yaml

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Variables of the playbooks themselves (not of a role), with their type.
PLAYBOOK_VARIABLES = {
    "bulwark_cis_level": "int",
    "bulwark_audit_image_audit": "bool",
    "bulwark_audit_layer_scan": "bool",
}

# The filter that makes each type out of its string form.
CONVERTERS = {
    "bool": {"bool", "ansible.builtin.bool"},
    "int": {"int", "ansible.builtin.int"},
}
# Filters that may come between the variable and its conversion: they hand
# a defined value on unchanged.
PASS_THROUGH_FILTERS = {"default", "d", "ansible.builtin.default"}
# Tests that are as right for the string form as for the typed value.
TYPE_BLIND_TESTS = {"defined", "undefined", "ansible.builtin.defined", "ansible.builtin.undefined"}

# Keys whose string values Ansible evaluates as bare Jinja expressions.
CONDITIONAL_KEYS = {"when", "changed_when", "failed_when", "until", "that"}

ENVIRONMENT = jinja2.Environment(extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"])


class _AnsibleYamlLoader(yaml.SafeLoader):
    """Reads Ansible's !unsafe strings as strings: their Jinja runs later (awx_setup.yml hands it to AWX)."""


_AnsibleYamlLoader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def typed_variables():
    """{name: 'bool' | 'int'} for every such option of every role, lists of them included."""
    typed = dict(PLAYBOOK_VARIABLES)
    for path in sorted(glob.glob(os.path.join(TOP, "roles", "*", "meta", "argument_specs.yml"))):
        with open(path, encoding="utf-8") as handle:
            options = yaml.safe_load(handle)["argument_specs"]["main"]["options"]
        for name, spec in options.items():
            kind = spec.get("elements") if spec.get("type") == "list" else spec.get("type")
            if kind in CONVERTERS:
                typed[name] = kind
    return typed


def sources():
    """Every file whose Jinja may read a role or playbook variable."""
    patterns = [
        "roles/*/tasks/*.yml", "roles/*/handlers/*.yml", "roles/*/vars/*.yml",
        "roles/*/defaults/*.yml", "roles/*/templates/**/*", "playbooks/*.yml",
    ]
    found = set()
    for pattern in patterns:
        found.update(path for path in glob.glob(os.path.join(TOP, pattern), recursive=True) if os.path.isfile(path))
    return sorted(os.path.relpath(path, TOP) for path in found)


def jinja_sources(relpath):
    """(where, template text) for each piece of Jinja in a file."""
    with open(os.path.join(TOP, relpath), encoding="utf-8") as handle:
        text = handle.read()
    if "/templates/" in relpath:
        return [(relpath, text)]
    found = []
    _collect(yaml.load(text, Loader=_AnsibleYamlLoader), relpath, conditional=False, found=found)
    return found


def _collect(value, where, conditional, found):
    if isinstance(value, dict):
        for key, item in value.items():
            _collect(item, "%s.%s" % (where, key), conditional=str(key) in CONDITIONAL_KEYS, found=found)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _collect(item, "%s[%d]" % (where, index), conditional, found)
    elif isinstance(value, str):
        templated = "{{" in value or "{%" in value
        if conditional and not templated:
            found.append((where, "{{ %s }}" % value))
        elif templated:
            found.append((where, value))


def _walk(node, parents=()):
    yield node, parents
    for child in node.iter_child_nodes():
        yield from _walk(child, parents + (node,))


def _converted(name_node, parents, kind):
    """Whether the value of this reference reaches a conversion to `kind` (or a type-blind test) unchanged."""
    current = name_node
    for parent in reversed(parents):
        if isinstance(parent, jinja2.nodes.Filter) and parent.node is current:
            if parent.name in CONVERTERS[kind]:
                return True
            if parent.name in PASS_THROUGH_FILTERS:
                current = parent
                continue
            return False
        if isinstance(parent, jinja2.nodes.Test) and parent.node is current:
            return parent.name in TYPE_BLIND_TESTS
        return False
    return False


def unconverted_reads(template, typed):
    """The typed variables this template reads without converting, and indirect reads by name."""
    problems = []
    for node, parents in _walk(ENVIRONMENT.parse(template)):
        if isinstance(node, jinja2.nodes.Name) and node.ctx == "load" and node.name in typed:
            if not _converted(node, parents, typed[node.name]):
                problems.append("%s read without | %s" % (node.name, typed[node.name]))
        # vars['x'], lookup('vars', 'x'), hostvars[h]['x']: the check cannot follow the value.
        elif isinstance(node, jinja2.nodes.Const) and node.value in typed:
            problems.append("%s read by name (a vars lookup this check cannot follow): read it directly" % node.value)
    return problems


def all_unconverted_reads():
    typed = typed_variables()
    problems = []
    for relpath in sources():
        for where, template in jinja_sources(relpath):
            problems.extend("%s: %s" % (where, problem) for problem in unconverted_reads(template, typed))
    return problems


def test_the_roles_declare_typed_variables():
    """The check has something to check: each role's flags and counts are found."""
    typed = typed_variables()
    for role in ("host", "docker_daemon", "containers"):
        assert {name for name in typed if name.startswith(role + "_")}, role
    assert typed["docker_daemon_icc"] == "bool" and typed["docker_daemon_log_max_file"] == "int"


def test_every_typed_variable_is_read_through_its_conversion():
    assert all_unconverted_reads() == []


SAMPLE = {"flag": "bool", "count": "int"}


@pytest.mark.parametrize("template", [
    "{{ flag | bool }}",
    "{{ (flag) | bool }}",
    "{{ flag | default(false) | bool }}",
    "{{ not flag | bool }}",
    "{{ flag is defined and flag | bool }}",
    "{{ count | int + 1 }}",
    "{{ count | ansible.builtin.int >= 2 }}",
    "{% if flag | bool %}x{% endif %}",
])
def test_accepted_reads(template):
    assert unconverted_reads(template, SAMPLE) == []


@pytest.mark.parametrize("template", [
    "{{ flag }}",
    "{{ not flag }}",
    "{{ flag and count | int > 1 }}",
    "{{ 'yes' if flag else 'no' }}",
    "{{ flag | string | bool }}",
    "{{ count | bool }}",
    "{{ flag | int }}",
    "{{ count + 1 }}",
    "{{ count | default(2) }}",
    "{{ [flag] | map('bool') | first }}",
    "{{ other | default(flag) | bool }}",
    "{{ flag ~ ' | bool' }}",
    "{# flag | bool #}{{ flag }}",
    "{% if flag %}x{% endif %}",
    "{% set alias = flag %}{{ alias | bool }}",
    "{{ vars['flag'] | bool }}",
    "{{ lookup('ansible.builtin.vars', 'count') }}",
])
def test_refused_reads(template):
    assert unconverted_reads(template, SAMPLE) != []


def test_bare_conditionals_are_parsed_as_expressions():
    found = []
    _collect([{"name": "t", "when": ["flag", "count | int > 1"], "ansible.builtin.assert": {"that": "flag | bool"}}],
             "tasks", conditional=False, found=found)
    problems = [problem for _where, template in found for problem in unconverted_reads(template, SAMPLE)]
    assert problems == ["flag read without | bool"]
