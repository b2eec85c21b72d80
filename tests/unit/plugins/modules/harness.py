# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a module's real main() the way Ansible does, and read what it printed.

Nothing of AnsibleModule is replaced: exit_json and fail_json print their
JSON as they do on a managed host, so Ansible's own output processing is part
of what the tests see (no_log value masking, the echoed invocation, warnings).
The harness catches the SystemExit, parses stdout and hands back the result.

    from ansible_collections.bulwark.hardening.tests.unit.plugins.modules.harness import fake_program, run_module

    run = run_module(daemon_config.main, {"settings": {...}}, check_mode=True, diff=True)
    assert run.changed and not run.failed
    assert "secret" not in run.stdout

Fake programs (dockerd, systemctl) are shell scripts in a directory that
run_module puts first on PATH for the duration of the run (path_dirs=...).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import tempfile

from ansible.module_utils.testing import patch_module_args


class ModuleRun(object):
    """What one module run printed and how it ended.

    result: the parsed JSON result (with invocation, as Ansible receives it);
    stdout: everything the module printed; rc: its exit status.
    """

    def __init__(self, result, stdout, rc):
        self.result = result
        self.stdout = stdout
        self.rc = rc

    @property
    def changed(self):
        return bool(self.result.get("changed", False))

    @property
    def failed(self):
        return bool(self.result.get("failed", False))

    @property
    def msg(self):
        return self.result.get("msg")

    def __repr__(self):
        return "ModuleRun(rc=%r, result=%r)" % (self.rc, self.result)


def fake_program(directory, name, script):
    """Write an executable shell script directory/name running script; return its path."""
    program = os.path.join(str(directory), name)
    with open(program, "w") as handle:
        handle.write("#!/bin/sh\n" + script)
    os.chmod(program, 0o755)
    return program


@contextlib.contextmanager
def _path_first(directories):
    """PATH with the given directories searched first, restored afterwards."""
    saved = os.environ.get("PATH")
    if directories:
        os.environ["PATH"] = os.pathsep.join([str(entry) for entry in directories] +
                                             [saved or os.defpath])
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("PATH", None)
        else:
            os.environ["PATH"] = saved


def run_module(main, args, check_mode=False, diff=False, path_dirs=(), remote_tmp=None):
    """Run main() with args as the module's arguments; return a ModuleRun.

    check_mode and diff become _ansible_check_mode and _ansible_diff. The
    module's temporary files go to remote_tmp (a private directory, removed
    afterwards, when not given). A module that ends without exit_json or
    fail_json, or prints anything but its one JSON result, fails the test.
    """
    own_tmp = remote_tmp is None
    remote_tmp = tempfile.mkdtemp(prefix="bulwark-module-") if own_tmp else str(remote_tmp)
    module_args = dict(args)
    module_args.update(
        _ansible_check_mode=check_mode,
        _ansible_diff=diff,
        _ansible_remote_tmp=remote_tmp,
        _ansible_keep_remote_files=False,
    )
    stdout = io.StringIO()
    exited = None
    try:
        with _path_first(path_dirs), patch_module_args(module_args), contextlib.redirect_stdout(stdout):
            try:
                main()
            except SystemExit as exit_:
                exited = exit_
    finally:
        if own_tmp:
            shutil.rmtree(remote_tmp, ignore_errors=True)
    printed = stdout.getvalue()
    if exited is None:
        raise AssertionError("the module returned without exit_json or fail_json; it printed:\n%s" % printed)
    try:
        result = json.loads(printed)
    except ValueError as error:
        raise AssertionError("the module printed more than its JSON result (rc %r):\n%s"
                             % (exited.code, printed)) from error
    return ModuleRun(result, printed, exited.code)
