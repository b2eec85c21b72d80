# -*- coding: utf-8 -*-
"""One remediation run: input checks, what counts as failing, usage, results and the report."""

from __future__ import annotations

import collections
import os

import pytest
from docker.errors import APIError

from ansible_collections.bulwark.hardening.plugins.module_utils.audit.findings import Finding, evaluate
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.state import AuditState
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.status import FAIL, PASS, SKIPPED
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate import run
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.execute import Outcome
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.journal import Journal
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.plan import plan_container
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.remedies import MANUAL
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.run import (
    RemediationError, carry_out, container_rule_ids, current_usage, diff_of, failing_by_container, failing_pairs,
    plan_result, report, wanted_rules,
)
from ansible_collections.bulwark.hardening.plugins.module_utils.rules import catalog

from remediate_fixtures import MIB, WEB_ID, audit_container, context, policy, web
from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils import rule_fixtures
INSECURE = "fixture-insecure"


def finding(rule_id, target, status, evidence="evidence"):
    return Finding(catalog.get(rule_id), target, status, evidence)


# --- which rules ---------------------------------------------------------------------

def test_all_container_rules_by_default():
    assert wanted_rules(None) == set(container_rule_ids())
    assert wanted_rules([]) == set(container_rule_ids())
    assert {"5.2", "5.11", "5.32", "BW-008", "BW-009"} <= wanted_rules(None)


def test_container_rules_are_only_container_kind():
    ids = container_rule_ids()
    assert "4.1" in ids
    assert "2.1" not in ids and "4.2" not in ids and "4.6" not in ids
    assert all(catalog.get(rule_id).section in run.SCOPES for rule_id in ids)


def test_given_rules_are_kept_as_text():
    assert wanted_rules(["5.11", "BW-008"]) == {"5.11", "BW-008"}


def test_one_unknown_rule_id_is_an_error():
    with pytest.raises(RemediationError) as raised:
        wanted_rules(["5.11", "5.1"])
    text = str(raised.value)
    assert text.startswith("rules: 5.1 is no container rule; container rules are 4.1, 5.2, ")
    assert "5.10 unquoted is 5.1" in text


def test_several_unknown_rule_ids_are_an_error():
    with pytest.raises(RemediationError, match=r"^rules: 2.1, BW-999 are no container rule"):
        wanted_rules(["2.1", "BW-999"])


def test_a_rule_id_read_as_a_number_is_compared_as_text():
    with pytest.raises(RemediationError, match=r"^rules: 5.1 is no container rule"):
        wanted_rules([5.10])
    assert wanted_rules([5.11]) == {"5.11"}


# --- findings given ----------------------------------------------------------------------

def test_failing_pairs_keep_the_failing_findings():
    findings = [
        {"rule": "5.11", "target": INSECURE, "status": "fail"},
        {"rule": "5.12", "target": INSECURE, "status": "pass"},
        {"rule": "5.29", "target": "web"},
        {"rule": 5.2, "target": "web", "status": "fail", "title": "AppArmor"},
    ]
    assert failing_pairs(findings) == {("5.11", INSECURE), ("5.29", "web"), ("5.2", "web")}


def test_no_findings_are_no_pairs():
    assert failing_pairs([]) == set()
    assert failing_pairs(None) == set()


@pytest.mark.parametrize("bad", [{"rule": "5.11"}, {"target": "web"}, "5.11", None])
def test_a_finding_without_rule_and_target_names_its_index(bad):
    with pytest.raises(RemediationError, match=r"^findings\[1\]: expected a container_audit finding with rule and target"):
        failing_pairs([{"rule": "5.11", "target": "web"}, bad])


def test_failing_by_container_keeps_wanted_failing_container_findings():
    findings = [
        finding("5.11", "web", FAIL), finding("5.12", "web", PASS), finding("5.29", "web", FAIL),
        finding("5.2", "db", FAIL), finding("5.12", "db", SKIPPED), finding("5.11", "db", FAIL),
    ]
    assert failing_by_container(findings, {"5.11", "5.2", "5.12"}) == {"web": ["5.11"], "db": ["5.2", "5.11"]}
    assert failing_by_container(findings, {"5.11", "5.2"}, only={("5.11", "db")}) == {"db": ["5.11"]}


