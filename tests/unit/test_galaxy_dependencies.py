"""galaxy.yml and the Ansible version metadata say what the shipped content needs.

Shipped content is roles/, playbooks/ and plugins/: the molecule scenarios and
tests/ are development tooling, covered by the ``ansible`` package in
requirements-dev.txt. Every collection that content references must be a
galaxy.yml dependency, and every dependency must be referenced.

requires_ansible (meta/runtime.yml) and each role's min_ansible_version must
name the ansible-core major.minor the tests run (requirements-dev.txt's pin).
"""

import ast
import glob
import os
import re

import pytest
import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# The collection itself and what ansible-core always has.
IMPLICIT = {"ansible.builtin", "ansible.legacy", "bulwark.hardening"}

_PART = r"[a-z][a-z0-9_]*"
# namespace.collection.name (the name may have more dotted parts: a role or module in a sub-folder).
FQCN = re.compile(r"^(%s)\.(%s)\.[A-Za-z0-9_][A-Za-z0-9_.]*$" % (_PART, _PART))
# Filters (`| ns.coll.f`), tests (`is ns.coll.t`) and lookups (`lookup('ns.coll.l')`) in Jinja text.
JINJA_PLUGIN = re.compile(
    r"(?:\|\s*|\bis\s+(?:not\s+)?|\b(?:lookup|query|q)\(\s*['\"])(%s\.%s\.[A-Za-z0-9_]+)" % (_PART, _PART)
)
COLLECTION = re.compile(r"^(%s)\.(%s)$" % (_PART, _PART))
PYTHON_IMPORT = re.compile(r"^ansible_collections\.(%s)\.(%s)(?:\.|$)" % (_PART, _PART))

TASK_LISTS = ("tasks", "pre_tasks", "post_tasks", "handlers", "block", "rescue", "always")
ROLE_ACTIONS = ("include_role", "import_role")
LOADER_METHODS = ("get", "get_with_context", "find_plugin", "find_plugin_with_context", "has_plugin")


class AnsibleYamlLoader(yaml.SafeLoader):
    """Safe YAML plus Ansible's own tags (!unsafe, !vault), read as plain strings."""


for _tag in ("!unsafe", "!vault"):
    AnsibleYamlLoader.add_constructor(_tag, lambda loader, node: loader.construct_scalar(node))


def collection_of(name):
    """'ns.coll.thing' -> 'ns.coll'; None for anything else (short names, paths, templated names)."""
    match = FQCN.match(name.strip()) if isinstance(name, str) else None
    return "%s.%s" % match.groups() if match else None


