# -*- coding: utf-8 -*-
"""BW-006, BW-012 and BW-013 on real inputs: what a launcher is, what fetches, what is code, and registry aliases.

BW-012's process lines come from one real `docker top` answer (fixtures/runtime_processes.json says how it was
made): npm, yarn and pnpm running package.json scripts next to the same tools installing, and the fetchers the
rule used to miss.
"""

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.rules.state import AuditOptions
from ansible_collections.bulwark.hardening.plugins.module_utils.common.references import familiar_reference, split_repository

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.rule_fixtures import container, evidence, image, load, state, status

PROCESS_CHECKS = AuditOptions(process_checks=True)
DRIFT_CHECKS = AuditOptions(drift_checks=True)
TOP = load("runtime_processes.json")["top"]
COMMAND = TOP["Titles"].index("CMD")

# Every process line of the real answer, and whether it fetches code or packages at run time.
LAUNCHERS = [
    "npm start", "npm run serve", "node /tmp/bin/yarn start", "node /tmp/bin/yarn serve", "node /tmp/bin/pnpm start",
    "uv run --no-project --python /usr/bin/python3 /srv/app/stub.py", "/usr/bin/python3 /tmp/bin/poetry run python app.py",
    "/usr/bin/python3 /tmp/conda/bin/conda run -n shop python app.py", "php /tmp/bin/composer run-script start",
    "/usr/bin/ruby3.1 /tmp/bin/bundle exec rackup",
]
FETCHERS = {
    "npm install": "npm install",
    "node /tmp/bin/yarn": "yarn",  # bare yarn is yarn install
    "node /tmp/bin/pnpm install --registry http://127.0.0.1:8080/": "pnpm install",
    "busybox wget -q http://127.0.0.1:8080/tool.tgz -O /tmp/tool.tgz": "wget",
    "git clone -q http://127.0.0.1:8080/repo.git /tmp/repo": "git clone",
    "/usr/lib/git-core/git remote-http origin http://127.0.0.1:8080/repo.git": "git remote-http",
    "/usr/lib/git-core/git-remote-http origin http://127.0.0.1:8080/repo.git": "git-remote-http",
    "uv pip install --target /tmp/site --python /usr/bin/python3 --index-url http://127.0.0.1:8080/simple requests":
        "uv pip",
    "/tmp/bin/uv tool uvx --index-url http://127.0.0.1:8080/simple cowsay": "uv tool",
    "/usr/bin/python3 /tmp/bin/poetry install": "poetry install",
    "/usr/bin/python3 /tmp/conda/bin/conda install -y numpy": "conda install",
    "php /tmp/bin/composer install": "composer install",
    "/usr/bin/ruby3.1 /tmp/bin/bundle install": "bundle install",
    "go run ./cmd/server": "go run",
    "go mod download": "go mod",
}


def real_commands():
    return [process[COMMAND] for process in TOP["Processes"]]


def top_of(*commands):
    """The real answer cut down to one row running each of these command lines (each must be in it)."""
    rows = [next(process for process in TOP["Processes"] if process[COMMAND] == command) for command in commands]
    return {"Titles": TOP["Titles"], "Processes": rows}


def test_the_fixture_holds_every_case():
    assert set(LAUNCHERS) | set(FETCHERS) <= set(real_commands())


@pytest.mark.parametrize("command", LAUNCHERS)
def test_bw_012_a_package_manager_running_a_script_is_a_launcher_not_a_fetch(command):
    audit = state([container("hardened", top=top_of(command, "node server.js"))], options=PROCESS_CHECKS)
    assert status("BW-012", audit) == "pass", evidence("BW-012", audit)
    assert "1 launcher not counted" in evidence("BW-012", audit)


@pytest.mark.parametrize("command,shown", sorted(FETCHERS.items()))
def test_bw_012_every_fetching_tool_and_subcommand_fails(command, shown):
    audit = state([container("hardened", top=top_of(command, "node server.js"))], options=PROCESS_CHECKS)
    assert status("BW-012", audit) == "fail"
    assert "running: %s (1), among 2 processes" % shown in evidence("BW-012", audit)


def test_bw_012_the_whole_real_answer_names_fetchers_only():
    audit = state([container("hardened", top=TOP)], options=PROCESS_CHECKS)
    text = evidence("BW-012", audit)
    assert status("BW-012", audit) == "fail"
    assert "(10 launchers not counted" in text
    for word in ("npm start", "yarn start", "127.0.0.1", "cowsay", "requests", "/tmp/repo"):
        assert word not in text.split("(10 launchers", maxsplit=1)[0]
    assert "127.0.0.1" not in text  # URLs and arguments are never repeated


@pytest.mark.parametrize("command,shown", [
    # A global option and its value before the subcommand, in both spellings.
    ("npm --prefix /srv/app install", "npm install"),
    ("git -C /srv/app pull", "git pull"),
    ("node /usr/local/bin/yarn --cwd /srv/app add left-pad", "yarn add"),
    ("/usr/local/bin/uv --directory=/srv run --with requests app.py", "uv run --with"),
    ("node /usr/lib/node_modules/pnpm/bin/pnpm.cjs dlx cowsay", "pnpm dlx"),
    ("node /app/.yarn/releases/yarn-4.1.0.cjs dlx cowsay", "yarn dlx"),
    ("/opt/conda/bin/python /opt/conda/bin/mamba install -y numpy", "mamba install"),
    ("php /usr/local/bin/composer require monolog/monolog", "composer require"),
    ("/bin/busybox wget http://example.com/x", "wget"),
    ("bundle", "bundle"),
])
def test_bw_012_subcommands_behind_global_options_and_other_entry_points(command, shown):
    audit = state([container("hardened", top=top_of_lines(command))], options=PROCESS_CHECKS)
    assert status("BW-012", audit) == "fail"
    assert "running: %s (1)" % shown in evidence("BW-012", audit)


