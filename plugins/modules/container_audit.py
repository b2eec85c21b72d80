#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Audit a Docker host against the CIS Docker Benchmark (v1.8 or v1.6) and bulwark's own rules, in one pass."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: container_audit
short_description: Audit a Docker host, its daemon, images and containers against the CIS Docker Benchmark in one pass
version_added: 0.1.0
description:
  - Runs every automatable check of the CIS Docker Benchmark v1.8 (or v1.6, O(cis_version)) sections 1 to 7,
    plus bulwark's
    own BW rules (secrets in environment, labels and image config, filesystem drift of immutable
    containers, image pinning and registry allowlist, default bridge exposure, capabilities not
    dropped, writable mounts of sensitive host paths, package managers or downloaders running, changed
    binaries and libraries). C(docs/rules.md) lists every rule.
  - Gathers once, then evaluates every rule in memory. For sections 1 to 5 and the BW rules, Docker
    API calls are C(info) once, the container list once, one inspect per audited container and one
    per distinct image of those containers (so at most containers + images + 2), plus only the optional calls enabled
    by O(process_checks), O(image_history), O(drift_checks) and containers labelled
    C(bulwark.immutable=true) (one C(diff) each, for rule BW-004; never two C(diff) calls for one container),
    and one inspect per container whose network, PID or IPC namespace an audited container joins
    (C(container:<id>) modes) when it is not audited itself (5.10, 5.16 and 5.17 judge by that donor).
  - Sections 6 and 7 add a few calls, never one per object. Scope C(operations) (6.1, 6.2) - 2 calls, the
    image list and the list of every container, running or not (C(images), C(containers)). Scope C(swarm)
    (7.1 to 7.9) - none on a host that is not in a swarm (every 7.x rule is then C(skipped) as not applicable),
    on a worker or on a locked manager (C(docker info) decides); 3 on a swarm manager, the node, overlay
    network and secret lists (C(nodes), C(networks), C(secrets); secret data is never returned by the Engine),
    plus C(inspect_swarm) only when C(docker info) lacks the cluster block. The default scope therefore makes
    at most containers + images + 4 calls off-swarm and containers + images + 7 on a swarm manager, plus the
    optional ones above.
  - On a swarm node, the listen address of the management plane (7.2) and the data path address (7.9)
    are read from the node's C(<DockerRootDir>/swarm/docker-state.json), a file read, not an API call
    (the Engine API does not return them).
  - Reads effective state, not only configuration files - C(docker info), the running dockerd's
    command line from C(/proc/<pid>/cmdline), the daemon.json it reads, docker.socket, inspect data, file
    ownership and modes, loaded audit rules (C(auditctl -l)), and the kernel's C(NoNewPrivs) flag of each
    running container's init in C(/proc/<pid>/status) (5.26; not read when O(docker_host) is another machine).
  - Read-only. It never changes Docker or the host's configuration, so RV(ignore:changed) is always
    false and check mode behaves exactly like a normal run. One cache is kept - with the C(host) scope,
    CIS 1.2.2 asks C(apt-cache policy) for the candidate version, and apt keeps the package cache it
    builds for that in C(/var/cache/bulwark/apt) (mode 0700, about 40 MB on Debian 12; apt checks it
    against dpkg's status and its package lists on every run and rebuilds it when they changed).
    apt's own C(/var/cache/apt) is never written. Where that directory cannot be private (owned by
    another user, writable by others, or not creatable), the cache is built in memory on every run.
  - Secrets are never returned - findings name the variable or label, the value's length and why it is a
    secret, for example C(DB_PASSWORD=<masked, 24 chars> (a password by its name)) or
    C(JAVA_OPTS=<masked, 60 chars> (password under the key Dspring.datasource.password)). Secrets are
    judged by what a value is, not by how random it looks - paths, URLs without credentials, versions,
    digests and UUIDs are never secrets. Everything the module prints passes through the collection's
    masking layer too.
author:
  - bulwark.hardening contributors (@bulwark)
requirements:
  - docker (the Docker SDK for Python) >= 5.0.0, only to reach the Engine over TLS or ssh:// - over the local Unix
    socket or plain TCP the audit reads the API with Python's own http.client and needs nothing on the host but Python