class Scan:
    """Collection references found in a tree: {collection: ['file: reference', ...]}."""

    def __init__(self, top):
        self.top = top
        self.found = {}

    def add(self, path, name, kind):
        """Record name (ns.coll.thing) if it belongs to another collection."""
        self.add_collection(path, collection_of(name), "%s %s" % (kind, name))

    def add_collection(self, path, collection, what):
        if collection and collection not in IMPLICIT:
            self.found.setdefault(collection, []).append("%s: %s" % (os.path.relpath(path, self.top), what))

    def collections_keyword(self, path, entries):
        """A `collections:` list names collections (ns.coll), not content."""
        for entry in entries if isinstance(entries, list) else [entries]:
            match = COLLECTION.match(entry.strip()) if isinstance(entry, str) else None
            if match:
                self.add_collection(path, entry.strip(), "collections: %s" % entry.strip())

    # YAML -----------------------------------------------------------------

    def strings(self, path, data):
        """Jinja plugin references in every string value."""
        if isinstance(data, str):
            for name in JINJA_PLUGIN.findall(data):
                self.add(path, name, "Jinja plugin")
        elif isinstance(data, dict):
            for value in data.values():
                self.strings(path, value)
        elif isinstance(data, list):
            for value in data:
                self.strings(path, value)

    def role_entry(self, path, entry):
        if isinstance(entry, dict):
            entry = entry.get("role", entry.get("name"))
        self.add(path, entry, "role")

    def names(self, path, entries, kind):
        for entry in entries if isinstance(entries, list) else [entries]:
            self.add(path, entry, kind)

    def entry(self, path, entry):
        """A play, an import_playbook entry, a task or a block: its keywords, never module arguments."""
        if not isinstance(entry, dict):
            return
        for key, value in entry.items():
            short = key.rsplit(".", 1)[-1] if collection_of(key) in ("ansible.builtin", "ansible.legacy") else key
            if collection_of(key):
                self.add(path, key, "module/action")
            if short in TASK_LISTS and isinstance(value, list):
                for item in value:
                    self.entry(path, item)
            elif short == "roles" and isinstance(value, list):
                for item in value:
                    self.role_entry(path, item)
            elif short == "collections":
                self.collections_keyword(path, value)
            elif short == "module_defaults" and isinstance(value, dict):
                for name in value:
                    self.add(path, str(name).split("/", 1)[-1], "module_defaults")
            elif short in ("action", "local_action"):
                name = value.get("module") if isinstance(value, dict) else str(value).split()[0] if value else None
                self.add(path, name, "module/action")
            elif short == "import_playbook":
                self.add(path, value, "playbook")
            elif short in ROLE_ACTIONS:
                if isinstance(value, dict):
                    self.add(path, value.get("name"), "role")
                elif isinstance(value, str):
                    for name in re.findall(r"\bname=(\S+)", value) or [value]:
                        self.add(path, name, "role")

    def yaml_file(self, path, kind):
        with open(path) as handle:
            data = yaml.load(handle, Loader=AnsibleYamlLoader)
        self.strings(path, data)
        if kind == "meta" and isinstance(data, dict):
            self.collections_keyword(path, data.get("collections") or [])
            for item in data.get("dependencies") or []:
                self.role_entry(path, item)
        elif kind == "entries" and isinstance(data, list):
            for item in data:
                self.entry(path, item)

    # Python ---------------------------------------------------------------

    def python_file(self, path):
        with open(path) as handle:
            tree = ast.parse(handle.read(), path)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    self.python_import(path, alias.name)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                self.python_import(path, node.module)
                if re.match(r"^ansible_collections\.%s$" % _PART, node.module):
                    for alias in node.names:  # from ansible_collections.ns import coll
                        self.python_import(path, "%s.%s" % (node.module, alias.name))
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("ansible_collections."):
                self.python_import(path, node.value)
            elif isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "DOCUMENTATION" for t in node.targets):
                self.documentation(path, node.value)
            elif isinstance(node, ast.Call):
                self.plugin_call(path, node)

    def python_import(self, path, module):
        match = PYTHON_IMPORT.match(module)
        if match:
            self.add_collection(path, "%s.%s" % match.groups(), "import %s" % module)

    def documentation(self, path, value):
        if not (isinstance(value, ast.Constant) and isinstance(value.value, str)):
            return
        doc = yaml.safe_load(value.value)
        if isinstance(doc, dict):
            self.names(path, doc.get("extends_documentation_fragment") or [], "extends_documentation_fragment")

    def plugin_call(self, path, call):
        """Actions and plugins an action plugin asks for by name."""
        for keyword in call.keywords:
            if keyword.arg == "module_name" and isinstance(keyword.value, ast.Constant):
                self.add(path, keyword.value.value, "module_name")
        func = call.func
        if not (isinstance(func, ast.Attribute) and call.args and isinstance(call.args[0], ast.Constant)):
            return
        receiver = ast.unparse(func.value)
        if func.attr == "_execute_module" or (func.attr in LOADER_METHODS and "loader" in receiver):
            self.add(path, call.args[0].value, "%s()" % func.attr)

    # The tree -------------------------------------------------------------

    def run(self):
        roles = os.path.join(self.top, "roles")
        for path in sorted(glob.glob(os.path.join(roles, "**", "*.y*ml"), recursive=True)):
            parts = os.path.relpath(path, roles).split(os.sep)
            if len(parts) > 2 and parts[1] in ("tasks", "handlers"):
                kind = "entries"
            elif parts[1:] == ["meta", "main.yml"] or parts[1:] == ["meta", "main.yaml"]:
                kind = "meta"
            else:
                kind = "data"
            self.yaml_file(path, kind)
        for path in sorted(glob.glob(os.path.join(roles, "**", "templates", "**", "*"), recursive=True)):
            if os.path.isfile(path):
                with open(path, errors="replace") as handle:
                    for name in JINJA_PLUGIN.findall(handle.read()):
                        self.add(path, name, "Jinja plugin")
        for path in sorted(glob.glob(os.path.join(self.top, "playbooks", "**", "*.y*ml"), recursive=True)):
            self.yaml_file(path, "entries")
        for path in sorted(glob.glob(os.path.join(self.top, "plugins", "**", "*.py"), recursive=True)):
            self.python_file(path)
        return self.found


def _load(*parts):
    with open(os.path.join(TOP, *parts)) as handle:
        return yaml.safe_load(handle)


def test_galaxy_dependencies_are_exactly_the_collections_the_content_uses():
    used = Scan(TOP).run()
    declared = set(_load("galaxy.yml").get("dependencies") or {})
    undeclared = sorted(set(used) - declared)
    unused = sorted(declared - set(used))
    problems = []
    if undeclared:
        problems.append("used but not declared in galaxy.yml dependencies: " + "; ".join(
            "%s (%s)" % (name, ", ".join(used[name][:3]) + (", ..." if len(used[name]) > 3 else "")) for name in undeclared))
    if unused:
        problems.append("declared in galaxy.yml dependencies but not used by roles/, playbooks/ or plugins/: " + ", ".join(unused))
    assert not problems, "\n".join(problems)


