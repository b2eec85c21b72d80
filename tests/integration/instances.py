"""Throwaway instances of the Molecule image for integration tests that run real playbooks.

An instance is started exactly as molecule/default/molecule.yml starts one
(capabilities, security options, binds, the /var/lib/docker volume, tmpfs), so
it boots systemd and runs its own dockerd; playbooks reach it with the
community.docker.docker connection and get the variables Molecule gives every
instance. It is removed with its volume at the end, whatever happens.
"""

import contextlib
import json
import os
import subprocess
import time
import uuid

import yaml

from ansible_collections.bulwark.hardening.tests.integration.adhoc import BIN, ansible_env
from ansible_collections.bulwark.hardening.tests.integration.images import docker_api

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IMAGES = {"bookworm": "bulwark-molecule/debian12:latest", "trixie": "bulwark-molecule/debian13:latest"}
BOOT_SECONDS = 180


def molecule_platform():
    with open(os.path.join(TOP, "molecule", "default", "molecule.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)["platforms"][0]


def molecule_group_vars():
    """The variables Molecule gives every instance: the project's base config, then the default scenario's."""
    merged = {}
    for path in (os.path.join(TOP, ".config", "molecule", "config.yml"), os.path.join(TOP, "molecule", "default", "molecule.yml")):
        with open(path, encoding="utf-8") as handle:
            merged.update(yaml.safe_load(handle)["provisioner"]["inventory"]["group_vars"]["all"])
    return merged


def exec_in(api, container, script):
    """(exit code, output) of `sh -c script` in the container."""
    exec_id = api.exec_create(container, ["sh", "-c", script])["Id"]
    output = api.exec_start(exec_id).decode("utf-8", "replace")
    return api.exec_inspect(exec_id)["ExitCode"], output


def check_in(api, container, script):
    """The output of `sh -c script` in the container, which must succeed."""
    code, output = exec_in(api, container, script)
    assert code == 0, "%s\nexit %d: %s" % (script, code, output)
    return output


def ensure_image(api, suite="bookworm"):
    if not api.images(name=IMAGES[suite]):
        build = subprocess.run([os.path.join(TOP, "molecule", "resources", "images", "build.sh"), suite],
                               capture_output=True, text=True, check=False)
        assert build.returncode == 0, "could not build %s:\n%s" % (IMAGES[suite], build.stderr[-3000:])


@contextlib.contextmanager
def instance(prefix, label, suite="bookworm"):
    """The name of a running instance whose dockerd answers; removed with its volume on exit."""
    api = docker_api(timeout=120)
    ensure_image(api, suite)
    platform = molecule_platform()
    name = prefix + uuid.uuid4().hex[:8]
    host_config = api.create_host_config(
        cap_add=platform["capabilities"], security_opt=platform["security_opts"],
        binds=[volume for volume in platform["volumes"] if ":" in volume],
        tmpfs=dict.fromkeys(platform["tmpfs"], ""))
    anonymous = [volume for volume in platform["volumes"] if ":" not in volume]
    created = api.create_container(IMAGES[suite], name=name, hostname=name, labels={label: "1"}, volumes=anonymous,
                                   host_config=host_config)
    try:
        api.start(created["Id"])
        deadline = time.monotonic() + BOOT_SECONDS
        while exec_in(api, created["Id"], "docker info >/dev/null 2>&1")[0] != 0:
            assert time.monotonic() < deadline, "the instance's dockerd did not answer within %d s" % BOOT_SECONDS
            time.sleep(2)
        yield name
    finally:
        api.remove_container(created["Id"], force=True, v=True)


def write_inventory(target, directory, extra_vars=None):
    """An inventory file for the instance with Molecule's group variables (plus extra_vars)."""
    inventory = os.path.join(str(directory), "inventory.yml")
    host = {"ansible_connection": "community.docker.docker", "ansible_python_interpreter": "/usr/bin/python3"}
    variables = dict(molecule_group_vars(), **(extra_vars or {}))
    with open(inventory, "w", encoding="utf-8") as handle:
        json.dump({"all": {"hosts": {target: host}, "vars": variables}}, handle)
    return inventory


def json_documents(text):
    """The json callback prints one document per playbook of the command line."""
    decoder, documents, position = json.JSONDecoder(), [], 0
    while text[position:].strip():
        document, end = decoder.raw_decode(text, text.index("{", position))
        documents.append(document)
        position = end
    return documents


class PlaybookRun(object):
    """One ansible-playbook run: return code, the json callback's documents, stderr, wall time."""

    def __init__(self, returncode, outputs, stdout, stderr, seconds):
        self.returncode = returncode
        self.outputs = outputs
        self.stdout = stdout
        self.stderr = stderr
        self.seconds = seconds

    def results(self, target):
        """[(play name, task name, result)] of the target, in order."""
        return [(play["play"]["name"], task["task"]["name"], task["hosts"][target])
                for output in self.outputs for play in output["plays"] for task in play["tasks"] if target in task["hosts"]]

    def failures(self, target):
        return [(task, result.get("msg")) for _play, task, result in self.results(target) if result.get("failed")]

    def stats(self, target):
        return [output["stats"][target] for output in self.outputs if target in output.get("stats", {})]

    def changed(self, target):
        return sum(stats["changed"] for stats in self.stats(target))

    def result_of(self, target, task_suffix):
        """The last result of the task whose name ends with task_suffix, or None."""
        found = [result for _play, task, result in self.results(target) if task.endswith(task_suffix)]
        return found[-1] if found else None


def run_playbooks(inventory, playbooks, extra_arguments=(), timeout=900):
    """ansible-playbook with the json callback over the collection's playbooks (paths under playbooks/)."""
    paths = [os.path.join(TOP, "playbooks", playbook) for playbook in playbooks]
    command = [os.path.join(BIN, "ansible-playbook"), "-i", inventory] + list(extra_arguments) + paths
    started = time.monotonic()
    completed = subprocess.run(command, capture_output=True, text=True, env=ansible_env(), check=False, timeout=timeout)
    seconds = time.monotonic() - started
    try:
        outputs = json_documents(completed.stdout)
    except ValueError:
        raise AssertionError("ansible-playbook gave no JSON output (rc %d):\n%s\n%s"
                             % (completed.returncode, completed.stdout[-3000:], completed.stderr[-3000:]))
    return PlaybookRun(completed.returncode, outputs, completed.stdout, completed.stderr, seconds)
