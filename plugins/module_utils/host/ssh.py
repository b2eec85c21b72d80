# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""sshd: a drop-in under /etc/ssh/sshd_config.d, after proof that the connecting user keeps access.

sshd takes the first value it reads for most keywords, and Debian's
sshd_config includes sshd_config.d/*.conf at its top, so the drop-in's name
sorts first (00-). Before anything is written, sshd itself evaluates the
candidate configuration (sshd_config with the drop-in as it would be
written) for this very connection, `sshd -T -f <candidate> -C user=,host=,
addr=,laddr=,lport=` (Match blocks included), next to the current one;
ssh_access decides from both whether the connecting user still logs in the
way it does now, and the change is refused with the reasons otherwise.
After writing, `sshd -t` must accept the file and `sshd -T` must show every
value, else the old file is put back; then sshd is reloaded (open sessions
stay).
"""

from __future__ import annotations

import collections
import fnmatch
import glob
import os
import re
import shlex
import shutil
import tempfile

from ansible_collections.bulwark.hardening.plugins.module_utils.system import host_facts
from ansible_collections.bulwark.hardening.plugins.module_utils.common import textfiles
from ansible_collections.bulwark.hardening.plugins.module_utils.host import ssh_access, ssh_keys, ssh_session
from ansible_collections.bulwark.hardening.plugins.module_utils.host.area import AreaPlan, HostChangeError, command

HEADER = "# Managed by bulwark.hardening (host role, ssh area): edits are overwritten.\n"

# Keyword -> the `ssh -Q` query that lists what this OpenSSH supports (sshd has no -Q; the
# client comes from the same source package and release).
ALGORITHM_QUERIES = {"Ciphers": "cipher", "MACs": "mac", "KexAlgorithms": "kex"}
# An Include line (sshd also takes "Keyword=value"); relative paths are under SSH_DIR.
INCLUDE_LINE = re.compile(r"^([ \t]*)include(?:[ \t]+|[ \t]*=[ \t]*)(.*)$", re.IGNORECASE)
SSH_DIR = "/etc/ssh"
SSHD_CONFIG = "/etc/ssh/sshd_config"
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


# --- the candidate configuration ------------------------------------------------------------------

def include_arguments(line):
    """(indent, [paths]) of an Include line, None for any other line (quotes and comments as sshd reads them)."""
    found = INCLUDE_LINE.match(line.rstrip("\n"))
    if not found:
        return None
    try:
        return found.group(1), shlex.split(found.group(2), comments=True)
    except ValueError:
        return None  # unbalanced quotes: sshd refuses the file, sshd -T says so


def glob_would_match(path, pattern):
    """Whether glob(pattern) would list path if it existed (wildcards stop at /, no hidden names)."""
    names, patterns = path.split("/"), pattern.split("/")
    return len(names) == len(patterns) and all(
        fnmatch.fnmatchcase(name, part) and (part.startswith(".") or not name.startswith("."))
        for name, part in zip(names, patterns))


def quoted(path):
    return '"%s"' % path if re.search(r'[\s"#]', path) else path


def candidate_config(config_text, drop_in_path, candidate_path, expand=glob.glob):
    """sshd_config's text with candidate_path read where sshd would read drop_in_path; None if it is never read.

    An Include that would read drop_in_path names its files one by one, in glob's sorted order, with
    candidate_path in the drop-in's place: sshd reads the candidate exactly where it reads the real one.
    """
    drop_in_path = os.path.normpath(drop_in_path)
    lines, found = [], False
    for line in config_text.splitlines(True):
        include = include_arguments(line)
        if include is None:
            lines.append(line)
            continue
        indent, arguments = include
        paths = []
        for argument in arguments:
            pattern = os.path.normpath(os.path.join(SSH_DIR, argument))
            if not glob_would_match(drop_in_path, pattern):
                paths.append(argument)
                continue
            found = True
            files = sorted(set(expand(pattern)) | set([drop_in_path]))
            paths.extend(candidate_path if name == drop_in_path else name for name in files)
        lines.append("%sInclude %s\n" % (indent, " ".join(quoted(path) for path in paths)))
    return "".join(lines) if found else None


# --- asking sshd ------------------------------------------------------------------------------------

def match_spec(user, session):
    """sshd -C's connection spec: the user and, when known, the client address (the host name sshd uses
    with UseDNS no) and the server's address and port."""
    fields = [("user", user)]
    if session is not None:
        fields += [("host", session.client_address), ("addr", session.client_address),
                   ("laddr", session.server_address), ("lport", session.server_port)]
    return ",".join("%s=%s" % (name, value) for name, value in fields if value is not None)


def effective_for(run, spec, config_path=None):
    """(parsed `sshd -T -C spec` of config_path or of sshd's own config, None) or (None, sshd's error)."""
    argv = ["sshd", "-T"] + (["-f", config_path] if config_path else []) + ["-C", spec]
    rc, out, err = run(argv)
    if rc != 0:
        return None, (err or out).strip() or "exit %s" % rc
    return parse_effective(out), None


def candidate_effective(run, config_text, path, rendered, spec):
    """effective_for the configuration sshd would read with the drop-in at path holding rendered."""
    directory = tempfile.mkdtemp(prefix="bulwark-sshd-candidate-")
    try:
        drop_in = os.path.join(directory, os.path.basename(path))
        main = os.path.join(directory, "sshd_config")
        with open(drop_in, "w") as handle:
            handle.write(rendered)
        with open(main, "w") as handle:
            handle.write(candidate_config(config_text, path, drop_in))
        return effective_for(run, spec, main)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


# --- the preflight ------------------------------------------------------------------------------------

# What the preflight reads of the machine besides sshd (fixed answers in tests): the SSH session,
# account_of(name) -> ssh_access.Account or None, and the key files (read(path) -> text, stat).
Machine = collections.namedtuple("Machine", ["session", "account_of", "read", "stat"])

REFUSED = "ssh: refused before any change, the connecting user would be locked out: "
UNKNOWN_CLIENT = ("the client address of this SSH session is unknown (no SSH_CONNECTION or SSH_CLIENT in the "
                  "environment of the module or of the processes it runs under, or root may not read theirs: "
                  "that needs CAP_SYS_PTRACE, which a container may lack), so Match blocks and from= "
                  "restrictions cannot be decided: set host_ssh_client_address to the address sshd sees the "
                  "controller at")


def this_machine(client_address=None):
    """The real machine; the session is the one the operator states, else the one the module runs in."""
    session = ssh_session.stated(client_address) if client_address else ssh_session.current()
    return Machine(session, ssh_access.account_of, ssh_keys.read_key_file, os.stat)


def access_problems(account, session, now, after, machine):
    """(problems, report) of the candidate for the account; now, after: parsed sshd -T -C output."""
    address = session.client_address if session else None

    def scan(effective):
        return ssh_keys.scan(account, address, effective, read=machine.read, stat=machine.stat)

    verdict = ssh_access.verdict(account, address, now, after, scan(now), scan(after))
    report = dict(connecting_user=account.name, client_address=address,
                  client_address_from=session.source if session else None,
                  session_method=verdict.method, keys_kept=verdict.kept)
    return verdict.problems, report


def preflight(rendered, path, config_text, connection, connecting_user, run, notes, machine=None, client_address=None):
    """The access report; HostChangeError, before anything is written, when the connecting user
    would be locked out (or when that cannot be decided). machine: this_machine(client_address) when None."""
    if connection not in SSH_CONNECTIONS:
        rc, out, err = run(["sshd", "-T"])
        if rc != 0:
            raise HostChangeError("ssh: `sshd -T` fails before any change: %s" % (err or out).strip())
        notes.append("connection %s is not SSH: the access preflight only applies to SSH" % connection)
        return None
    machine = machine or this_machine(client_address)
    account = None if re.search(r"[\s,=]", connecting_user) else machine.account_of(connecting_user)
    if account is None:
        raise HostChangeError(REFUSED + "the connecting user %s is not in the password database" % connecting_user)
    session = machine.session
    spec = match_spec(connecting_user, session)
    unknown = [] if session and session.client_address else [UNKNOWN_CLIENT]
    now, error = effective_for(run, spec)
    if error:
        if unknown:
            raise HostChangeError(REFUSED + "; ".join(unknown + ["sshd -T -C %s: %s" % (spec, error)]))
        raise HostChangeError("ssh: `sshd -T -C %s` fails before any change: %s" % (spec, error))
    after, error = candidate_effective(run, config_text, path, rendered, spec)
    if error:
        raise HostChangeError(REFUSED + "; ".join(unknown + ["sshd refuses sshd_config with this drop-in: " + error]))
    problems, report = access_problems(account, session, now, after, machine)
    if problems or unknown:
        raise HostChangeError(REFUSED + "; ".join(unknown + problems))
    if ssh_keys.effective_value(after, "usedns").lower() == "yes":
        notes.append("UseDNS yes: Match Host and from= were matched against the client's address, not its DNS name")
    return report


# --- the plan -----------------------------------------------------------------------------------------

def plan(settings, allow_groups, path, connection, connecting_user, env, run, client_address=None, machine=None):
    """The ssh area's plan; machine: what the preflight reads (this_machine(client_address) when None)."""
    area = AreaPlan("ssh")
    if not host_facts.find_binary("sshd"):
        return area.skip("sshd is not installed")
    config = host_facts.read_text(SSHD_CONFIG) or ""
    if candidate_config(config, path, path) is None:
        area.notes.append("%s does not include %s: add `Include %s/*.conf` at its top"
                          % (SSHD_CONFIG, path, os.path.dirname(path)))
        return area.skip("sshd does not read %s" % path)
    settings = supported_only(settings, run, area.notes)
    if not allow_groups:
        area.notes.append("no AllowGroups: every account with a key may log in (set host_ssh_allow_groups)")
    area.report = dict(settings=dict((key, sshd_value(value)) for key, value in settings.items()),
                       allow_groups=allow_groups, connecting_user=connecting_user)
    rendered = render(settings, allow_groups)
    change = textfiles.plan_file(path, rendered, mode=0o600)
    area.files.append(change)
    if not change.changed:
        return area  # sshd already runs with this file: nothing to prove, nothing to reload
    access = preflight(rendered, path, config, connection, connecting_user, run, area.notes, machine, client_address)
    if access:
        area.report["access"] = access

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
