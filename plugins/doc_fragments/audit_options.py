# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """The options the audits share, documented once.

    DOCUMENTATION: what container_audit and image_audit both take (the profile, the benchmark version, waivers, the
    findings listed, the trusted registries); both modules build them with the same functions (audit.run,
    audit.waivers). RESULTS: how the controller's report actions, compliance_report and audit_verdict, name a run and
    find each host's registered results.
    """

    DOCUMENTATION = r"""
options:
  waivers:
    description:
      - Accepted findings. A C(fail) or C(warn) finding of O(waivers[].rule) whose target matches
        O(waivers[].target) is reported as C(waived), with the reason in its evidence.
      - After O(waivers[].expires), the waiver turns the finding into a C(fail) whose evidence says
        the waiver expired.
    type: list
    elements: dict
    default: []
    suboptions:
      rule:
        description:
          - Rule id in the numbering of O(cis_version), for example C(5.11), C(4.6) or C(BW-001). An id that version
            does not have fails the audit before anything is gathered, naming the closest known ids.
          - Quote it in YAML - unquoted, C(5.10) is the number 5.1 and waives rule 5.1 (and C(4.10) waives 4.1).
        type: str
        required: true
      target:
        description:
          - Shell-style glob over finding targets. Those of M(bulwark.hardening.container_audit) are container or
            image names, file paths, C(daemon), C(host), C(images), C(containers), C(swarm) or an overlay network's
            name (7.3); those of M(bulwark.hardening.image_audit) are images - an image's name, its first tag or its
            short id. It must be a string.
        type: str
        default: "*"
      reason:
        description: Why the finding is accepted; shown in the evidence.
        type: str
        required: true
      expires:
        description: Last day the waiver applies, as C(YYYY-MM-DD). Without it the waiver does not expire.
        type: str
  trusted_registries:
    description:
      - Registries (or registry/path prefixes) that images may come from, for rule BW-006, for
        example C(registry.example.com) or C(docker.io/library). Docker Hub is C(docker.io).
      - Origin is decided from the image's RepoDigests only (set when it was pulled from or pushed
        to a registry), never from a tag, which C(docker tag) gives any local image. An image
        built, imported or tagged locally has no registry origin and fails BW-006.
      - Empty skips BW-006.
    type: list
    elements: str
    default: []
  report:
    description:
      - Which findings RV(findings) lists. V(problems) lists those with status C(fail), C(warn)
        or C(waived); V(all) lists every finding, passes included.
      - The summary counts every finding either way. With hundreds of containers most findings
        are passes (about 10,000 for 500 containers), which would make the result several MB.
    type: str
    choices: [problems, all]
    default: problems
  level:
    description:
      - The CIS profile to audit against. Profiles are cumulative - V(1) is the Level 1 profile, V(2) the
        Level 1 rules plus the Level 2 ones, that is every rule (bulwark's BW rules carry a level too).
      - Rules above the level are neither evaluated nor reported, and count nowhere in RV(summary) - under
        V(1), for example, M(bulwark.hardening.container_audit) leaves out the audit rules of CIS 1.1.3 to 1.1.18,
        user namespace remapping (2.10 in v1.8, 2.9 in v1.6), content trust (4.5) and BW-008, and
        M(bulwark.hardening.image_audit) setuid and setgid files (4.8), digest pinning (BW-005) and registry
        origin (BW-006). C(docs/rules.md) gives every rule's level.
      - O(waivers) are still checked against every rule - a waiver of a rule outside the profile is valid
        and waives nothing.
    type: int
    choices: [1, 2]
    default: 2
  cis_version:
    description:
      - The CIS Docker Benchmark version to audit against - its rule ids in RV(findings), RV(summary) and
        O(waivers), and its checks.
      - V(1.8) (v1.8.0, 2025) inserts 2.7 (devicemapper storage driver not used, automated here - C(docker info)
        .Driver) and renumbers v1.6's 2.7 to 2.18 as 2.8 to 2.19 - TLS is 2.8, user namespaces 2.10, the cgroup parent
        2.11, and so on. Its 5.6 counts C(/lib64) among the host system directories, and its 1.1.9 is titled
        after C(docker.sock). Every other id is the same; the image rules (section 4, BW) have the same ids in both.
      - V(1.6) (v1.6.0, the numbering of Docker Bench for Security) leaves the devicemapper check out.
      - Waivers name rules by the ids of this version (under V(1.8), C(2.10) waives user namespaces; under
        V(1.6), the cgroup parent). C(docs/rules.md) gives both ids of every rule.
    type: str
    choices: ["1.6", "1.8"]
    default: "1.8"
"""

    RESULTS = r"""
options:
  label:
    description:
      - What this run is, e.g. C(weekly) or C(after hardening). Each host's summary lines are headed
        C(<label> of <host>); M(bulwark.hardening.compliance_report) also puts it in the file names and shows it in
        the reports.
      - At most 100 characters with at least one letter or digit, and no control character, slash or backslash;
        checked before anything else is done.
    type: str
    default: audit
  audit_var:
    description: Name of the variable each host registered M(bulwark.hardening.container_audit)'s result in.
    type: str
    default: bulwark_audit
  image_audit_var:
    description: Name of the variable each host registered M(bulwark.hardening.image_audit)'s result in (may be skipped).
    type: str
    default: bulwark_image_audit
"""
