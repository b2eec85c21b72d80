"""module_utils imports go one way (plugins/module_utils/README.md): every import of every file is read
with ast, and an import of a higher layer, of a sibling package on the same layer, or one that closes a
cycle fails, naming the file and the import. Above them, plugins/plugin_utils is controller side: module_utils
never imports it (a module runs on the target), and action and filter plugins share code through it, never
by importing one another."""

import ast
import os
import re

import pytest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULE_UTILS = os.path.join(TOP, "plugins", "module_utils")
PREFIX = "ansible_collections.bulwark.hardening.plugins.module_utils."
PLUGINS_PREFIX = "ansible_collections.bulwark.hardening.plugins."
PRIVATE = "# Private to the bulwark.hardening collection:"
# What each kind of plugin code may import of this collection's plugins/ (module_utils: its own layers, above).
MAY_IMPORT = {"module_utils": {"module_utils"}, "plugin_utils": {"module_utils", "plugin_utils"},
              "action": {"module_utils", "plugin_utils"}, "filter": {"module_utils", "plugin_utils"}}
LAYER_ROW = re.compile(r"^\|\s*(\d+)\s*\|\s*([a-z_, ]+?)\s*\|\s*$")


def declared_layers(readme_text):
    """{package: layer} from the README's table."""
    layers = {}
    for line in readme_text.splitlines():
        match = LAYER_ROW.match(line)
        if match:
            for package in match.group(2).split(","):
                layers[package.strip()] = int(match.group(1))
    return layers


def module_files():
    """{dotted module name below module_utils: path} of every Python file."""
    found = {}
    for directory, _subdirectories, files in os.walk(MODULE_UTILS):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(directory, name)
                dotted = os.path.relpath(path, MODULE_UTILS)[:-3].replace(os.sep, ".")
                found[dotted[:-len(".__init__")] if dotted.endswith(".__init__") else dotted] = path
    return found


def imported_modules(source, modules):
    """The collection's module_utils modules a file's source imports (a package's module when a name
    imported from the package is a module)."""
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PREFIX):
            target = node.module[len(PREFIX):]
            for alias in node.names:
                imported.add(target + "." + alias.name if target + "." + alias.name in modules else target)
        elif isinstance(node, ast.Import):
            imported.update(alias.name[len(PREFIX):] for alias in node.names if alias.name.startswith(PREFIX))
    return imported


def import_graph(modules):
    graph = {}
    for name, path in modules.items():
        with open(path, encoding="utf-8") as handle:
            graph[name] = imported_modules(handle.read(), modules)
    return graph


def wrong_direction(graph, layers):
    """'importer -> imported (why)' for every import that does not go down a layer or stay in its package."""
    wrong = []
    for importer, targets in sorted(graph.items()):
        package = importer.split(".")[0]
        for target in sorted(targets):
            other = target.split(".")[0]
            if other == package:
                continue
            if package not in layers or other not in layers:
                wrong.append("%s -> %s (package not in the README's table)" % (importer, target))
            elif layers[other] >= layers[package]:
                wrong.append("%s -> %s (layer %d imports layer %d)" % (importer, target, layers[package], layers[other]))
    return wrong


def cycles(graph):
    """One cycle per strongly connected component of more than one module (or a module importing itself)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in graph:
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(" <-> ".join(sorted(component)))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


@pytest.fixture(scope="module")
def graph():
    return import_graph(module_files())


@pytest.fixture(scope="module")
def layers():
    with open(os.path.join(MODULE_UTILS, "README.md"), encoding="utf-8") as handle:
        return declared_layers(handle.read())


def test_every_package_has_a_layer(layers):
    packages = sorted(entry for entry in os.listdir(MODULE_UTILS) if os.path.isdir(os.path.join(MODULE_UTILS, entry))
                      and entry != "__pycache__")
    assert [package for package in packages if package not in layers] == []
    assert [package for package in layers if package not in packages] == []


def test_imports_go_down_the_layers(graph, layers):
    assert wrong_direction(graph, layers) == []


def test_no_import_cycle(graph):
    assert cycles(graph) == []


def plugin_kinds_imported(source):
    """The plugins/ directories (module_utils, plugin_utils, action, ...) of this collection a file's source imports."""
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    return set(name[len(PLUGINS_PREFIX):].split(".")[0] for name in names if name.startswith(PLUGINS_PREFIX))


