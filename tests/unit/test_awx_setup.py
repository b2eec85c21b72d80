"""playbooks/awx_setup.yml without an AWX: the objects it declares, and what its tasks send.

Static checks read the playbook's YAML: every awx.awx task uses options its
module has (from the awx.awx the ``ansible`` package bundles), the three job
templates and their job types, the survey spec, the weekly schedule, the
notification on the audit's failures, the variables' prefix and header.
A rendering check runs the playbook with each awx.awx module replaced by a
stand-in that records its arguments, so the templated survey, extra vars and
connection defaults are checked as AWX would receive them.
"""

import ast
import json
import os
import re
import subprocess
import sys

import pytest
import yaml

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOK = os.path.join(TOP, "playbooks", "awx_setup.yml")
BIN = os.path.dirname(sys.executable)
SEVERITIES = ["low", "medium", "high", "critical"]
CIS_LEVELS = ["1", "2"]
SURVEY_TYPES = {"text", "textarea", "password", "integer", "float", "multiplechoice", "multiselect"}


class _Loader(yaml.SafeLoader):
    """Reads Ansible's !unsafe tag as a plain string."""


_Loader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def _read(path):
    with open(path) as handle:
        return handle.read()


@pytest.fixture(scope="module")
def play():
    plays = yaml.load(_read(PLAYBOOK), Loader=_Loader)
    assert isinstance(plays, list) and len(plays) == 1
    return plays[0]


def _module(task):
    names = [key for key in task if re.match(r"^[a-z_]+\.[a-z_]+\.[a-z_]+$", key)]
    assert len(names) == 1, task.get("name")
    return names[0]


def _tasks(play, module):
    return [task for task in play["tasks"] if _module(task) == module]


def _one(play, module):
    tasks = _tasks(play, module)
    assert len(tasks) == 1, "%s: expected one task, found %d" % (module, len(tasks))
    return tasks[0]


def _job_templates(play):
    """{name suffix: item} of the loop that creates the job templates."""
    for task in _tasks(play, "awx.awx.job_template"):
        if "loop" in task:
            return {item["name"]: item for item in task["loop"]}, task
    pytest.fail("no awx.awx.job_template task loops over the templates")


# The awx.awx modules' options ------------------------------------------------

def _awx_options(module):
    """Options and aliases of a bundled awx.awx module, from its DOCUMENTATION (and the auth fragment)."""
    from ansible_collections.awx import awx  # the ansible package's bundled copy

    root = list(awx.__path__)[0]
    path = os.path.join(root, "plugins", "modules", module + ".py")
    tree = ast.parse(_read(path))
    doc = next(yaml.safe_load(node.value.value) for node in tree.body
               if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "DOCUMENTATION")
    names = set()
    fragments = doc.get("extends_documentation_fragment") or []
    for fragment in [fragments] if isinstance(fragments, str) else fragments:
        frag_path = os.path.join(root, "plugins", "doc_fragments", fragment.split(".")[-1] + ".py")
        frag_tree = ast.parse(_read(frag_path))
        for node in ast.walk(frag_tree):
            if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "DOCUMENTATION":
                for name, spec in (yaml.safe_load(node.value.value).get("options") or {}).items():
                    names.add(name)
                    names.update(spec.get("aliases") or [])
    for name, spec in (doc.get("options") or {}).items():
        names.add(name)
        names.update(spec.get("aliases") or [])
    return names


def test_every_awx_task_uses_options_its_module_has(play):
    for task in play["tasks"]:
        module = _module(task)
        if not module.startswith("awx.awx."):
            assert module.startswith("ansible.builtin."), module
            continue
        unknown = sorted(set(task[module]) - _awx_options(module.split(".")[-1]))
        assert not unknown, "%s (%s): options awx.awx does not have: %s" % (task["name"], module, unknown)
    auth = play["module_defaults"]["group/awx.awx.controller"]
    assert not set(auth) - _awx_options("job_template")


