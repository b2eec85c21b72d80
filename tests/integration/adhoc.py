"""Run a collection module the way users do: `ansible localhost -m bulwark.hardening.<module>`.

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


def run_module(name, args, check=False, preexec=None, diff=False):
    """Run bulwark.hardening.<name> on localhost with args (a dict) and return a ModuleRun."""
    ensure_farm()
    command = [os.path.join(BIN, "ansible"), "localhost", "-m", "bulwark.hardening." + name,
               "-a", json.dumps(args), "-e", "ansible_python_interpreter=" + sys.executable]
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
