#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Enforce owner, group and maximum permissions on many files in one task."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: file_policy
short_description: Enforce ownership and maximum permissions on a list of files in one task
version_added: 0.1.0
description:
  - Applies an owner, group and permission policy to every file in O(files) in a single
    task, so a host pays one round trip for the whole list instead of one per file
    (as M(ansible.builtin.file) in a loop would).
  - Made for the CIS Docker Benchmark section 3 file checks (systemd units, C(/etc/docker),
    C(daemon.json), TLS certificates and keys, the Docker and containerd sockets,
    registry certificates), but works on any file or directory.
  - By default O(files[].mode) is a B(maximum) - permission bits beyond it are cleared and
    no bit is ever added. A 0600 file stays 0600 under a 0644 rule; a 0666 file becomes 0644.
    Setuid, setgid and sticky bits count as bits beyond a mask that lacks them.
  - Symlinks are B(never followed) - a path that is a symlink is reported with RV(files[].symlink=true)
    and where it points (RV(files[].link_target)), and neither the link nor its target is changed,
    whatever the rule says. A systemd unit masked by a link to C(/dev/null) therefore leaves C(/dev/null)
    alone. Give the path of the real file to govern it.
  - Only the last component of a path is never followed; directories in the middle of a path (or of a
    glob pattern) may be symlinks, as C(/var/run) is to C(/run).
  - Changes are made through a file descriptor opened without following symlinks (sockets through an
    C(O_PATH) descriptor), after checking that it is the very file that was checked (same device and
    inode). A path replaced in between fails the task instead of changing the new file.
  - Every rule is checked before any file changes, so an unknown user or group, a bad mode or
    a required file that is missing fails the task without a partial change.
  - A path matched by several rules is evaluated against the state the earlier rules leave,
    in list order.
author:
  - bulwark.hardening contributors (@bulwark)
options:
  files:
    description:
      - The policy, one entry per path or glob pattern.
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description:
          - Path of the file or directory.
          - May be a glob pattern (C(*), C(?), C([...])), for example C(/etc/docker/certs.d/*/*.crt).
            Each match gets the rule. A pattern that matches nothing counts as one missing file.
        type: str
        required: true
      owner:
        description:
          - Name of the user that should own the file. A numeric uid is accepted when no user
            has that name.
          - Omit to leave the owner unchanged.
        type: str
      group:
        description:
          - Name of the group that should own the file. A numeric gid is accepted when no group
            has that name.
          - Omit to leave the group unchanged.
        type: str
      mode:
        description:
          - Octal permission mode, for example V(0644) or V(04755). Quote it in YAML.
          - An unquoted YAML number such as 0644 arrives as the integer 420 and is taken as
            that mode value, as M(ansible.builtin.file) does.
          - The maximum permissions allowed, unless O(files[].exact_mode) is set.
        type: raw
        required: true
      exact_mode:
        description:
          - Set the mode to exactly O(files[].mode), adding bits when needed, instead of
            treating it as a maximum.
        type: bool
        default: false
      state_if_missing:
        description:
          - What to do when the path does not exist (or a glob matches nothing).
          - V(ignore) reports it with RV(files[].exists=false) and moves on.
          - V(fail) fails the task before any file is changed.
        type: str
        choices: [ignore, fail]
        default: ignore
notes:
  - Changing a file's owner requires the privilege to do so, usually C(become=true) on the task.
attributes:
  check_mode:
    support: full
    description: Reports what would change and changes nothing.
  diff_mode:
    support: full
    description: 'One line per file, C(path: owner:group mode), before and after; a symlink shows where it points.'
  platform:
    platforms: posix
    support: full
    description: Uses POSIX users, groups and permission bits.
seealso:
  - module: ansible.builtin.file
"""

EXAMPLES = r"""
- name: CIS Docker Benchmark section 3 file permissions, in one round trip
  bulwark.hardening.file_policy:
    files:
      - {path: /lib/systemd/system/docker.service, owner: root, group: root, mode: "0644"}
      - {path: /lib/systemd/system/docker.socket, owner: root, group: root, mode: "0644"}
      - {path: /etc/docker, owner: root, group: root, mode: "0755", state_if_missing: fail}
      - {path: /etc/docker/daemon.json, owner: root, group: root, mode: "0644"}
      - {path: /etc/default/docker, owner: root, group: root, mode: "0644"}
      - {path: /etc/docker/certs.d/*/*.crt, owner: root, group: root, mode: "0444"}
      - {path: /etc/docker/tls/ca.pem, owner: root, group: root, mode: "0444"}
      - {path: /etc/docker/tls/server-key.pem, owner: root, group: root, mode: "0400"}
      - {path: /var/run/docker.sock, owner: root, group: docker, mode: "0660"}
      - {path: /run/containerd/containerd.sock, owner: root, group: root, mode: "0660"}