def test_controller_connection_comes_from_variables_or_awx_environment(play):
    auth = play["module_defaults"]["group/awx.awx.controller"]
    assert set(auth) >= {"controller_host", "controller_username", "controller_password", "controller_oauthtoken"}
    for option, value in auth.items():
        assert re.fullmatch(r"\{\{ bulwark_awx_\w+ \| default\(omit\) \}\}", value), (
            "%s must fall back to awx.awx's CONTROLLER_* environment variables when unset: %r" % (option, value))


# Job templates, survey, schedule, notification -------------------------------------

def test_job_templates_for_harden_audit_and_remediate(play):
    items, task = _job_templates(play)
    assert {name: item["job_type"] for name, item in items.items()} == {
        "harden": "run", "audit": "check", "remediate": "run"}
    defaults = play["vars"]
    for name, item in items.items():
        path = defaults[re.fullmatch(r"\{\{ (bulwark_awx_\w+_playbook) \}\}", item["playbook"]).group(1)]
        assert path == "playbooks/%s.yml" % name and os.path.isfile(os.path.join(TOP, path))
    args = task["awx.awx.job_template"]
    assert args["project"] == "{{ bulwark_awx_project }}" and args["inventory"] == "{{ bulwark_awx_inventory }}"
    assert args["credentials"] == ["{{ bulwark_awx_machine_credential }}"], "the machine credential, by name"
    assert args["job_type"] == "{{ item.job_type }}"
    assert args["survey_spec"] == "{{ item.survey if item.survey | length > 0 else omit }}"
    assert args["survey_enabled"] == "{{ item.survey | length > 0 }}"
    assert {name: item["survey"] for name, item in items.items()} == {
        "harden": {}, "audit": "{{ bulwark_awx_survey_spec }}", "remediate": "{{ bulwark_awx_remediate_survey_spec }}"}


def _check_questions(survey):
    assert survey["name"] and "description" in survey
    questions = {question["variable"]: question for question in survey["spec"]}
    assert len(questions) == len(survey["spec"]), "survey variables must be unique"
    for question in survey["spec"]:
        assert question["question_name"] and question["type"] in SURVEY_TYPES, question
        assert isinstance(question["required"], bool)
        assert re.fullmatch(r"[a-z_][a-z0-9_]*", question["variable"])
    return questions


def test_survey_spec_is_valid_and_sets_the_variables_audit_reads(play):
    questions = _check_questions(play["vars"]["bulwark_awx_survey_spec"])
    assert set(questions) == {"bulwark_audit_fail_severity", "bulwark_audit_containers", "bulwark_cis_level"}

    severity = questions["bulwark_audit_fail_severity"]
    assert severity["type"] == "multiplechoice" and severity["required"] is True
    assert severity["choices"] == "{{ bulwark_awx_severities }}"
    assert play["vars"]["bulwark_awx_severities"] == SEVERITIES
    assert severity["default"] == "{{ bulwark_awx_audit_fail_severity }}"
    assert play["vars"]["bulwark_awx_audit_fail_severity"] in SEVERITIES

    containers = questions["bulwark_audit_containers"]
    assert containers["type"] == "text" and containers["required"] is False
    assert 0 <= containers["min"] <= containers["max"]
    assert len(play["vars"]["bulwark_awx_audit_containers"]) <= containers["max"]

    level = questions["bulwark_cis_level"]
    assert level["type"] == "multiplechoice" and level["required"] is True
    assert level["choices"] == "{{ bulwark_awx_cis_levels }}" and play["vars"]["bulwark_awx_cis_levels"] == CIS_LEVELS
    assert level["default"] == "{{ bulwark_awx_cis_level | string }}"
    assert str(play["vars"]["bulwark_awx_cis_level"]) in CIS_LEVELS


