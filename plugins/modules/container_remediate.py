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
    replacement at the same paths. A container in another one's namespaces (C(--network container:X), IPC,
    PID) is replaced into the same ones; the network settings it takes from X are left out of the request.
  - B(Nothing is lost or cut off.) Before a recreate, each candidate (and only those) is looked at, and the
    recreate is refused with the reason - the container kept as it is, its live fixes still applied - when
    its writable layer holds files it wrote, changed or deleted outside its volumes (one
    C(GET /containers/{id}/changes); paths under O(policy.disposable_paths) may go); when other containers
    depend on it (their network, IPC or PID namespace is C(container:<it>), a legacy link targets it, or
    C(--volumes-from) names it - refused rather than recreated as a group, naming them); when it publishes a
    port on a host port the Engine picks; or when, on the host's network, the ports it listens on cannot be
    read. Check mode shows the same refusals.
  - B(A replacement is verified before the old container is removed.) It is created under a temporary name
    with restart policy C(no) while the old one still runs; the old one is renamed aside, its restart policy
    set to C(no) and stopped; the new one takes the name, starts, and must keep running for O(grace_period)
    seconds with its restart count and start time unchanged, turn healthy (with a health check) and answer
    on every TCP endpoint the old container answered on (its published ports; on the host's network the
    ports its processes listen on, read from /proc). Only then does it get the original restart policy.
    Otherwise - an exit or restart is seen within 0.5 s - the new one is removed, the old one renamed back,
    its restart policy restored and started, and the result gives the reason and the new container's last
    log lines. Volumes and bind data are never removed.
  - B(An interrupted run is recovered by the next one.) Each replacement is recorded in a root-only journal
    (O(state_dir), one JSON file per replacement, written before each step that changes something); every
    run starts by finishing (verified) or undoing (not verified) what an interrupted run left - the original
    name and restart policy back, nothing named C(-bulwark-old-) left - and never takes such containers as
    targets. Only what the journal records is touched; a container merely named like one set aside is
    reported in RV(leftovers) and left alone.
  - B(Compose projects) - for containers with C(com.docker.compose.*) labels the result carries, per project, a
    C(docker-compose.override.yml) with every fix applied to its services (RV(compose)), and with
    O(compose_override_write) it is written next to the project's compose file. Without it, C(docker compose
    down && up -d) (or any recreate by Compose) brings back the compose file's settings and undoes the fixes.
    C(docker compose up -d) with an unchanged compose file leaves remediated containers alone (their Compose
    labels, configuration hash included, are kept).
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
  - Containers others depend on are never replaced (see above); recreate such a group by its owner, who knows
    the order it starts in (C(docker compose up -d --force-recreate)).
  - The override file is never written over one someone else wrote - only over the one this module wrote
    last (its checksum is kept in O(state_dir)); otherwise the text is returned to merge by hand. An override
    can add to lists (C(security_opt), C(cap_add), C(tmpfs), C(ports)) but not take entries out - what a fix
    removed (C(apparmor:unconfined), the Docker socket volume, a capability) is returned in
    RV(compose[].edits) to make in the compose file itself. Loading the override makes Compose recreate those
    services once (their configuration changed), with the fixes.
  - API calls - a container that needs no recreate costs none beyond the audit's (one list of every container
    per run finds set-aside leftovers). A recreate candidate costs one C(changes) call, and, once per run when
    any recreate is planned, every container the audit did not inspect (stopped ones, those outside
    O(containers)) is inspected to find dependants.
  - Only TCP endpoints are checked for answering; an endpoint answers when a connection to it is accepted and
    not closed at once (docker-proxy accepts a connection to a published port even when nothing listens
    behind it, and closes it). Ports on the host's network are read from /proc, so only with a local
    O(docker_host) and as root.
  - B(Test hook) - with C(BULWARK_REMEDIATE_KILL_AT=<step>) in the module's environment, the module kills
    itself with SIGKILL right after journaling that step of a replacement, as a C(kill -9) or a lost SSH
    session would. Steps - C(create), C(connect), C(rename_old), C(restart_off), C(stop_old), C(rename_new),
    C(start_new), C(verify), C(restore_restart), C(remove_old), C(done). For tests only.
  - Returns C(failed) when any container was rolled back or could not be changed, or an interrupted earlier
    replacement could not be recovered, after handling every other container.
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
        description:
          - The network a container on the host's network moves to (5.10), with each TCP port its processes listen
            on published at the same port and address (C(0.0.0.0), or every address for C(::)). Unset, 5.10 is
            skipped.
          - 5.10 is skipped, keeping it on the host's network, when those ports cannot be read (O(docker_host) is
            not this host's socket; not run as root) or a listener is on an address a published port cannot
            reach (C(127.0.0.1), one address of the host).
        type: str
      disposable_paths:
        description:
          - Paths of a container's writable layer a replacement may drop, such as C(/srv/spool) or
            C(**/__pycache__); each covers what is below it, C(*) matches within one path segment and C(**)
            across segments. A recreate candidate that added, changed or deleted anything else outside its
            volumes is not recreated, and the reason names the paths (the first 10, and how many more).
          - Unset, scratch, runtime state and caches - C(/tmp), C(/var/tmp), C(/run), C(/var/run), C(/var/lock),
            C(/var/cache), C(/var/lib/apt/lists), C(/root/.cache), C(/home/*/.cache), C(**/__pycache__). Setting
            it replaces that list.
        type: list
        elements: str
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
  state_dir:
    description:
      - Directory of the replacement journal (one file per replacement in progress) and of the Compose projects'
        records of applied fixes. Created with mode 0700; not used when another user owns it or group or others
        may write it (recreates are then refused with the reason).
    type: path
    default: /var/lib/bulwark/remediate
  compose_override_write:
    description:
      - Write each Compose project's override (RV(compose[].override)) next to its compose file, as
        C(docker-compose.override.yml) (or C(compose.override.yaml) for a C(compose.yaml)), never over a file
        this module did not write. Only for a local O(docker_host).
    type: bool
    default: false
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
  cis_version:
    description:
      - The CIS Docker Benchmark version audited, as in M(bulwark.hardening.container_audit) - V(1.8) or V(1.6).
        Container rule ids are the same in both; what differs is 5.6, whose host system directories include
        C(/lib64) under V(1.8) (under V(1.6), BW-009 judges and fixes a writable C(/lib64) mount).
    type: str
    choices: ["1.6", "1.8"]
    default: "1.8"
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