# --- current usage -------------------------------------------------------------------------

class StatsClient(object):
    docker_host = "unix:///var/run/docker.sock"

    def __init__(self, answer):
        self.answer = answer
        self.made = []

    def get_json(self, name, path, params, *args):
        self.made.append((name, path, params, args))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


@pytest.mark.parametrize("memory_stats, expected", [
    ({"usage": 300 * MIB, "stats": {"inactive_file": 100 * MIB, "file": 120 * MIB}}, 200 * MIB),  # cgroup v2
    ({"usage": 300 * MIB, "stats": {"total_inactive_file": 50 * MIB, "cache": 80 * MIB}}, 250 * MIB),  # cgroup v1
    ({"usage": 300 * MIB, "stats": {"cache": 80 * MIB}}, 220 * MIB),  # old cgroup v1
    ({"usage": 300 * MIB}, 300 * MIB),
    ({"usage": 10 * MIB, "stats": {"inactive_file": 20 * MIB}}, 0),
    ({}, None),
])
def test_current_memory_usage_leaves_out_the_page_cache(memory_stats, expected):
    client = StatsClient({"memory_stats": memory_stats, "pids_stats": {"current": 7}})
    assert current_usage(client, web()) == (expected, 7)
    # One-shot, by the Engine's own query parameter: SDK 5 (Debian 12) has no one_shot argument.
    assert client.made == [("stats", "/containers/{0}/stats", {"stream": "false", "one-shot": "true"}, (WEB_ID,))]


def test_current_usage_unknown_when_stats_are_refused():
    assert current_usage(StatsClient(APIError("500", explanation="no stats")), web()) == (None, None)


def test_current_usage_without_pids_stats():
    assert current_usage(StatsClient({"memory_stats": {"usage": MIB}}), web()) == (MIB, None)


@pytest.mark.parametrize("running, failing, fields, needed", [
    (True, ["5.11"], {"memory": "512m"}, True),
    (True, ["5.29"], {"pids_limit": 100}, True),
    (True, ["5.11"], {}, False),
    (True, ["5.29", "5.12"], {"memory": "512m"}, False),
    (False, ["5.11", "5.29"], {"memory": "512m", "pids_limit": 100}, False),
])
def test_usage_is_read_only_when_a_limit_could_starve_a_running_service(running, failing, fields, needed):
    container = web({"State.Running": running})
    assert run._needs_usage(container, failing, policy(**fields)) is needed


def test_usage_of_asks_each_container_once():
    client = StatsClient({"memory_stats": {"usage": 5 * MIB}, "pids_stats": {"current": 2}})
    containers = [web(), audit_container("insecure")]
    assert run.usage_of(client, containers) == {WEB_ID: (5 * MIB, 2), containers[1].id: (5 * MIB, 2)}
    assert sorted(args[0] for _name, _path, _params, args in client.made) == sorted([WEB_ID, containers[1].id])


def test_usage_of_no_containers_asks_nothing():
    client = StatsClient(AssertionError("no call expected"))
    assert run.usage_of(client, []) == {}
    assert client.made == []


# --- carrying out ------------------------------------------------------------------------------

class RecordingEngine(object):
    docker_host = "unix:///var/run/docker.sock"

    def __init__(self, fail=None):
        self.fail = fail or {}
        self.made = []

    def call(self, endpoint, *args, **kwargs):
        self.made.append(endpoint)
        if endpoint in self.fail:
            raise self.fail[endpoint]
        return {"Id": "new" + "0" * 61} if endpoint == "create_container_from_config" else None

    def post_json(self, name, path, body, *args):
        self.made.append(name)
        return {}


def test_carry_out_a_live_plan_updates():
    plan = plan_container(web(), ["5.12"], policy(cpu_shares=512), context())
    engine = RecordingEngine()
    assert carry_out(engine, plan, rule_fixtures.state(), 10, 120, None).status == "changed"
    assert engine.made == ["update_container"]


