"""Run a collection module the way users do: `ansible localhost -m bulwark.hardening.<module>`, and a
playbook of the collection with `ansible-playbook bulwark.hardening.<playbook>` against localhost.

The collection is found through the symlink farm tests/conftest.py creates
(.cache/pytest-collections), ahead of the bundled collections of the venv's
`ansible` package. The json stdout callback gives the module's full result.
"""

import json
import os
import subprocess
import sys
import time

from farm import FARM, link as ensure_farm

BIN = os.path.dirname(sys.executable)


def ansible_env():
    import site  # pylint: disable=import-outside-toplevel

    env = dict(os.environ)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": os.pathsep.join([FARM] + site.getsitepackages()),
        "ANSIBLE_STDOUT_CALLBACK": "json",
        "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        "ANSIBLE_FORCE_COLOR": "false",
        "ANSIBLE_NOCOLOR": "true",
        "PATH": BIN + os.pathsep + env.get("PATH", ""),
    })
    return env


class ModuleRun(object):
    """One ad hoc run: the module's result, the raw stdout and the wall time."""

    def __init__(self, result, stdout, stderr, seconds, returncode):
        self.result = result
        self.stdout = stdout
        self.stderr = stderr
        self.seconds = seconds
        self.returncode = returncode


def run_module(name, args, check=False, preexec=None, diff=False, interpreter=sys.executable):
    """Run bulwark.hardening.<name> on localhost with args (a dict) and return a ModuleRun.

    interpreter: the Python that runs the module (the tests' own, which has the Docker SDK, by default)."""
    ensure_farm()
    command = [os.path.join(BIN, "ansible"), "localhost", "-m", "bulwark.hardening." + name,
               "-a", json.dumps(args), "-e", "ansible_python_interpreter=" + interpreter]
    if check:
        command.append("--check")
    if diff:
        command.append("--diff")
    started = time.monotonic()
    completed = subprocess.run(command, capture_output=True, text=True, env=ansible_env(), check=False,
                               preexec_fn=preexec)
    seconds = time.monotonic() - started
    try:
        output = json.loads(completed.stdout)
        result = output["plays"][0]["tasks"][0]["hosts"]["localhost"]
    except (ValueError, KeyError, IndexError):
        raise AssertionError("ansible gave no JSON result (rc %d):\n%s\n%s"
                             % (completed.returncode, completed.stdout[-3000:], completed.stderr[-3000:]))
    return ModuleRun(result, completed.stdout, completed.stderr, seconds, completed.returncode)


class PlaybookRun(object):
    """One ansible-playbook run: the json callback's output (plays, tasks, stats), stdout, stderr, return code."""

    def __init__(self, output, stdout, stderr, returncode):
        self.output = output
        self.stdout = stdout
        self.stderr = stderr
        self.returncode = returncode

    def tasks(self, host="localhost"):
        """{task name: that host's result} over every play, in order (a later task of the same name wins)."""
        found = {}
        for play in self.output.get("plays", []):
            for task in play.get("tasks", []):
                if host in task.get("hosts", {}):
                    found[task["task"]["name"]] = task["hosts"][host]
        return found


def run_playbook(playbook, extra_vars=None, tags=None, skip_tags=None, check=False):
    """Run a playbook of the collection (bulwark.hardening.audit) on localhost, as the user the tests run as
    (no become: as run_module), with extra_vars as JSON; returns a PlaybookRun."""
    ensure_farm()
    variables = dict({"ansible_python_interpreter": sys.executable, "ansible_become": False}, **(extra_vars or {}))
    command = [os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", "-c", "local", playbook,
               "-e", json.dumps(variables)]
    if tags:
        command += ["--tags", ",".join(tags)]
    if skip_tags:
        command += ["--skip-tags", ",".join(skip_tags)]
    if check:
        command.append("--check")
    completed = subprocess.run(command, capture_output=True, text=True, env=ansible_env(), check=False)
    try:
        output = json.loads(completed.stdout)
    except ValueError:
        raise AssertionError("ansible-playbook gave no JSON output (rc %d):\n%s\n%s"
                             % (completed.returncode, completed.stdout[-3000:], completed.stderr[-3000:]))
    return PlaybookRun(output, completed.stdout, completed.stderr, completed.returncode)
