#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fix ownership and modes of the Docker daemon's files, exactly the files the CIS section 3 audit checks."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: daemon_files
short_description: Fix ownership and modes of the Docker daemon's files (CIS Docker Benchmark section 3)
version_added: 0.1.0
description:
  - Finds the daemon's files the way the audit's section 3 rules do - one table serves both, so the
    files fixed here are the files M(bulwark.hardening.container_audit) checks - and gives each its
    owner, group and maximum mode (3.1 to 3.24).
  - The files are where this host keeps them - the docker.service and docker.socket units systemd
    uses, C(/etc/docker), every regular file below C(/etc/docker/certs.d), the TLS files named by
    dockerd's flags or daemon.json, every unix socket dockerd listens on (group from C(-G) or
    daemon.json C(group), C(docker) by default, for a socket dockerd makes; for C(-H fd://), the
    C(ListenStream) paths of docker.socket and its drop-ins, with their C(SocketGroup)), the daemon.json dockerd reads,
    C(/etc/default/docker), C(/etc/sysconfig/docker) and the containerd socket.
  - Modes are maxima - bits are only ever taken away, so a 0600 file stays 0600.
  - Symlinks are resolved to the file they point to; a link to something that is not the expected
    kind of file (a unit masked by a link to C(/dev/null)) is reported and never changed. Files are
    changed through file descriptors opened without following links, as M(bulwark.hardening.file_policy) does.
  - Every file is planned before any changes, in one round trip.
author:
  - bulwark.hardening contributors (@bulwark)
options:
  config_path:
    description:
      - The daemon.json to treat as dockerd's (3.17, 3.18) and to read TLS paths and listeners from.
      - By default the one the running dockerd reads (C(--config-file), else C(/etc/docker/daemon.json)).
    type: path
attributes:
  check_mode:
    support: full
    description: Reports what would change without changing it.
  diff_mode:
    support: full
    description: Owner, group and mode of every file before and after.
  platform:
    platforms: posix
    support: full
    description: The host dockerd runs on.
seealso:
  - module: bulwark.hardening.file_policy
  - module: bulwark.hardening.container_audit
"""

EXAMPLES = r"""
- name: 3.1-3.24 | Ownership and modes of the daemon's files
  bulwark.hardening.daemon_files:
  become: true
"""

RETURN = r"""
files:
  description: One entry per file found.
  returned: success
  type: list
  elements: dict
  contains:
    path:
      description: The file (symlinks resolved).
      type: str
    rules:
      description: The CIS ids this file serves (ownership, mode).
      type: list
      elements: str
    changed:
      description: Whether owner, group or mode changed.
      type: bool
    before:
      description: Owner, group and mode before, for example C(root:root 0664).
      type: str
    after:
      description: Owner, group and mode after.
      type: str
skipped:
  description: Paths that were found but left alone, with the reason (absent, a symlink to something else).
  returned: success
  type: list
  elements: str
"""

from ansible_collections.bulwark.hardening.plugins.module_utils.common.masking import MaskedModule, masked_main
from ansible_collections.bulwark.hardening.plugins.module_utils.audit import gather
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.state import AuditState
from ansible_collections.bulwark.hardening.plugins.module_utils.files import docker_files
from ansible_collections.bulwark.hardening.plugins.module_utils.files.policy import (
    PolicyError, apply_plan, diff_text, needs_change, plan_all, report,
)


def host_state(config_path):
    """What the table's paths depend on: dockerd's effective configuration, units, the socket group."""
    daemon = gather.read_daemon_config(config_path)
    return AuditState(daemon=daemon, host=gather.read_host_facts(daemon, ["files"]))


def enforce(module, state):
    rules = docker_files.policy_rules(state)
    plans = plan_all([dict((key, value) for key, value in rule.items() if key != "rules") for rule in rules])
    if not module.check_mode:
        for plan in plans:
            apply_plan(plan)
    files = []
    for rule, plan in zip(rules, plans):
        entry = report(plan)
        entry["rules"] = rule["rules"]
        files.append(entry)
    skipped = [target.note for entry in docker_files.DOCKER_FILES for target in docker_files.targets(entry, state)
               if target.real_path is None]
    result = dict(changed=any(needs_change(plan) for plan in plans), files=files, skipped=skipped)
    if module._diff:
        result["diff"] = dict(before=diff_text(plans, "before"), after=diff_text(plans, "after"))
    return result


@masked_main
def main():
    module = MaskedModule(argument_spec=dict(config_path=dict(type="path")), supports_check_mode=True)
    try:
        result = enforce(module, host_state(module.params["config_path"]))
    except PolicyError as error:
        module.fail_json(msg=str(error))
    except OSError as error:
        module.fail_json(msg="cannot fix %s: %s" % (error.filename, error.strerror))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
