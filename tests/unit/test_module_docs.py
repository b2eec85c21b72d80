# -*- coding: utf-8 -*-
"""Each module's documented options, its extends_documentation_fragment merged in as Ansible merges it, are the options
its argument spec takes (names, types, defaults, choices, elements, aliases, suboptions): a shared fragment
(plugins/doc_fragments) can neither leave an option undocumented nor document one a module does not take. And the
docker action group of meta/runtime.yml is the set of modules that take the Docker connection options."""

from __future__ import annotations

import copy
import glob
import importlib
import os

import pytest
import yaml

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTION = "ansible_collections.bulwark.hardening.plugins"
# Modules whose spec is the ARGUMENT_SPEC of their action plugin (the module file only documents it).
ACTION_SPECS = ("audit_verdict", "compliance_report")
MODULES = sorted(os.path.basename(path)[:-3] for path in glob.glob(os.path.join(TOP, "plugins", "modules", "*.py")))


def documentation(module_name):
    """The module's DOCUMENTATION with its bulwark.hardening fragments merged: a fragment's option is the base, the
    module's own keys of that option win (ansible.utils.plugin_docs.add_fragments)."""
    module = importlib.import_module("%s.modules.%s" % (COLLECTION, module_name))
    doc = yaml.safe_load(module.DOCUMENTATION)
    options = doc.setdefault("options", {})
    for name in doc.get("extends_documentation_fragment") or []:
        parts = name.split(".")
        assert parts[:2] == ["bulwark", "hardening"], name
        fragment = importlib.import_module("%s.doc_fragments.%s" % (COLLECTION, parts[2])).ModuleDocFragment
        text = getattr(fragment, parts[3].upper() if len(parts) > 3 else "DOCUMENTATION")
        for option, spec in (yaml.safe_load(text).get("options") or {}).items():
            merged = copy.deepcopy(spec)
            merged.update(options.get(option) or {})
            options[option] = merged
    return doc


def argument_spec(module_name):
    kind = "action" if module_name in ACTION_SPECS else "modules"
    return getattr(importlib.import_module("%s.%s.%s" % (COLLECTION, kind, module_name)), "ARGUMENT_SPEC", None)


def differences(documented, spec, where):
    """'where.option: what differs' for every option documented or taken but not both the same."""
    found = []
    for name in sorted(set(documented) | set(spec)):
        if name not in spec:
            found.append("%s.%s: documented, not taken" % (where, name))
            continue
        if name not in documented:
            found.append("%s.%s: taken, not documented" % (where, name))
            continue
        doc, taken = documented[name], spec[name]
        pairs = [("type", doc.get("type", "str"), taken.get("type", "str")), ("default", doc.get("default"), taken.get("default")),
                 ("choices", doc.get("choices"), list(taken["choices"]) if taken.get("choices") is not None else None),
                 ("elements", doc.get("elements"), taken.get("elements")), ("required", bool(doc.get("required")), bool(taken.get("required"))),
                 ("aliases", sorted(doc.get("aliases") or []), sorted(taken.get("aliases") or []))]
        found.extend("%s.%s: %s documented %r, taken %r" % (where, name, key, mine, theirs) for key, mine, theirs in pairs if mine != theirs)
        if doc.get("suboptions") or taken.get("options"):
            found.extend(differences(doc.get("suboptions") or {}, taken.get("options") or {}, "%s.%s" % (where, name)))
    return found


@pytest.mark.parametrize("module_name", [name for name in MODULES if argument_spec(name) is not None])
def test_the_documented_options_are_the_options_taken(module_name):
    assert differences(documentation(module_name)["options"], argument_spec(module_name), module_name) == []


def test_the_audits_and_the_report_actions_document_their_shared_options_once():
    for module_name in ("container_audit", "image_audit"):
        assert "bulwark.hardening.audit_options" in documentation(module_name)["extends_documentation_fragment"]
    for module_name in ACTION_SPECS:
        assert "bulwark.hardening.audit_options.results" in documentation(module_name)["extends_documentation_fragment"]


def test_the_docker_group_is_the_modules_that_take_the_docker_connection():
    with open(os.path.join(TOP, "meta", "runtime.yml"), encoding="utf-8") as handle:
        group = yaml.safe_load(handle)["action_groups"]["docker"]
    connected = [name for name in MODULES if "bulwark.hardening.docker_connection" in (documentation(name).get("extends_documentation_fragment") or [])]
    assert sorted(group) == connected


def test_a_difference_is_named():
    documented = {"level": {"type": "int", "choices": [1, 2], "default": 2}, "extra": {}}
    taken = {"level": {"type": "int", "choices": [1, 2, 3], "default": 2}, "waivers": {"type": "list", "options": {}}}
    assert differences(documented, taken, "m") == ["m.extra: documented, not taken", "m.level: choices documented [1, 2], taken [1, 2, 3]",
                                                   "m.waivers: taken, not documented"]
