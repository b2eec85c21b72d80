# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""sshd: a drop-in under /etc/ssh/sshd_config.d, after proof that the connecting user keeps access.

sshd takes the first value it reads for most keywords, and Debian's
sshd_config includes sshd_config.d/*.conf at its top, so the drop-in's name
sorts first (00-). The change is refused before anything is written when the
user Ansible connects as would be locked out (root with PermitRootLogin no,
no authorized key once passwords are off, not in AllowGroups). After writing,
`sshd -t` must accept the file and `sshd -T` must show every value, else
the old file is put back; then sshd is reloaded (open sessions stay).
"""

from __future__ import annotations

import grp
import os
import pwd
import re

from ansible_collections.bulwark.hardening.plugins.module_utils.audit import host_facts
from ansible_collections.bulwark.hardening.plugins.module_utils.common import textfiles
from ansible_collections.bulwark.hardening.plugins.module_utils.host.area import AreaPlan, HostChangeError, command

HEADER = "# Managed by bulwark.hardening (host role, ssh area): edits are overwritten.\n"

# Keyword -> the `ssh -Q` query that lists what this OpenSSH supports (sshd has no -Q; the
# client comes from the same source package and release).
ALGORITHM_QUERIES = {"Ciphers": "cipher", "MACs": "mac", "KexAlgorithms": "kex"}
# An active (not commented out) Include of the drop-in directory.
INCLUDES_DROP_INS = re.compile(r"^[ \t]*Include[ \t]+\S*sshd_config\.d/", re.IGNORECASE | re.MULTILINE)
# Values sshd -T prints under another name than the one configured.
EFFECTIVE_ALIASES = {"prohibit-password": "without-password"}
SSH_CONNECTIONS = ("ssh", "ansible.builtin.ssh", "paramiko", "paramiko_ssh", "ansible.builtin.paramiko_ssh",
                   "ansible.netcommon.libssh", "libssh")


def sshd_value(value):
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ",".join(str(item) for item in value)
    return str(value)


def supported_only(settings, run, notes):
    """Algorithm lists cut to what this OpenSSH knows: sshd -t refuses a whole file over one unknown name."""
    asked = [(keyword, query) for keyword, query in ALGORITHM_QUERIES.items() if keyword in settings]
    if not asked:
        return dict(settings)
    # One process for every query; a line of dashes separates the answers.
    script = "; echo ---; ".join("ssh -Q %s" % query for _keyword, query in asked)
    rc, out, _err = run(["sh", "-c", script])
    answers = out.split("---")
    if rc != 0 or len(answers) != len(asked):
        return dict(settings)  # no ssh client to ask: sshd -t still guards the file
    kept = dict(settings)
    for (keyword, _query), answer in zip(asked, answers):
        if isinstance(kept[keyword], str):  # sshd's own spelling: a comma-separated list
            kept[keyword] = [name.strip() for name in kept[keyword].split(",") if name.strip()]
        known = set(answer.split())
        wanted = [name for name in kept[keyword] if name in known]
        dropped = [name for name in kept[keyword] if name not in known]
        if dropped:
            notes.append("%s: this OpenSSH does not know %s, left out" % (keyword, ", ".join(dropped)))
        if wanted:
            kept[keyword] = wanted
        else:
            notes.append("%s: none of the listed names is known to this OpenSSH; its own default stays" % keyword)
            del kept[keyword]
    return kept


def render(settings, allow_groups):
    lines = ["%s %s\n" % (keyword, sshd_value(value)) for keyword, value in settings.items()]
    if allow_groups:
        lines.append("AllowGroups %s\n" % " ".join(allow_groups))
    return HEADER + "".join(lines)


def parse_effective(text):
    """`sshd -T` output as {keyword (lower case): [values]} (AllowGroups prints one line per group)."""
    found = {}
    for line in text.splitlines():
        keyword, _sep, value = line.strip().partition(" ")
        if keyword:
            found.setdefault(keyword.lower(), []).append(value.strip())
    return found


def not_effective(settings, allow_groups, effective):
    """Keywords whose effective value is not ours (an earlier file or sshd_config sets them first)."""
    wrong = []
    for keyword, value in settings.items():
        shown = effective.get(keyword.lower(), [""])[0].lower()
        wanted = sshd_value(value).lower()
        if shown != EFFECTIVE_ALIASES.get(wanted, wanted) and shown != wanted:
            wrong.append("%s is %r, not %r" % (keyword, shown, sshd_value(value)))
    if allow_groups:
        shown = sorted(" ".join(effective.get("allowgroups", [])).split())
        if shown != sorted(allow_groups):
            wrong.append("AllowGroups is %r" % " ".join(shown))
    return wrong


def authorized_key_files(user, effective):
    """The files sshd reads keys from for this user (AuthorizedKeysFile, relative to the home)."""
    names = " ".join(effective.get("authorizedkeysfile") or [".ssh/authorized_keys .ssh/authorized_keys2"]).split()
    paths = []
    for name in names:
        name = name.replace("%h", user.pw_dir).replace("%u", user.pw_name).replace("%%", "%")
        paths.append(name if name.startswith("/") else os.path.join(user.pw_dir, name))
    return paths


def has_key(paths, read=host_facts.read_text):
    for path in paths:
        for line in (read(path) or "").splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                return True
    return False


def group_names(user, getgrall=grp.getgrall, getgrgid=grp.getgrgid):
    names = set(group.gr_name for group in getgrall() if user.pw_name in group.gr_mem)
    try:
        names.add(getgrgid(user.pw_gid).gr_name)
    except KeyError:
        pass
    return names


def lockout_problems(user_name, settings, allow_groups, effective, getpwnam=pwd.getpwnam, read=host_facts.read_text,
                     groups_of=group_names):
    """Why the connecting user could not log in again after the change ([] when it can)."""
    try:
        user = getpwnam(user_name)
    except KeyError:
        return ["the connecting user %s is not in the password database" % user_name]
    problems = []
    root_login = sshd_value(settings.get("PermitRootLogin", "")).lower()
    if user.pw_uid == 0 and root_login == "no":
        problems.append("Ansible connects as %s and PermitRootLogin would be no: connect as a sudo user first"
                        % user_name)
    passwords_off = sshd_value(settings.get("PasswordAuthentication", "no")).lower() == "no"
    if passwords_off and not has_key(authorized_key_files(user, effective), read):
        problems.append("%s has no authorized key (%s) and PasswordAuthentication would be no"
                        % (user_name, ", ".join(authorized_key_files(user, effective))))
    if allow_groups and not groups_of(user) & set(allow_groups):
        problems.append("%s is in none of AllowGroups %s (its groups: %s)"
                        % (user_name, " ".join(allow_groups), ", ".join(sorted(groups_of(user)))))
    return problems


def plan(settings, allow_groups, path, connection, connecting_user, env, run):
    area = AreaPlan("ssh")
    if not host_facts.find_binary("sshd"):
        return area.skip("sshd is not installed")
    config = host_facts.read_text("/etc/ssh/sshd_config") or ""
    if not INCLUDES_DROP_INS.search(config):
        area.notes.append("/etc/ssh/sshd_config does not include sshd_config.d/*.conf: add `Include "
                          "/etc/ssh/sshd_config.d/*.conf` at its top")
        return area.skip("sshd does not read %s" % os.path.dirname(path))
    settings = supported_only(settings, run, area.notes)
    if not allow_groups:
        area.notes.append("no AllowGroups: every account with a key may log in (set host_ssh_allow_groups)")
    area.report = dict(settings=dict((key, sshd_value(value)) for key, value in settings.items()),
                       allow_groups=allow_groups, connecting_user=connecting_user)
    change = textfiles.plan_file(path, render(settings, allow_groups), mode=0o600)
    area.files.append(change)
    if not change.changed:
        return area  # sshd already runs with this file: nothing to prove, nothing to reload
    preflight(settings, allow_groups, connection, connecting_user, run, area.notes)

    def validate():
        rc, out, err = run(["sshd", "-t"])
        if rc != 0:
            return "sshd -t refuses the drop-in: %s" % (err or out).strip()
        rc, out, err = run(["sshd", "-T"])
        wrong = not_effective(settings, allow_groups, parse_effective(out)) if rc == 0 else [(err or out).strip()]
        return "overridden by an earlier file or sshd_config: " + "; ".join(wrong) if wrong else None

    area.validate = validate
    if "ssh" in env.active_units:
        area.actions.append(command("reload sshd (open sessions stay)", "systemctl", "reload", "ssh"))
    return area


def preflight(settings, allow_groups, connection, connecting_user, run, notes):
    """HostChangeError, before anything is written, when the connecting user would be locked out."""
    rc, out, err = run(["sshd", "-T"])
    if rc != 0:
        raise HostChangeError("ssh: `sshd -T` fails before any change: %s" % (err or out).strip())
    if connection not in SSH_CONNECTIONS:
        notes.append("connection %s is not SSH: the access preflight only applies to SSH" % connection)
        return
    problems = lockout_problems(connecting_user, settings, allow_groups, parse_effective(out))
    if problems:
        raise HostChangeError("ssh: refused before any change, the connecting user would be locked out: "
                              + "; ".join(problems))
