# -*- coding: utf-8 -*-
"""compliance_report, run by ansible-playbook as audit.yml runs it, with hostile input for everything it writes.

Host names and labels that are paths (`../../x`, `/abs`, `a/b`), hold control characters or are huge; a
report directory that is a symlink, or that someone else left world-writable; an existing report file that
is a symlink (never followed); an earlier JSON report with a score that is not a number. Each case checks
the files on disk: nothing outside the report directory, nothing written when the input is refused, modes
0640 in a 0750 directory unless the task asks otherwise, and JUnit and HTML that parse. No Docker needed.
"""

from __future__ import annotations

import json
import os
import stat
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.bulwark.hardening.tests.integration.adhoc import run_playbook
from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.report_fixtures import two_hosts
from ansible_collections.bulwark.hardening.plugins.plugin_utils.report import model

pytestmark = pytest.mark.integration

PLAYBOOK = """
- name: Write the reports of fixture results
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Report
      bulwark.hardening.compliance_report:
        dest: "{{ report_dest }}"
        label: "{{ report_label }}"
        results: "{{ report_results }}"
        mode: "{{ report_mode | default(omit) }}"
      register: report
"""

HOSTILE_HOSTS = ["../../escaped", "../sibling", "/abs/path", "a/b", "web\x1b[2J1", "tab\there", "nl\nhost",
                 ".hidden", "..", "x" * 5000, "caf\u00e9", "rtl\u202etxt.exe", "amp&<lt>\"quote'"]


@pytest.fixture
def playbook(tmp_path):
    path = tmp_path / "report.yml"
    path.write_text(PLAYBOOK)
    return str(path)


def run_report(playbook, dest, hosts=None, label="weekly", **extra):
    results = two_hosts()
    for name in hosts or []:
        results[name] = two_hosts()["web1"]
    variables = {"report_dest": str(dest), "report_label": label, "report_results": results}
    variables.update(extra)
    run = run_playbook(playbook, variables)
    return run, run.tasks().get("Report", {})


def files_under(top):
    found = set()
    for directory, _dirs, names in os.walk(str(top)):
        for name in names:
            found.add(os.path.relpath(os.path.join(directory, name), str(top)))
    return found


def mode(path):
    return oct(stat.S_IMODE(os.lstat(str(path)).st_mode))


def test_hostile_host_names_stay_inside_the_report_directory(playbook, tmp_path):
    top = tmp_path / "top"
    dest = top / "a" / "reports"
    run, result = run_report(playbook, dest, HOSTILE_HOSTS)
    assert run.returncode == 0 and not result.get("failed"), result.get("msg") or run.stderr[-2000:]
    written = files_under(top)
    assert all(name.startswith(os.path.join("a", "reports") + os.sep) for name in written), written
    names = sorted(os.listdir(str(dest)))
    texts = [name for name in names if name.endswith(".txt")]
    assert len(texts) == len(HOSTILE_HOSTS) + 2  # one per host: no two hosts share a file
    assert sorted(os.path.basename(path) for path in result["files"]["text"]) == sorted(texts)
    for name in names:
        assert not name.startswith(".") and len(name.encode()) <= 255
        assert all(char.isalnum() or char in "_.-" for char in name), name
    assert model.host_file_name("web1", "weekly") == "web1-weekly.txt" and "web1-weekly.txt" in texts
    root = ET.parse(result["files"]["junit"]).getroot()
    assert len(root.findall("testsuite")) == 2 * (len(HOSTILE_HOSTS) + 2)
    page = open(result["files"]["html"], encoding="utf-8").read()
    assert "\x1b" not in page and "\u202e" not in page and "<lt>" not in page
    for name in texts:
        text = open(os.path.join(str(dest), name), encoding="utf-8").read()
        assert "\x1b" not in text and "\u202e" not in text


def test_files_are_0640_in_a_0750_directory_and_the_task_can_ask_otherwise(playbook, tmp_path):
    dest = tmp_path / "reports"
    run, result = run_report(playbook, dest)
    assert run.returncode == 0, result.get("msg")
    assert mode(dest) == "0o750" and set(mode(dest / name) for name in os.listdir(str(dest))) == {"0o640"}
    shared = tmp_path / "shared"
    run, result = run_report(playbook, shared, report_mode="0644")
    assert run.returncode == 0, result.get("msg")
    assert mode(shared) == "0o755" and set(mode(shared / name) for name in os.listdir(str(shared))) == {"0o644"}


# Each case is one ansible-playbook run; every other mode and label is in the unit tests (test_report_hostile.py).
@pytest.mark.parametrize("report_mode", ["0755", "rw-r-----"])
def test_a_mode_that_is_not_a_report_files_mode_is_refused_before_anything_is_written(playbook, tmp_path, report_mode):
    dest = tmp_path / "reports"
    run, result = run_report(playbook, dest, report_mode=report_mode)
    assert run.returncode != 0 and "mode" in result["msg"]
    assert not dest.exists()


