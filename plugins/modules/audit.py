#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Both audits of a Docker host in one module process: container_audit, then image_audit, over one Engine connection."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: audit
short_description: Audit a Docker host and every local image in one module run (container_audit and image_audit together)
version_added: 0.2.0
description:
  - Runs M(bulwark.hardening.container_audit) (the host, its daemon and files, the images of its containers and the
    containers, CIS sections 1 to 7 and the BW rules) and then M(bulwark.hardening.image_audit) (every selected local
    image, layers included) in one process, with one connection to the Engine. Their findings, summaries and API calls
    are what the two modules give; this is what C(playbooks/audit.yml) runs on each host.
  - One process instead of two saves the second start-up - the interpreter, Ansible's module code and the collection's,
    which Ansible ships in the module's zip and Python compiles again on every run (C(docs/scale.md)).
  - The image audit does not read again what the container audit read in this run - the inspect (and, with
    O(image_history), the history) of each image a container runs, and the image list when the container audit listed
    images (scope C(operations)) come from the container audit; RV(api_calls_shared) counts them.
  - Every option of both modules, with the same meaning; the shared ones (O(waivers), O(trusted_registries), O(report),
    O(level), O(cis_version)) apply to both audits. O(image_audit=false) leaves the image audit out.
  - Both audits' input is checked before anything is gathered. An Engine failure during the image audit, after the
    container audit, leaves the container audit's result standing - RV(image_audit) then holds only C(failed) and C(msg),
    as a failed M(bulwark.hardening.image_audit) task would register, and the module warns.
author:
  - bulwark.hardening contributors (@bulwark)
requirements:
  - docker (the Docker SDK for Python) >= 5.0.0, only to reach the Engine over TLS or ssh:// - over the local Unix
    socket or plain TCP the audits read the API with Python's own http.client and need nothing on the host but Python
