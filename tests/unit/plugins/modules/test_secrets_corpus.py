# -*- coding: utf-8 -*-
"""The corpus of secrets and look-alikes through every module's real main() under diff, and through the reports.

Each module gets the corpus where it echoes its input - daemon settings and the current daemon.json,
dockerd's command line, journal lines, file content, file names, a container's environment and labels,
its mount options, its health check's output and logs - and what it printed (its whole JSON result, the
echoed arguments and the diff included) must show no part of any secret, and every look-alike as it was.
The audits judge rather than echo: a container holding a secret fails BW-001/BW-002 naming it, one
holding only look-alikes passes. The report renderers (JSON, JUnit, HTML) get findings that went
through the masking layer, as the play gives them.
"""

from __future__ import annotations

import copy
import html
import json
import os
from xml.sax.saxutils import escape as xml_escape

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.audit import gather as gathering
from ansible_collections.bulwark.hardening.plugins.module_utils.audit import host_run
from ansible_collections.bulwark.hardening.plugins.module_utils.audit import run as audit_run
from ansible_collections.bulwark.hardening.plugins.module_utils.common.masking import mask_result
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd import service
from ansible_collections.bulwark.hardening.plugins.plugin_utils.report import files as report_files
from ansible_collections.bulwark.hardening.plugins.plugin_utils.report import model as report_model
from ansible_collections.bulwark.hardening.plugins.module_utils.audit import image_run
from ansible_collections.bulwark.hardening.plugins.modules import (
    audit, container_audit, container_remediate, daemon_config, daemon_files, daemon_restart, file_policy,
    host_harden, image_audit, managed_files,
)
from ansible_collections.bulwark.hardening.tests.unit.plugins.modules.harness import run_module

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils import rule_fixtures
import test_container_remediate as remediate_tests
import test_daemon_preflight as preflight_tests
import test_daemon_restart as restart_tests
import test_host_harden as harden_tests
# The fakes of each module's own tests, used here as they are there (pytest finds fixtures imported by name).
from test_container_remediate import replacing_fixture  # noqa: F401  pylint: disable=unused-import
from test_daemon_preflight import host  # noqa: F401  pylint: disable=unused-import
from test_host_harden import fixed_host  # noqa: F401  pylint: disable=unused-import
from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.secrets_corpus import LOOKALIKES, SECRETS, leaked, line, lost, single_line

EVERYTHING = SECRETS + LOOKALIKES


def printed(outcome):
    """Everything a run printed: its JSON as printed, and every string of it decoded (escapes undone)."""
    strings = []
    pending = [outcome.result]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            strings.append(item)
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return outcome.stdout + "\n" + "\n".join(strings)


def assert_no_secret(text, secrets=SECRETS):
    shown = dict((entry["id"], leaked(text, entry)) for entry in secrets)
    assert dict((key, value) for key, value in shown.items() if value) == {}


def assert_lookalikes_kept(text, lookalikes=LOOKALIKES, form=line):
    assert [entry["id"] for entry in lookalikes if form(entry) not in text] == []


def assert_readable_parts_kept(text, secrets=SECRETS):
    assert dict((entry["id"], lost(text, entry)) for entry in secrets if lost(text, entry)) == {}


# --- daemon_config: settings, the current daemon.json, the diff -------------------------------------------

def daemon_settings():
    """A change carrying the corpus as daemon labels, with a proxy and a mirror that hold credentials."""
    return {"labels": [line(entry) for entry in EVERYTHING], "registry-mirrors": ["https://mirroruser:M1rror-t0ken-8@mirror"],
            "proxies": {"http-proxy": "http://proxyuser:Pr0xy-pw-31@proxy:3128"}}


@pytest.fixture(name="daemon_json")
def daemon_json_fixture(tmp_path):
    return tmp_path / "daemon.json"


def run_daemon_config(daemon_json, settings, **options):
    # The module's temporary directory is left to the module (it removes it at exit), not to the harness.
    remote_tmp = daemon_json.parent / "remote-tmp"
    remote_tmp.mkdir(exist_ok=True)
    return run_module(daemon_config.main, {"path": str(daemon_json), "settings": settings, "validate_with_dockerd": False,
                                           "dockerd_args": [], "owner": "", "group": ""}, remote_tmp=remote_tmp, **options)


def test_daemon_config_masks_the_corpus_in_its_result_diff_and_arguments(daemon_json):
    outcome = run_daemon_config(daemon_json, daemon_settings(), check_mode=True, diff=True)
    assert not outcome.failed, outcome.msg
    text = printed(outcome)
    assert_no_secret(text)
    assert_lookalikes_kept(text)
    assert_readable_parts_kept(text, single_line(SECRETS))
    assert "M1rror-t0ken-8" not in text and "Pr0xy-pw-31" not in text


