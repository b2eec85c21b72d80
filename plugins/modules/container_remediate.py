#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fix what container_audit finds on running containers: live where Docker allows, by a verified replacement where the policy says so."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: container_remediate
short_description: Fix failing container checks of the CIS Docker Benchmark, live or by a verified replacement, without losing data
version_added: 0.2.0
description:
  - Audits the selected containers with the same rules as M(bulwark.hardening.container_audit) (the
    container rules of sections C(images), C(containers) and C(bulwark)), fixes the failing ones the policy allows, audits the changed containers
    again and reports what is fixed, what still fails and what was skipped and why.
  - B(Live fixes) use the Engine's container update - no restart, no downtime. They fix CIS 5.11 (memory and
    memory+swap limit, O(policy.memory), O(policy.memory_swap)), 5.12 (CPU shares, O(policy.cpu_shares)),
    5.15 (restart policy on-failure with a bounded count, O(policy.restart_retries)) and 5.29 (PIDs limit,
    O(policy.pids_limit)). A fix whose policy value is unset is skipped with the reason.
  - B(Recreate fixes) run only for containers whose policy sets O(policy.recreate=true). They fix 5.2
    (C(apparmor=unconfined) removed), 5.4 and BW-008 (C(cap_drop ALL) plus O(policy.cap_add)), 5.5 (not
    privileged), 5.6 and BW-009 (writable binds of host system directories and sensitive paths made read-only),
    5.10 (off the host network onto O(policy.network)), 5.13 (read-only root filesystem with tmpfs at
    O(policy.tmpfs)), 5.16, 5.17, 5.21 and 5.31 (no host PID, IPC, UTS or user namespace), 5.22 (the
    container's own C(seccomp=unconfined) removed), 5.26 (C(no-new-privileges)), 5.32 (the Docker socket
    bind removed) and 4.1 (a container running as root runs as O(policy.user)).
  - The replacement is created from the old container's own inspect data, so every setting no fix changes
    comes back as it was - image (the same image id), command, entrypoint, env, working dir, user, labels
    (Docker Compose's included, so compose still owns it), hostname, volumes, binds, tmpfs, devices, networks
    with aliases and static addresses, published ports, health check, logging, restart policy, ulimits,
    sysctls, extra hosts, dns, init, stop signal and timeout. Anonymous volumes are attached to the
    replacement at the same paths.
  - A replacement is verified before the old container is removed - the old one is renamed aside and stopped,
    the new one created under the original name and started, and it must keep running for O(grace_period)
    seconds and, with a health check, turn healthy. Otherwise the new one is removed, the old one renamed back
    and started, and the result gives the reason and the new container's last log lines. Volumes and bind
    data are never removed.
  - Rules that stay manual (their fix needs a decision no policy field makes) - 5.3, 5.7, 5.8, 5.9, 5.14,
    5.18, 5.19, 5.20, 5.25, 5.27, 5.28, 5.30, BW-001, BW-002, BW-004, BW-005, BW-006, BW-007, BW-012, BW-013. They are
    reported as skipped with the reason.
  - When the daemon-wide seccomp profile or no-new-privileges default is what fails, the C(docker_daemon)
    role fixes it, not this module.
  - Swarm service task containers are never changed (update the service); containers started with C(--rm) are
    never recreated (Docker deletes them once stopped, so there would be nothing to roll back to).
author:
  - bulwark.hardening contributors (@bulwark)
requirements:
  - docker (the Docker SDK for Python) >= 5.0.0
notes:
  - Memory limits are checked against what the container uses now (one C(stats) call per container the
    5.11 fix would limit) - a limit the usage is already above O(policy.memory_headroom) percent of is
    skipped, since it would get the service OOM-killed at once.
  - C(always) and C(unless-stopped) restart policies are left alone unless O(policy.restart_from_always) is
    set - Docker does not start C(on-failure) containers again after a reboot.
  - Containers that share another container's network namespace (C(--network container:<name>)) lose it
    when that container is replaced; recreate such a pair by its owner.
  - Returns C(failed) when any container was rolled back or could not be changed, after handling every other
    container.
options:
  containers:
    description:
      - Containers to remediate - names, shell-style globs over names, or ids (12 hex digits or more).
        Empty means every container.
    type: list
    elements: str
    default: []
  labels:
    description:
      - Only containers that carry every one of these labels, each C(key) or C(key=value).
    type: list
    elements: str
    default: []
  include_stopped:
    description:
      - Remediate stopped containers too. A stopped container is recreated without being started.
    type: bool
    default: false
  rules:
    description:
      - Only fix these rule ids (quote them in YAML). Empty means every rule the module can fix.
    type: list
    elements: str
    default: []
  findings:
    description:
      - The RV(bulwark.hardening.container_audit#module:findings) of an earlier audit. When given, only its
        failing rule and container pairs are fixed (still only where they fail now).
    type: list
    elements: dict
  policy:
    description:
      - The values fixes set, for every container; O(overrides) change them per container.
      - Unset values skip the fix that needs them, with that reason.
    type: dict
    default: {}
    suboptions: &policy
      memory:
        description: Memory limit for 5.11, such as C(512m) or C(2g) (at least C(6m)).
        type: str
      memory_swap:
        description:
          - Memory plus swap for 5.11, such as C(1g); C(-1) allows unlimited swap. Unset, it equals
            O(policy.memory) (no swap).
        type: str
      memory_headroom:
        description:
          - Skip the 5.11 fix for a container already using more than this percentage of the limit.
            Unset, 80.
        type: int
      cpu_shares:
        description: CPU shares (relative weight) for 5.12, such as C(512).
        type: int
      pids_limit:
        description: Maximum number of processes for 5.29, such as C(512).
        type: int
      restart_retries:
        description: Restart count of the on-failure restart policy for 5.15 (the benchmark wants 5 or fewer). Unset, 5.
        type: int
      restart_from_always:
        description:
          - Also switch C(always) and C(unless-stopped) restart policies to on-failure (5.15). Unset, false -
            those containers would stay down after a reboot.
        type: bool
      recreate:
        description: Allow recreate fixes for these containers. Unset, false.
        type: bool
      cap_add:
        description: Capabilities kept after C(cap_drop ALL) (5.4, BW-008), such as C(NET_BIND_SERVICE). Unset, none.
        type: list
        elements: str
      tmpfs:
        description: Writable tmpfs paths of a read-only root filesystem (5.13). Unset, C(/tmp).
        type: list
        elements: str
      user:
        description: Run containers that run as root as this user (C(uid:gid) or a name in the image) when recreated.
        type: str
      network:
        description: The network a container on the host's network moves to (5.10). Unset, 5.10 is skipped.
        type: str
  overrides:
    description:
      - Policy changes for some containers, applied in order over O(policy) (later ones win).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Shell-style glob over container names.
        type: str
      label:
        description: A label the containers carry, C(key) or C(key=value). With O(overrides[].name), both must match.
        type: str
      policy:
        description: The policy values to change; same fields as O(policy).
        type: dict
        required: true
        suboptions: *policy
  exemptions:
    description:
      - Accepted findings - the listed rules are not fixed on matching containers, and are reported as skipped
        with the reason.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Shell-style glob over container names. Without O(exemptions[].label), C(*).
        type: str
      label:
        description: A label the containers carry, C(key) or C(key=value).
        type: str
      rules:
        description: Rule ids exempted (quoted); empty exempts every rule.
        type: list
        elements: str
        default: []
      reason:
        description: Why the findings are accepted.
        type: str
        required: true
      expires:
        description: Last day the exemption applies, C(YYYY-MM-DD).
        type: str
  grace_period:
    description: Seconds a replacement must keep running before the old container is removed.
    type: int
    default: 10
  health_timeout:
    description: Seconds a replacement with a health check has to turn healthy.
    type: int
    default: 120
  level:
    description:
      - The CIS profile, as in M(bulwark.hardening.container_audit) - V(1) the Level 1 rules, V(2) every rule.
        Rules above the level are neither audited, reported nor fixed - under V(1), for example, BW-008
        (capabilities not dropped) is left alone.
      - O(rules) and O(exemptions) are still checked against every container rule - an id above the level is
        valid and left out, so one rule list serves both profiles.
    type: int
    choices: [1, 2]
    default: 2
attributes:
  check_mode:
    support: full
    description: Check mode audits and plans, and changes nothing; RV(containers) shows the plan.
  diff_mode:
    support: full
    description: Each changed container's settings before and after.
  platform:
    platforms: posix
    support: full
    description: Talks to the Docker Engine API; reads the daemon's configuration like container_audit.
extends_documentation_fragment:
  - bulwark.hardening.docker_connection
seealso:
  - module: bulwark.hardening.container_audit
"""

EXAMPLES = r"""
- name: Limit memory, CPU, PIDs and restarts of every container, live
  bulwark.hardening.container_remediate:
    policy:
      memory: 1g
      cpu_shares: 512
      pids_limit: 1024

- name: Harden the web containers by replacing them, keep the database as it is
  bulwark.hardening.container_remediate:
    containers: ["web-*"]
    policy:
      recreate: true
      cap_add: [NET_BIND_SERVICE]
      tmpfs: [/tmp, /var/cache/nginx, /run]
    exemptions:
      - name: web-legacy
        rules: ["5.13"]
        reason: writes its cache below /srv; ticket OPS-123
        expires: "2027-03-31"

- name: Fix only what the CIS Level 1 profile asks for
  bulwark.hardening.container_remediate:
    level: 1
    policy: {memory: 1g, pids_limit: 1024, recreate: true}

- name: Show the plan only
  bulwark.hardening.container_remediate:
    policy: {memory: 512m, recreate: true}
  check_mode: true
  diff: true
"""

RETURN = r"""
containers:
  description: One entry per container with a failing rule.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: Container name.
      type: str
    id:
      description: The container's id (12 digits) before remediation.
      type: str
    action:
      description: C(live), C(recreate) or C(none).
      type: str
    fixes:
      description: Rule ids the change fixes.
      type: list
      elements: str
    changes:
      description: Each changed setting, with its value before and after.
      type: dict
      sample: {"HostConfig.Memory": {"before": 0, "after": 536870912}}
    skipped:
      description: Failing rules not fixed, each with the reason.
      type: list
      elements: dict
    status:
      description: C(planned) (check mode), C(changed), C(unchanged), C(rolled_back) or C(failed).
      type: str
    detail:
      description: Why a replacement was rolled back or a change failed; update warnings.
      type: str
      returned: when there is one
    new_id:
      description: The replacement's id (12 digits).
      type: str
      returned: when the container was recreated
    logs:
      description: The failed replacement's last log lines, secrets masked.
      type: str
      returned: on a roll back with logs
fixed:
  description: Rule and container pairs that failed and pass now (in check mode, that the plan fixes).
  returned: success
  type: list
  elements: dict
still_failing:
  description: Rule and container pairs that still fail, with the audit's evidence.
  returned: success
  type: list
  elements: dict
not_fixed:
  description: Rule and container pairs left alone, with the reason (not named C(skipped), which Ansible reads as a skipped task).
  returned: success
  type: list
  elements: dict
summary:
  description: The CIS profile (level, O(level)) and counts - audited, live, recreated, rolled_back, failed, fixed,
    still_failing, not_fixed.
  returned: success
  type: dict
  sample: {"level": 2, "audited": 12, "live": 10, "recreated": 1, "rolled_back": 0, "failed": 0, "fixed": 31,
           "still_failing": 4, "not_fixed": 6}
api_calls:
  description: Docker API calls made.
  returned: success
  type: int
api_calls_by_endpoint:
  description: Docker API calls per endpoint.
  returned: success
  type: dict
duration_s:
  description: Seconds the run took.
  returned: success
  type: float
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.bulwark.hardening.plugins.module_utils.engine.argument_spec import with_connection
from ansible_collections.bulwark.hardening.plugins.module_utils.engine.connection import (
    DOCKER_IMPORT_ERROR, HAS_DOCKER, EngineError, connection_from,
)
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.run import RemediationError, run_remediation

POLICY_OPTIONS = dict(
    memory=dict(type="str"),
    memory_swap=dict(type="str"),
    memory_headroom=dict(type="int"),
    cpu_shares=dict(type="int"),
    pids_limit=dict(type="int"),
    restart_retries=dict(type="int"),
    restart_from_always=dict(type="bool"),
    recreate=dict(type="bool"),
    cap_add=dict(type="list", elements="str"),
    tmpfs=dict(type="list", elements="str"),
    user=dict(type="str"),
    network=dict(type="str"),
)

ARGUMENT_SPEC = with_connection(dict(
    containers=dict(type="list", elements="str", default=[]),
    labels=dict(type="list", elements="str", default=[]),
    include_stopped=dict(type="bool", default=False),
    rules=dict(type="list", elements="str", default=[]),
    findings=dict(type="list", elements="dict"),
    policy=dict(type="dict", default={}, options=POLICY_OPTIONS),
    overrides=dict(type="list", elements="dict", default=[], options=dict(
        name=dict(type="str"),
        label=dict(type="str"),
        policy=dict(type="dict", required=True, options=POLICY_OPTIONS),
    )),
    exemptions=dict(type="list", elements="dict", default=[], options=dict(
        name=dict(type="str"),
        label=dict(type="str"),
        rules=dict(type="list", elements="str", default=[]),
        reason=dict(type="str", required=True),
        expires=dict(type="str"),
    )),
    grace_period=dict(type="int", default=10),
    health_timeout=dict(type="int", default=120),
    level=dict(type="int", choices=[1, 2], default=2),
))

REMEDIATION_OPTIONS = ("containers", "labels", "include_stopped", "rules", "findings", "policy", "overrides",
                       "exemptions", "grace_period", "health_timeout", "level")


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    if not HAS_DOCKER:
        module.fail_json(msg=missing_required_lib("docker"), exception=DOCKER_IMPORT_ERROR)
    options = dict((name, module.params[name]) for name in REMEDIATION_OPTIONS)
    try:
        result = run_remediation(connection=connection_from(module.params), check_mode=module.check_mode, **options)
    except (RemediationError, EngineError) as error:
        module.fail_json(msg=str(error))
    if not module._diff:
        result.pop("diff")
    problems = [entry for entry in result["containers"] if entry["status"] in ("rolled_back", "failed")]
    if problems:
        module.fail_json(msg="; ".join("%s: %s %s" % (entry["name"], entry["status"].replace("_", " "), entry.get("detail", ""))
                                       for entry in problems), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
