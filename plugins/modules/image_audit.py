#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Audit every local Docker image (CIS section 4 and bulwark's image rules), layers included, without running it."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: image_audit
short_description: Audit every local Docker image against CIS section 4 and bulwark's image rules, layers included
version_added: 0.2.0
description:
  - Audits local images, not only those of running containers - non-root USER (CIS 4.1, numeric and named
    root forms), HEALTHCHECK present and not NONE (4.6), package index updates alone (4.7), setuid and
    setgid files (4.8), ADD instead of COPY (4.9), secrets stored by the build (4.10), secrets in the image
    config (BW-003), pinning by registry digest and C(latest) or untagged references (BW-005), registry
    origin (BW-006), secret files in the layers (BW-010) and secrets in the build history (BW-011).
    C(docs/rules.md) lists every rule.
  - Uses the same rule catalog, findings, waivers and summary as M(bulwark.hardening.container_audit).
  - Docker API calls, all of them reads - the image list once, one inspect and one history per selected image and,
    with O(layer_scan), one C(get_image) (C(docker save), C(GET /images/{id}/get)) for each image whose scan is not
    cached yet. The module creates nothing on the host - no container, no volume - and never runs an image.
  - The layer scan reads every layer of the image as the Engine streams its save (the image's layer tars inside one
    tar; Docker's classic layout and the OCI layout of Docker 25+ alike, compressed layers included), one entry at
    a time, nested tar inside tar, never writing it to disk. Whiteouts are applied in the layer order the save's
    manifest gives - setuid and setgid files (4.8) are those a container of the image sees (a file a later layer
    deleted, or replaced without the bit, is not there), while secret files (BW-010, 4.10) are those of ANY layer,
    each with the layer it is in (counted from the base) and the later layer that deleted or overwrote it - such a
    file is still in the image, and anyone who has the image can read it.
  - Only the paths, kinds and sizes of what the scan finds are kept, and only candidate files (private keys,
    C(.env), cloud credential and registry auth files) are read, at most 64 KiB each. Memory does not grow with
    the size of the image - each layer keeps its setuid, setgid and secret files and an 8-byte hash per entry (to
    find what later layers delete; 400,000 files take about 3 MB).
  - With Docker's classic image store, dockerd writes the whole save into a temporary directory under its data
    root (C(/var/lib/docker/tmp)) before it sends the first byte - an image needs that much free space there while
    it is scanned, and the wait counts towards O(scan_max_seconds).
  - Names from images are shown as text Ansible can carry - bytes that are not UTF-8, control characters and
    bidirectional controls become backslash escapes (C(/usr/bin/\xff)), and very long paths are shortened in
    the middle.
  - A scan stops at O(scan_max_entries), O(scan_max_bytes) or O(scan_max_seconds), and cannot decide when a layer
    cannot be read (a compression Python does not read, such as zstd) or the save does not say the layer order.
    What it found until then counts (a secret file is a finding in any layer; a setuid file only once every layer
    above it was read), rules that found nothing are C(skipped) with the reason (never C(pass)), the image is
    listed in RV(scans_incomplete), and the scan is not cached, so the next run scans the image again.
  - Scans are cached on the host by image id in O(cache_dir) - an image id is the digest of its config, which
    names every layer, so a cached scan stays valid for as long as the id exists. A second audit of unchanged
    images costs the list, inspect and history calls only. Invalidation is by id, never by name. A cached scan
    that cannot be used (corrupt, of another version - scans cached before every layer was read included -,
    holding text a scan never makes) is scanned again, never fatal.
  - Values that look like secrets are never returned - findings give names, paths, kinds and lengths only,
    for example C(DB_PASSWORD=<masked, 24 chars>) or C(/root/.ssh/id_rsa (private key, 411 bytes, layer 2 of 5,
    deleted in layer 3)).
author:
  - bulwark.hardening contributors (@bulwark)
requirements:
  - docker (the Docker SDK for Python) >= 5.0.0, only to reach the Engine over TLS or ssh:// - over the local Unix
    socket or plain TCP the audit reads the API with Python's own http.client and needs nothing on the host but Python
notes:
  - The module never changes the host's Docker configuration, images or containers and creates none, so
    RV(ignore:changed) is always false. The only lasting write is its own cache in O(cache_dir).
  - Earlier versions scanned through short-lived containers named C(bulwark-image-scan-<run id>-<n>) and recorded
    them in C(<cache_dir>/runs). This version makes none and removes none - one that an interrupted earlier run
    left behind (the record in C(<cache_dir>/runs) names it) is for its owner to remove, after checking it.
  - In check mode the cache is read but never written or pruned and no directory is created; images whose scan is
    not cached are scanned as in a normal run, so a check-mode run leaves no trace on the host.
  - The cache decides findings, so it is used only when
    O(cache_dir) and every parent directory up to C(/) belong to root or the user running the module and are not
    writable by group or others (a parent with the sticky bit, as C(/tmp), may be); otherwise every image is
    scanned, nothing is written, and RV(cache.unusable) says why. This is checked each time the cache is used.
    Cached scans of images that no longer exist are removed.
  - Scores and statuses count as in M(bulwark.hardening.container_audit) - RV(summary.score) is
    passed / (passed + failed) over findings of scored rules.
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
  trusted_registries:
    description:
      - Registries (or registry/path prefixes) that images may come from, for rule BW-006, for example
        C(registry.example.com) or C(docker.io/library). Docker Hub is C(docker.io).
      - Origin is decided from RepoDigests only, never from a tag. Empty skips BW-006.
    type: list
    elements: str
    default: []
  waivers:
    description:
      - Accepted findings, as in M(bulwark.hardening.container_audit). A C(fail) or C(warn) finding of
        O(waivers[].rule) whose target (an image name, its first tag or its short id) matches
        O(waivers[].target) is reported as C(waived); after O(waivers[].expires) it fails again.
    type: list
    elements: dict
    default: []
    suboptions:
      rule:
        description:
          - Rule id, for example C(4.6) or C(BW-005). Unknown ids fail the audit before anything is gathered.
          - Quote it in YAML - unquoted, C(4.10) is the number 4.1.
        type: str
        required: true
      target:
        description: Shell-style glob over finding targets (image names).
        type: str
        default: "*"
      reason:
        description: Why the finding is accepted; shown in the evidence.
        type: str
        required: true
      expires:
        description: Last day the waiver applies, as C(YYYY-MM-DD).
        type: str
  report:
    description:
      - Which findings RV(findings) lists. V(problems) lists those with status C(fail), C(warn) or
        C(waived); V(all) lists every finding. The summary counts every finding either way.
    type: str
    choices: [problems, all]
    default: problems
  level:
    description:
      - The CIS profile to audit against, as in M(bulwark.hardening.container_audit) - V(1) the Level 1 rules,
        V(2) every rule. Rules above the level are neither evaluated nor reported - under V(1) setuid and
        setgid files (4.8), digest pinning (BW-005) and registry origin (BW-006) are left out.
      - O(waivers) naming a rule outside the profile stay valid and waive nothing.
    type: int
    choices: [1, 2]
    default: 2
attributes:
  check_mode:
    support: full
    description: The same audit; the cache is read but not written.
  diff_mode:
    support: none
    description: Nothing is configured, so there is no diff.
  platform:
    platforms: posix
    support: full
    description: The cache lives on the host the module runs on.
extends_documentation_fragment:
  - bulwark.hardening.docker_connection
seealso:
  - module: bulwark.hardening.container_audit
"""

EXAMPLES = r"""
- name: Audit every local image, layers included
  become: true
  bulwark.hardening.image_audit:
  register: images

- name: Fail on any failing image rule
  ansible.builtin.assert:
    that: images.summary.by_status.fail == 0
    fail_msg: "failing rules: {{ images.summary.failed_rules | join(', ') }}"

- name: Only our application images, from our registry, with an accepted exception
  bulwark.hardening.image_audit:
    images: ["registry.example.com/team/*"]
    trusted_registries: [registry.example.com]
    waivers:
      - rule: "4.8"
        target: registry.example.com/team/ping:*
        reason: ping needs its setuid bit

- name: The CIS Level 1 profile only
  bulwark.hardening.image_audit:
    level: 1
"""

RETURN = r"""
summary:
  description: Counts of findings and the score, as in M(bulwark.hardening.container_audit).
  returned: success
  type: dict
  contains:
    total:
      description: Number of findings, listed or not.
      type: int
      sample: 120
    listed:
      description: Number of findings in RV(findings) (see O(report)).
      type: int
      sample: 14
    by_status:
      description: Findings per status (fail, warn, pass, info, skipped, waived).
      type: dict
      sample: {"fail": 12, "warn": 2, "pass": 100, "info": 0, "skipped": 6, "waived": 0}
    by_section:
      description: Findings per status for each section (C(4), C(BW)).
      type: dict
      sample: {"4": {"fail": 8, "warn": 2, "pass": 60, "info": 0, "skipped": 0, "waived": 0}}
    score:
      description: Passed / (passed + failed) findings of scored rules, in percent; null when none was decided.
      type: float
      sample: 80.0
    cis_score:
      description: Scored passes minus scored failures.
      type: int
      sample: 40
    failed_rules:
      description: Ids of rules with at least one failing finding.
      type: list
      elements: str
      sample: ["4.1", "4.6", "BW-010"]
    level:
      description: The CIS profile audited (O(level)); every count above is over that profile's rules only.
      type: int
      sample: 2
findings:
  description: One entry per rule and image; only problems unless O(report=all). Same fields as
    M(bulwark.hardening.container_audit)'s findings; the target is the image's first tag, or its short id.
  returned: success
  type: list
  elements: dict
  sample: [{"rule": "BW-010", "title": "Image layers hold no secret files", "section": "BW", "level": 1,
            "scored": true, "target": "app:1.2", "status": "fail", "severity": "critical",
            "evidence": "1 secret files: /root/.ssh/id_rsa (private key, 411 bytes, layer 2 of 3, deleted in layer 3)
              (layers counted from the base; a file a later layer deleted or overwrote is still in the image: anyone
              who has the image can read it)",
            "remediation": "Rebuild without the file ...", "fix": "manual"}]
api_calls:
  description: Docker API calls made, retries included.
  returned: success
  type: int
  sample: 21
api_calls_by_endpoint:
  description: Docker API calls per SDK method.
  returned: success
  type: dict
  sample: {"images": 1, "inspect_image": 5, "history": 5, "get_image": 2}
images:
  description: Number of images audited.
  returned: success
  type: int
  sample: 5
cache:
  description: What the layer scan cache did.
  returned: success
  type: dict
  contains:
    dir:
      description: The cache directory.
      type: str
      sample: /var/cache/bulwark/image-audit
    hits:
      description: Images whose scan came from the cache.
      type: int
      sample: 3
    misses:
      description: Images scanned now (no valid cached scan).
      type: int
      sample: 2
    written:
      description: Scans written to the cache (0 in check mode).
      type: int
      sample: 2
    ignored:
      description: Cache files that were corrupt, of another format or of another image, and were rescanned.
      type: int
      sample: 0
    removed:
      description: Cached scans of images that no longer exist, removed.
      type: int
      sample: 0
    bytes_read:
      description: Bytes of image saves (every layer) streamed from the Engine by this run.
      type: int
      sample: 7340032
    unusable:
      description: Why the cache was not used, or null.
      type: str
      sample: null
scan_errors:
  description: Images whose layer scan failed (their layer rules are skipped), with the Engine's error.
  returned: success
  type: list
  elements: dict
  sample: []
scans_incomplete:
  description: Images whose scan stopped at a cap (O(scan_max_entries), O(scan_max_bytes), O(scan_max_seconds)) or
    could not read a layer or the layer order, with the reason; their layer rules that found nothing are C(skipped),
    and the scan is not cached.
  returned: success
  type: list
  elements: dict
  sample: [{"image": "big:1", "reason": "stopped after 2000000 archive entries (scan_max_entries)"}]
duration_s:
  description: Seconds spent gathering, scanning and evaluating.
  returned: success
  type: float
  sample: 1.8
"""

from ansible.module_utils.basic import missing_required_lib
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.run import AuditError
from ansible_collections.bulwark.hardening.plugins.module_utils.common.masking import MaskedModule, masked_main
from ansible_collections.bulwark.hardening.plugins.module_utils.engine.argument_spec import with_connection
from ansible_collections.bulwark.hardening.plugins.module_utils.engine.connection import (
    DOCKER_IMPORT_ERROR, HAS_DOCKER, OPTION_NAMES, EngineError, connection_from, needs_sdk,
)
from ansible_collections.bulwark.hardening.plugins.module_utils.images.cache import DEFAULT_CACHE_DIR
from ansible_collections.bulwark.hardening.plugins.module_utils.images.run import run_image_audit
from ansible_collections.bulwark.hardening.plugins.module_utils.images.scan import (
    DEFAULT_MAX_BYTES, DEFAULT_MAX_ENTRIES, DEFAULT_MAX_SECONDS,
)

ARGUMENT_SPEC = with_connection(dict(
    images=dict(type="list", elements="str", default=[]),
    include_dangling=dict(type="bool", default=False),
    layer_scan=dict(type="bool", default=True),
    cache_dir=dict(type="path", default=DEFAULT_CACHE_DIR),
    scan_max_entries=dict(type="int", default=DEFAULT_MAX_ENTRIES),
    scan_max_bytes=dict(type="int", default=DEFAULT_MAX_BYTES),
    scan_max_seconds=dict(type="int", default=DEFAULT_MAX_SECONDS),
    trusted_registries=dict(type="list", elements="str", default=[]),
    waivers=dict(
        type="list", elements="dict", default=[],
        options=dict(
            rule=dict(type="str", required=True),
            target=dict(type="str", default="*"),
            reason=dict(type="str", required=True),
            expires=dict(type="str"),
        ),
    ),
    report=dict(type="str", choices=["problems", "all"], default="problems"),
    level=dict(type="int", choices=[1, 2], default=2),
))


@masked_main
def main():
    module = MaskedModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    connection = connection_from(module.params)
    # The audit only reads (docker save included): over the Unix socket or plain TCP it needs nothing but Python.
    if not HAS_DOCKER and needs_sdk(connection):
        module.fail_json(msg="%s: reading the Engine at %s needs it (TLS or ssh://); over the local Unix socket or "
                         "plain TCP the audit needs nothing but Python" % (missing_required_lib("docker"),
                                                                           connection.docker_host),
                         exception=DOCKER_IMPORT_ERROR)
    audit_options = dict((name, value) for name, value in module.params.items() if name not in OPTION_NAMES)
    try:
        result = run_image_audit(connection=connection, check_mode=module.check_mode, **audit_options)
    except (AuditError, EngineError) as error:
        module.fail_json(msg=str(error))
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
