"""No secret in what `ansible-playbook -v --diff` prints: the operator's own view, on this machine's Engine.

One play, as an operator writes one: the daemon preflight and daemon_config with a registry mirror and a
proxy that carry credentials and the corpus as daemon labels (into a daemon.json of the test's own, and
dockerd's command line faked by a systemctl on PATH that points at a unit of the test's own, with a
credential in its EnvironmentFile); then container_remediate and container_audit on a container of the
test's own whose environment holds the corpus' secrets, whose --mount carries a password in its volume
options, and whose health check fails echoing a token. The whole output (stdout and stderr, with -v and
--diff, the default callback) must show no part of any secret, and the look-alikes that were echoed as they
were.

Everything made is named bwmask-it-... (and labelled bulwark.test=1) and removed at the end: the container
(and a replacement, should one be left), its volume, the host directory it binds.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

from ansible_collections.bulwark.hardening.tests.integration.adhoc import BIN, ansible_env
from farm import link as ensure_farm
from ansible_collections.bulwark.hardening.tests.integration.images import docker_api, ensure_sleeper_image
from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.secrets_corpus import LOOKALIKES, SECRETS, leaked, line, single_line

pytestmark = pytest.mark.integration

DOCKER_HOST = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
PREFIX = "bwmask-it-"
CONTAINER = PREFIX + "web"
VOLUME = PREFIX + "cifs"
LABELS = {"bulwark.test": "1"}
HEALTH_TOKEN = "ghp_7riYs1vtHFysN7z8yQbYoJVmxkmaXiQNcVse"
MOUNT_OPTIONS = "bind,username=backup,password=Cifs-pw-5555"
MIRROR = "https://mirroruser:M1rror-t0ken-8@mirror.example.com"
PROXY = "http://proxyuser:Pr0xy-pw-31@proxy.example.com:3128"
COMMAND_LINE_SECRET = "Ins3cure-reg-pw"
SECONDS = 1000000000

PLAY = """---
- name: An operator's play with secrets in its settings and containers
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Check the daemon change
      bulwark.hardening.daemon_preflight:
        settings: "{{ settings }}"
        path: "{{ daemon_json }}"
        docker_host: "{{ docker_host }}"

    - name: Write daemon.json
      bulwark.hardening.daemon_config:
        settings: "{{ settings }}"
        path: "{{ daemon_json }}"
        validate_with_dockerd: false
        dockerd_args: []

    - name: Remediate the container (its replacement turns unhealthy, and is rolled back)
      bulwark.hardening.container_remediate:
        docker_host: "{{ docker_host }}"
        containers: ["%(container)s"]
        rules: ["BW-009"]
        policy: {recreate: true}
        grace_period: 1
        health_timeout: 4
        state_dir: "{{ state_dir }}"
      ignore_errors: true

    - name: Audit the container
      bulwark.hardening.container_audit:
        docker_host: "{{ docker_host }}"
        name_filter: ["%(container)s"]
        scope: [containers, bulwark]
        report: all
