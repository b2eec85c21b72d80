# -*- coding: utf-8 -*-
"""Every module result passes through one masking layer (common.masking): evidence the rules write must read
the same after it. A name, a path or a count in our own words that the masker takes for a secret is lost to
the operator (7.4 printed "1 swarm secret: ********" for a secret's name). Run over the real fixtures: the
containers of containers.json (hardened, host network, insecure, stopped) and a real swarm."""

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.audit.findings import evaluate_rule
from ansible_collections.bulwark.hardening.plugins.module_utils.common.secrets import mask_text
from ansible_collections.bulwark.hardening.plugins.module_utils.rules import catalog

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.rule_fixtures import container, state, swarm_state

STATES = {
    "containers": lambda: state([container(name) for name in ("hardened", "hostnet", "insecure", "stopped")]),
    "swarm": swarm_state,
}


@pytest.mark.parametrize("name", sorted(STATES))
def test_every_rules_evidence_reads_the_same_after_the_masking_layer(name):
    audit_state = STATES[name]()
    changed = []
    for rule in catalog.all_rules():
        for finding in evaluate_rule(rule, audit_state):
            if mask_text(finding.evidence) != finding.evidence:
                changed.append((rule.id, finding.target, finding.evidence, mask_text(finding.evidence)))
    assert changed == []
