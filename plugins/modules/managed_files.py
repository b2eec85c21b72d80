#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write many whole files and directories, with owner, group and mode, in one task."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: managed_files
short_description: Write many whole files and directories, with owner, group and mode, in one task
version_added: 0.1.0
description:
  - Makes every path in O(files) a file with the given content, a directory, or absent, with the
    given owner, group and mode, in a single task - one round trip for all of them instead of one
    M(ansible.builtin.copy) (two module runs each) or M(ansible.builtin.file) task per path.
  - Every entry is checked before anything changes - a bad mode, an unknown user or group, a file
    where a directory should be (or the reverse), a symlink, a directory that is missing and not in
    the list, or a non-empty directory to remove fail the task with nothing written.
  - Then, in this order - directories are created or fixed (in list order), so a directory's mode
    is in place before any file is written into it (a 0700 directory before the key inside it);
    files are written (in list order) only when their content differs, through a temporary file
    in the same directory that is fsynced and gets its owner, group and mode before it is renamed
    over the old file, so nobody ever reads half a file or a key with loose permissions; owner,
    group and mode of files whose content is unchanged are fixed in place; paths with
    O(files[].state=absent) are removed.
  - Symlinks are never followed or replaced; a path that is a symlink fails the task (removing it
    with O(files[].state=absent) removes the link itself).
  - Each change first checks that the path is still what was checked (absent, or the same file),
    and fails instead of changing a file another process put there in between.
author:
  - bulwark.hardening contributors (@bulwark)
options:
  files:
    description:
      - The files and directories, in the order they are handled within each state
        (directories first, then files, then removals).
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description:
          - Absolute path of the file or directory. Each path may appear once.
          - Its directory must exist, or be an entry of O(files) with O(files[].state=directory)
            (for a directory - an earlier entry).
        type: path
        required: true
      state:
        description:
          - V(file) - a regular file with O(files[].content).
          - V(directory) - a directory.
          - V(absent) - nothing there. A file or symlink is removed, so is an empty directory;
            a directory with content is refused.
        type: str
        choices: [file, directory, absent]
        default: file
      content:
        description:
          - The whole content of the file (written as UTF-8). Required with O(files[].state=file),
            not allowed otherwise.
        type: str
      owner:
        description:
          - Name of the user that owns the file or directory. A numeric uid is accepted when no
            user has that name.
        type: str
        default: root
      group:
        description:
          - Name of the group that owns the file or directory. A numeric gid is accepted when no
            group has that name.
        type: str
        default: root
      mode:
        description:
          - The exact permission mode, an octal string such as V('0644') or V('0700'). Quote it in
            YAML - an unquoted 0644 arrives as the integer 420 and is taken as that mode value, as
            M(ansible.builtin.file) does.
          - Required with O(files[].state=file) and O(files[].state=directory).
        type: raw
      secret:
        description:
          - The content is secret (a private key) - it is never shown, neither in the diff (a
            placeholder says whether it changed) nor in the module's echoed arguments.
        type: bool
        default: false
notes:
  - The module logs the paths it was given to the host's journal or syslog, never their content.
  - Setting an owner other than the user the module runs as needs privilege, usually C(become=true).
  - Content is text; files are compared and written as their UTF-8 bytes.
attributes:
  check_mode:
    support: full
    description: Checks every entry and reports what would change, changing nothing.
  diff_mode:
    support: full
    description:
      - For each changed file its content before and after (a placeholder for O(files[].secret=true)
        entries), and for each created, removed or fixed path its state, owner, group and mode before and after.
  platform:
    platforms: posix
    support: full
    description: POSIX users, groups and permission bits.
seealso:
  - module: ansible.builtin.copy
  - module: ansible.builtin.file
  - module: bulwark.hardening.file_policy
"""

EXAMPLES = r"""
- name: Content trust, a 0700 TLS directory with its key, and no leftover drop-in, in one round trip
  bulwark.hardening.managed_files:
    files:
      - path: /etc/profile.d/docker-content-trust.sh
        content: |
          export DOCKER_CONTENT_TRUST=1
        mode: "0644"
      - path: /etc/docker/tls
        state: directory
        mode: "0700"
      - path: /etc/docker/tls/server-key.pem
        content: "{{ lookup('ansible.builtin.file', 'server-key.pem', rstrip=false) }}"
        mode: "0400"
        secret: true
      - path: /etc/systemd/system/docker.service.d/old.conf
        state: absent
  register: written

- name: Restart dockerd only when a file it reads changed
  ansible.builtin.systemd_service:
    name: docker
    state: restarted
  when: written.changed_paths | intersect(['/etc/docker/tls/server-key.pem']) | length > 0
"""

RETURN = r"""
files:
  description: One entry per path of O(files), in input order.
  returned: success
  type: list
  elements: dict
  contains:
    path:
      description: The path.
      type: str
      sample: /etc/docker/tls/server-key.pem
    state:
      description: The state asked for.
      type: str
      sample: file
    changed:
      description: Whether the path changed (or would, in check mode).
      type: bool
    changes:
      description:
        - "What changed, one item each - V(created), V(content), V(removed),
          C(owner: old -> new), C(group: old -> new), C(mode: old -> new)."
      type: list
      elements: str
      sample: ["content", "mode: 0644 -> 0400"]
changed_paths:
  description: The paths that changed (or would, in check mode), in input order.
  returned: success
  type: list
  elements: str
  sample: ["/etc/docker/seccomp-bulwark.json"]
"""

from ansible_collections.bulwark.hardening.plugins.module_utils.common.masking import MaskedModule, masked_main
from ansible_collections.bulwark.hardening.plugins.module_utils.files import managed_files

ARGUMENT_SPEC = dict(
    files=dict(type="list", elements="dict", required=True, options=dict(
        path=dict(type="path", required=True),
        state=dict(type="str", choices=list(managed_files.STATES), default="file"),
        content=dict(type="str"),
        owner=dict(type="str", default=managed_files.DEFAULT_OWNER),
        group=dict(type="str", default=managed_files.DEFAULT_GROUP),
        mode=dict(type="raw"),
        secret=dict(type="bool", default=False),
    )),
)


class ManagedFilesModule(MaskedModule):
    """MaskedModule that logs which paths it was given, never their content (it may be a key)."""

    def _log_invocation(self):
        paths = ["%s (%s)" % (entry["path"], entry["state"]) for entry in self.params.get("files") or []]
        self.log("Invoked with files=%s" % ", ".join(paths), log_args={"files": " ".join(paths)})


@masked_main
def main():
    module = ManagedFilesModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    entries = module.params["files"]
    # A secret entry's content is masked wherever Ansible prints the result (the echoed arguments too).
    for entry in entries:
        if entry["secret"] and entry["content"]:
            module.no_log_values.add(entry["content"])
    try:
        plans = managed_files.plan(entries)
    except managed_files.ManagedFileError as error:
        module.fail_json(msg="nothing was changed: %s" % error)
    result = dict(changed=any(item.changed for item in plans), changed_paths=managed_files.changed_paths(plans),
                  files=[item.report() for item in plans])
    if module._diff:
        result["diff"] = managed_files.diff(plans)
    if not module.check_mode:
        try:
            managed_files.apply(plans)
        except managed_files.ManagedFileError as error:
            done = getattr(error, "done", [])
            module.fail_json(msg="%s (changed before this: %s)" % (error, ", ".join(done) or "nothing"),
                             changed=bool(done), changed_paths=done)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
