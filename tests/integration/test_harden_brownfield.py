"""harden.yml on a host that already runs containers: nothing stopped, nothing hidden, nothing rolled back wrongly.

One throwaway instance of the Molecule image (instances.py) runs, before any
harden, a service from an image built on the host (no registry origin) with a
named volume and a published port, and containers of every restart policy.
The tests run in file order against it with real ansible-playbook runs:

- a change dockerd refuses at start, on a daemon that ran without
  live-restore: the roll-back keeps live-restore on, and every container
  that ran keeps running (the same start time);
- a change that would stop every container (live-restore off) is refused
  by the preflight play before anything on the host changed;
- harden.yml with the default variables succeeds, restarts no container,
  leaves user-namespace remapping and content trust as they are and says
  why, reports icc pending; the audit gives the same reasons; the local
  image still runs in a login shell; a second run changes nothing;
- a daemon that runs with other settings than its file (a hand edit and
  restart) is restarted by the next run although no file changes.
"""

import json
import os
import subprocess

import pytest

from ansible_collections.bulwark.hardening.tests.integration.adhoc import BIN, ansible_env
from ansible_collections.bulwark.hardening.tests.integration.images import docker_api
from ansible_collections.bulwark.hardening.tests.integration.instances import check_in, instance, run_playbooks, write_inventory
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.findings import expand_all

pytestmark = pytest.mark.integration

LABEL = "bulwark.it.harden-brownfield"
SERVICES = ("shop-web", "shop-worker", "shop-job", "shop-side")
WORKLOAD = """set -e
d=$(mktemp -d); mkdir -p "$d/bin" "$d/www"; cp /bin/busybox "$d/bin/"
for a in sh cat sleep httpd; do ln -s busybox "$d/bin/$a"; done
echo hello > "$d/www/index.html"
tar -C "$d" -c . | docker import - shop/web:local >/dev/null; rm -rf "$d"
docker volume create shopdata >/dev/null
docker run -d --name shop-web --restart unless-stopped -p 8080:80 -v shopdata:/data shop/web:local httpd -f -p 80 -h /www
docker run -d --name shop-worker --restart always shop/web:local sleep 1000000
docker run -d --name shop-job --restart on-failure:3 shop/web:local sleep 1000000
docker run -d --name shop-side --restart no shop/web:local sleep 1000000
"""
# Well-formed (every check before the restart passes it) and refused by dockerd at start.
REFUSED_AT_START = {"docker_daemon_extra_settings": {"storage-driver": "bulwark-no-such-driver"}}
# What a refused run must leave as it was.
FINGERPRINT = """find /etc -xdev -type f -print0 | sort -z | xargs -0 sha256sum
find /etc /var/lib/bulwark -xdev -printf '%p %m %u %g\\n' 2>/dev/null | sort
dpkg-query -W -f '${Package} ${Version}\\n'"""
REPORT_TASK = "Report | Left open on this host (would hide or break what runs), and waiting for a dockerd start without containers"


@pytest.fixture(scope="module")
def api():
    return docker_api(timeout=120)


@pytest.fixture(scope="module")
def target(api):
    with instance("bwit-brownfield-", LABEL) as name:
        check_in(api, name, WORKLOAD)
        yield name


@pytest.fixture(scope="module")
def inventory(target, tmp_path_factory):
    return write_inventory(target, tmp_path_factory.mktemp("brownfield"))


def started(api, target):
    """{service: (running, StartedAt)}: a container restarted or stopped shows here."""
    lines = check_in(api, target, "docker inspect --format '{{.Name}} {{.State.Running}} {{.State.StartedAt}}' %s"
                     % " ".join(SERVICES)).split()
    return dict((lines[index].lstrip("/"), (lines[index + 1], lines[index + 2])) for index in range(0, len(lines), 3))


def harden(inventory, variables=None):
    return run_playbooks(inventory, ["harden.yml"], ["-e", json.dumps(variables)] if variables else [])


def daemon_json(api, target):
    """daemon.json of the instance ({} when there is none)."""
    return json.loads(check_in(api, target, "cat /etc/docker/daemon.json 2>/dev/null || echo '{}'"))


@pytest.fixture(scope="module")
def before(api, target):
    """The services as they ran before any harden."""
    state = started(api, target)
    assert all(running == "true" for running, _at in state.values()), state
    return state


