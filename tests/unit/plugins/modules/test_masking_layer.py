# -*- coding: utf-8 -*-
"""Every module exits through the masking layer (common.masking), and only through it.

Read from the source, so that a new module, or a new way out of an old one, cannot bypass it: a module
builds MaskedModule (or a subclass of it), never AnsibleModule; its main() is decorated with masked_main
(an exception it does not handle is masked too); it never prints, exits by itself or warns through
ansible.module_utils.common.warnings behind the module's back. Every action plugin's run() is decorated
with masked_action. A module file that only documents an action plugin (no main()) has nothing to check.
"""

from __future__ import annotations

import ast
import os

import pytest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
MODULES = os.path.join(TOP, "plugins", "modules")
ACTIONS = os.path.join(TOP, "plugins", "action")
LAYER = "ansible_collections.bulwark.hardening.plugins.module_utils.common.masking"
# Ways out that do not go through the module object.
FORBIDDEN_CALLS = frozenset(["print", "exit", "_exit", "exit_json_raw"])
FORBIDDEN_IMPORTS = ("ansible.module_utils.common.warnings",)
# A module that cannot go through the layer yet is listed here with the change it needs (strict xfail:
# the entry must go as soon as the module passes).
PENDING_MODULES = {}
PENDING_ACTIONS = {}


def python_files(directory):
    return sorted(name for name in os.listdir(directory) if name.endswith(".py") and name != "__init__.py")


def parsed(path):
    with open(path, "r", encoding="utf-8") as handle:
        return ast.parse(handle.read(), path)


def _name(node):
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Call):
        return _name(node.func)
    return None


def module_problems(tree):
    """What in a module's source bypasses the masking layer; [] when nothing does."""
    problems = []
    imported = set()
    functions = dict((node.name, node) for node in tree.body if isinstance(node, ast.FunctionDef))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.module == LAYER:
                imported.update(alias.name for alias in node.names)
            if node.module in FORBIDDEN_IMPORTS or any(alias.name == "AnsibleModule" for alias in node.names):
                problems.append("imports %s from %s" % (", ".join(alias.name for alias in node.names), node.module))
        elif isinstance(node, ast.Name) and node.id == "AnsibleModule":
            problems.append("uses AnsibleModule (line %d)" % node.lineno)
        elif isinstance(node, ast.ClassDef):
            bases = [_name(base) for base in node.bases]
            if any(base not in ("MaskedModule", "object") for base in bases) and "Module" in "".join(map(str, bases)):
                problems.append("class %s derives from %s, not MaskedModule" % (node.name, bases))
        elif isinstance(node, ast.Call) and _name(node.func) in FORBIDDEN_CALLS:
            problems.append("calls %s() (line %d)" % (_name(node.func), node.lineno))
    if "main" not in functions:
        return problems + ["no main()"]
    if "masked_main" not in [_name(decorator) for decorator in functions["main"].decorator_list]:
        problems.append("main() is not decorated with masked_main")
    if not {"MaskedModule", "masked_main"} <= imported:
        problems.append("does not import MaskedModule and masked_main from %s" % LAYER)
    built = [node for node in ast.walk(tree) if isinstance(node, ast.Call) and _name(node.func) in
             set(["MaskedModule"]) | set(cls.name for cls in ast.walk(tree) if isinstance(cls, ast.ClassDef))]
    if not built:
        problems.append("never builds a MaskedModule")
    return problems


def action_problems(tree):
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == "run":
            if "masked_action" not in [_name(decorator) for decorator in node.decorator_list]:
                problems.append("run() (line %d) is not decorated with masked_action" % node.lineno)
        elif isinstance(node, ast.Call) and _name(node.func) in FORBIDDEN_CALLS:
            problems.append("calls %s() (line %d)" % (_name(node.func), node.lineno))
    return problems


def documents_an_action_only(tree):
    return not any(isinstance(node, ast.FunctionDef) for node in tree.body)


def pending(name, owed):
    if name in owed:
        return [pytest.param(name, marks=pytest.mark.xfail(strict=True, reason="pending: " + owed[name]))]
    return [name]


MODULE_FILES = [param for name in python_files(MODULES) for param in pending(name, PENDING_MODULES)]
ACTION_FILES = [param for name in python_files(ACTIONS) for param in pending(name, PENDING_ACTIONS)]


def test_there_are_modules_and_actions_to_check():
    assert len(python_files(MODULES)) >= 11 and python_files(ACTIONS)


@pytest.mark.parametrize("name", MODULE_FILES)
def test_every_module_exits_through_the_masking_layer_only(name):
    tree = parsed(os.path.join(MODULES, name))
    if documents_an_action_only(tree):
        assert os.path.exists(os.path.join(ACTIONS, name)), "%s has no code and no action plugin" % name
        return
    assert module_problems(tree) == []


@pytest.mark.parametrize("name", ACTION_FILES)
def test_every_action_plugin_masks_its_result(name):
    assert action_problems(parsed(os.path.join(ACTIONS, name))) == []


BYPASSES = [
    ("plain", "from ansible.module_utils.basic import AnsibleModule\ndef main():\n    AnsibleModule({}).exit_json()\n"),
    ("undecorated", "from %s import MaskedModule, masked_main\ndef main():\n    MaskedModule({}).exit_json()\n" % LAYER),
    ("printing", "from %s import MaskedModule, masked_main\n@masked_main\ndef main():\n    print('x')\n"
                 "    MaskedModule({})\n" % LAYER),
    ("subclass", "from ansible.module_utils import basic\nclass M(basic.AnsibleModule):\n    pass\n"
                 "from %s import MaskedModule, masked_main\n@masked_main\ndef main():\n    M({})\n" % LAYER),
    ("warnings", "from ansible.module_utils.common.warnings import warn\nfrom %s import MaskedModule, masked_main\n"
                 "@masked_main\ndef main():\n    MaskedModule({})\n" % LAYER),
]


@pytest.mark.parametrize("source", [source for _name_, source in BYPASSES], ids=[name for name, _source in BYPASSES])
def test_the_check_catches_each_way_around_the_layer(source):
    assert module_problems(ast.parse(source)) != []


def test_the_check_passes_a_module_that_goes_through_it():
    source = ("from %s import MaskedModule, masked_main\nclass Mine(MaskedModule):\n    pass\n"
              "@masked_main\ndef main():\n    Mine({}).exit_json()\n" % LAYER)
    assert module_problems(ast.parse(source)) == []