""" % {"container": CONTAINER}


def clean(api, host_dir):
    for container in api.containers(all=True, filters={"label": "bulwark.test=1", "name": CONTAINER}):
        if any(name.lstrip("/").startswith(CONTAINER) for name in container.get("Names") or []):
            api.remove_container(container["Id"], force=True, v=False)
    for volume in (api.volumes(filters={"name": VOLUME}) or {}).get("Volumes") or []:
        if volume["Name"] == VOLUME:
            api.remove_volume(VOLUME, force=True)
    shutil.rmtree(host_dir, ignore_errors=True)


@pytest.fixture(name="machine")
def machine_fixture(tmp_path):
    """The container, the fake systemctl and unit, the daemon.json path, the play's variables."""
    api = docker_api(timeout=60)
    ensure_sleeper_image(api)
    host_dir = tempfile.mkdtemp(prefix=PREFIX, dir="/var/log")  # a writable bind of /var/log: BW-009 fails
    data_dir = tmp_path / "cifs-data"
    data_dir.mkdir()
    clean(api, "/nonexistent")
    environment = [line(entry) for entry in single_line(SECRETS + LOOKALIKES)]
    created = api.create_container(
        "bulwark-test/sleeper:latest", name=CONTAINER, command=["/bin/sleep", "3600"], labels=LABELS,
        environment=environment, stop_timeout=1,
        healthcheck={"Test": ["CMD", "/bin/sleep", HEALTH_TOKEN], "Interval": SECONDS, "Timeout": 2 * SECONDS, "Retries": 1},
        host_config=api.create_host_config(mounts=[
            {"Type": "bind", "Source": host_dir, "Target": "/var/log/app"},
            {"Type": "volume", "Source": VOLUME, "Target": "/data", "VolumeOptions": {"Labels": LABELS, "DriverConfig": {
                "Name": "local", "Options": {"type": "none", "device": str(data_dir), "o": MOUNT_OPTIONS}}}}]))
    api.start(created["Id"])
    unit = tmp_path / "docker.service"
    env_file = tmp_path / "docker.env"
    env_file.write_text('DOCKER_OPTS="--insecure-registry https://ciuser:%s@registry.internal:5000"\n' % COMMAND_LINE_SECRET)
    unit.write_text("[Service]\nEnvironmentFile=-%s\nExecStart=/usr/sbin/dockerd -H fd:// $DOCKER_OPTS\n" % env_file)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    systemctl = bin_dir / "systemctl"
    systemctl.write_text("#!/bin/sh\necho FragmentPath=%s\necho DropInPaths=\n" % unit)
    systemctl.chmod(0o755)
    variables = {
        "daemon_json": str(tmp_path / "daemon.json"), "state_dir": str(tmp_path / "state"), "docker_host": DOCKER_HOST,
        "ansible_python_interpreter": sys.executable,
        "settings": {"registry-mirrors": [MIRROR], "proxies": {"http-proxy": PROXY}, "live-restore": True,
                     "labels": [line(entry) for entry in single_line(SECRETS + LOOKALIKES)]},
    }
    try:
        yield bin_dir, variables
    finally:
        clean(api, host_dir)


def test_ansible_playbook_v_diff_prints_no_secret(machine, tmp_path):
    bin_dir, variables = machine
    ensure_farm()
    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAY)
    extra_vars = tmp_path / "vars.json"
    extra_vars.write_text(json.dumps(variables))
    env = dict(ansible_env(), ANSIBLE_STDOUT_CALLBACK="default", PATH=str(bin_dir) + os.pathsep + ansible_env()["PATH"])
    completed = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-v", "--diff", "-i", "localhost,", "-c", "local",
                                str(playbook), "-e", "@%s" % extra_vars],
                               capture_output=True, text=True, env=env, check=False, timeout=600)
    output = completed.stdout + completed.stderr
    (tmp_path / "output.txt").write_text(output)  # what was checked, kept for reading after a failure
    assert "PLAY RECAP" in output, output[-3000:]
    # Each task ran and printed its result: the preflight's planned config, the diff, the roll back, the audit.
    assert "https://mirroruser:********@mirror.example.com" in output
    assert "http://proxyuser:********@proxy.example.com:3128" in output
    assert "the replacement turned unhealthy" in output, output[-3000:]
    assert "password=********" in output and "BW-001" in output
    shown = dict((entry["id"], leaked(output, entry)) for entry in SECRETS)
    assert dict((key, value) for key, value in shown.items() if value) == {}
    for secret in (HEALTH_TOKEN, HEALTH_TOKEN[:16], "Cifs-pw-5555", "M1rror-t0ken-8", "Pr0xy-pw-31", COMMAND_LINE_SECRET):
        assert secret not in output
    # The labels are printed back by the preflight, daemon_config and the diff: the look-alikes as they were.
    assert [entry["id"] for entry in single_line(LOOKALIKES) if line(entry) not in output] == []