def test_remediate_has_its_own_survey_without_the_severity_remediate_never_reads(play):
    audit = _check_questions(play["vars"]["bulwark_awx_survey_spec"])
    remediate = _check_questions(play["vars"]["bulwark_awx_remediate_survey_spec"])
    assert set(remediate) == {"bulwark_audit_containers", "bulwark_cis_level"}
    assert all(remediate[name] == audit[name] for name in remediate), "the same questions, asked once in the playbook"
    assert play["vars"]["bulwark_awx_remediate_survey_spec"]["name"] != play["vars"]["bulwark_awx_survey_spec"]["name"]
    for playbook in ("audit", "harden", "remediate"):
        assert "bulwark_cis_level" in _read(os.path.join(TOP, "playbooks", playbook + ".yml")), playbook
    assert "bulwark_audit_fail_severity" not in _read(os.path.join(TOP, "playbooks", "remediate.yml"))


def test_remediate_maps_the_container_filter_onto_the_containers_role(play):
    items, _templates = _job_templates(play)
    assert "bulwark_awx_remediate_targets" in items["remediate"]["extra_vars"]
    expression = play["vars"]["bulwark_awx_remediate_targets"]
    assert "bulwark_audit_containers" in expression
    assert re.search(r"^\s+bulwark_awx_remediate_targets: !unsafe ", _read(PLAYBOOK), re.M), (
        "the expression is sent to AWX as text, evaluated in the job")
    specs = yaml.safe_load(_read(os.path.join(TOP, "roles", "containers", "meta", "argument_specs.yml")))
    assert "containers_targets" in specs["argument_specs"]["main"]["options"]


def test_weekly_schedule_of_the_audit(play):
    task = _one(play, "awx.awx.schedule")
    args = task["awx.awx.schedule"]
    assert args["unified_job_template"] == "{{ item.template }}" and args["state"] == "{{ item.state }}"
    # Unsliced, the audit template's; sliced, the fleet workflow's, and the audit template's own is removed.
    assert "bulwark_awx_sliced" in task["loop"] and "bulwark_awx_fleet_workflow" in task["loop"]
    rrule = play["vars"]["bulwark_awx_schedule_rrule"]
    assert re.fullmatch(r"DTSTART(;TZID=[\w/]+)?:\d{8}T\d{6}Z? RRULE:[A-Z0-9=;,]+", rrule), rrule
    parts = dict(part.split("=") for part in rrule.split("RRULE:")[1].split(";"))
    assert parts["FREQ"] == "WEEKLY" and parts.get("INTERVAL", "1") == "1"
    assert parts["BYDAY"] in ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
    assert args["rrule"] == "{{ bulwark_awx_schedule_rrule }}"


def test_notification_on_failure_is_attached_to_the_audit(play):
    task = _one(play, "awx.awx.notification_template")
    args = task["awx.awx.notification_template"]
    assert args["notification_type"] == "{{ bulwark_awx_notification_type }}"
    assert args["notification_configuration"] == "{{ bulwark_awx_notification_configuration }}"
    assert task["no_log"] is True, "the configuration holds passwords and tokens"
    names = [t["name"] for t in play["tasks"]]
    _items, templates = _job_templates(play)
    assert names.index(task["name"]) < names.index(templates["name"]), "created before the template refers to it"
    items, _templates = _job_templates(play)
    assert "bulwark_awx_notify_on_failure" in items["audit"]["notify_on_error"]
    assert "[bulwark_awx_notification]" in play["vars"]["bulwark_awx_notify_on_failure"]
    assert items["harden"]["notify_on_error"] == [] and items["remediate"]["notify_on_error"] == []
    assert templates["awx.awx.job_template"]["notification_templates_error"].startswith("{{ item.notify_on_error")


def test_secrets_are_never_logged(play):
    for task in play["tasks"]:
        module = _module(task)
        if module in ("awx.awx.credential", "awx.awx.notification_template"):
            assert task.get("no_log") is True, task["name"]


