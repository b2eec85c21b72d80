# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""daemon_config through the real `ansible` command: no URL password in what a user sees.

`ansible localhost -m bulwark.hardening.daemon_config -a '<json>' --diff -v`
with the default stdout callback, on a daemon.json in tmp_path: no Docker,
no root, no dockerd. The collection is found through the farm (tests/farm.py),
as in tests/integration/adhoc.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ansible_collections.bulwark.hardening.tests.integration.adhoc import ansible_env

SECRET = "s3cr3t-Pa55word"
PROXY = "http://proxy-user:%s@proxy.example.com:3128" % SECRET


def run_ansible(daemon_json, settings):
    args = {
        "path": str(daemon_json),
        "settings": settings,
        "validate_with_dockerd": False,
        "dockerd_args": [],
        "owner": None,
        "group": None,
    }
    env = ansible_env()
    env.update(ANSIBLE_STDOUT_CALLBACK="default", ANSIBLE_LOAD_CALLBACK_PLUGINS="1")
    command = [os.path.join(os.path.dirname(sys.executable), "ansible"), "localhost",
               "-m", "bulwark.hardening.daemon_config", "-a", json.dumps(args),
               "-e", "ansible_python_interpreter=" + sys.executable, "--diff", "-v"]
    return subprocess.run(command, capture_output=True, text=True, env=env, check=False, timeout=120)


@pytest.mark.parametrize("settings, expected_rc, shown", [
    ({"proxies": {"http-proxy": PROXY, "https-proxy": PROXY}, "icc": False}, 0,
     "http://proxy-user:********@proxy.example.com:3128"),
    ({"registry-mirrors": PROXY}, 2, "got string 'http://proxy-user:********@proxy"),
], ids=["valid", "wrongly-typed"])
def test_no_password_in_ansible_output(tmp_path, settings, expected_rc, shown):
    daemon_json = tmp_path / "daemon.json"
    completed = run_ansible(daemon_json, settings)
    output = completed.stdout + completed.stderr
    assert completed.returncode == expected_rc, output
    assert shown in completed.stdout, output
    assert SECRET not in completed.stdout
    assert SECRET not in completed.stderr
    if expected_rc == 0:
        assert json.loads(daemon_json.read_text())["proxies"]["http-proxy"] == PROXY
    else:
        assert not daemon_json.exists()