def test_controller_code_sits_above_module_utils_and_plugins_import_no_plugin():
    wrong = []
    for kind, allowed in sorted(MAY_IMPORT.items()):
        for directory, _subdirectories, files in os.walk(os.path.join(TOP, "plugins", kind)):
            for name in sorted(files):
                if name.endswith(".py"):
                    path = os.path.join(directory, name)
                    with open(path, encoding="utf-8") as handle:
                        imported = plugin_kinds_imported(handle.read())
                    wrong.extend("%s imports plugins/%s" % (os.path.relpath(path, TOP), other) for other in sorted(imported - allowed))
    assert wrong == []


def test_every_shared_file_says_it_is_private():
    """module_utils and plugin_utils are this collection's own (as community.docker's): the line after the licence
    says so. Empty package markers carry no header at all."""
    unmarked = []
    for kind in ("module_utils", "plugin_utils"):
        for directory, _subdirectories, files in os.walk(os.path.join(TOP, "plugins", kind)):
            for name in sorted(files):
                path = os.path.join(directory, name)
                if name.endswith(".py") and os.path.getsize(path):
                    with open(path, encoding="utf-8") as handle:
                        head = handle.read().splitlines()[:4]
                    if len(head) < 4 or not head[2].startswith("# GNU General Public License") or not head[3].startswith(PRIVATE):
                        unmarked.append(os.path.relpath(path, TOP))
    assert unmarked == []


# The checker itself, on made-up graphs: it must be able to fail.

def test_an_upward_and_a_sideways_import_are_named():
    graph = {"rules.a": {"audit.b", "common.c"}, "files.d": {"images.e"}, "audit.b": set(), "common.c": set(),
             "images.e": set()}
    layers = {"common": 0, "files": 4, "images": 4, "rules": 5, "audit": 6}
    assert wrong_direction(graph, layers) == ["files.d -> images.e (layer 4 imports layer 4)",
                                              "rules.a -> audit.b (layer 5 imports layer 6)"]


def test_a_cycle_inside_a_package_is_found():
    assert cycles({"rules.a": {"rules.b"}, "rules.b": {"rules.c"}, "rules.c": {"rules.a"}, "rules.d": {"rules.a"}}) \
        == ["rules.a <-> rules.b <-> rules.c"]


def test_a_name_imported_from_a_package_counts_as_its_module():
    modules = {"alpha": "", "alpha.facts": "", "alpha.rule": ""}
    source = ("from ansible_collections.bulwark.hardening.plugins.module_utils.alpha import facts\n"
              "from ansible_collections.bulwark.hardening.plugins.module_utils.alpha.rule import passed\n"
              "from ansible_collections.bulwark.hardening.plugins.module_utils.alpha import CONSTANT\n")
    assert imported_modules(source, modules) == {"alpha.facts", "alpha.rule", "alpha"}


def test_an_import_of_another_plugin_is_seen():
    source = ("from ansible_collections.bulwark.hardening.plugins.action.compliance_report import plain\n"
              "import ansible_collections.bulwark.hardening.plugins.plugin_utils.report.model\n"
              "from ansible.plugins.action import ActionBase\n")
    assert plugin_kinds_imported(source) == {"action", "plugin_utils"}


def test_the_readme_table_is_read():
    assert declared_layers("| layer | packages |\n|---|---|\n| 7 | remediate, host |\n| 0 | common |\n") \
        == {"remediate": 7, "host": 7, "common": 0}