def test_a_refused_change_is_rolled_back_without_stopping_any_container(api, target, inventory, before):
    # The daemon ran without live-restore (no daemon.json): restoring that file as it was would make the
    # restarted dockerd stop every container the change had kept running.
    assert daemon_json(api, target) == {}
    run = harden(inventory, REFUSED_AT_START)
    assert run.returncode != 0
    message = " ".join(str(msg) for _task, msg in run.failures(target))
    assert "bulwark-no-such-driver" in message and "live-restore kept on" in message, message
    assert started(api, target) == before
    assert daemon_json(api, target) == {"live-restore": True}


def test_a_change_that_would_stop_every_container_is_refused_before_anything_changes(api, target, inventory, before):
    fingerprint = check_in(api, target, FINGERPRINT)
    run = harden(inventory, {"docker_daemon_live_restore": False})
    assert run.returncode != 0
    failures = run.failures(target)
    assert len(failures) == 1 and "docker_daemon_live_restore: without live-restore the restart stops the 4 running" \
        in str(failures[0][1]), failures
    # Stopped in the preflight play, before the host role changed anything.
    assert [play for play, _task, _result in run.results(target)][-1] == "Check every role's change before any is made"
    assert check_in(api, target, FINGERPRINT) == fingerprint
    assert started(api, target) == before


def test_default_harden_restarts_no_container_and_says_what_it_left_open(api, target, inventory, before):
    run = harden(inventory)
    assert run.returncode == 0, (run.failures(target), run.stderr[-2000:])
    assert started(api, target) == before
    report = run.result_of(target, REPORT_TASK)["msg"]
    # User namespaces: 2.10 in CIS v1.8, the default of docker_daemon_cis_version (2.9 in v1.6).
    assert [line.split(" (")[0] for line in report] == ["2.10 left open", "4.5 left open", "icc pending"], report
    assert "4 containers, 1 image, 1 volume" in report[0]
    assert "shop/web:local (shop-job, shop-side, shop-web, shop-worker)" in report[1]
    assert "4 running (shop-job, shop-side, shop-web, shop-worker)" in report[2]
    assert "userns-remap" not in daemon_json(api, target)
    # The service answers, and the image built on the host still runs from a login shell.
    assert check_in(api, target, "curl -fsS http://127.0.0.1:8080/").strip() == "hello"
    assert check_in(api, target, "bash -lc 'docker run --rm shop/web:local cat /www/index.html'").strip() == "hello"


def test_the_audit_gives_the_same_reasons(target, inventory):
    completed = subprocess.run([os.path.join(BIN, "ansible"), "-i", inventory, target, "-b", "-m",
                                "bulwark.hardening.container_audit", "-a", json.dumps({"report": "all"})],
                               capture_output=True, text=True, env=ansible_env(), check=False, timeout=300)
    result = json.loads(completed.stdout)["plays"][0]["tasks"][0]["hosts"][target]
    findings = dict((finding["rule"], finding) for finding in expand_all(result) if finding["target"] in ("daemon", "host"))
    assert result["summary"]["cis_version"] == "1.8"  # the same ids as the role's report: 2.10 is user namespaces
    assert findings["2.10"]["status"] == "fail" and "4 containers, 1 image, 1 volume" in findings["2.10"]["left_open"]
    assert findings["4.5"]["status"] == "fail" and "shop/web:local" in findings["4.5"]["left_open"]
    assert findings["2.2"]["status"] == "fail" and findings["2.2"]["left_open"].startswith("pending: ")


def test_a_second_harden_changes_nothing(api, target, inventory, before):
    run = harden(inventory)
    assert run.returncode == 0, run.failures(target)
    assert run.changed(target) == 0, [(task, result.get("changed")) for _p, task, result in run.results(target)
                                      if result.get("changed")]
    assert started(api, target) == before


def test_a_daemon_running_with_other_settings_than_its_file_is_restarted(api, target, inventory, before):
    # A hand edit and restart, then the file put back without one: nothing for the role to write.
    check_in(api, target, "cp /etc/docker/daemon.json /root/daemon.json.good"
                          " && sed -i 's/\"log-driver\": \"local\"/\"log-driver\": \"json-file\"/' /etc/docker/daemon.json"
                          " && systemctl restart docker && cp -p /root/daemon.json.good /etc/docker/daemon.json"
                          " && touch -d '-1 hour' /etc/docker/daemon.json")
    assert check_in(api, target, "docker info --format '{{.LoggingDriver}}'").strip() == "json-file"
    run = harden(inventory)
    assert run.returncode == 0, run.failures(target)
    restart = run.result_of(target, "verify it, or roll back")
    assert restart["restarted"] is True and "log-driver" in restart["restart_reason"], restart
    assert check_in(api, target, "docker info --format '{{.LoggingDriver}}'").strip() == "local"
    assert started(api, target) == before
