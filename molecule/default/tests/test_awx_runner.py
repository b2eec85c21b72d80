"""audit.yml as AWX runs it: through ansible-runner, with a private data dir, against this instance.

AWX executes a job template with ansible-runner and reads the job's result
from its return code, its events (the playbook_on_stats event carries what
set_stats published) and the artifacts the playbook wrote. Two runs of the
hardened instance with the severity threshold at critical: as hardened
(the job succeeds), and drifted by a container that mounts the Docker
socket (CIS 5.32, critical: the job fails, after writing its reports).
"""

import json
import os
import sys

import ansible_runner
import pytest

DRIFT = "bulwark-awx-drift"


def run_audit(host, tmp_path, name):
    """audit.yml through ansible-runner; (runner, the host's set_stats data, the report directory)."""
    private = tmp_path / name
    private.mkdir()
    reports = tmp_path / (name + "-reports")
    env = {"PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")}
    if os.environ.get("ANSIBLE_COLLECTIONS_PATH"):
        env["ANSIBLE_COLLECTIONS_PATH"] = os.environ["ANSIBLE_COLLECTIONS_PATH"]
    runner = ansible_runner.run(
        private_data_dir=str(private), playbook="bulwark.hardening.audit", quiet=True,
        inventory=os.environ["MOLECULE_INVENTORY_FILE"], limit=host.backend.get_hostname(), envvars=env,
        extravars={"bulwark_audit_report_dir": str(reports), "bulwark_audit_label": "awx " + name,
                   "bulwark_audit_fail_severity": "critical"})
    stats = [event for event in runner.events if event.get("event") == "playbook_on_stats"]
    assert len(stats) == 1, runner.stdout.read()[-3000:]
    published = (stats[0]["event_data"].get("artifact_data") or {}).get("bulwark_compliance") or {}
    return runner, published.get(host.backend.get_hostname()), reports


def report_files(reports, suffix):
    return sorted(path for path in os.listdir(str(reports)) if path.startswith("bulwark-report-") and path.endswith(suffix))


def test_a_hardened_instance_passes_the_scheduled_audit(host, tmp_path):
    runner, published, reports = run_audit(host, tmp_path, "hardened")
    assert (runner.rc, runner.status) == (0, "successful"), runner.stdout.read()[-3000:]
    assert published["status"] == "audited" and "critical" not in published["fail_by_severity"]
    assert len(report_files(reports, ".json")) == len(report_files(reports, ".xml")) == len(report_files(reports, ".html")) == 1
    with open(os.path.join(str(reports), report_files(reports, ".json")[0]), encoding="utf-8") as handle:
        report = json.load(handle)
    assert report["schema"] == "bulwark.hardening/compliance-report" and report["version"] == 2


@pytest.fixture()
def drifted(host, probe_image):
    """A container that mounts the Docker socket: root on this host for whoever is in it."""
    host.run("docker rm -f %s" % DRIFT)
    host.run_expect([0], "docker run -d --name %s -v /var/run/docker.sock:/var/run/docker.sock %s sleep 600"
                    % (DRIFT, probe_image))
    yield DRIFT
    host.run("docker rm -f %s" % DRIFT)


def test_a_drifted_instance_fails_the_job_after_writing_its_reports(host, tmp_path, drifted):
    runner, published, reports = run_audit(host, tmp_path, "drifted")
    output = runner.stdout.read()
    assert runner.rc != 0 and runner.status == "failed", output[-3000:]
    assert "5.32 %s (critical)" % drifted in output
    assert published["fail_by_severity"].get("critical", 0) >= 1
    assert report_files(reports, ".json") and report_files(reports, ".html") and report_files(reports, ".xml")
