# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""Would the connecting user still log in, the way it logs in now, under a candidate sshd configuration?

Both configurations are `sshd -T -C user=...,addr=...` output: sshd itself
applies its defaults, Include files and the Match blocks of this
connection. What is decided here is what sshd decides at login, from that
output and the user's account and keys:

- the way this session logs in: with a key when the user has a key sshd
  accepts now (ssh_keys.scan of the current configuration), else with a
  password; a key session must keep one of the keys that work now;
- DenyUsers, AllowUsers, DenyGroups, AllowGroups (the user's groups), in
  sshd's order; PermitRootLogin for root;
- PubkeyAuthentication, PasswordAuthentication, KbdInteractiveAuthentication
  (with UsePAM) for the session's method;
- AuthenticationMethods: some listed chain must consist only of what this
  session can present (a key session has no password to give).
"""

from __future__ import annotations

import collections
import grp
import os
import pwd

from ansible_collections.bulwark.hardening.plugins.module_utils.host import ssh_keys, ssh_patterns

# groups: names of every group of the account (primary and supplementary); gids: their ids.
Account = collections.namedtuple("Account", ["name", "uid", "gid", "home", "groups", "gids"])
# method: "publickey" or "password" (the session's); kept: labels of the keys that still work.
Verdict = collections.namedtuple("Verdict", ["problems", "method", "kept"])


def account_of(name, getpwnam=pwd.getpwnam, getgrouplist=os.getgrouplist, getgrgid=grp.getgrgid):
    """The account with its groups as sshd sees them (initgroups), or None when there is no such user."""
    try:
        user = getpwnam(name)
    except KeyError:
        return None
    gids = frozenset(getgrouplist(name, user.pw_gid))
    names = set()
    for gid in gids:
        try:
            names.add(getgrgid(gid).gr_name)
        except KeyError:
            pass
    return Account(name, user.pw_uid, user.pw_gid, user.pw_dir, frozenset(names), gids)


def entries(effective, keyword):
    """Every value of a list keyword (sshd -T prints them one line each, or several on one line)."""
    return " ".join(effective.get(keyword, [])).split()


def is_yes(effective, keyword, default):
    return ssh_keys.effective_value(effective, keyword, default=default).lower() == "yes"


def user_list_problems(account, client_address, effective):
    """DenyUsers, AllowUsers, DenyGroups, AllowGroups, in the order sshd applies them."""
    problems = []
    host = client_address  # UseDNS no (the default): sshd names the client by its address
    denied = [entry for entry in entries(effective, "denyusers")
              if ssh_patterns.user_entry_match(account.name, host, client_address, entry)]
    if denied:
        problems.append("%s is in DenyUsers (%s)" % (account.name, " ".join(denied)))
    allowed = entries(effective, "allowusers")
    if allowed and not any(ssh_patterns.user_entry_match(account.name, host, client_address, entry)
                           for entry in allowed):
        problems.append("%s is not in AllowUsers (%s)" % (account.name, " ".join(allowed)))
    groups = sorted(account.groups)
    denied = [group for group in groups
              if any(ssh_patterns.wildcard_match(group, pattern) for pattern in entries(effective, "denygroups"))]
    if denied:
        problems.append("%s is in DenyGroups by its group %s" % (account.name, ", ".join(denied)))
    allowed = entries(effective, "allowgroups")
    if allowed and not any(ssh_patterns.wildcard_match(group, pattern) for group in groups for pattern in allowed):
        problems.append("%s is in none of AllowGroups %s (its groups: %s)"
                        % (account.name, " ".join(allowed), ", ".join(groups)))
    return problems


def root_problems(account, method, effective):
    """PermitRootLogin for root: the session's method must stay allowed, and a shell (Ansible needs one)."""
    if account.uid != 0:
        return []
    permit = ssh_keys.effective_value(effective, "permitrootlogin", default="prohibit-password").lower()
    if permit == "no":
        return ["%s has uid 0 and PermitRootLogin would be no: connect as a sudo user first" % account.name]
    if permit == "forced-commands-only":
        return ["%s has uid 0 and PermitRootLogin would be forced-commands-only: Ansible needs a shell" % account.name]
    if permit in ("prohibit-password", "without-password") and method == "password":
        return ["%s has uid 0, logs in with a password now (no key sshd accepts) and PermitRootLogin would be "
                "prohibit-password" % account.name]
    return []


def presentable(method, kept, effective):
    """{method name: how many} this session can present under the configuration."""
    if method == "publickey":
        return {"publickey": len(kept)}
    methods = {}  # root's password under PermitRootLogin is root_problems' part
    if is_yes(effective, "passwordauthentication", "yes"):
        methods["password"] = 1
    # keyboard-interactive asks for the password through PAM on Debian; without PAM it has no device.
    if is_yes(effective, "kbdinteractiveauthentication", "yes") and is_yes(effective, "usepam", "no"):
        methods["keyboard-interactive"] = 1
    return methods


def chain_step(step):
    """A chain's step as presentable names it: keyboard-interactive's only device on Debian is pam."""
    return "keyboard-interactive" if step == "keyboard-interactive:pam" else step


def chain_satisfied(chain, methods):
    """Whether every method of one AuthenticationMethods chain (a,b,...) is among the methods presented."""
    needed = collections.Counter(chain_step(step) for step in chain.split(","))
    return all(methods.get(name, 0) >= count for name, count in needed.items())


def method_problems(account, method, now_scan, kept, after_scan, effective):
    if method == "publickey" and not kept:
        return ["%s logs in with a key now (%s) and none of them would be accepted: %s"
                % (account.name, ", ".join(sorted(now_scan.usable.values())),
                   "; ".join(after_scan.refused) or "no key")]
    methods = presentable(method, kept, effective)
    if method == "password" and not methods:
        return ["%s has no key sshd accepts (%s), so it logs in with a password now, and password logins "
                "would be off (PasswordAuthentication, KbdInteractiveAuthentication with UsePAM)"
                % (account.name, "; ".join(now_scan.refused) or "no key file")]
    chains = entries(effective, "authenticationmethods")
    if chains and chains != ["any"] and not any(chain_satisfied(chain, methods) for chain in chains):
        return ["AuthenticationMethods would be %s: no chain is made only of what this session presents (%s)"
                % (" ".join(chains), ", ".join(sorted(methods)) or "nothing")]
    return []


def verdict(account, client_address, now, after, now_scan, after_scan):
    """Verdict of the candidate configuration (after) for the account connecting from client_address.

    now, after: sshd -T -C output (parsed) of the current and the candidate configuration;
    now_scan, after_scan: ssh_keys.scan of the account under each.
    """
    method = "publickey" if now_scan.usable else "password"
    kept = sorted(label for key, label in after_scan.usable.items() if key in now_scan.usable)
    problems = user_list_problems(account, client_address, after)
    problems += root_problems(account, method, after)
    problems += method_problems(account, method, now_scan, kept, after_scan, after)
    return Verdict(problems, method, kept)