SAMPLE_TASKS = """\
- name: A module by FQCN, with arguments that look like names
  community.docker.docker_container:
    name: web
    labels:
      com.example.team.name: web
- name: A block
  block:
    - name: Short names resolve through collections, not counted here
      docker_container:
        name: x
  rescue:
    - name: Free-form action
      action: community.crypto.openssl_privatekey path=/k
  module_defaults:
    group/community.aws.aws: {}
- name: Include a role
  ansible.builtin.include_role:
    name: containers.podman.podman_role
- name: Jinja plugins
  ansible.builtin.debug:
    msg: "{{ x | community.network.f }} {{ lookup('community.hashi_vault.hashi_vault', 'a') }}"
  when: x is netbox.netbox.t
- name: Strings that are not collection references
  ansible.builtin.command: docker network inspect --format '{{ "{{" }} index .Options "com.docker.network.bridge.enable_icc" {{ "}}" }}'
  args:
    chdir: /etc/systemd/system.conf.d
"""

SAMPLE_PLAYBOOK = """\
- name: Import
  ansible.builtin.import_playbook: awx.awx.setup
- name: Play
  hosts: all
  collections:
    - kubernetes.core
  roles:
    - role: cisco.ios.role
    - bulwark.hardening.docker_daemon
  pre_tasks:
    - name: Local action
      local_action:
        module: amazon.aws.s3_object
"""

SAMPLE_ACTION = '''\
DOCUMENTATION = """
module: m
extends_documentation_fragment:
  - community.docker.docker
  - bulwark.hardening.docker_connection
"""
import ansible_collections.ansible.utils.plugins.module_utils.x
from ansible_collections.ansible.netcommon.plugins.module_utils import y
from ansible_collections.bulwark.hardening.plugins.module_utils import z
from ansible_collections.check_point import mgmt
REGISTRY = "index.docker.io"


class ActionModule:
    def run(self):
        self._execute_module(module_name="community.library_inventory_filtering_v1.x")
        self._execute_module("ansible.windows.win_ping")
        self._shared_loader_obj.action_loader.get("community.sops.load_vars")
        return {}.get("fortinet.fortios.not_a_plugin")
'''


def test_scan_finds_every_kind_of_reference(tmp_path):
    for path, text in {
        "roles/r/tasks/main.yml": SAMPLE_TASKS,
        "roles/r/meta/main.yml": "galaxy_info: {}\ncollections: [community.mysql]\ndependencies:\n  - role: theforeman.foreman.r\n",
        "roles/r/defaults/main.yml": "r_source: registry.example.com/a.b.c\n",
        "roles/r/templates/x.conf.j2": "{{ y | ansible.utils.ipaddr }}\n",
        "playbooks/p.yml": SAMPLE_PLAYBOOK,
        "plugins/action/a.py": SAMPLE_ACTION,
    }.items():
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    assert sorted(Scan(str(tmp_path)).run()) == sorted([
        "community.docker", "community.crypto", "community.aws", "containers.podman", "community.network",
        "community.hashi_vault", "netbox.netbox", "community.mysql", "theforeman.foreman", "ansible.utils",
        "awx.awx", "kubernetes.core", "cisco.ios", "amazon.aws", "ansible.netcommon",
        "community.library_inventory_filtering_v1", "ansible.windows", "community.sops", "check_point.mgmt",
    ])


# requires_ansible and min_ansible_version ------------------------------------

def _tested_core():
    """major.minor of requirements-dev.txt's ansible-core pin."""
    with open(os.path.join(TOP, "requirements-dev.txt")) as handle:
        for line in handle:
            match = re.match(r"^\s*ansible-core\s*(?:==|~=|===)\s*([0-9][0-9.]*)", line)
            if match:
                return Version(match.group(1)).release[:2]
    pytest.fail("requirements-dev.txt pins no ansible-core version (ansible-core==X.Y.Z)")


def _dotted(release):
    return ".".join(str(part) for part in release)


def test_requires_ansible_starts_at_the_tested_ansible_core():
    tested = _tested_core()
    requires = _load("meta", "runtime.yml")["requires_ansible"]
    lower = [Version(spec.version).release[:2] for spec in SpecifierSet(requires) if spec.operator in (">=", "~=", "==")]
    assert lower == [tested], (
        "meta/runtime.yml requires_ansible %r: its lower bound must be ansible-core %s, the version the tests run "
        "(requirements-dev.txt)" % (requires, _dotted(tested)))


ROLE_METAS = sorted(glob.glob(os.path.join(TOP, "roles", "*", "meta", "main.yml")))


@pytest.mark.parametrize("meta", ROLE_METAS, ids=[path.split(os.sep)[-3] for path in ROLE_METAS])
def test_role_min_ansible_version_is_the_tested_ansible_core(meta):
    tested = _tested_core()
    with open(meta) as handle:
        info = (yaml.safe_load(handle) or {}).get("galaxy_info") or {}
    version = info.get("min_ansible_version")
    where = os.path.relpath(meta, TOP)
    assert isinstance(version, str), "%s: galaxy_info.min_ansible_version must be a quoted string such as \"%s\"" % (
        where, _dotted(tested))
    assert Version(version).release[:2] == tested, "%s: min_ansible_version %r, but the tests run ansible-core %s" % (
        where, version, _dotted(tested))