@pytest.mark.parametrize("command", [
    "npm --prefix /srv/app start", "node /usr/local/bin/yarn --cwd /srv/app build:watch", "git -C /srv log -1",
    "/usr/local/bin/go version", "busybox sleep 100", "php /usr/local/bin/composer test", "pnpm --filter web start",
])
def test_bw_012_launchers_and_harmless_subcommands_pass(command):
    audit = state([container("hardened", top=top_of_lines(command))], options=PROCESS_CHECKS)
    assert status("BW-012", audit) == "pass", evidence("BW-012", audit)


def top_of_lines(*commands):
    """A `docker top` answer in the real one's columns for command lines the fixture does not hold."""
    template = TOP["Processes"][0]
    rows = [template[:COMMAND] + [command] for command in commands]
    return {"Titles": TOP["Titles"], "Processes": rows}


# --- BW-013: interpreter caches are not code changes; the loader's preload list is ---

DIFFS = load("drift_diffs.json")


def test_bw_013_bytecode_caches_written_by_the_interpreter_are_not_drift():
    # Real diff: python wrote __pycache__ for a module the image shipped without bytecode (and a file that only
    # looks like the preload list).
    audit = state([container("hostnet", diff=DIFFS["pycache"])], options=DRIFT_CHECKS)
    assert status("BW-013", audit) == "pass", evidence("BW-013", audit)
    assert "(2 interpreter bytecode cache entries not counted)" in evidence("BW-013", audit)


def test_bw_013_a_changed_module_or_bytecode_outside_a_cache_still_fails():
    changed = DIFFS["pycache"] + [{"Kind": 0, "Path": "/usr/lib/python3/dist-packages/app/__init__.py"}]
    audit = state([container("hostnet", diff=changed)], options=DRIFT_CHECKS)
    assert status("BW-013", audit) == "fail"
    assert evidence("BW-013", audit).startswith(
        "binaries or libraries differ from the image: 1 changed: changed /usr/lib/python3/dist-packages/app/__init__.py")
    # Bytecode beside the source is no cache python writes: it is loaded instead of a missing source.
    sourceless = [{"Kind": 1, "Path": "/usr/lib/python3/dist-packages/app/__init__.pyc"}]
    assert status("BW-013", state([container("hostnet", diff=sourceless)], options=DRIFT_CHECKS)) == "fail"


@pytest.mark.parametrize("kind", [0, 1, 2])
def test_bw_013_the_loaders_preload_list_and_configuration_are_code(kind):
    real = state([container("hostnet", diff=DIFFS["preload"])], options=DRIFT_CHECKS)
    assert status("BW-013", real) == "fail"
    assert evidence("BW-013", real) == "binaries or libraries differ from the image: 1 added: added /etc/ld.so.preload"
    for path in ("/etc/ld.so.preload", "/etc/ld.so.conf", "/etc/ld.so.conf.d/evil.conf", "/etc/ld.so.cache"):
        audit = state([container("hostnet", diff=[{"Kind": 0, "Path": "/etc"}, {"Kind": kind, "Path": path}])],
                      options=DRIFT_CHECKS)
        assert status("BW-013", audit) == "fail", path


# --- BW-006: one table of Docker Hub's names, for references and allowlist entries alike ---

HUB_NAMES = ["docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"]
DIGEST = "sha256:" + "c" * 64


@pytest.mark.parametrize("entry", HUB_NAMES + [name + "/library" for name in HUB_NAMES] + ["docker.io/library/nginx"])
@pytest.mark.parametrize("repo_digest", ["nginx@" + DIGEST, "docker.io/library/nginx@" + DIGEST])
def test_bw_006_every_spelling_of_docker_hub_in_the_allowlist_matches(entry, repo_digest):
    pulled = image({"RepoTags": ["nginx:1.25"], "RepoDigests": [repo_digest]})
    audit = state([container("hardened")], images=[pulled], options=AuditOptions(trusted_registries=[entry]))
    assert status("BW-006", audit) == "pass", evidence("BW-006", audit)


def test_bw_006_a_hub_alias_does_not_trust_other_registries():
    pulled = image({"RepoDigests": ["quay.io/team/app@" + DIGEST]})
    audit = state([container("hardened")], images=[pulled], options=AuditOptions(trusted_registries=["index.docker.io"]))
    assert status("BW-006", audit) == "fail"


@pytest.mark.parametrize("reference", ["registry-1.docker.io/library/nginx:1.25", "registry.hub.docker.com/library/nginx:1.25",
                                       "index.docker.io/nginx:1.25"])
def test_both_reference_forms_read_every_hub_alias(reference):
    assert split_repository(reference) == ("docker.io", "library/nginx")
    assert familiar_reference(reference) == "nginx:1.25"
