"""The CIS Level 1 profile against an instance converge.yml hardened at Level 2 (the default).

harden.yml at Level 1 finds nothing to change (every Level 1 setting is in
place and the Level 2 areas are left as they are, the seccomp profile
included), and audit.yml at Level 1 reports only
Level 1 rules, records the level, and fails nothing the roles claim to fix.
"""

import json
import re

from conftest import run_playbook

# Level 2 rules a Level 1 report must not contain, and Level 1 rules it must, in the ids of CIS v1.8 (the audit's
# default): user namespaces 2.10 and the daemon's seccomp profile 2.18 (v1.6's 2.9 and 2.17; v1.8's 2.9 and 2.17
# are the Level 1 ulimit and userland proxy rules).
LEVEL_2_ONLY = {"1.1.3", "1.1.18", "2.10", "2.18", "4.5", "BW-008"}
LEVEL_1 = {"2.2", "2.9", "2.17", "3.1", "5.11", "5.13"}


def test_harden_at_level_1_changes_nothing_on_a_level_2_host(host):
    daemon_json = host.file("/etc/docker/daemon.json").content_string
    result = run_playbook(host, "bulwark.hardening.harden", "-e", "bulwark_cis_level=1", "--check", "--diff")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    recap = re.search(r"changed=(\d+)", result.stdout[result.stdout.rfind("PLAY RECAP"):])
    assert recap and recap.group(1) == "0", result.stdout[-4000:]
    assert host.file("/etc/docker/daemon.json").content_string == daemon_json


def test_audit_at_level_1_reports_only_level_1_rules(host, tmp_path):
    reports = tmp_path / "reports"
    result = run_playbook(host, "bulwark.hardening.audit", "-e", json.dumps({
        "bulwark_cis_level": 1, "bulwark_audit_report_dir": str(reports), "bulwark_audit_label": "level 1",
        "bulwark_audit_fail_severity": "none"}))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    (report_file,) = [path for path in reports.iterdir() if path.suffix == ".json"]
    report = json.loads(report_file.read_text(encoding="utf-8"))
    (entry,) = report["hosts"]
    assert entry["level"] == 1
    rules = set(finding["rule"] for finding in entry["findings"])
    assert rules >= LEVEL_1 and not rules & LEVEL_2_ONLY
    assert set(report["rules"][entry["cis_version"]][finding["rule"]]["level"] for finding in entry["findings"]) == {1}