def test_daemon_config_masks_the_corpus_of_the_current_file_in_the_diff_and_a_failure(daemon_json):
    daemon_json.write_text(json.dumps({"labels": [line(entry) for entry in EVERYTHING]}))
    outcome = run_daemon_config(daemon_json, {"icc": False}, check_mode=True, diff=True)
    assert not outcome.failed, outcome.msg
    assert_no_secret(printed(outcome))
    assert_lookalikes_kept(printed(outcome))
    refused = run_daemon_config(daemon_json, {"labels": "; ".join(line(entry) for entry in EVERYTHING)}, check_mode=True)
    assert refused.failed
    assert_no_secret(printed(refused))


# --- daemon_preflight: settings, dockerd's command line, a refusal -------------------------------------------

def test_daemon_preflight_masks_the_corpus_in_its_plan_and_a_refusal(host):
    preflight_host = host
    preflight_host.environment = {"DOCKER_OPTS": " ".join("--log-opt %s" % line(entry) for entry in single_line(EVERYTHING))}
    outcome = preflight_tests.run(daemon_settings())
    assert not outcome.failed, outcome.msg
    text = printed(outcome)
    assert_no_secret(text)
    assert_lookalikes_kept(text)
    preflight_host.processes["dockerd"] = (1234, {"nofile": (20000, 20000)}, preflight_tests.STATUS_WITHOUT_SYS_RESOURCE)
    refused = preflight_tests.run(dict(daemon_settings(), **{"default-ulimits": preflight_tests.NOFILE_65536}))
    assert refused.failed
    assert_no_secret(printed(refused))
    assert_lookalikes_kept(printed(refused))


# --- daemon_restart: what dockerd said when it refused the new configuration ---------------------------------

def test_daemon_restart_masks_the_corpus_in_what_dockerd_said(monkeypatch, tmp_path):
    fake = restart_tests.Restart()
    monkeypatch.setattr(daemon_restart, "connect", fake.connect)
    monkeypatch.setattr(daemon_restart, "unread_files", lambda params: [])
    said = ['level=fatal msg="invalid configuration: %s"' % line(entry) for entry in EVERYTHING]
    fake.roll_back = lambda daemon, book, started, config_path=None, running_before=(): (
        [config_path], said, "The previous configuration is back.")
    fake.failure = service.RestartFailed("dockerd exited")
    for name in ("enable_live_restore_first", "restart_verified", "roll_back", "out_of_step", "running_containers",
                 "start_again"):
        monkeypatch.setattr(service, name, getattr(fake, name))
    daemon_json = tmp_path / "daemon.json"
    daemon_json.write_text("{}")
    outcome = run_module(daemon_restart.main, {"watch": [str(daemon_json)], "config_path": str(daemon_json),
                                               "checkpoint_dir": str(tmp_path / "checkpoint"), "restart": True})
    assert outcome.failed and "dockerd said" in outcome.msg
    assert_no_secret(printed(outcome))
    assert_lookalikes_kept(printed(outcome))


# --- daemon_files: the current daemon.json it reads ---------------------------------------------------------

def test_daemon_files_prints_no_secret_of_the_daemon_json_it_reads(tmp_path, monkeypatch):
    daemon_json = tmp_path / "daemon.json"
    daemon_json.write_text(json.dumps({"labels": [line(entry) for entry in EVERYTHING],
                                       "data-root": str(tmp_path / "docker")}))
    outcome = run_module(daemon_files.main, {"config_path": str(daemon_json)}, check_mode=True, diff=True)
    assert_no_secret(printed(outcome))
    broken = tmp_path / "broken.json"
    broken.write_text("{" + ", ".join(line(entry) for entry in EVERYTHING))
    refused = run_module(daemon_files.main, {"config_path": str(broken)}, check_mode=True, diff=True)
    assert_no_secret(printed(refused))


# --- file_policy: file names ----------------------------------------------------------------------------

def file_names(entries):
    """The entries that can be a file name (one line, no slash)."""
    return [entry for entry in single_line(entries) if "/" not in line(entry)]


def test_file_policy_masks_secrets_in_file_names_and_keeps_paths(tmp_path):
    paths = [str(tmp_path / "absent" / line(entry)) for entry in file_names(EVERYTHING)]
    outcome = run_module(file_policy.main, {"files": [{"path": path, "mode": "0644"} for path in paths]},
                         check_mode=True, diff=True)
    assert not outcome.failed, outcome.msg
    text = printed(outcome)
    assert_no_secret(text, file_names(SECRETS))
    assert_lookalikes_kept(text, file_names(LOOKALIKES))