- name: Replace the services of a Compose project, keep their spool, and keep the fixes in an override
  bulwark.hardening.container_remediate:
    labels: ["com.docker.compose.project=shop"]
    policy:
      recreate: true
      disposable_paths: [/tmp, /run, /var/cache, /srv/spool]
    compose_override_write: true

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
      description:
        - The failed replacement's last log lines, secrets masked (the values of its environment's secrets
          too, wherever a line repeats them). RV(containers[].detail) masks a failing health check's output the
          same way, before it is cut short.
      type: str
      returned: on a roll back with logs
    verified_ports:
      description: The TCP endpoints the old container answered on, which the replacement had to answer on too.
      type: list
      elements: str
      returned: when a recreate was done or planned for a container answering somewhere
      sample: ["127.0.0.1:8080"]
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
recovered:
  description: The replacements an interrupted earlier run left (its journal in O(state_dir)), finished or undone
    before anything else was planned.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: The container's name.
      type: str
    old_id:
      description: The old container's id (12 digits).
      type: str
    new_id:
      description: The replacement's id (12 digits), when it had been created.
      type: str
    step:
      description: The step the interrupted run had recorded (see the notes).
      type: str
    action:
      description: C(restored) (not verified - the replacement removed, the old container back under its name
        with its restart policy, started if it ran) or C(finished) (verified - the replacement keeps the name and
        gets the restart policy, the old container is removed without its volumes).
      type: str
    status:
      description: C(changed), C(planned) (check mode) or C(failed) (the entry stays for the next run).
      type: str
    detail:
      description: What was done, or why it could not be.
      type: str
leftovers:
  description: Containers named like one a replacement sets aside (C(-bulwark-old-), C(-bulwark-new-)) that no
    journal entry records - never targets, never touched.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: The container's name.
      type: str
    id:
      description: Its id (12 digits).
      type: str
    reason:
      description: Why it is left alone and what to do.
      type: str
compose:
  description: One entry per Docker Compose project of the audited containers with fixes on record.
  returned: success
  type: list
  elements: dict
  contains:
    project:
      description: The Compose project (C(com.docker.compose.project)).
      type: str
    working_dir:
      description: The project's directory (C(com.docker.compose.project.working_dir)).
      type: str
    path:
      description: Where Compose reads the override from; null when it reads none by itself (started with other
        files than one compose.yaml or docker-compose.yml).
      type: str
    services:
      description: The services the override changes.
      type: list
      elements: str
    override:
      description: The override text (YAML) with every fix applied to the project's services, by this and earlier runs.
      type: str
    edits:
      description: Changes an override cannot make (removing an entry Compose merges), to make in the compose file.
      type: list
      elements: str
    written:
      description: Whether this run wrote the override to RV(compose[].path).
      type: bool
    detail:
      description: Why it was not written, or where it was.
      type: str
summary:
  description: The CIS profile (level, O(level)), the CIS version (cis_version, O(cis_version)) and counts - audited,
    live, recreated, rolled_back, failed, fixed, still_failing, not_fixed, recovered.
  returned: success
  type: dict
  sample: {"level": 2, "cis_version": "1.8", "audited": 12, "live": 10, "recreated": 1, "rolled_back": 0, "failed": 0, "fixed": 31,
           "still_failing": 4, "not_fixed": 6, "recovered": 0}
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

from ansible.module_utils.basic import missing_required_lib
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.rule import CIS_VERSIONS, DEFAULT_CIS_VERSION
from ansible_collections.bulwark.hardening.plugins.module_utils.common.masking import MaskedModule, masked_main
from ansible_collections.bulwark.hardening.plugins.module_utils.engine.argument_spec import with_connection
from ansible_collections.bulwark.hardening.plugins.module_utils.engine.connection import (
    DOCKER_IMPORT_ERROR, HAS_DOCKER, EngineError, connection_from,
)
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.journal import DEFAULT_STATE_DIR
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.policy import policy_options
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.run import RemediationError, run_remediation

POLICY_OPTIONS = policy_options()

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
    cis_version=dict(type="str", choices=list(CIS_VERSIONS), default=DEFAULT_CIS_VERSION),
    state_dir=dict(type="path", default=DEFAULT_STATE_DIR),
    compose_override_write=dict(type="bool", default=False),
))

REMEDIATION_OPTIONS = ("containers", "labels", "include_stopped", "rules", "findings", "policy", "overrides",
                       "exemptions", "grace_period", "health_timeout", "level", "cis_version", "state_dir",
                       "compose_override_write")


@masked_main
def main():
    module = MaskedModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
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
    problems += [dict(entry, status="recovery failed") for entry in result["recovered"] if entry["status"] == "failed"]
    if problems:
        module.fail_json(msg="; ".join("%s: %s %s" % (entry["name"], entry["status"].replace("_", " "), entry.get("detail", ""))
                                       for entry in problems), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