def test_carry_out_a_recreate_refused_at_create_changes_nothing():
    plan = plan_container(web(), ["5.26"], policy(recreate=True), context())
    engine = RecordingEngine(fail={"create_container_from_config": APIError("409", explanation="name in use")})
    outcome = carry_out(engine, plan, rule_fixtures.state(), 10, 120, None)
    assert outcome.status == "rolled_back" and outcome.detail.startswith("Docker refused: name in use; ")
    assert engine.made == ["create_container_from_config"]


def test_carry_out_nothing_to_do():
    plan = plan_container(web(), ["5.11"], policy(), context())
    engine = RecordingEngine()
    assert carry_out(engine, plan, rule_fixtures.state(), 10, 120, None).status == "unchanged"
    assert engine.made == []


# --- results ---------------------------------------------------------------------------------

def insecure_plan(**fields):
    return plan_container(audit_container("insecure"), ["5.11", "5.4", "5.7", "5.26", "4.1"], policy(**fields), context())


def test_plan_result():
    plan = insecure_plan(memory="512m", recreate=True, user="1000")
    result = plan_result(plan, Outcome("changed", new_id="9d2f6a1c3b4e5f60718293a4"))
    assert result["name"] == INSECURE and result["id"] == "58fe66977887"
    assert result["action"] == "recreate" and result["status"] == "changed"
    assert result["fixes"] == ["4.1", "5.4", "5.11", "5.26"]
    assert result["changes"]["HostConfig.Memory"] == {"before": 0, "after": 512 * MIB}
    assert result["changes"]["HostConfig.CapDrop"] == {"before": "unset", "after": ["ALL"]}
    assert result["changes"]["Config.User"] == {"before": "root", "after": "1000"}
    assert result["skipped"] == [{"rule": "5.7", "reason": "manual: " + MANUAL["5.7"]}]
    assert result["new_id"] == "9d2f6a1c3b4e"
    assert "detail" not in result and "logs" not in result


def test_plan_result_of_a_roll_back_has_detail_and_logs():
    result = plan_result(insecure_plan(memory="512m", recreate=True), Outcome("rolled_back", "it exited", logs="boom"))
    assert result["detail"] == "it exited" and result["logs"] == "boom"
    assert "new_id" not in result


def test_diff_of_a_plan():
    diff = diff_of(insecure_plan(memory="512m"))
    assert diff["before_header"] == "fixture-insecure (58fe66977887)"
    assert diff["after_header"] == "fixture-insecure (live, 5.11)"
    assert diff["before"] == "HostConfig.Memory: 0\nHostConfig.MemorySwap: 0\n"
    assert diff["after"] == "HostConfig.Memory: 536870912\nHostConfig.MemorySwap: 536870912\n"


# --- the report --------------------------------------------------------------------------------

def test_report_fixed_when_the_second_audit_passes():
    plan = insecure_plan(memory="512m")
    before = {INSECURE: ["5.11", "5.4", "5.7"]}
    after = [finding("5.11", INSECURE, PASS), finding("5.4", INSECURE, FAIL, "CapDrop does not include ALL"),
             finding("5.7", INSECURE, FAIL, "sshd runs")]
    fixed, still_failing, skipped = report([plan], [Outcome("changed")], before, after, check_mode=False)
    assert fixed == [{"rule": "5.11", "target": INSECURE}]
    assert still_failing == [{"rule": "5.4", "target": INSECURE, "evidence": "CapDrop does not include ALL"},
                             {"rule": "5.7", "target": INSECURE, "evidence": "sshd runs"}]
    assert [(entry["rule"], entry["target"]) for entry in skipped] == [("4.1", INSECURE), ("5.4", INSECURE), ("5.7", INSECURE),
                                                                       ("5.26", INSECURE)]
    assert skipped[1]["reason"] == "recreate is off for this container (policy.recreate)"


def test_report_in_check_mode_counts_planned_fixes_as_fixed():
    plan = insecure_plan(memory="512m")
    before = {INSECURE: ["5.11", "5.4"]}
    after = [finding("5.11", INSECURE, FAIL, "Memory=0"), finding("5.4", INSECURE, FAIL, "no CapDrop")]
    fixed, still_failing, _skipped = report([plan], [Outcome("planned")], before, after, check_mode=True)
    assert fixed == [{"rule": "5.11", "target": INSECURE}]
    assert still_failing == [{"rule": "5.4", "target": INSECURE, "evidence": "no CapDrop"}]


