# -*- coding: utf-8 -*-
"""The masking layer: MaskedModule and masked_main, through a small module run the way Ansible runs one.

The module below echoes what it is told to in every channel a module has: the result (a field nobody
planned for included), msg, diff, a warning, a deprecation, the log, an exception it raises. Whatever
channel, no secret leaves it, and what is not a secret leaves as it came.
"""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleActionFail, AnsibleActionSkip
from ansible.module_utils import basic

from ansible_collections.bulwark.hardening.plugins.module_utils.common.masking import (
    MaskedModule, mask_result, masked_action, masked_main,
)
from ansible_collections.bulwark.hardening.tests.unit.plugins.modules.harness import run_module

TOKEN = "ghp_7riYs1vtHFysN7z8yQbYoJVmxkmaXiQNcVse"
MIRROR = "https://mirroruser:M1rror-t0ken-8@mirror.example.com"
LOOKALIKE = "JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64"
SECRETS = (TOKEN, TOKEN[:20], "M1rror-t0ken-8", "Cifs-pw-5555", "hunter2-x")

ARGUMENT_SPEC = dict(
    settings=dict(type="dict", default={}),
    echo=dict(type="str", default=""),
    channel=dict(type="str", default="result"),
)


@masked_main
def echoing_main():
    module = MaskedModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    text, channel = module.params["echo"], module.params["channel"]
    if channel == "warn":
        module.warn("dockerd said: %s" % text)
    elif channel == "deprecate":
        module.deprecate("setting %s is deprecated" % text, version="2.0.0", collection_name="bulwark.hardening")
    elif channel == "log":
        module.log("ran with %s" % text)
    elif channel == "raise":
        raise ValueError("cannot parse %s" % text)
    elif channel == "fail":
        module.fail_json(msg="refused: %s" % text, detail=text, exception="Traceback: ValueError: %s" % text)
    module.exit_json(changed=False, msg=text, detail=[{"logs": text}], unplanned_field={"nested": text},
                     diff={"before": "", "after": text})


def run(echo, channel="result", **args):
    return run_module(echoing_main, dict(args, echo=echo, channel=channel), diff=True)


def assert_clean(outcome):
    for secret in SECRETS:
        assert secret not in outcome.stdout


TEXT = "token %s mirror %s DB_PASSWORD=hunter2-x o=username=u,password=Cifs-pw-5555 %s" % (TOKEN, MIRROR, LOOKALIKE)


def test_every_field_of_the_result_and_the_echoed_arguments_are_masked():
    outcome = run(TEXT)
    assert not outcome.failed
    assert_clean(outcome)
    result = outcome.result
    assert result["msg"] == ("token ******** mirror https://mirroruser:********@mirror.example.com DB_PASSWORD=******** "
                             "o=username=u,password=******** " + LOOKALIKE)
    assert result["unplanned_field"]["nested"] == result["msg"] == result["diff"]["after"] == result["detail"][0]["logs"]
    assert result["invocation"]["module_args"]["echo"] == result["msg"]


def test_a_secret_of_the_arguments_is_masked_wherever_it_is_repeated_even_cut_out_of_its_url():
    outcome = run("the mirror password was M1rror-t0ken-8 all along", settings={"registry-mirrors": [MIRROR]})
    assert outcome.result["msg"] == "the mirror password was ******** all along"
    assert outcome.result["invocation"]["module_args"]["settings"]["registry-mirrors"] == [
        "https://mirroruser:********@mirror.example.com"]
    assert_clean(outcome)


def test_the_secrets_of_the_arguments_are_no_log_values_from_the_start():
    outcome = run("x", settings={"registry-mirrors": [MIRROR], "labels": ["DB_PASSWORD=hunter2-x"]})
    assert not outcome.failed
    module = MaskedModule.current
    assert {"M1rror-t0ken-8", "hunter2-x"} <= module.no_log_values


def test_a_failure_its_message_details_and_traceback_are_masked():
    outcome = run(TEXT, channel="fail")
    assert outcome.failed and outcome.result["msg"].startswith("refused: token ******** mirror")
    assert_clean(outcome)


def test_a_failure_of_the_argument_spec_quoting_a_secret_is_masked():
    # settings must be a dict: Ansible fails before main() could do anything, echoing the arguments.
    outcome = run_module(echoing_main, {"settings": "not a dict, with %s in it" % MIRROR})
    assert outcome.failed and "unable to convert to dict" in outcome.msg
    assert outcome.result["invocation"]["module_args"]["settings"] == (
        "not a dict, with https://mirroruser:********@mirror.example.com in it")
    assert_clean(outcome)


def test_an_exception_main_did_not_handle_is_a_masked_failure():
    outcome = run(TEXT, channel="raise")
    assert outcome.failed
    assert outcome.msg.startswith("unexpected error: ValueError: cannot parse token ******** mirror")
    assert_clean(outcome)


@pytest.mark.parametrize("channel", ["warn", "deprecate"])
def test_warnings_and_deprecations_are_masked(channel, monkeypatch):
    said = []
    monkeypatch.setattr(basic, "warn", lambda warning, **kwargs: said.append(warning))
    monkeypatch.setattr(basic, "deprecate", lambda msg, **kwargs: said.append(msg))
    outcome = run(TEXT, channel=channel)
    assert not outcome.failed
    [text] = said
    assert "token ******** mirror" in text and LOOKALIKE in text
    assert not any(secret in text for secret in SECRETS)


def test_the_log_is_masked(monkeypatch):
    logged = []
    monkeypatch.setattr(basic.AnsibleModule, "log", lambda self, msg, log_args=None: logged.append(msg))
    run(TEXT, channel="log")
    assert logged and not any(secret in message for message in logged for secret in SECRETS)
    assert any("token ******** mirror" in message for message in logged)


def test_an_action_plugins_result_is_masked_with_the_tasks_own_secrets():
    class Task(object):
        args = {"settings": {"registry-mirrors": [MIRROR]}}

    class Action(object):
        _task = Task()

        @masked_action
        def run(self, tmp=None, task_vars=None):
            return {"msg": "wrote M1rror-t0ken-8 and %s" % TEXT, "changed": True, "paths": ["/var/lib/bulwark/reports"]}

    result = Action().run()
    assert result["changed"] is True and result["paths"] == ["/var/lib/bulwark/reports"]
    assert result["msg"].startswith("wrote ******** and token ********")
    assert not any(secret in repr(result) for secret in SECRETS)
    assert mask_result({"evidence": LOOKALIKE}) == {"evidence": LOOKALIKE}


@pytest.mark.parametrize("raised, status", [
    (AnsibleActionFail, "failed"), (AnsibleActionSkip, "skipped"), (ValueError, "failed"),
])
def test_what_an_action_plugin_raises_is_its_result_masked(raised, status):
    class Action(object):
        _task = None

        @masked_action
        def run(self, tmp=None, task_vars=None):
            raise raised("cannot write the report for %s" % TEXT)

    result = Action().run()
    assert result[status] is True
    assert "cannot write the report for token ******** mirror" in result["msg"]
    assert not any(secret in repr(result) for secret in SECRETS)