@pytest.mark.parametrize("label", ["a/b", "../../x", "x" * 101, "bad\x00label", "esc\x1blabel"])
def test_a_bad_label_is_refused_before_anything_is_written(playbook, tmp_path, label):
    dest = tmp_path / "reports"
    run, result = run_report(playbook, dest, label=label)
    assert run.returncode != 0 and "label" in result["msg"]
    assert not dest.exists() and files_under(tmp_path) == {"report.yml"}


def test_a_report_directory_that_is_a_symlink_is_refused(playbook, tmp_path):
    real = tmp_path / "real"
    real.mkdir(mode=0o750)
    link = tmp_path / "link"
    link.symlink_to(real)
    run, result = run_report(playbook, link)
    assert run.returncode != 0 and "symlink" in result["msg"]
    assert os.listdir(str(real)) == []


def test_an_existing_report_file_that_is_a_symlink_is_replaced_never_followed(playbook, tmp_path):
    dest = tmp_path / "reports"
    dest.mkdir(mode=0o750)
    outside = tmp_path / "outside.txt"
    outside.write_text("kept\n")
    (dest / model.host_file_name("web1", "weekly")).symlink_to(outside)
    run, result = run_report(playbook, dest)
    assert run.returncode == 0, result.get("msg")
    assert outside.read_text() == "kept\n"
    written = dest / model.host_file_name("web1", "weekly")
    assert not written.is_symlink() and written.read_text().startswith("== weekly of web1")


def test_a_world_writable_report_directory_is_made_0750_and_what_others_put_there_is_not_read(playbook, tmp_path):
    dest = tmp_path / "reports"
    dest.mkdir()
    os.chmod(str(dest), 0o777)
    planted = dest / "bulwark-report-20200101T000000Z-weekly.json"
    document = model.build_report(two_hosts(), "weekly", "2020-01-01T00:00:00Z")
    planted.write_text(json.dumps(document))
    os.chmod(str(planted), 0o666)  # anyone could have written it: not part of the trend
    run, result = run_report(playbook, dest)
    assert run.returncode == 0, result.get("msg")
    assert mode(dest) == "0o750"
    page = open(result["files"]["html"], encoding="utf-8").read()
    assert "20200101T000000Z" not in page
    assert any("20200101T000000Z" in warning for warning in result.get("warnings", []))


def test_an_earlier_report_with_a_score_that_is_not_a_number_is_skipped_with_a_warning(playbook, tmp_path):
    dest = tmp_path / "reports"
    dest.mkdir(mode=0o750)
    earlier = model.build_report(two_hosts(), "weekly", "2026-01-01T00:00:00Z")
    earlier["summary"]["score"] = "high"
    path = dest / ("bulwark-report-%s.json" % earlier["run"]["id"])
    path.write_text(json.dumps(earlier))
    run, result = run_report(playbook, dest)
    assert run.returncode == 0, result.get("msg") or run.stderr[-2000:]
    assert any(path.name in warning and "score" in warning for warning in result.get("warnings", [])), result.get("warnings")


INVENTORY = """
all:
  hosts:
    "../../evil":
      ansible_connection: local
    "web\\e1":
      ansible_connection: local
    "a/b c":
      ansible_connection: local
"""

FROM_HOSTVARS = """
- name: Report from what each host registered, as audit.yml does
  hosts: all
  gather_facts: false
  tasks:
    - name: Register an audit result
      ansible.builtin.set_fact:
        bulwark_audit: {"summary": {"score": 50.0, "by_status": {"fail": 1}, "by_section": {}}, "findings": []}
    - name: Report
      bulwark.hardening.compliance_report:
        dest: "{{ report_dest }}"
      run_once: true
"""


def test_hostile_inventory_host_names_through_hostvars(tmp_path):
    import subprocess  # pylint: disable=import-outside-toplevel
    import sys  # pylint: disable=import-outside-toplevel

    from ansible_collections.bulwark.hardening.tests.integration.adhoc import ansible_env, ensure_farm  # pylint: disable=import-outside-toplevel

    ensure_farm()
    (tmp_path / "inventory.yml").write_text(INVENTORY)
    (tmp_path / "report.yml").write_text(FROM_HOSTVARS)
    dest = tmp_path / "top" / "reports"
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", str(tmp_path / "inventory.yml"),
               str(tmp_path / "report.yml"), "-e", json.dumps({"report_dest": str(dest), "ansible_python_interpreter": sys.executable})]
    done = subprocess.run(command, capture_output=True, text=True, env=ansible_env(), check=False)
    assert done.returncode == 0, done.stdout[-3000:]
    assert files_under(tmp_path) == set([os.path.join("top", "reports", name) for name in os.listdir(str(dest))]
                                        + ["inventory.yml", "report.yml"])
    texts = sorted(name for name in os.listdir(str(dest)) if name.endswith(".txt"))
    assert texts == sorted(model.host_file_name(name, "audit") for name in ("../../evil", "web\x1b1", "a/b c"))