def test_report_without_a_second_finding_says_so():
    fixed, still_failing, skipped = report([], [], {"web": ["5.11"]}, [], check_mode=False)
    assert fixed == [] and skipped == []
    assert still_failing == [{"rule": "5.11", "target": "web", "evidence": "not audited again"}]


def test_report_targets_in_name_order():
    before = {"web": ["5.11"], "api": ["5.12"]}
    after = [finding("5.11", "web", PASS), finding("5.12", "api", PASS)]
    fixed, _still, _skipped = report([], [], before, after, check_mode=False)
    assert [entry["target"] for entry in fixed] == ["api", "web"]


def test_report_a_rolled_back_fix_is_still_failing():
    plan = insecure_plan(recreate=True)
    after = [finding("5.4", INSECURE, FAIL, "no CapDrop")]
    fixed, still_failing, _skipped = report([plan], [Outcome("rolled_back")], {INSECURE: ["5.4"]}, after, check_mode=False)
    assert fixed == [] and still_failing[0]["rule"] == "5.4"


# --- a whole run, the audit faked ----------------------------------------------------------------

class EngineForRun(object):
    """A client for run_remediation: counts calls; the update endpoint changes the container's inspect data."""

    docker_host = "unix:///var/run/docker.sock"

    def __init__(self, inspects):
        self.inspects = inspects
        self.calls = collections.Counter()

    @property
    def total(self):
        return sum(self.calls.values())

    def call(self, endpoint, *args, **kwargs):
        self.calls[endpoint] += 1
        if endpoint == "containers" and kwargs == {"all": True}:
            return [{"Id": inspect["Id"], "Names": [inspect["Name"]]} for inspect in self.inspects.values()]
        if endpoint == "diff":
            return []
        raise AssertionError("unexpected API call %s" % endpoint)

    def get_json(self, name, path, params, *args):
        self.calls[name] += 1
        assert name == "stats"
        return {"memory_stats": {"usage": 20 * MIB}, "pids_stats": {"current": 3}}

    def post_json(self, name, path, body, *args):
        self.calls[name] += 1
        assert name == "update_container"
        for inspect in self.inspects.values():
            if inspect["Id"] == args[0]:
                inspect["HostConfig"].update(body)
        return {"Warnings": None}


@pytest.fixture(name="state_dir", autouse=True)
def state_dir_fixture(monkeypatch, tmp_path):
    """Every run keeps its journal and Compose records in a directory of the test's own."""
    directory = tmp_path / "state"
    monkeypatch.setattr(run, "Journal", lambda state_dir: Journal(str(directory)))
    return directory


@pytest.fixture(name="fake_audit")
def fake_audit_fixture(monkeypatch):
    """run.audit evaluating the real container rules over the engine's current inspect data; records requests."""
    requests = []

    def audit(client, request, options, level=2):
        requests.append(request)
        containers = [rule_fixtures.ContainerView(inspect) for name, inspect in sorted(client.inspects.items())
                      if not request.name_filter or name in request.name_filter]
        state = rule_fixtures.state(containers=containers, options=options)
        assert isinstance(state, AuditState)
        return state, evaluate(catalog.rules_for(run.SCOPES, level), state)

    monkeypatch.setattr(run, "audit", audit)
    return requests


def engine_for_run():
    fixtures = rule_fixtures.load("containers.json")
    return EngineForRun({"fixture-insecure": fixtures["insecure"], "fixture-hardened": fixtures["hardened"]})


def test_check_mode_plans_and_changes_nothing(fake_audit):
    engine = engine_for_run()
    result = run.run_remediation(rules=["5.11", "5.12", "5.4"], policy={"memory": "512m", "cpu_shares": 512},
                                 check_mode=True, client=engine)
    assert result["changed"] is True
    assert [(entry["name"], entry["action"], entry["status"]) for entry in result["containers"]] == [
        ("fixture-insecure", "live", "planned")]
    assert result["fixed"] == [{"rule": "5.11", "target": INSECURE}, {"rule": "5.12", "target": INSECURE}]
    assert [entry["rule"] for entry in result["still_failing"]] == ["5.4"]
    assert result["summary"]["live"] == 1 and result["summary"]["audited"] == 2
    assert "update_container" not in engine.calls
    assert len(fake_audit) == 1
    assert result["diff"][0]["after_header"] == "fixture-insecure (live, 5.11, 5.12)"


