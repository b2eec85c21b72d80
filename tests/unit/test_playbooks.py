"""The operator playbooks' play settings that correctness or speed depends on (docs/scale.md)."""

import os

import pytest
import yaml

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOKS = ("harden.yml", "audit.yml", "remediate.yml")


def play(name):
    with open(os.path.join(TOP, "playbooks", name), encoding="utf-8") as handle:
        (only,) = yaml.safe_load(handle)
    return only


def test_the_audit_pins_the_linear_strategy_its_run_once_report_needs():
    # Under the free strategy the report was made when the first host reached it: 12,794 findings of 12,950
    # over 50 hosts (benchmarks/audit_fleet.py), so the play does not follow ANSIBLE_STRATEGY.
    assert play("audit.yml")["strategy"] == "ansible.builtin.linear"


@pytest.mark.parametrize("name", PLAYBOOKS)
def test_no_play_gathers_facts_and_each_takes_the_cis_level(name):
    # The modules read what they need: gathering facts would cost every host a round trip and seconds.
    assert play(name)["gather_facts"] is False
    with open(os.path.join(TOP, "playbooks", name), encoding="utf-8") as handle:
        assert "bulwark_cis_level" in handle.read()
