# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """The options the audits share, documented once.

    DOCUMENTATION: what container_audit and image_audit both take (the profile, the benchmark version, waivers, the
    findings listed, the trusted registries); both modules build them with the same functions (audit.run,
    audit.waivers). CONTAINER_AUDIT and IMAGE_AUDIT: each audit's own options, which the audit module takes together
    (their argument specs: module_utils/audit/argument_specs.py). RESULTS: how the controller's report actions,
    compliance_report and audit_verdict, name a run and find each host's registered results.
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

    # container_audit's own options (audit takes them too).
    CONTAINER_AUDIT = r"""
options:
  scope:
    description:
      - Which sections to audit - C(host) (CIS 1), C(daemon) (CIS 2), C(files) (CIS 3),
        C(images) (CIS 4), C(containers) (CIS 5), C(operations) (CIS 6, image and container sprawl),
        C(swarm) (CIS 7), C(bulwark) (BW rules).
    type: list
    elements: str
    choices: [host, daemon, files, images, containers, operations, swarm, bulwark]
    default: [host, daemon, files, images, containers, operations, swarm, bulwark]
  include_stopped:
    description:
      - Audit stopped containers too, not only running ones.
    type: bool
    default: false
  name_filter:
    description:
      - Audit only containers whose name matches one of these shell-style globs, for example C(web-*).
      - Empty means every container.
    type: list
    elements: str
    default: []
  label_filter:
    description:
      - Audit only containers that carry every one of these labels, each given as C(key) or C(key=value).
        Filtering happens in the daemon, so unselected containers cost no inspect call.
    type: list
    elements: str
    default: []
  trusted_users:
    description:
      - Users allowed in the group dockerd gives its socket (CIS 1.1.2) - C(docker), or the group
        dockerd's C(-G)/C(--group) or daemon.json C(group) names. Members not listed fail the check.
      - Unset, the members are listed with status C(warn) for a person to review.
    type: list
    elements: str
  process_checks:
    description:
      - Run the process checks CIS 5.7 (sshd inside containers) and BW-012 (package managers or
        downloaders running, such as C(apt-get), C(pip) or C(curl) - nothing should be fetched at run
        time). They cost one C(docker top) API call per running container, shared by both rules, so
        they are off by default and then C(skipped).
      - BW-012 matches the program each process runs (the name of its executable, the applet busybox
        runs, or the script or C(-m) module an interpreter runs) and, for package managers, its
        subcommand - C(npm install) fetches, C(npm start) or C(yarn <script>) launch what is installed
        and are not counted - never other words of its arguments, and reports program names,
        subcommands and counts only, never command lines. The container's own HEALTHCHECK command is
        not counted.
    type: bool
    default: false
  drift_checks:
    description:
      - Run BW-013 (a container changed its own binaries or libraries - files added, changed or
        deleted under C(/bin), C(/sbin), C(/lib), C(/lib64), C(/usr/bin), C(/usr/sbin), C(/usr/lib),
        C(/usr/lib64) or C(/usr/local/bin), C(/usr/local/sbin), C(/usr/local/lib), or the dynamic
        loader's C(/etc/ld.so.preload), C(/etc/ld.so.conf), C(/etc/ld.so.conf.d) and C(/etc/ld.so.cache);
        the bytecode python writes into C(__pycache__) is named but not counted). It costs one
        C(docker diff) API call per running container, so it is off by default and BW-013 is then
        C(skipped).
      - C(docker diff) compares the container's writable layer with its image, so its cost grows
        with the files the container wrote. Containers labelled C(bulwark.immutable=true) are diffed
        for BW-004 anyway; their one C(diff) serves both rules.
    type: bool
    default: false
  image_history:
    description:
      - Run the build-history checks CIS 4.7 and 4.9. They cost one C(docker history) API call per
        image, so they are off by default and then C(skipped).
    type: bool
    default: false
"""

    # image_audit's own options (audit takes them too).
    IMAGE_AUDIT = r"""
options:
  images:
    description:
      - Images to audit, by name glob (matched against each tag C(repo:tag), each repository, which selects
        all its tags, and each registry digest C(repo@sha256:...)), or by id (12 to 64 hex digits, with or
        without C(sha256:)).
      - Empty means every local image.
    type: list
    elements: str
    default: []
  include_dangling:
    description:
      - Audit dangling (untagged) images too. An image named by id in O(images) is audited either way.
    type: bool
    default: false
  layer_scan:
    description:
      - Read each image's layers for setuid/setgid files (4.8) and secret files (BW-010, 4.10).
      - Without it those rules are C(skipped) (4.10 is decided from the config and history alone) and no image is
        read.
    type: bool
    default: true
  cache_dir:
    description:
      - Where the layer scans are cached, one JSON file per image id. Created with mode 0700 (and its missing
        parents) on the first write (not in check mode).
    type: path
    default: /var/cache/bulwark/image-audit
  scan_max_entries:
    description:
      - Archive entries (files, directories, links, of every layer and of the save around them) one image's scan
        reads at most; the scan stops there and says so (see the description). Memory grows by about 8 bytes per
        entry.
    type: int
    default: 2000000
  scan_max_bytes:
    description:
      - Bytes of one image's save (every layer as stored, files a later layer deleted or replaced included) the
        scan streams from the Engine at most.
    type: int
    default: 34359738368
  scan_max_seconds:
    description:
      - Seconds one image's scan takes at most, the Engine's time to prepare the save included; checked between
        entries and chunks of the stream.
    type: int
    default: 600
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
    description:
      - Name of the variable each host registered M(bulwark.hardening.audit)'s result in (C(playbooks/audit.yml) does), or
        M(bulwark.hardening.container_audit)'s.
      - An M(bulwark.hardening.audit) result carries the image audit's result too, in RV(bulwark.hardening.audit#module:image_audit);
        that one is then read instead of O(image_audit_var).
    type: str
    default: bulwark_audit
  image_audit_var:
    description:
      - Name of the variable each host registered M(bulwark.hardening.image_audit)'s result in (may be skipped), for plays that
        run the two audits as two tasks; read only when the O(audit_var) result has no image audit of its own.
    type: str
    default: bulwark_image_audit
"""
