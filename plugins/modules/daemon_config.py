#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: daemon_config
short_description: Manage the Docker daemon configuration file (daemon.json) as data
version_added: 0.1.0
description:
  - Reads C(/etc/docker/daemon.json), merges the requested O(settings) into it (or replaces it),
    validates the result and writes it back atomically, with sorted keys and a two-space indent.
  - Every key must be a known dockerd option holding a value of the JSON type dockerd expects;
    an unknown key fails with a did-you-mean suggestion. Nothing is written when validation fails.
  - Keys that are also set as dockerd command-line flags (for example C(hosts) and C(-H fd://)
    in the docker.service unit) make dockerd refuse to start, so the module fails on them before
    writing.
  - When the installed dockerd supports C(--validate) (Docker 23.0 and later), the new content is
    also checked by C(dockerd --validate) before it replaces the file.
  - The module never starts, stops or restarts dockerd; notify a handler when the task reports a change.
  - The file is compared as data, so a file that only differs in formatting is left untouched.
  - Credentials in URLs (the C(user:password@) part of a proxy in C(proxies), of a C(registry-mirrors) entry,
    or of any other value) never appear in the output. The password is shown as C(********) in RV(config),
    in the diff, in every error message and in the module's echoed arguments, for example
    C(http://user:********@proxy:3128). The file itself gets the real value.
author:
  - bulwark.hardening developers (!UNKNOWN)
options:
  path:
    description:
      - Path of the daemon configuration file.
    type: path
    default: /etc/docker/daemon.json
  settings:
    description:
      - daemon.json keys and values, spelt as in daemon.json (C(live-restore), C(log-opts), ...).
      - Values keep their JSON types. C(log-opts) values must be strings, for example C("5").
      - A key set to V(null) is removed from the file.
    type: dict
    required: true
  state:
    description:
      - V(merged) replaces the given top-level keys and keeps the others. A nested object such as
        C(log-opts) is replaced as a whole, not merged field by field, because its fields belong
        together (log options belong to one log driver).
      - V(exact) makes the file contain O(settings) only.
    type: str
    choices: [merged, exact]
    default: merged
  backup:
    description:
      - Keep a timestamped copy of the previous file next to it when the content changes.
    type: bool
    default: true
  validate_with_dockerd:
    description:
      - Run C(dockerd --validate --config-file) on the new content before writing it and fail
        with dockerd's message when dockerd rejects it.
      - Skipped, with RV(dockerd_validated=false), when dockerd is not installed or is older
        than 23.0 (Debian 12 ships 20.10, which has no C(--validate)).
    type: bool
    default: true
  dockerd_args:
    description:
      - The daemon's command-line arguments, used to find keys that are also set as flags.
      - When omitted, they are read from C(systemctl show -p ExecStart docker.service) if systemctl
        is available; failures to read them are ignored.
      - systemd does not expand variables in that output, so flags passed through an environment
        file (C($DOCKER_OPTS) from C(/etc/default/docker)) are only checked when given here.
    type: list
    elements: str
  mode:
    description:
      - The B(maximum) permissions of the file, as an octal mode such as V('0644') (CIS Docker Benchmark
        3.18 asks for 644 or stricter). Bits beyond it are cleared and no bit is ever added, as in
        M(bulwark.hardening.file_policy) - an existing 0600 file stays 0600, a 0666 file becomes 0644.
      - A new file is created with exactly this mode.
      - An unquoted YAML number such as 0644 arrives as the integer 420 and is taken as that mode value.
      - V(null) leaves the permissions as they are.
    type: raw
    default: '0644'
  owner:
    description:
      - Owner of the file (CIS Docker Benchmark 3.17 asks for root).
      - V(null) leaves the owner as it is, which lets non-root runs manage a file of their own.
    type: str
    default: root
  group:
    description:
      - Group of the file (CIS Docker Benchmark 3.17 asks for root).
      - V(null) leaves the group as it is.
    type: str
    default: root
attributes:
  check_mode:
    support: full
    description: Computes the new content, validates it (dockerd only reads a temporary copy) and reports the change without writing.
  diff_mode:
    support: full
    description: Shows the file before and after, both rendered with sorted keys.
  platform:
    support: full
    platforms: posix
    description: Linux hosts running dockerd; the file layout is the Linux daemon's.
notes:
  - The module only inspects the path of TLS files (C(tlscacert), C(tlscert), C(tlskey)), never their contents.
  - Secrets in everything the module prints (the result, the diff, messages, the echoed arguments) are masked
    by the collection's masking layer - a password in a URL (its user and host stay readable), a value under a
    secret name (a label C(DB_PASSWORD=...)), a token of a known format; paths, versions and digests are
    shown as they are.
seealso:
  - name: dockerd daemon configuration file
    description: The reference of daemon.json keys.
    link: https://docs.docker.com/reference/cli/dockerd/#daemon-configuration-file
"""

EXAMPLES = r"""
- name: CIS 2.2, 2.13, 2.14, 2.15 - harden the daemon, keep other keys
  bulwark.hardening.daemon_config:
    settings:
      icc: false
      live-restore: true
      no-new-privileges: true
      log-driver: local
      log-opts:
        max-size: 10m
        max-file: "5"
  notify: Restart dockerd

- name: Remove insecure registries (CIS 2.5) and preview the change
  bulwark.hardening.daemon_config:
    settings:
      insecure-registries: null
  check_mode: true
  diff: true

- name: A proxy with credentials; the output shows http://proxy-user:********@proxy.example.com:3128
  bulwark.hardening.daemon_config:
    settings:
      proxies:
        http-proxy: "http://proxy-user:{{ proxy_password }}@proxy.example.com:3128"
        https-proxy: "http://proxy-user:{{ proxy_password }}@proxy.example.com:3128"
        no-proxy: localhost,127.0.0.1

- name: Own the whole file; the daemon's flags come from an environment file
  bulwark.hardening.daemon_config:
    state: exact
    settings:
      userns-remap: default
      userland-proxy: false
    dockerd_args: [/usr/sbin/dockerd, -H, "fd://", --containerd=/run/containerd/containerd.sock, --log-level, info]
"""

RETURN = r"""
config:
  description:
    - The daemon configuration after the task (the file's content, or what it would be in check mode).
    - The passwords of URLs are shown as C(********).
  returned: success
  type: dict
  sample: {"icc": false, "live-restore": true, "log-driver": "local", "log-opts": {"max-file": "5", "max-size": "10m"}}
backup_file:
  description: Path of the copy of the previous file, when one was made.
  returned: success
  type: str
  sample: /etc/docker/daemon.json.12345.2025-01-01@10:00:00~
conflicts:
  description:
    - daemon.json keys that are also set as dockerd flags. Always empty on success, because conflicts
      make the module fail; the failure result lists them.
  returned: always
  type: list
  elements: dict
  contains:
    key:
      description: The daemon.json key.
      type: str
      sample: hosts
    flag:
      description: The dockerd flag as written on the command line.
      type: str
      sample: -H
  sample: []
dockerd_validated:
  description:
    - Whether C(dockerd --validate) accepted the new content. V(false) when the content did not
      change, when O(validate_with_dockerd=false), or when dockerd lacks C(--validate).
  returned: success
  type: bool
  sample: false
dockerd_args:
  description:
    - The dockerd command line the conflict check used (O(dockerd_args), or the one read from systemd).
    - The passwords of URLs are shown as C(********).
  returned: success
  type: list
  elements: str
  sample: [/usr/sbin/dockerd, -H, "fd://", --containerd=/run/containerd/containerd.sock]
diff:
  description:
    - The file before and after, rendered with sorted keys; V(before) is empty when the file did not exist.
    - The passwords of URLs are shown as C(********).
  returned: success
  type: dict
  contains:
    before:
      description: Previous content.
      type: str
    after:
      description: New content.
      type: str
    before_header:
      description: The file path.
      type: str
    after_header:
      description: The file path.
      type: str
  sample: {"before": "{}\n", "after": "{\n  \"icc\": false\n}\n", "before_header": "/etc/docker/daemon.json",
           "after_header": "/etc/docker/daemon.json"}
"""

import os
import stat
import tempfile

from ansible.module_utils.common.text.converters import to_bytes, to_native
from ansible_collections.bulwark.hardening.plugins.module_utils.common.masking import MaskedModule, masked_main
from ansible_collections.bulwark.hardening.plugins.module_utils.common import textfiles
from ansible_collections.bulwark.hardening.plugins.module_utils.common.secrets import mask_data
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.flags import (
    cli_conflicts, describe_conflicts, dockerd_lacks_validate, parse_execstart,
)
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.options import canonical_json, config_to_merge_into, merge, validate
from ansible_collections.bulwark.hardening.plugins.module_utils.files.policy import PolicyError, parse_mode, target_mode

ARGUMENT_SPEC = dict(
    path=dict(type="path", default="/etc/docker/daemon.json"),
    settings=dict(type="dict", required=True),
    state=dict(type="str", choices=["merged", "exact"], default="merged"),
    backup=dict(type="bool", default=True),
    validate_with_dockerd=dict(type="bool", default=True),
    dockerd_args=dict(type="list", elements="str"),
    mode=dict(type="raw", default="0644"),
    owner=dict(type="str", default="root"),
    group=dict(type="str", default="root"),
)


def fail(module, msg, **details):
    """fail_json; the masking layer (MaskedModule) masks the message and every detail."""
    module.fail_json(msg=msg, **details)


def read_text(module, path):
    """The file's text as it is on disk (line ends kept), or None when it does not exist; fails when unreadable."""
    try:
        return textfiles.read_text(path, newline="")
    except (OSError, UnicodeDecodeError) as error:
        fail(module, "cannot read %s: %s" % (path, to_native(error)))


def existing_config(module, text):
    """The current configuration as a dict; None when state=exact replaces an unreadable file."""
    try:
        return config_to_merge_into(text, module.params["state"])
    except ValueError as error:
        fail(module, "%s: %s" % (module.params["path"], to_native(error)))


def dockerd_command_line(module):
    """The dockerd argv to check for conflicts: given, or read from systemd."""
    if module.params["dockerd_args"] is not None:
        return module.params["dockerd_args"]
    systemctl = module.get_bin_path("systemctl")
    if systemctl is None:
        return []
    rc, out, _err = module.run_command([systemctl, "show", "-p", "ExecStart", "docker.service"])
    # No systemd as PID 1 (containers) or no docker.service: nothing to compare.
    return parse_execstart(out) if rc == 0 else []


def fail_unless_acceptable(module, config, dockerd_args):
    # Validated with secrets masked: masking keeps every value's JSON type,
    # so the verdict is the same, and an error quoting a value (even cut
    # short, where no masker could recognise the secret any more) cannot
    # carry one.
    errors = validate(mask_data(config))
    if errors:
        fail(module, "; ".join(errors), errors=errors)
    conflicts = cli_conflicts(config, dockerd_args)
    if conflicts:
        fail(module, describe_conflicts(conflicts), conflicts=conflicts, dockerd_args=dockerd_args)


def file_diff(path, before_text, before, after):
    """Both sides rendered canonically; an unparseable old file is shown as it was."""
    if before_text is None:
        shown_before = ""
    elif before is None:
        shown_before = before_text
    else:
        shown_before = canonical_json(before)
    return dict(before=shown_before, after=canonical_json(after), before_header=path, after_header=path)


def content_changes(before_text, before, after):
    if before_text is None or before is None:
        return True
    return canonical_json(before) != canonical_json(after)


def write_candidate(module, config):
    """Write the new content to a private temporary file and return its path."""
    fd, candidate = tempfile.mkstemp(dir=module.tmpdir, prefix="daemon.json.", suffix=".candidate")
    with os.fdopen(fd, "wb") as handle:
        handle.write(to_bytes(canonical_json(config)))
    return candidate


def dockerd_accepts(module, candidate):
    """Run dockerd --validate on the candidate; False when it cannot be asked."""
    if not module.params["validate_with_dockerd"]:
        return False
    dockerd = module.get_bin_path("dockerd")
    if dockerd is None:
        return False
    rc, out, err = module.run_command([dockerd, "--validate", "--config-file", candidate])
    if rc == 0:
        return True
    output = (err or out).strip()
    if dockerd_lacks_validate(output):
        return False
    fail(module, "dockerd --validate rejected the new daemon.json: %s" % output, rc=rc)


def install(module, candidate, path, result):
    """Replace path with candidate (after a backup), unless in check mode."""
    if module.check_mode:
        return
    if not os.path.isdir(os.path.dirname(path)):
        fail(module, "directory %s does not exist; install Docker or create it first" % os.path.dirname(path))
    if module.params["backup"] and os.path.exists(path):
        result["backup_file"] = module.backup_local(path)
    module.atomic_move(candidate, path)


def write_config(module, config, result):
    candidate = write_candidate(module, config)
    try:
        result["dockerd_validated"] = dockerd_accepts(module, candidate)
        install(module, candidate, module.params["path"], result)
    finally:
        if os.path.exists(candidate):
            os.unlink(candidate)
    result["changed"] = True


def maximum_mode(module):
    """The mode parameter as permission bits (None: leave the mode alone); fails on a bad mode."""
    if module.params["mode"] is None:
        return None
    try:
        return parse_mode(module.params["mode"])
    except PolicyError as error:
        fail(module, "mode: %s" % error)


def apply_attributes(module, path, changed, maximum, created):
    """Set owner, group and mode; set_*_if_different honour check mode.

    The mode is a maximum (files/policy.target_mode): bits are only taken
    away, except on a file this task created, which gets the maximum itself.
    Owner and group come first, as in file_policy: chown clears setuid/setgid.
    """
    if not os.path.exists(path):
        return changed  # check mode on a file not created yet
    changed = module.set_owner_if_different(path, module.params["owner"] or None, changed)
    changed = module.set_group_if_different(path, module.params["group"] or None, changed)
    if maximum is None:
        return changed
    mode = target_mode(stat.S_IMODE(os.stat(path).st_mode), maximum, exact_mode=created)
    return module.set_mode_if_different(path, mode, changed)


@masked_main
def main():
    module = MaskedModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    path = module.params["path"]
    maximum = maximum_mode(module)

    before_text = read_text(module, path)
    before = existing_config(module, before_text)
    config = merge(before, module.params["settings"], module.params["state"])
    dockerd_args = dockerd_command_line(module)
    fail_unless_acceptable(module, config, dockerd_args)

    result = dict(changed=False, config=config, backup_file=None, conflicts=[], dockerd_validated=False,
                  dockerd_args=dockerd_args, diff=file_diff(path, before_text, before, config))
    if content_changes(before_text, before, config):
        write_config(module, config, result)
    created = before_text is None and not module.check_mode
    result["changed"] = apply_attributes(module, path, result["changed"], maximum, created)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
