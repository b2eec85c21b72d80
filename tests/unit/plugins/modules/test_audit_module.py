# -*- coding: utf-8 -*-
"""The audit module's main(): the options reach run_host_audit (the connection's apart, check mode passed on), bad
input fails the task, and an image audit the Engine failed leaves the container audit's result with a warning."""

from __future__ import annotations

from ansible.module_utils.common import warnings as ansible_warnings
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.run import AuditError
from ansible_collections.bulwark.hardening.plugins.module_utils.common.masking import MaskedModule
from ansible_collections.bulwark.hardening.plugins.modules import audit
from ansible_collections.bulwark.hardening.tests.unit.plugins.modules.harness import run_module

CONTAINER_RESULT = {"summary": {"total": 1}, "rules": {}, "findings": [], "containers": 0, "images": 0, "api_calls": 2,
                    "api_calls_by_endpoint": {"info": 1, "containers": 1}, "duration_s": 0.1}


def recording(monkeypatch, result=None, error=None):
    calls = []

    def run_host_audit(**options):
        calls.append(options)
        if error is not None:
            raise error
        return dict(result or CONTAINER_RESULT)
    monkeypatch.setattr(audit, "run_host_audit", run_host_audit)
    return calls


def test_every_option_reaches_both_audits_and_check_mode_is_passed_on(monkeypatch):
    calls = recording(monkeypatch)
    outcome = run_module(audit.main, {"image_audit": False, "layer_scan": False, "name_filter": ["web-*"], "level": 1},
                         check_mode=True)
    assert not outcome.failed and outcome.changed is False, outcome.msg
    [options] = calls
    assert options["check_mode"] is True and options["image_audit"] is False and options["layer_scan"] is False
    assert options["name_filter"] == ["web-*"] and options["level"] == 1 and options["connection"].docker_host.startswith("unix://")
    assert "docker_host" not in options and "timeout" not in options  # the connection's options travel as the connection
    assert outcome.result["summary"] == {"total": 1}


def test_bad_input_fails_the_task(monkeypatch):
    recording(monkeypatch, error=AuditError("scan_max_entries must be a positive integer, not 0"))
    outcome = run_module(audit.main, {"scan_max_entries": 0})
    assert outcome.failed and outcome.msg == "scan_max_entries must be a positive integer, not 0"


def test_a_failed_image_audit_warns_and_keeps_the_container_audits_result(monkeypatch):
    # Ansible keeps a module's warnings in a process-wide list (one module runs per process): this test's own, so that
    # the warning does not reach the results of modules other tests run after it. Where controller code was loaded
    # before (other tests), Ansible shows a warning instead of returning it: what the module warns is read here.
    monkeypatch.setattr(ansible_warnings, "_global_warnings", {})
    warned = []
    warn = MaskedModule.warn
    monkeypatch.setattr(MaskedModule, "warn", lambda self, warning, *args, **kwargs: warned.append(warning) or warn(self, warning, *args, **kwargs))
    failed = dict(CONTAINER_RESULT, image_audit={"failed": True, "msg": "image audit: the Engine went away"}, api_calls_shared={})
    recording(monkeypatch, result=failed)
    outcome = run_module(audit.main, {})
    assert not outcome.failed and outcome.result["summary"] == {"total": 1}
    assert outcome.result["image_audit"] == {"failed": True, "msg": "image audit: the Engine went away"}
    assert warned == ["the image audit failed, the container audit's result stands: image audit: the Engine went away"]