# Variables -----------------------------------------------------------------

def test_every_variable_is_prefixed_and_documented_in_the_header(play):
    text = _read(PLAYBOOK)
    header = "\n".join(line for line in text.splitlines() if line.startswith("#"))
    assert all(name.startswith("bulwark_awx_") for name in play["vars"])
    used = set(re.findall(r"\bbulwark_awx_\w+", text))
    derived = {"bulwark_awx_project", "bulwark_awx_notification", "bulwark_awx_severities", "bulwark_awx_survey_spec",
               "bulwark_awx_remediate_targets", "bulwark_awx_cis_levels", "bulwark_awx_remediate_survey_spec",
               "bulwark_awx_containers_question", "bulwark_awx_cis_level_question", "bulwark_awx_sliced",
               "bulwark_awx_merge_template", "bulwark_awx_fleet_workflow", "bulwark_awx_notify_on_failure"}
    undocumented = sorted(name for name in used - derived if not re.search(r"\b%s\b" % name, header))
    assert not undocumented, "variables missing from the playbook's header comment: %s" % undocumented
    assert "bulwark_audit_fail_severity" in header and "bulwark_audit_containers" in header and "bulwark_cis_level" in header


# Rendering -------------------------------------------------------------------

RECORDER = """\
#!/usr/bin/python
# WANT_JSON
import json, os, sys
with open(sys.argv[1]) as handle:
    args = {k: v for k, v in json.load(handle).items() if not k.startswith("_ansible")}
with open(os.environ["AWX_CALLS"], "a") as handle:
    handle.write(json.dumps({"module": "%s", "args": args}) + "\\n")
print(json.dumps({"changed": False}))
"""


