"""The operator playbooks' play settings that correctness or speed depends on (docs/scale.md)."""

import os

import pytest
import yaml

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOKS = ("harden.yml", "audit.yml", "remediate.yml")


def plays(name):
    with open(os.path.join(TOP, "playbooks", name), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def play(name):
    (only,) = plays(name)
    return only


def test_the_audit_pins_the_linear_strategy_its_run_once_report_needs():
    # Under the free strategy the report was made when the first host reached it: 12,794 findings of 12,950
    # over 50 hosts (benchmarks/audit_fleet.py), so the play does not follow ANSIBLE_STRATEGY.
    assert play("audit.yml")["strategy"] == "ansible.builtin.linear"


@pytest.mark.parametrize("name", PLAYBOOKS)
def test_no_play_gathers_facts_and_each_takes_the_cis_level(name):
    # The modules read what they need: gathering facts would cost every host a round trip and seconds.
    assert all(one["gather_facts"] is False for one in plays(name))
    with open(os.path.join(TOP, "playbooks", name), encoding="utf-8") as handle:
        assert "bulwark_cis_level" in handle.read()


def test_harden_checks_every_role_before_the_first_change():
    # A refusal must leave the host as it was: every role's preflight runs in a play of its own, first.
    preflight, harden = plays("harden.yml")
    imported = [task["ansible.builtin.import_role"] for task in preflight["tasks"]]
    assert [(role["name"], role["tasks_from"]) for role in imported] == [
        ("bulwark.hardening." + role, "preflight") for role in ("host", "docker_daemon", "containers")]
    assert [role["role"] for role in harden["roles"]] == ["bulwark.hardening." + role for role in ("host", "docker_daemon", "containers")]
    assert all("always" in task["tags"] for task in preflight["tasks"])