# --- host_harden: the content of a file it replaces, in the diff --------------------------------------------

def test_host_harden_masks_the_corpus_of_a_file_it_replaces(tmp_path, fixed_host):
    args = harden_tests.arguments(tmp_path)
    with open(args["sysctl"]["path"], "w") as handle:
        handle.write("".join("# %s\n" % line(entry) for entry in EVERYTHING))
    outcome = run_module(host_harden.main, args, check_mode=True, diff=True)
    assert not outcome.failed, outcome.msg
    text = printed(outcome)
    assert_no_secret(text)
    assert_lookalikes_kept(text)


# --- managed_files: file content in the diff --------------------------------------------------------------

def test_managed_files_masks_the_corpus_in_the_content_it_shows(tmp_path):
    content = "".join("%s\n" % line(entry) for entry in EVERYTHING)
    outcome = run_module(managed_files.main, {"files": [{"path": str(tmp_path / "app.env"), "content": content,
                                                         "mode": "0600", "owner": "", "group": ""}]},
                         check_mode=True, diff=True)
    assert not outcome.failed, outcome.msg
    text = printed(outcome)
    assert_no_secret(text)
    assert_lookalikes_kept(text)
    assert_readable_parts_kept(text)


# --- container_audit: secrets are judged (BW-001, BW-002), never echoed -------------------------------------

class CountingClient(object):
    total = 0
    calls = {}


def corpus_containers():
    """One container per secret (in its environment, and as a label), and one with every look-alike."""
    containers = []
    for index, entry in enumerate(SECRETS):
        containers.append(rule_fixtures.container("hardened", {
            "Name": "/secret-%d" % index, "Id": "%064x" % (index + 1),
            "Config.Env": ["PATH=/usr/bin", line(entry)], "Config.Labels": {entry["name"]: entry["value"]}}))
    containers.append(rule_fixtures.container("hardened", {
        "Name": "/lookalikes", "Id": "f" * 64, "Config.Env": [line(entry) for entry in LOOKALIKES],
        "Config.Labels": dict((entry["name"], entry["value"]) for entry in LOOKALIKES)}))
    return containers


@pytest.fixture(name="audited")
def audited_fixture(monkeypatch):
    def gather(client, request, options):
        return rule_fixtures.state(containers=corpus_containers(), options=options)
    monkeypatch.setattr(gathering, "gather", gather)
    monkeypatch.setattr(container_audit, "run_audit",
                        lambda **options: audit_run.run_audit(client=CountingClient(), **options))
    outcome = run_module(container_audit.main, {"scope": ["bulwark"], "report": "all"})
    assert not outcome.failed, outcome.msg
    return outcome


def test_container_audit_fails_each_secret_naming_it_and_passes_the_look_alikes(audited):
    text = printed(audited)
    assert_no_secret(text)
    verdicts = dict(((finding["rule"], finding["target"]), finding) for finding in audited.result["findings"])
    for index, entry in enumerate(SECRETS):
        for rule in ("BW-001", "BW-002"):
            finding = verdicts[(rule, "secret-%d" % index)]
            assert finding["status"] == "fail" and "%s=<masked, %d chars> (" % (entry["name"], len(entry["value"])) \
                in finding["evidence"], (entry["id"], finding)
    assert verdicts[("BW-001", "lookalikes")]["status"] == "pass"
    assert verdicts[("BW-002", "lookalikes")]["status"] == "pass"