def test_a_live_run_updates_and_audits_the_changed_container_again(fake_audit):
    engine = engine_for_run()
    result = run.run_remediation(rules=["5.11", "5.12"], policy={"memory": "512m", "cpu_shares": 512}, client=engine,
                                 sleep=lambda seconds: None)
    assert [(entry["name"], entry["status"]) for entry in result["containers"]] == [(INSECURE, "changed")]
    assert engine.calls["update_container"] == 1 and engine.calls["stats"] == 1
    assert result["fixed"] == [{"rule": "5.11", "target": INSECURE}, {"rule": "5.12", "target": INSECURE}]
    assert result["still_failing"] == []
    assert fake_audit[1].name_filter == [INSECURE] and fake_audit[1].include_stopped is True
    # One list of every container (leftovers of interrupted runs; who depends on whom), one stats, one update.
    assert result["api_calls"] == 3
    assert result["api_calls_by_endpoint"] == {"containers": 1, "stats": 1, "update_container": 1}


def test_findings_restrict_the_run_to_their_pairs(fake_audit):
    engine = engine_for_run()
    result = run.run_remediation(findings=[{"rule": "5.12", "target": INSECURE}], policy={"memory": "512m", "cpu_shares": 512},
                                 check_mode=True, client=engine)
    assert result["containers"][0]["fixes"] == ["5.12"]
    assert result["fixed"] == [{"rule": "5.12", "target": INSECURE}]


def test_a_run_while_another_one_replaces_containers_stops_before_any_call(fake_audit, state_dir):
    other = Journal(str(state_dir))
    assert other.problem() is None  # the other run made the directory and holds its lock
    engine = engine_for_run()
    with pytest.raises(RemediationError, match=r"^another container_remediate run is replacing containers on this host"):
        run.run_remediation(rules=["5.12"], policy={"cpu_shares": 512}, client=engine)
    assert engine.total == 0 and fake_audit == []
    planned = run.run_remediation(rules=["5.12"], policy={"cpu_shares": 512}, client=engine, check_mode=True)
    assert planned["containers"][0]["status"] == "planned"  # check mode only reads


def test_a_bad_policy_is_a_remediation_error_before_any_call(fake_audit):
    engine = engine_for_run()
    with pytest.raises(RemediationError, match=r"^overrides\[0\]\.policy\.memory: expected a size"):
        run.run_remediation(overrides=[{"name": "*", "policy": {"memory": "lots"}}], client=engine)
    with pytest.raises(RemediationError, match=r"^exemptions\[0\]\.rules: unknown rule ids 2.1"):
        run.run_remediation(exemptions=[{"rules": ["2.1"], "reason": "r"}], client=engine)
    assert engine.total == 0 and fake_audit == []


# --- the CIS profile --------------------------------------------------------------------------

def test_level_1_acts_on_the_level_1_container_rules_only():
    level_1 = wanted_rules(None, level=1)
    assert "BW-008" not in level_1 and {"5.11", "5.4", "5.22", "BW-009"} <= level_1
    assert level_1 == set(container_rule_ids(level=1)) < set(container_rule_ids())
    assert all(catalog.get(rule_id).level == 1 for rule_id in level_1)


def test_a_given_rule_above_the_level_is_valid_and_left_out():
    assert wanted_rules(["5.11", "BW-008"], level=1) == {"5.11"}
    assert wanted_rules(["BW-008"], level=1) == set()  # nothing to do, never "every rule"
    with pytest.raises(RemediationError, match=r"^rules: 5.1 is no container rule; container rules are .*BW-008"):
        wanted_rules(["5.1"], level=1)
    with pytest.raises(RemediationError, match="level must be one of 1, 2"):
        wanted_rules(None, level=3)


