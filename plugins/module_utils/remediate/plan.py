# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""Plan the fixes of one container: which failing rules are fixed, how, and what is left why.

Pure: reads inspect data, the container's failing rule ids and its policy,
returns a ContainerPlan. Remedies are applied one after the other to a
working copy of the inspect data, so that two fixes touching one setting
(5.2, 5.22 and 5.26 all edit SecurityOpt) compose instead of overwriting
each other. The settings that end up different are the plan's changes:
applied with the Engine's update when every fix is live, or as the create
request of a replacement when any fix needs a recreate.
"""

from __future__ import annotations

import copy

from ansible_collections.bulwark.hardening.plugins.module_utils.rules.rule import rule_sort_key
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.state import ContainerView
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.remedies import (
    LIVE, MANUAL, RECREATE, REMEDIES, Skip,
)
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.spec import build_spec

SWARM_TASK_LABELS = ("com.docker.swarm.task.id", "com.docker.swarm.service.id")
# The settings the Engine's container update takes; any other change needs a new container.
LIVE_SETTINGS = frozenset(["Memory", "MemorySwap", "CpuShares", "PidsLimit", "RestartPolicy"])


class ContainerPlan(object):
    """What remediation does to one container."""

    def __init__(self, container):
        self.container = container
        self.working = copy.deepcopy(container.inspect)
        self.fixes = {}        # rule id -> live | recreate
        self.skipped = []      # (rule id, reason)
        self.touched = []      # (section, key) in the order first changed
        self.verify_ports = []  # (host, port) the old container answered on: the replacement must too

    @property
    def name(self):
        return self.container.name

    @property
    def id(self):
        return self.container.id

    @property
    def needs_recreate(self):
        return RECREATE in self.fixes.values()

    @property
    def action(self):
        if self.needs_recreate:
            return RECREATE
        return LIVE if self.fixes else "none"

    def skip(self, rule_id, reason):
        self.skipped.append((rule_id, reason))

    def apply(self, rule_id, fix, change):
        """Set the change's settings on the working copy; False (and nothing recorded) when it changes nothing."""
        if all((self.working.get(section) or {}).get(key) == value for section, key, value in change.settings):
            return False
        for section, key, value in change.settings:
            target = self.working.setdefault(section, {})
            if value is None:
                target.pop(key, None)
            else:
                target[key] = copy.deepcopy(value)
            if (section, key) not in self.touched:
                self.touched.append((section, key))
        self.fixes[rule_id] = fix
        return True

    def changes(self):
        """[(section, key, before, after)] for every setting that ends up different."""
        changed = []
        for section, key in self.touched:
            before = (self.container.inspect.get(section) or {}).get(key)
            after = (self.working.get(section) or {}).get(key)
            if before != after:
                changed.append((section, key, before, after))
        return changed

    def update_body(self):
        """The Engine's container update body (live plans only)."""
        return dict((key, after) for section, key, _before, after in self.changes())

    def spec(self, image=None):
        """The replacement's create request (recreate plans)."""
        return build_spec(self.working, image)


def recreate_refusal(container, policy):
    """Why this container may not be recreated, or None."""
    if not policy.get("recreate"):
        return "recreate is off for this container (policy.recreate)"
    state = container.inspect.get("State") or {}
    if state.get("Paused"):
        return "paused: a replacement would start unpaused; unpause it first or run again later"
    if state.get("Restarting"):
        return "restarting (crash loop): a replacement cannot be verified; find why it exits first"
    if container.host_config.get("AutoRemove"):
        return "started with --rm: Docker deletes it once stopped, so it could not come back after a failed replacement"
    return None


def swarm_refusal(container):
    """Swarm owns its task containers: a change made here is undone or lost at the next service update."""
    if any(label in container.labels for label in SWARM_TASK_LABELS):
        return "a swarm service task: update the service instead (docker service update)"
    return None


# Fixed first: the other fixes read the container as these leave it (a privileged container has no
# AppArmor profile or seccomp filter to fix until it is no longer privileged).
FIRST_FIXES = ("5.5",)


def fix_order(rule_id):
    return (rule_id not in FIRST_FIXES, rule_sort_key(rule_id))


def plan_container(container, failing, policy, context, exemption_for=None, refusal=None):
    """A ContainerPlan for the container's failing rule ids.

    policy: the container's resolved policy dict; exemption_for(rule_id) the
    reason a rule is exempt for it, or None; context: remedies.Context;
    refusal: why it may not be replaced, found by looking at the Engine
    (safety.py: data in its writable layer, dependants, ports), or None.
    """
    plan = ContainerPlan(container)
    refusal = recreate_refusal(container, policy) or refusal
    swarm = swarm_refusal(container)
    for rule_id in sorted(set(failing), key=fix_order):
        exempt = exemption_for(rule_id) if exemption_for else None
        remedy = REMEDIES.get(rule_id)
        if exempt:
            plan.skip(rule_id, "exempt: %s" % exempt)
        elif remedy is None:
            plan.skip(rule_id, "manual: %s" % MANUAL.get(rule_id, "no automatic fix"))
        elif swarm:
            plan.skip(rule_id, swarm)
        elif remedy.fix == RECREATE and refusal:
            plan.skip(rule_id, refusal)
        else:
            outcome = remedy.apply(ContainerView(plan.working), policy, context)
            if isinstance(outcome, Skip):
                plan.skip(rule_id, outcome.reason)
            elif not plan.apply(rule_id, remedy.fix, outcome):
                # Its setting is already what the fix sets: a replacement would change nothing.
                plan.skip(rule_id, "its fix (%s) changes nothing here: it fails for another reason" % remedy.sets)
    _check_live_only(plan)
    return plan


def _check_live_only(plan):
    """A plan without recreate fixes may only touch settings the update endpoint takes."""
    if plan.needs_recreate:
        return
    stray = [key for section, key in plan.touched if key not in LIVE_SETTINGS]
    if stray:
        raise AssertionError("live fixes touched %s, which the update endpoint does not take" % ", ".join(stray))