def strings_in(value):
    """Every string of a JSON value, keys included."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for key, item in value.items() for text in [key] + strings_in(item)]
    if isinstance(value, list):
        return [text for item in value for text in strings_in(item)]
    return []


def test_the_reports_of_a_masked_audit_show_no_secret_and_every_look_alike(audited):
    # Findings as evidence can carry them (a command line, a mount), after the module's masking layer.
    echoed = mask_result({"findings": [dict(audited.result["findings"][0], rule="5.7", target="echo-%d" % index,
                                            status="fail", evidence=line(entry))
                                       for index, entry in enumerate(EVERYTHING)]})
    result = copy.deepcopy(audited.result)
    result["findings"] += echoed["findings"]
    report = report_model.build_report({"web1": {"container_audit": result}}, label="corpus")
    rendered = report_files.render_all(report, [])
    for kind, text in sorted(rendered.items()):
        decoded = html.unescape(text) if kind in ("html", "junit") else text
        if kind == "html":
            # The findings table's data: JSON in the page, with <, > and & as \u escapes (html.findings_data).
            data = text.split('<script type="application/json" id="findings-data">', 1)[1].split("</script>", 1)[0]
            decoded += "\n" + "\n".join(strings_in(json.loads(data)))
        assert_no_secret(text + "\n" + decoded)
        if kind == "json":
            decoded = "\n".join(finding["evidence"] for host in json.loads(text)["hosts"] for finding in host["findings"])
        assert_lookalikes_kept(decoded, single_line(LOOKALIKES))
    assert xml_escape(line(LOOKALIKES[0])) in rendered["junit"]


# --- container_remediate: mount options, a failing health check, the logs ----------------------------------

def test_container_remediate_masks_the_corpus_in_mount_options_changes_and_diff(replacing, tmp_path):
    options = replacing.data["HostConfig"]["Mounts"][0]["VolumeOptions"]["DriverConfig"]["Options"]
    options.update((entry["name"], entry["value"]) for entry in EVERYTHING)
    outcome = run_module(container_remediate.main, dict(remediate_tests.RECREATE_ARGS, state_dir=str(tmp_path)),
                         check_mode=True, diff=True)
    assert not outcome.failed, outcome.msg
    text = printed(outcome)
    assert_no_secret(text)
    assert_lookalikes_kept(text, form=lambda entry: entry["value"])


@pytest.mark.parametrize("entry", EVERYTHING, ids=[entry["id"] for entry in EVERYTHING])
def test_container_remediate_masks_a_failing_health_checks_output(entry, replacing, monkeypatch, tmp_path):
    output = "%s\n%s\n" % (line(entry), entry["value"] if entry in SECRETS and entry.get("by_value") else "")
    monkeypatch.setattr(remediate_tests, "PROBE_OUTPUT", output)
    outcome = run_module(container_remediate.main, dict(remediate_tests.RECREATE_ARGS, state_dir=str(tmp_path)), diff=True)
    assert outcome.failed
    text = printed(outcome)
    if entry in SECRETS:
        assert_no_secret(text, [entry])
    else:
        # The health check's output is cut at 200 characters: a long look-alike shows as far as it goes.
        [container] = outcome.result["containers"]
        assert line(entry)[:120] in container["detail"] and line(entry) in container["logs"]


# --- image_audit ---------------------------------------------------------------------------------------------

def test_image_audit_masks_the_corpus_in_its_findings(monkeypatch):
    findings = [{"rule": "4.10", "target": "shop/api:1", "status": "fail", "evidence": line(entry)} for entry in EVERYTHING]
    monkeypatch.setattr(image_audit, "run_image_audit", lambda **options: {"findings": findings, "summary": {}})
    outcome = run_module(image_audit.main, {"images": ["shop/api:1"]})
    text = printed(outcome)
    assert_no_secret(text)
    assert_lookalikes_kept(text)


# --- audit: both audits in one module, the container audit judging the corpus, the image audit echoing it --------

def test_audit_judges_the_corpus_in_containers_and_masks_it_in_the_image_findings(monkeypatch):
    def gather(client, request, options):
        return rule_fixtures.state(containers=corpus_containers(), options=options)
    echoed = [{"rule": "4.10", "target": "shop/api:1", "status": "fail", "evidence": line(entry)} for entry in EVERYTHING]
    monkeypatch.setattr(gathering, "gather", gather)
    monkeypatch.setattr(image_run, "run_image_audit", lambda **options: {"findings": echoed, "summary": {}})
    monkeypatch.setattr(audit, "run_host_audit", lambda **options: host_run.run_host_audit(client=CountingClient(), **options))
    outcome = run_module(audit.main, {"scope": ["bulwark"], "report": "all"})
    assert not outcome.failed, outcome.msg
    text = printed(outcome)
    assert_no_secret(text)
    assert_lookalikes_kept(text)
    verdicts = dict(((finding["rule"], finding["target"]), finding["status"]) for finding in outcome.result["findings"])
    assert [index for index in range(len(SECRETS)) if verdicts[("BW-001", "secret-%d" % index)] != "fail"] == []
    assert verdicts[("BW-001", "lookalikes")] == "pass" and len(outcome.result["image_audit"]["findings"]) == len(EVERYTHING)


def test_every_module_has_a_corpus_test_here():
    modules = os.path.join(os.path.dirname(os.path.abspath(daemon_config.__file__)))
    tested = set(["audit", "container_audit", "container_remediate", "daemon_config", "daemon_files", "daemon_preflight",
                  "daemon_restart", "file_policy", "host_harden", "image_audit", "managed_files"])
    # compliance_report and audit_verdict are action plugins; their reports and lines are tested above, through the
    # renderers, and their results pass through masked_action (test_masking_layer.py).
    present = set(name[:-3] for name in os.listdir(modules) if name.endswith(".py") and name != "__init__.py")
    assert present - tested == {"compliance_report", "audit_verdict"}