notes:
  - Run it on the Docker host itself (C(become=true)), as M(bulwark.hardening.container_audit) - host, daemon and file
    checks read the machine the module runs on.
  - Read-only, as both modules - RV(ignore:changed) is always false. The lasting writes are theirs - the image audit's
    scan cache in O(cache_dir) (never in check mode) and, with the C(host) scope, apt's package cache for CIS 1.2.2 in
    C(/var/cache/bulwark/apt).
  - M(bulwark.hardening.compliance_report) and M(bulwark.hardening.audit_verdict) read the image audit's result from
    RV(image_audit) of the result registered in their O(bulwark.hardening.compliance_report#module:audit_var).
options:
  image_audit:
    description:
      - Run the image audit after the container audit. V(false) leaves it out - RV(image_audit) is then absent, and
        the image options are not used.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: The same audits; the image scan cache is read but not written.
  diff_mode:
    support: none
    description: Nothing is configured, so there is no diff.
  platform:
    platforms: posix
    support: full
    description: Reads /proc and POSIX file metadata of the Docker host; the scan cache lives on it.
extends_documentation_fragment:
  - bulwark.hardening.docker_connection
  - bulwark.hardening.audit_options
  - bulwark.hardening.audit_options.container_audit
  - bulwark.hardening.audit_options.image_audit
seealso:
  - module: bulwark.hardening.container_audit
  - module: bulwark.hardening.image_audit
  - module: bulwark.hardening.compliance_report
  - module: bulwark.hardening.audit_verdict
"""

EXAMPLES = r"""
- name: Audit this host, its containers and every local image
  become: true
  bulwark.hardening.audit:
  register: bulwark_audit

- name: Fail on any failing finding of either audit
  ansible.builtin.assert:
    that:
      - bulwark_audit.summary.by_status.fail == 0
      - bulwark_audit.image_audit.summary.by_status.fail == 0

- name: Level 1, in CIS v1.6 ids, without reading image layers, with an accepted exception
  bulwark.hardening.audit:
    level: 1
    cis_version: "1.6"
    layer_scan: false
    waivers:
      - rule: "5.14"
        target: web-proxy
        reason: the proxy must listen on every interface
        expires: "2026-12-31"

- name: The container audit alone (the same result as bulwark.hardening.container_audit)
  bulwark.hardening.audit:
    image_audit: false
"""

RETURN = r"""
summary:
  description: The container audit's counts and score, as RV(bulwark.hardening.container_audit#module:summary).
  returned: success
  type: dict
  sample: {"total": 412, "listed": 15, "by_status": {"fail": 12, "warn": 3, "pass": 380, "info": 15, "skipped": 2, "waived": 0},
           "score": 92.5, "cis_score": 340, "failed_rules": ["2.2", "5.11"], "level": 2, "cis_version": "1.8"}
rules:
  description: The container audit's rules, as RV(bulwark.hardening.container_audit#module:rules) - every rule RV(findings)
    names, once.
  returned: success
  type: dict
  sample: {"5.11": {"title": "Ensure that the memory usage for containers is limited", "section": "5", "level": 1,
                    "scored": true, "severity": "medium", "remediation": "Set a memory limit", "fix": "live"}}
findings:
  description: The container audit's findings, as RV(bulwark.hardening.container_audit#module:findings).
  returned: success
  type: list
  elements: dict
  sample: [{"rule": "5.11", "target": "web-1", "status": "fail", "severity": "medium", "evidence": "HostConfig.Memory=0 (no limit)"}]
containers:
  description: Number of containers audited.
  returned: success
  type: int
  sample: 10
images:
  description: Number of distinct images of those containers inspected by the container audit.
  returned: success
  type: int
  sample: 2
api_calls:
  description: Docker API calls the container audit made, retries included.
  returned: success
  type: int
  sample: 14
api_calls_by_endpoint:
  description: The container audit's Docker API calls per SDK method.
  returned: success
  type: dict
  sample: {"info": 1, "containers": 2, "images": 1, "inspect_container": 10, "inspect_image": 2}
duration_s:
  description: Seconds the container audit spent gathering and evaluating.
  returned: success
  type: float
  sample: 0.42
image_audit:
  description:
    - The image audit's whole result, as M(bulwark.hardening.image_audit) returns it - RV(bulwark.hardening.image_audit#module:summary),
      C(rules), C(findings), C(images), C(cache), C(scan_errors), C(scans_incomplete), C(api_calls),
      C(api_calls_by_endpoint) (the calls it made itself, not those RV(api_calls_shared) counts) and C(duration_s).
    - Only C(failed) (true) and C(msg) (the Engine's error) when the Engine failed the image audit after the container audit
      had its result.
  returned: when O(image_audit) is true
  type: dict
  sample: {"summary": {"total": 120, "listed": 14, "by_status": {"fail": 12, "warn": 2, "pass": 100, "info": 0, "skipped": 6,
                                                                "waived": 0}, "score": 80.0, "level": 2, "cis_version": "1.8"},
           "rules": {}, "findings": [], "images": 5, "api_calls": 8,
           "api_calls_by_endpoint": {"inspect_image": 3, "history": 5},
           "cache": {"dir": "/var/cache/bulwark/image-audit", "hits": 5, "misses": 0, "written": 0, "ignored": 0, "removed": 0,
                     "bytes_read": 0, "unusable": null},
           "scan_errors": [], "scans_incomplete": [], "duration_s": 0.31}
api_calls_shared:
  description: Reads the image audit did not make because the container audit had made them in this run, per SDK method.
  returned: when O(image_audit) is true
  type: dict
  sample: {"images": 1, "inspect_image": 2}
"""

from ansible_collections.bulwark.hardening.plugins.module_utils.common.masking import MaskedModule, masked_main
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.argument_specs import host_audit_spec
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.host_run import run_host_audit
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.run import module_audit

ARGUMENT_SPEC = host_audit_spec()


@masked_main
def main():
    module = MaskedModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    result = module_audit(module, run_host_audit, check_mode=module.check_mode)
    image_result = result.get("image_audit") or {}
    if image_result.get("failed"):
        module.warn("the image audit failed, the container audit's result stands: %s" % image_result.get("msg"))
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