- name: Audit only - report files that are not compliant, change nothing
  bulwark.hardening.file_policy:
    files:
      - {path: /etc/docker/daemon.json, owner: root, group: root, mode: "0644"}
  check_mode: true
  register: docker_files

- name: Set an exact mode (adds missing bits too)
  bulwark.hardening.file_policy:
    files:
      - {path: /usr/local/bin/docker-healthcheck, owner: root, group: root, mode: "0755", exact_mode: true}
"""

RETURN = r"""
files:
  description: One entry per concrete path, in the order of the rules (globs expanded, sorted).
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The file path, or the glob pattern itself when it matched nothing.
      returned: always
      type: str
      sample: /etc/docker/daemon.json
    exists:
      description: Whether the file exists (a symlink exists, even when its target does not).
      returned: always
      type: bool
      sample: true
    symlink:
      description: Whether the path is a symlink. A symlink is never changed, and neither is its target.
      returned: always
      type: bool
      sample: false
    link_target:
      description: Where the symlink points, as the link says it (C(readlink)); null when the path is not a symlink.
      returned: always
      type: str
      sample: /dev/null
    changed:
      description: Whether the file was changed (or would be, in check mode).
      returned: always
      type: bool
      sample: true
    before:
      description: Owner, group and mode before the task, as C(owner:group mode); null if the file is missing or a symlink.
      returned: always
      type: str
      sample: root:root 0664
    after:
      description: Owner, group and mode after the task (planned, in check mode); null if the file is missing or a symlink.
      returned: always
      type: str
      sample: root:root 0644
"""

from ansible_collections.bulwark.hardening.plugins.module_utils.common.masking import MaskedModule, masked_main
from ansible_collections.bulwark.hardening.plugins.module_utils.files.policy import (
    PolicyError,
    apply_plan,
    diff_text,
    needs_change,
    plan_all,
    report,
)

FILE_RULE_OPTIONS = dict(
    path=dict(type="str", required=True),
    owner=dict(type="str"),
    group=dict(type="str"),
    mode=dict(type="raw", required=True),
    exact_mode=dict(type="bool", default=False),
    state_if_missing=dict(type="str", choices=["ignore", "fail"], default="ignore"),
)


def build_module():
    """The module object: argument spec, check mode support."""
    return MaskedModule(
        argument_spec=dict(
            files=dict(type="list", elements="dict", required=True, options=FILE_RULE_OPTIONS),
        ),
        supports_check_mode=True,
    )


def run(module):
    """Plan every rule, apply the plans unless in check mode, return the result."""
    plans = plan_all(module.params["files"])
    if not module.check_mode:
        for plan in plans:
            apply_plan(plan)
    result = dict(
        changed=any(needs_change(plan) for plan in plans),
        files=[report(plan) for plan in plans],
    )
    if module._diff:
        result["diff"] = dict(before=diff_text(plans, "before"), after=diff_text(plans, "after"))
    return result


@masked_main
def main():
    module = build_module()
    try:
        result = run(module)
    except PolicyError as error:
        module.fail_json(msg=str(error))
    except OSError as error:
        # A file that cannot be examined (a directory on its path is not searchable).
        module.fail_json(msg="cannot apply policy to %s: %s" % (error.filename, error.strerror))
    else:
        module.exit_json(**result)


if __name__ == "__main__":
    main()