notes:
  - Run it on the Docker host itself (C(become=true) for the audit rules and file checks) -
    host, daemon and file checks read the machine the module runs on, container checks the daemon
    at O(docker_host).
  - The score in RV(summary.score) is passed / (passed + failed) over findings of scored rules,
    as a percentage. warn, info, skipped and waived findings count neither way.
    RV(summary.cis_score) is the benchmark's own tally (+1 per scored pass, -1 per scored fail).
  - A warn therefore counts in neither RV(summary.score) nor RV(summary.cis_score) (unlike the
    shell implementation's -1 per warn). That is why a scored rule never answers warn for an
    insecure setting - it fails, and an operator who accepts the setting on a host (a swarm node,
    a forwarded journal, a custom cgroup parent) waives the finding with O(waivers), which keeps
    the reason on record. warn is left for what only a person can judge - unscored rules such as
    5.9 (published ports) and 1.1.2 without O(trusted_users), and read-only mounts of host system
    directories under 5.6.
attributes:
  check_mode:
    support: full
    description: The module only reads; check mode runs the same audit.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
  platform:
    platforms: posix
    support: full
    description: Reads /proc and POSIX file metadata of the Docker host.
extends_documentation_fragment:
  - bulwark.hardening.docker_connection
  - bulwark.hardening.audit_options
  - bulwark.hardening.audit_options.container_audit
seealso:
  - module: bulwark.hardening.file_policy
"""

EXAMPLES = r"""
- name: Full CIS Docker Benchmark audit of this host
  become: true
  bulwark.hardening.container_audit:
  register: audit

- name: Fail the play on any failing finding
  ansible.builtin.assert:
    that: audit.summary.by_status.fail == 0
    fail_msg: "failing rules: {{ audit.summary.failed_rules | join(', ') }}"

- name: Runtime checks of production web containers only, with an accepted exception
  bulwark.hardening.container_audit:
    scope: [containers, bulwark]
    name_filter: ["web-*"]
    label_filter: ["env=prod"]
    trusted_registries: [registry.example.com]
    waivers:
      - rule: "5.14"
        target: web-proxy
        reason: the proxy must listen on every interface
        expires: "2026-12-31"

- name: The CIS Level 1 profile only (Level 2 rules are neither evaluated nor reported)
  bulwark.hardening.container_audit:
    level: 1
  register: audit_level_1

- name: In CIS Docker Benchmark v1.6 numbering (2.9 is user namespaces there), for tools that speak v1.6
  bulwark.hardening.container_audit:
    cis_version: "1.6"
    waivers:
      - rule: "2.9"
        reason: a host that runs containers started before remapping

- name: Full report (passes too), with the optional per-container and per-image calls
  bulwark.hardening.container_audit:
    report: all
    process_checks: true
    image_history: true
    drift_checks: true
    include_stopped: true
"""

RETURN = r"""
summary:
  description: Counts of findings and the score.
  returned: success
  type: dict
  contains:
    total:
      description: Number of findings, listed or not.
      type: int
      sample: 412
    listed:
      description: Number of findings in RV(findings) (see O(report)).
      type: int
      sample: 15
    by_status:
      description: Findings per status (fail, warn, pass, info, skipped, waived).
      type: dict
      sample: {"fail": 12, "warn": 3, "pass": 380, "info": 15, "skipped": 2, "waived": 0}
    by_section:
      description: Findings per status for each section (C(1) to C(7), C(BW)).
      type: dict
      sample: {"5": {"fail": 4, "warn": 0, "pass": 120, "info": 2, "skipped": 1, "waived": 0}}
    score:
      description: Passed / (passed + failed) findings of scored rules, in percent; null when none was decided.
      type: float
      sample: 92.5
    cis_score:
      description: Scored passes minus scored failures, as the benchmark tallies.
      type: int
      sample: 340
    scored:
      description: The scored passes and failures RV(summary.score) and RV(summary.cis_score) are made of.
      type: dict
      sample: {"pass": 380, "fail": 40}
    by_image:
      description:
        - The verdicts of the image rules on each image of the audited containers - per image, each rule id (of
          RV(summary.cis_version)) with its status. M(bulwark.hardening.compliance_report) counts each finding once with them
          when M(bulwark.hardening.image_audit) judged the same image (C(docs/report-schema.md)).
      type: dict
      sample: {"app:1.2": {"4.6": "fail", "4.2": "info", "BW-003": "pass"}}
    failed_rules:
      description: Ids of rules with at least one failing finding.
      type: list
      elements: str
      sample: ["2.2", "5.11", "BW-001"]
    level:
      description: The CIS profile audited (O(level)); every count above is over that profile's rules only.
      type: int
      sample: 2
    cis_version:
      description: The CIS Docker Benchmark version audited (O(cis_version)), whose ids RV(summary.failed_rules)
        and RV(findings[].rule) use.
      type: str
      sample: "1.8"
rules:
  description:
    - Every rule RV(findings) names, once, by its id (in the numbering of O(cis_version)) - what a finding does not
      repeat. Earlier versions of this module listed these fields in every finding.
    - M(bulwark.hardening.compliance_report) and the filters read findings with their rule from here.
  returned: success
  type: dict
  sample: {"5.11": {"title": "Ensure that the memory usage for containers is limited", "section": "5", "level": 1,
                    "scored": true, "severity": "medium", "remediation": "Set a memory limit: docker update --memory 512m <container>",
                    "fix": "live", "fixed_by": ["containers_live_enabled", "containers_policy"]}}
  contains:
    title:
      description: Rule title (CIS's, in O(cis_version)).
      type: str
      sample: Ensure that the memory usage for containers is limited
    section:
      description: CIS section number, or C(BW).
      type: str
      sample: "5"
    level:
      description: Profile level, 1 or 2.
      type: int
      sample: 1
    scored:
      description: Whether the rule counts towards the score.
      type: bool
      sample: true
    severity:
      description: The rule's severity (low, medium, high or critical); a finding may say lower (RV(findings[].severity)).
      type: str
      sample: medium
    remediation:
      description: How to fix it.
      type: str
      sample: "Set a memory limit: docker update --memory 512m <container>"
    fix:
      description: How a fix is applied - live, recreate, daemon, files, host or manual.
      type: str
      sample: live
    fixed_by:
      description: The role variables that fix the rule; absent when no role does.
      type: list
      elements: str
      sample: ["containers_live_enabled", "containers_policy"]
    left_open:
      description: Why the rule stays open after the roles ran with their defaults, and what closes it; absent for a
        rule the roles close.
      type: str
      sample: "recreates the container: set containers_recreate_enabled: true"
findings:
  description:
    - One entry per rule and target; only problems unless O(report=all).
    - Its rule's title, section, level, scored, remediation, fix and fixed_by are in RV(rules), once.
  returned: success
  type: list
  elements: dict
  contains:
    rule:
      description: Rule id (CIS id in the numbering of O(cis_version), or BW-xxx); its key in RV(rules).
      type: str
      sample: "5.11"
    target:
      description: What the finding is about - a container or image name, a file path, C(daemon), C(host),
        C(images) or C(containers) (section 6), C(swarm) or an overlay network's name (section 7).
      type: str
      sample: web-1
    status:
      description: One of fail, warn, pass, info, skipped, waived.
      type: str
      sample: fail
    severity:
      description: low, medium, high or critical - the rule's, or lower where the evidence says why (a secret file
        an OS package of the image ships or makes is low).
      type: str
      sample: medium
    evidence:
      description: What was observed. Secret-like values are masked.
      type: str
      sample: HostConfig.Memory=0 (no limit)
    left_open:
      description: Only on a fail, warn or waived finding whose reason to stay open is this target's own (what the
        audit found on it, e.g. the containers that keep a daemon setting pending); otherwise the rule's
        RV(rules.left_open) applies.
      type: str
      sample: "pending: dockerd applies icc when the default bridge has no container (web-1 holds it)"
api_calls:
  description: Docker API calls made, retries included.
  returned: success
  type: int
  sample: 14
api_calls_by_endpoint:
  description: Docker API calls per SDK method.
  returned: success
  type: dict
  sample: {"info": 1, "containers": 2, "images": 1, "inspect_container": 10, "inspect_image": 2}
containers:
  description: Number of containers audited.
  returned: success
  type: int
  sample: 10
images:
  description: Number of distinct images inspected.
  returned: success
  type: int
  sample: 2
duration_s:
  description: Seconds spent gathering and evaluating.
  returned: success
  type: float
  sample: 0.42
"""

from ansible_collections.bulwark.hardening.plugins.module_utils.common.masking import MaskedModule, masked_main
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.argument_specs import container_audit_spec
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.run import module_audit, run_audit

ARGUMENT_SPEC = container_audit_spec()


@masked_main
def main():
    module = MaskedModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.exit_json(changed=False, **module_audit(module, run_audit))


if __name__ == "__main__":
    main()
