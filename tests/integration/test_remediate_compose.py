"""Compose projects: the fixes come back as a docker-compose.override.yml, and compose leaves fixed containers alone.

A Compose v1 (docker-compose) project runs a web service; container_remediate fixes it live and by a
replacement. The result carries an override with the applied fixes; `docker-compose up -d` with the
unchanged file recreates nothing; on request the override is written next to the compose file (never over
one the operator wrote), and `docker-compose up -d` with it keeps the fixes in a container compose made.
Needs docker-compose (apt-get install docker-compose); without it the tests say so and are skipped.
"""

import os
import shutil
import subprocess
import textwrap

import pytest

from ansible_collections.bulwark.hardening.tests.integration.remediate_support import clean, engine, entry, free_port, remediate, wait_for_port

pytestmark = pytest.mark.integration

PREFIX = "bwrm-compose"
PROJECT, OTHER = PREFIX + "-shop", PREFIX + "-hand"
WEB = PROJECT + "_web_1"
COMPOSE_FILE = textwrap.dedent("""\
    version: "2.4"
    services:
      web:
        image: bulwark-test/userland:latest
        command: ["python3", "-m", "http.server", "8000"]
        volumes: ["/usr:/usr:ro"]
        ports: ["127.0.0.1:{port}:8000"]
        restart: unless-stopped
        labels: {{bulwark.test: "1"}}
""")
POLICY = {"recreate": True, "memory": "256m", "cap_add": ["NET_BIND_SERVICE"]}
RULES = ["5.11", "BW-008", "5.13", "5.26"]


def _compose(directory, project, *args):
    command = shutil.which("docker-compose")
    if command is None:
        pytest.skip("docker-compose is not installed (as root on Debian: scripts/integration-tools.sh, or apt-get install "
                    "docker-compose)")
    completed = subprocess.run([command, "-p", project] + list(args), cwd=str(directory), capture_output=True, text=True,
                               check=False)
    assert completed.returncode == 0, completed.stderr
    return completed.stdout + completed.stderr


def _project(directory, project):
    os.makedirs(str(directory), exist_ok=True)
    port = free_port()
    (directory / "docker-compose.yml").write_text(COMPOSE_FILE.format(port=port))
    _compose(directory, project, "up", "-d")
    wait_for_port("127.0.0.1", port)
    return port


@pytest.fixture(scope="module")
def api():
    client = engine()
    clean(client, PREFIX)
    try:
        yield client
    finally:
        clean(client, PREFIX)


@pytest.fixture(scope="module")
def shop(api, tmp_path_factory):
    directory = tmp_path_factory.mktemp("shop")
    state_dir = tmp_path_factory.mktemp("state")
    _project(directory, PROJECT)
    try:
        yield directory, state_dir
    finally:
        subprocess.run([shutil.which("docker-compose") or "true", "-p", PROJECT, "down"], cwd=str(directory),
                       capture_output=True, check=False)


@pytest.fixture(scope="module")
def remediated(api, shop):
    directory, state_dir = shop
    old_id = api.inspect_container(WEB)["Id"]
    run = remediate({"containers": [WEB], "rules": RULES, "policy": POLICY}, state_dir)
    assert entry(run.result, WEB)["status"] == "changed", run.result.get("msg")
    return run, old_id


def test_the_result_carries_an_override_with_the_fixes(remediated, shop):
    run, _old_id = remediated
    directory, _state_dir = shop
    [project] = run.result["compose"]
    assert project["project"] == PROJECT and project["working_dir"] == str(directory)
    assert project["path"] == str(directory / "docker-compose.override.yml") and project["written"] is False
    text = project["override"]
    for line in ("  web:", "    mem_limit: 268435456", "    cap_drop:", "    - ALL", "    - NET_BIND_SERVICE",
                 "    read_only: true", '    - "no-new-privileges:true"', "    - /tmp"):
        assert line + "\n" in text, text
    assert not os.path.exists(project["path"])


def test_compose_up_with_the_unchanged_file_recreates_nothing(api, remediated, shop):
    directory, _state_dir = shop
    fixed_id = api.inspect_container(WEB)["Id"]
    output = _compose(directory, PROJECT, "up", "-d")
    assert "Recreating" not in output, output
    data = api.inspect_container(WEB)
    assert data["Id"] == fixed_id and data["HostConfig"]["ReadonlyRootfs"] is True


def test_the_override_is_written_on_request_and_compose_keeps_the_fixes(api, remediated, shop):
    directory, state_dir = shop
    run = remediate({"containers": [WEB], "rules": RULES, "policy": POLICY, "compose_override_write": True}, state_dir)
    [project] = run.result["compose"]
    assert project["written"] is True, project
    assert (directory / "docker-compose.override.yml").read_text() == project["override"]
    _compose(directory, PROJECT, "down")
    _compose(directory, PROJECT, "up", "-d")  # a container compose made from the files, override included
    host = api.inspect_container(WEB)["HostConfig"]
    assert host["ReadonlyRootfs"] is True and host["CapDrop"] == ["ALL"] and host["Memory"] == 256 << 20
    assert "no-new-privileges:true" in host["SecurityOpt"]
    again = remediate({"containers": [WEB], "rules": RULES, "policy": POLICY}, state_dir, check=True).result
    assert again["changed"] is False and again["still_failing"] == [], again["still_failing"]


def test_an_override_the_operator_wrote_is_never_replaced(api, tmp_path):
    directory = tmp_path / "hand"
    _project(directory, OTHER)
    try:
        mine = "services:\n  web:\n    environment: [MODE=hand]\n"
        (directory / "docker-compose.override.yml").write_text(mine)
        run = remediate({"containers": [OTHER + "_web_1"], "rules": RULES, "policy": POLICY,
                         "compose_override_write": True}, tmp_path / "state")
        [project] = run.result["compose"]
        assert project["written"] is False and "not written" in project["detail"], project
        assert (directory / "docker-compose.override.yml").read_text() == mine
    finally:
        _compose(directory, OTHER, "down")