def test_a_level_1_run_neither_audits_nor_fixes_level_2_rules(fake_audit):
    engine = engine_for_run()
    policy_values = {"memory": "512m", "cpu_shares": 512, "recreate": True}
    level_1 = run.run_remediation(rules=["5.11", "BW-008"], policy=policy_values, check_mode=True, client=engine, level=1,
                                  exemptions=[{"rules": ["BW-008"], "reason": "Level 2 only"}])
    assert level_1["summary"]["level"] == 1
    assert level_1["containers"][0]["fixes"] == ["5.11"]
    assert "BW-008" not in [entry["rule"] for entry in level_1["fixed"] + level_1["still_failing"] + level_1["not_fixed"]]
    level_2 = run.run_remediation(rules=["5.11", "BW-008"], policy=policy_values, check_mode=True, client=engine_for_run())
    assert level_2["summary"]["level"] == 2
    assert {"rule": "BW-008", "target": INSECURE} in level_2["fixed"]


# --- what a run must never plan for, and recreate candidates ---------------------------------------------------

def summary(name, container_id):
    return {"Id": container_id, "Names": ["/" + name]}


def test_set_aside_names_without_a_journal_entry_are_leftovers_never_targets():
    listed = [summary("web", "a" * 64), summary("web-bulwark-old-0123456789ab", "b" * 64),
              summary("db-bulwark-new-0123456789ab", "c" * 64), summary("web-bulwark-old-backup", "d" * 64)]
    leftovers = run.leftovers_of(listed, recorded=set())
    assert [(item["name"], item["id"]) for item in leftovers] == [("db-bulwark-new-0123456789ab", "c" * 12),
                                                                  ("web-bulwark-old-0123456789ab", "b" * 12)]
    assert "no journal entry" in leftovers[0]["reason"] and "left alone" in leftovers[0]["reason"]
    assert run.never_targets(listed, recorded={"a" * 64}) == {"web", "web-bulwark-old-0123456789ab",
                                                              "db-bulwark-new-0123456789ab"}
    assert run.leftovers_of(listed, recorded={"b" * 64, "c" * 64}) == []


def test_plan_result_lists_the_ports_verified():
    plan = plan_container(web(), ["5.26"], policy(recreate=True), context())
    plan.verify_ports = [("127.0.0.1", 8080), ("::1", 8080)]
    assert plan_result(plan, Outcome("changed", new_id="9" * 64))["verified_ports"] == ["127.0.0.1:8080", "[::1]:8080"]
    assert "verified_ports" not in plan_result(plan, Outcome("rolled_back", "no"))


class CandidateEngine(RecordingEngine):
    """Answers the reads a recreate candidate needs: its layer (diff), counted."""

    def __init__(self, changes):
        super().__init__()
        self.changes = changes

    def call(self, endpoint, *args, **kwargs):
        if endpoint == "diff":
            self.made.append(endpoint)
            return self.changes
        return super().call(endpoint, *args, **kwargs)


def test_recreate_candidates_are_looked_at_the_others_cost_nothing(monkeypatch):
    monkeypatch.setattr(run.safety.portcheck, "answering", lambda endpoints, probe=None: list(endpoints))
    live_only = audit_container("insecure")
    state = rule_fixtures.state(containers=[web(), live_only])
    engine = CandidateEngine([{"Kind": 1, "Path": "/srv/orders.db"}])
    policy_of_run = run.Policy({"recreate": True, "cpu_shares": 512}, [{"name": live_only.name, "policy": {"recreate": False}}])
    plans = run.make_plans(engine, state, {"shop-web-1": ["5.26", "5.12"], live_only.name: ["5.12"]}, policy_of_run,
                           "unix:///var/run/docker.sock")
    assert engine.made == ["diff"]
    web_plan, other = plans
    assert web_plan.action == "live" and web_plan.fixes == {"5.12": "live"}
    assert "added /srv/orders.db" in dict(web_plan.skipped)["5.26"] and other.action == "live"


def test_a_safe_candidate_is_planned_with_the_endpoints_to_verify(monkeypatch):
    monkeypatch.setattr(run.safety.portcheck, "answering", lambda endpoints, probe=None: list(endpoints))
    state = rule_fixtures.state(containers=[web()])
    plans = run.make_plans(CandidateEngine([]), state, {"shop-web-1": ["5.26"]}, run.Policy({"recreate": True}),
                           "unix:///var/run/docker.sock")
    assert plans[0].action == "recreate" and plans[0].verify_ports == [("127.0.0.1", 8080)]


