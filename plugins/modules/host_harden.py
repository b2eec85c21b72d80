#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Harden the OS of a Docker host in one round trip: every area planned first, then applied."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: host_harden
short_description: Harden the OS of a Docker host without breaking Docker, in one round trip
version_added: 0.2.0
description:
  - Plans every area it is given (sysctl, kernel modules, auditd, docker group, SSH, file modes, basics,
    mounts) from one reading of the host, then applies them in that order. A refusal in any area (the SSH
    access preflight, an unreadable file) fails the task before anything is changed.
  - Docker-aware - forwarding and user-namespace keys are never written as 0 (Docker needs them, even
    installed later), and C(net.ipv4.ip_forward) is written as 1 when Docker is installed or remaps user
    namespaces; kernel modules that are loaded or that Docker needs are never
    blacklisted; the audit rules watch the Docker files the audit's CIS 1.1.3-1.1.18 rules check, resolved
    on this host the same way.
  - In a container, areas that belong to the host's kernel (sysctl, kernel modules, auditd, mounts) are
    skipped with the reason in C(notes).
  - Packages an area needs but does not find (auditd, unattended-upgrades, systemd-timesyncd, apparmor) are
    returned in C(missing_packages) and that part is skipped, so the caller installs them with its package
    manager and calls the module again. The bulwark.hardening.host role does exactly that.
  - Used by the bulwark.hardening.host role; each option is the plan of one area, and an area whose option
    is not given is not touched.
author:
  - bulwark.hardening contributors (@bulwark)