def _render(tmp_path, extra_vars):
    text = _read(PLAYBOOK)
    library = tmp_path / "library"
    library.mkdir()
    modules = sorted(set(re.findall(r"^\s+awx\.awx\.(\w+):", text, re.M)))
    for module in modules:
        (library / ("rec_" + module + ".py")).write_text(RECORDER % module)
        text = re.sub(r"^(\s+)awx\.awx\.%s:" % module, r"\1rec_%s:" % module, text, flags=re.M)
    # The connection defaults, given to each recorder by name (a group needs a collection).
    block = re.search(r"^    group/awx\.awx\.controller:\n((?:      .*\n)+)", text, re.M)
    text = text.replace(block.group(0), "".join("    rec_%s:\n%s" % (module, block.group(1)) for module in modules))
    (tmp_path / "awx_setup.yml").write_text(text)
    calls = tmp_path / "calls.jsonl"
    env = dict(os.environ, AWX_CALLS=str(calls), ANSIBLE_LIBRARY=str(library), ANSIBLE_NOCOLOR="1")
    result = subprocess.run([os.path.join(BIN, "ansible-playbook"), str(tmp_path / "awx_setup.yml"),
                             "-e", json.dumps(extra_vars)], capture_output=True, text=True, env=env, cwd=str(tmp_path),
                            check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return [json.loads(line) for line in calls.read_text().splitlines()] if calls.exists() else []


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    return _render(tmp_path_factory.mktemp("awx"), {
        "bulwark_awx_scm_url": "https://git.example.invalid/bulwark/hardening.git",
        "bulwark_awx_controller_host": "https://awx.example.invalid",
        "bulwark_awx_ee_image": "registry.example.invalid/bulwark/ee:1",
        "bulwark_awx_notification_type": "webhook",
        "bulwark_awx_notification_configuration": {"url": "https://hooks.example.invalid/x", "http_method": "POST"},
        "bulwark_awx_hosts": ["docker1", {"name": "docker2", "variables": {"ansible_user": "ops"}}],
    })


def _calls(rendered, module):
    return [call["args"] for call in rendered if call["module"] == module]


def test_rendered_job_templates_and_survey(rendered):
    templates = {args["name"]: args for args in _calls(rendered, "job_template")}
    assert {name: args["job_type"] for name, args in templates.items()} == {
        "bulwark harden": "run", "bulwark audit": "check", "bulwark remediate": "run"}
    for args in templates.values():
        assert args["controller_host"] == "https://awx.example.invalid"
        assert "controller_password" not in args, "unset: awx.awx falls back to CONTROLLER_PASSWORD"
        assert args["credentials"] == ["bulwark machine"] and args["project"] == "bulwark hardening"
    audit = templates["bulwark audit"]
    assert audit["survey_enabled"] is True and audit["notification_templates_error"] == ["bulwark audit failed"]
    spec = audit["survey_spec"]["spec"]
    assert spec[0]["choices"] == SEVERITIES and spec[0]["default"] == "high"
    assert spec[0]["default"] in spec[0]["choices"]
    assert spec[2]["variable"] == "bulwark_cis_level" and spec[2]["choices"] == CIS_LEVELS and spec[2]["default"] == "2"
    remediate = templates["bulwark remediate"]
    assert remediate["survey_enabled"] is True and remediate["survey_spec"]["name"] == "bulwark remediation"
    assert remediate["survey_spec"]["spec"] == spec[1:], "container filter and CIS level, no severity"
    assert templates["bulwark harden"]["survey_enabled"] is False and "survey_spec" not in templates["bulwark harden"]
    assert "notification_templates_error" not in templates["bulwark remediate"]
    targets = templates["bulwark remediate"]["extra_vars"]["containers_targets"]
    assert targets.startswith("{{ bulwark_audit_containers"), "sent as text, evaluated by the job"


def test_rendered_schedule_notification_inventory_and_ee(rendered):
    (schedule,) = _calls(rendered, "schedule")
    assert schedule["unified_job_template"] == "bulwark audit" and "FREQ=WEEKLY" in schedule["rrule"]
    (notification,) = _calls(rendered, "notification_template")
    assert notification["notification_type"] == "webhook"
    assert notification["notification_configuration"]["url"] == "https://hooks.example.invalid/x"
    assert [args["name"] for args in _calls(rendered, "host")] == ["docker1", "docker2"]
    assert _calls(rendered, "host")[1]["variables"] == {"ansible_user": "ops"}
    (ee,) = _calls(rendered, "execution_environment")
    assert ee["image"] == "registry.example.invalid/bulwark/ee:1" and "credential" not in ee
    (project,) = _calls(rendered, "project")
    assert project["wait"] is True and "credential" not in project
    assert project["default_environment"] == ee["name"]
    assert not _calls(rendered, "credential"), "no inputs given: the machine credential is referenced, not created"
    assert not _calls(rendered, "inventory_source"), "no source path given"


def test_invalid_severity_fails_before_anything_is_sent(tmp_path):
    with pytest.raises(AssertionError, match="bulwark_awx_audit_fail_severity must be one of low, medium, high, critical"):
        _render(tmp_path, {"bulwark_awx_scm_url": "x", "bulwark_awx_audit_fail_severity": "severe"})
    assert not (tmp_path / "calls.jsonl").exists()


@pytest.mark.parametrize("level", [3, "high"])
def test_invalid_cis_level_fails_before_anything_is_sent(tmp_path, level):
    with pytest.raises(AssertionError, match="bulwark_awx_cis_level must be one of 1, 2, not %s" % level):
        _render(tmp_path, {"bulwark_awx_scm_url": "x", "bulwark_awx_cis_level": level})
    assert not (tmp_path / "calls.jsonl").exists()


@pytest.mark.parametrize("level", [1, "1"])
def test_the_cis_level_default_is_offered_as_a_choice(tmp_path, level):
    calls = _render(tmp_path, {"bulwark_awx_scm_url": "x", "bulwark_awx_cis_level": level})
    templates = {args["name"]: args for args in _calls(calls, "job_template")}
    for name in ("bulwark audit", "bulwark remediate"):
        (question,) = [q for q in templates[name]["survey_spec"]["spec"] if q["variable"] == "bulwark_cis_level"]
        assert question["default"] == "1" and question["default"] in question["choices"]


# Job slicing: the fleet audit workflow -----------------------------------------------------------------

def test_only_the_audit_is_sliced_and_one_slice_is_the_default(play):
    items, task = _job_templates(play)
    assert task["awx.awx.job_template"]["job_slice_count"] == "{{ item.job_slice_count | default(omit) }}"
    assert items["audit"]["job_slice_count"] == "{{ bulwark_awx_audit_job_slice_count | int }}"
    assert "job_slice_count" not in items["harden"] and "job_slice_count" not in items["remediate"]
    assert play["vars"]["bulwark_awx_audit_job_slice_count"] == 1


def test_the_fleet_workflow_runs_the_merge_always_after_the_sliced_audit(play):
    task = _one(play, "awx.awx.workflow_job_template")
    assert task["when"] == "bulwark_awx_sliced"
    args = task["awx.awx.workflow_job_template"]
    nodes = dict((node["identifier"], node) for node in args["workflow_nodes"])
    assert nodes["audit"]["unified_job_template"]["name"] == "{{ bulwark_awx_prefix }} audit"
    assert nodes["audit"]["related"] == {"always_nodes": [{"identifier": "merge"}]}, "the merge runs after a failed audit too"
    assert nodes["merge"]["unified_job_template"]["name"] == "{{ bulwark_awx_merge_template }}"
    assert all(node["unified_job_template"]["type"] == "job_template" for node in nodes.values())
    assert args["survey_spec"] == "{{ bulwark_awx_survey_spec }}" and args["survey_enabled"] is True
    (merge,) = [t for t in _tasks(play, "awx.awx.job_template") if "loop" not in t]
    assert merge["when"] == "bulwark_awx_sliced"
    merge_args = merge["awx.awx.job_template"]
    assert merge_args["name"] == "{{ bulwark_awx_merge_template }}" and merge_args["job_type"] == "run"
    assert merge_args["extra_vars"] == "{{ bulwark_awx_audit_extra_vars }}", "the audit's report directory, label and mode"
    path = play["vars"]["bulwark_awx_merge_playbook"]
    assert path == "playbooks/merge_reports.yml" and os.path.isfile(os.path.join(TOP, path))
    names = [t["name"] for t in play["tasks"]]
    assert names.index(merge["name"]) < names.index(task["name"]) < names.index(_one(play, "awx.awx.schedule")["name"])


def test_the_slices_hand_their_run_group_to_the_merge(play):
    audit = yaml.load(_read(os.path.join(TOP, "playbooks", "audit.yml")), Loader=_Loader)[0]
    default = audit["vars"]["bulwark_audit_run_group_used"]
    # AWX gives every job a workflow runs (each slice of a sliced job template) the workflow job's id.
    assert "bulwark_audit_run_group | default(awx_workflow_job_id | default(tower_workflow_job_id" in default
    (report,) = [t for t in audit["tasks"] if "bulwark.hardening.compliance_report" in t]
    assert "bulwark_audit_run_group_used" in report["bulwark.hardening.compliance_report"]["group"]
    (stats,) = [t for t in audit["tasks"] if "ansible.builtin.set_stats" in t]
    assert "'bulwark_audit_run_group': bulwark_audit_run_group_used" in stats["ansible.builtin.set_stats"]["data"]
    merge = yaml.load(_read(os.path.join(TOP, "playbooks", "merge_reports.yml")), Loader=_Loader)[0]
    (task,) = [t for t in merge["tasks"] if "bulwark.hardening.compliance_report" in t]
    assert task["bulwark.hardening.compliance_report"]["merge"] == ["{{ bulwark_audit_report_dir }}"]
    assert "bulwark_audit_run_group" in merge["vars"]["bulwark_merge_group_used"]


def test_rendered_default_is_one_job_without_workflow(rendered):
    templates = {args["name"]: args for args in _calls(rendered, "job_template")}
    assert set(templates) == {"bulwark harden", "bulwark audit", "bulwark remediate"}
    assert templates["bulwark audit"]["job_slice_count"] == 1
    assert "job_slice_count" not in templates["bulwark harden"] and "job_slice_count" not in templates["bulwark remediate"]
    assert not _calls(rendered, "workflow_job_template")
    assert [(args["unified_job_template"], args["state"]) for args in _calls(rendered, "schedule")] == [("bulwark audit", "present")]


SLICED = {"bulwark_awx_scm_url": "https://git.example.invalid/bulwark/hardening.git", "bulwark_awx_audit_job_slice_count": "4",
          "bulwark_awx_audit_extra_vars": {"bulwark_audit_report_dir": "/mnt/reports", "bulwark_audit_label": "weekly"},
          "bulwark_awx_notification_type": "webhook", "bulwark_awx_notification_configuration": {"url": "https://hooks.example.invalid/x"}}


@pytest.fixture(scope="module")
def sliced(tmp_path_factory):
    return _render(tmp_path_factory.mktemp("sliced"), SLICED)


def test_rendered_sliced_audit_workflow_and_schedule(sliced):
    templates = {args["name"]: args for args in _calls(sliced, "job_template")}
    audit, merge = templates["bulwark audit"], templates["bulwark merge reports"]
    assert audit["job_slice_count"] == 4 and "notification_templates_error" not in audit, "notified once, by the workflow"
    assert merge["playbook"] == "playbooks/merge_reports.yml" and merge["job_type"] == "run"
    assert merge["extra_vars"] == SLICED["bulwark_awx_audit_extra_vars"] and merge["inventory"] == audit["inventory"]
    (workflow,) = _calls(sliced, "workflow_job_template")
    assert workflow["name"] == "bulwark fleet audit" and workflow["notification_templates_error"] == ["bulwark audit failed"]
    nodes = dict((node["identifier"], node) for node in workflow["workflow_nodes"])
    assert nodes["audit"]["unified_job_template"] == {"name": "bulwark audit", "type": "job_template", "organization": {"name": "Default"}}
    assert nodes["merge"]["unified_job_template"]["name"] == "bulwark merge reports"
    assert workflow["survey_spec"]["spec"][0]["variable"] == "bulwark_audit_fail_severity", "the threshold reaches both nodes"
    schedules = [(args["unified_job_template"], args["state"]) for args in _calls(sliced, "schedule")]
    assert schedules == [("bulwark audit", "absent"), ("bulwark fleet audit", "present")]
    order = [call["module"] for call in sliced]
    assert order.index("workflow_job_template") > max(i for i, module in enumerate(order) if module == "job_template")
    assert order.index("schedule") > order.index("workflow_job_template")


@pytest.mark.parametrize("count", [0, -1, "four", 2.5])
def test_invalid_slice_count_fails_before_anything_is_sent(tmp_path, count):
    with pytest.raises(AssertionError, match="bulwark_awx_audit_job_slice_count must be a whole number, 1 or more"):
        _render(tmp_path, {"bulwark_awx_scm_url": "x", "bulwark_awx_audit_job_slice_count": count})
    assert not (tmp_path / "calls.jsonl").exists()


def test_slicing_without_a_report_directory_fails_before_anything_is_sent(tmp_path):
    with pytest.raises(AssertionError, match="bulwark_awx_audit_extra_vars must set bulwark_audit_report_dir"):
        _render(tmp_path, {"bulwark_awx_scm_url": "x", "bulwark_awx_audit_job_slice_count": 3})
    assert not (tmp_path / "calls.jsonl").exists()