def test_no_journal_no_replacement(monkeypatch):
    monkeypatch.setattr(run.safety.portcheck, "answering", lambda endpoints, probe=None: [])
    state = rule_fixtures.state(containers=[web()])
    plans = run.make_plans(CandidateEngine([]), state, {"shop-web-1": ["5.26"]}, run.Policy({"recreate": True}),
                           "unix:///var/run/docker.sock", journal_problem=lambda: "cannot create /x: Permission denied")
    assert plans[0].action == "none" and "no journal" in plans[0].skipped[0][1]


# --- Compose projects in a run's result ------------------------------------------------------------------------

def compose_web(**labels):
    return web({"Config.Labels": dict({"com.docker.compose.project": "shop", "com.docker.compose.service": "web",
                                       "com.docker.compose.project.working_dir": "/srv/shop",
                                       "com.docker.compose.project.config_files": "docker-compose.yml"}, **labels)})


def test_compose_results_carry_the_applied_fixes_and_keep_them(tmp_path):
    container = compose_web()
    plan = plan_container(container, ["5.26", "5.12"], policy(recreate=True, cpu_shares=512), context())
    state = rule_fixtures.state(containers=[container])
    [entry] = run.compose_results(state, [plan], [Outcome("changed")], str(tmp_path), False, False,
                                  "unix:///var/run/docker.sock", lambda: None)
    assert entry["project"] == "shop" and entry["services"] == ["web"] and entry["written"] is False
    assert entry["path"] == "/srv/shop/docker-compose.override.yml"
    assert '    - "no-new-privileges:true"\n' in entry["override"] and "    cpu_shares: 512\n" in entry["override"]
    assert "compose_override_write is off" in entry["detail"]
    # A later run with nothing to fix still returns the override of what was fixed before.
    [again] = run.compose_results(state, [], [], str(tmp_path), False, False, "unix:///var/run/docker.sock", lambda: None)
    assert again["override"] == entry["override"]


def test_compose_results_of_a_rolled_back_or_planned_fix(tmp_path):
    container = compose_web()
    plan = plan_container(container, ["5.26"], policy(recreate=True), context())
    state = rule_fixtures.state(containers=[container])
    assert run.compose_results(state, [plan], [Outcome("rolled_back")], str(tmp_path), False, False,
                               "unix:///var/run/docker.sock", lambda: None) == []
    [planned] = run.compose_results(state, [plan], [Outcome("planned")], str(tmp_path), True, True,
                                    "unix:///var/run/docker.sock", lambda: None)
    assert planned["detail"].startswith("would be written to /srv/shop/docker-compose.override.yml")
    assert list(tmp_path.iterdir()) == []  # check mode keeps no record


def test_compose_results_write_on_request(tmp_path):
    project_dir = tmp_path / "shop"
    project_dir.mkdir()
    container = compose_web(**{"com.docker.compose.project.working_dir": str(project_dir)})
    plan = plan_container(container, ["5.26"], policy(recreate=True), context())
    state = rule_fixtures.state(containers=[container])
    [entry] = run.compose_results(state, [plan], [Outcome("changed")], str(tmp_path / "state"), False, True,
                                  "unix:///var/run/docker.sock", lambda: os.makedirs(str(tmp_path / "state"), exist_ok=True))
    assert entry["written"] is True and (project_dir / "docker-compose.override.yml").read_text() == entry["override"]
    [remote] = run.compose_results(state, [plan], [Outcome("changed")], str(tmp_path / "state"), False, True,
                                   "tcp://docker.example:2376", lambda: None)
    assert remote["written"] is False and "on the Engine's host" in remote["detail"]


def test_containers_without_compose_labels_have_no_project(tmp_path):
    plan = plan_container(web({"Config.Labels": {}}), ["5.26"], policy(recreate=True), context())
    state = rule_fixtures.state(containers=[plan.container])
    assert run.compose_results(state, [plan], [Outcome("changed")], str(tmp_path), False, True,
                               "unix:///var/run/docker.sock", lambda: None) == []