options:
  connection:
    description:
      - The Ansible connection plugin in use (C(ansible_connection)). Over SSH, the ssh area refuses a change
        that would lock O(connecting_user) out.
    type: str
    default: ssh
  connecting_user:
    description:
      - The user Ansible logs in as (C(ansible_user)). By default the user sudo was called by, else the
        user the module runs as.
    type: str
  sysctl:
    description:
      - C(settings) (dict of sysctl key to value) written to C(path) under /etc/sysctl.d and loaded with
        C(sysctl -p) when the file or a live value differs. Keys this kernel lacks are left out, with a note.
    type: dict
  kernel_modules:
    description:
      - C(blacklist) (module names) written to C(path) under /etc/modprobe.d as C(install <name> /bin/false),
        except modules loaded now and those Docker needs.
    type: dict
  auditd:
    description:
      - C(path) (a file under /etc/audit/rules.d) and C(key) (the audit key) for the watches on the Docker
        stack's files (CIS 1.1.3-1.1.18). Loaded with augenrules only when the file changed or a rule is
        not loaded; verified with C(auditctl -l).
    type: dict
  docker_group:
    description:
      - C(allowlist) (user names, or null to only report) for the group that reaches the Docker socket
        (CIS 1.1.2). Members outside it are removed with gpasswd.
    type: dict
  ssh:
    description:
      - C(settings) (sshd keyword to value; lists for Ciphers, MACs and KexAlgorithms), C(allow_groups)
        (list, empty for no AllowGroups), C(path) (the drop-in under /etc/ssh/sshd_config.d) and
        C(client_address) (optional, the address sshd sees the controller at; by default SSH_CONNECTION of the
        session the module runs in, found through sudo). Checked with C(sshd -t) and C(sshd -T) before sshd is
        reloaded; put back when either fails.
      - Over SSH, before anything is written, sshd evaluates sshd_config with the new drop-in for this
        connection (C(sshd -T -C user=,host=,addr=,laddr=,lport=), Match blocks included), and the change is
        refused unless O(connecting_user) still passes AllowUsers, DenyUsers, AllowGroups, DenyGroups and
        PermitRootLogin and logs in the way it does now - with one of the keys sshd accepts now
        (AuthorizedKeysFile, from=, expiry-time=, StrictModes, key types), else with a password - through some
        AuthenticationMethods chain. An unknown client address is refused too.
    type: dict
  file_modes:
    description:
      - C(paths) (trees to scan on their own filesystem), C(exclude) (paths skipped; Docker's data root is
        always skipped) and C(setid_remove) (files whose setuid/setgid bits are removed). World-writable
        files and directories (sticky directories excepted) lose write for others.
    type: dict
  basics:
    description:
      - C(unattended_upgrades), C(auto_upgrades_path), C(core_dumps_off), C(core_limits_path),
        C(coredump_conf_path), C(login_defs) (keyword to value), C(age_existing_accounts), C(time_sync),
        C(apparmor).
    type: dict
  mounts:
    description:
      - C(options) (mount point to options such as nodev, nosuid, noexec), set live and in /etc/fstab on
        mount points that exist; 1.1.1 (Docker's data on its own partition) is reported.
    type: dict
attributes:
  check_mode:
    support: full
    description: Plans and reports every change without making it.
  diff_mode:
    support: full
    description: Every file before and after, and the actions (sysctl -p, augenrules, remounts, chmods).
  platform:
    platforms: debian
    support: full
    description: Debian 12 and 13 with systemd.
seealso:
  - module: bulwark.hardening.container_audit
"""

EXAMPLES = r"""
- name: Harden sysctl and SSH only
  bulwark.hardening.host_harden:
    connection: "{{ ansible_connection | default('ssh') }}"
    connecting_user: "{{ ansible_user | default(omit) }}"
    sysctl:
      path: /etc/sysctl.d/90-bulwark-hardening.conf
      settings:
        kernel.kptr_restrict: 2
        net.ipv4.ip_forward: 0  # never written as 0; written as 1 where Docker is installed
    ssh:
      path: /etc/ssh/sshd_config.d/00-bulwark-hardening.conf
      settings:
        PermitRootLogin: "no"
        PasswordAuthentication: "no"
      allow_groups: [sudo]
  become: true
"""

RETURN = r"""
areas:
  description: One entry per area given, by name.
  returned: success
  type: dict
  contains:
    changed:
      description: Whether the area changed (would change, in check mode) anything.
      type: bool
    skipped:
      description: Why the area did nothing (in a container, a package missing), else null.
      type: str
    changes:
      description: The files written and the actions taken.
      type: list
      elements: str
    notes:
      description: What the operator should read (keys kept for Docker, modules kept, members reported).
      type: list
      elements: str
    missing_packages:
      description: Packages this area needs.
      type: list
      elements: str
    report:
      description: Area findings (sysctl settings, watched paths, setuid files, mount options, 1.1.1).
      type: dict
missing_packages:
  description: Packages to install before calling the module again; their parts were skipped.
  returned: success
  type: list
  elements: str
package_lists_empty:
  description:
    - With RV(missing_packages), whether apt has no package lists yet (an image-built host), so they must be
      updated before installing, whatever their directory's age says.
  returned: success
  type: bool
notes:
  description: Every area's notes and skip reasons, as "area - note" lines.
  returned: success
  type: list
  elements: str
environment:
  description: What was detected - in_container (the container manager or null), docker_installed, userns_remap.
  returned: success
  type: dict
"""

import os
import pwd

from ansible_collections.bulwark.hardening.plugins.module_utils.common.masking import MaskedModule, masked_main
from ansible_collections.bulwark.hardening.plugins.module_utils.files.policy import PolicyError
from ansible_collections.bulwark.hardening.plugins.module_utils.host import harden
from ansible_collections.bulwark.hardening.plugins.module_utils.host.area import HostChangeError

ARGUMENT_SPEC = dict(
    connection=dict(type="str", default="ssh"),
    connecting_user=dict(type="str"),
    sysctl=dict(type="dict"),
    kernel_modules=dict(type="dict"),
    auditd=dict(type="dict"),
    docker_group=dict(type="dict"),
    ssh=dict(type="dict"),
    file_modes=dict(type="dict"),
    basics=dict(type="dict"),
    mounts=dict(type="dict"),
)


def connecting_user(params):
    return params["connecting_user"] or os.environ.get("SUDO_USER") or pwd.getpwuid(os.getuid()).pw_name


@masked_main
def main():
    module = MaskedModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    request = dict(module.params, connecting_user=connecting_user(module.params))

    def run(argv):
        # A program the host lacks (systemctl in a plain container) is an answer, not a failure.
        try:
            return module.run_command(argv, environ_update=dict(LC_ALL="C"), handle_exceptions=False)
        except OSError as error:
            return 127, "", "%s: %s" % (argv[0], error.strerror or error)

    try:
        state, env = harden.read_host(run)
        plans = harden.plan_all(request, state, env, run)
        if not module.check_mode:
            harden.carry_out_all(plans, run)
    except (HostChangeError, PolicyError) as error:
        module.fail_json(msg=str(error))
    except OSError as error:
        module.fail_json(msg="%s: %s" % (error.filename or "host_harden", error.strerror or error))
    result = harden.result_of(plans, env)
    if module._diff:
        result["diff"] = harden.diff_of(plans)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
