# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""Which of a user's authorized keys sshd would accept under one effective configuration.

The configuration is `sshd -T -C ...` output (parsed): AuthorizedKeysFile
(%h, %u, %U, %%; relative to the home), PubkeyAuthentication,
PubkeyAcceptedAlgorithms, StrictModes, AuthorizedKeysCommand. A key counts
when sshd could read its file as the user (sshd opens it with the user's
ids), StrictModes would not refuse the file (owner root or the user, no
group or world write, up the path to the home), and its options let it in
from this client: from= (address patterns and CIDR), expiry-time=.
"""

from __future__ import annotations

import calendar
import collections
import functools
import os
import re
import stat as stat_module
import time

from ansible_collections.bulwark.hardening.plugins.module_utils.common import textfiles
from ansible_collections.bulwark.hardening.plugins.module_utils.host import ssh_patterns

# key_type and blob identify a key (the same key in two files is one key); where: "path line N".
AuthorizedKey = collections.namedtuple("AuthorizedKey", ["key_type", "blob", "comment", "options", "where"])
# usable: {key id: label} of the keys sshd would accept; refused: why the others (and files) are not.
KeyScan = collections.namedtuple("KeyScan", ["usable", "refused"])

KEY_TYPE = re.compile(r"^(?:ssh|ecdsa|sk)-[A-Za-z0-9@._-]+$")
# An RSA key is offered under any of these signature algorithms.
RSA_ALGORITHMS = ("ssh-rsa", "rsa-sha2-256", "rsa-sha2-512")
TOKENS = re.compile(r"%(.)")


def split_options(line):
    """(options text, the rest) of a line that starts with options: they end at the first blank outside quotes."""
    quoted = False
    index = 0
    while index < len(line):
        char = line[index]
        if char == "\\" and quoted:
            index += 2
            continue
        if char == '"':
            quoted = not quoted
        elif char in " \t" and not quoted:
            return line[:index], line[index:].strip()
        index += 1
    return line, ""


def parse_options(text):
    """{option name (lower case): value, or True for a flag} of an options text (comma-separated)."""
    options = {}
    entries, current, quoted = [], "", False
    for char in text:
        if char == '"' and not current.endswith("\\"):
            quoted = not quoted
        if char == "," and not quoted:
            entries.append(current)
            current = ""
        else:
            current += char
    entries.append(current)
    for entry in entries:
        name, sep, value = entry.partition("=")
        if value.startswith('"') and value.endswith('"') and len(value) >= 2:
            value = value[1:-1].replace('\\"', '"')
        options[name.strip().lower()] = value if sep else True
    return options


def parse_line(line, where):
    """AuthorizedKey of one authorized_keys line; None for blanks, comments and lines sshd would skip."""
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    options = {}
    fields = text.split(None, 2)
    if not KEY_TYPE.match(fields[0]):
        options_text, rest = split_options(text)
        options = parse_options(options_text)
        fields = rest.split(None, 2)
    if len(fields) < 2 or not KEY_TYPE.match(fields[0]):
        return None
    return AuthorizedKey(fields[0], fields[1], fields[2] if len(fields) > 2 else "", options, where)


def key_files(spec, account):
    """The files an AuthorizedKeysFile value names for this account (none: no file)."""
    if spec.strip().lower() == "none":
        return []
    values = {"%": "%", "h": account.home, "u": account.name, "U": str(account.uid)}
    paths = []
    for name in spec.split():
        name = TOKENS.sub(lambda token: values.get(token.group(1), token.group(0)), name)
        paths.append(name if name.startswith("/") else os.path.join(account.home, name))
    return paths


def _lets(st, account, bit):
    """Whether the mode bit (4 read, 1 search) applies to the account: owner, else group, else others."""
    mode = stat_module.S_IMODE(st.st_mode)
    if st.st_uid == account.uid:
        return bool(mode & (bit << 6))
    if st.st_gid in account.gids:
        return bool(mode & (bit << 3))
    return bool(mode & bit)


def unreadable_reason(path, account, stat=os.stat):
    """Why the account could not read path (sshd opens key files with the user's ids), or None."""
    if account.uid == 0:
        return None
    directory = "/"
    for part in path.strip("/").split("/")[:-1]:
        directory = os.path.join(directory, part)
        if not _lets(stat(directory), account, 1):
            return "%s cannot enter %s" % (account.name, directory)
    if not _lets(stat(path), account, 4):
        return "%s cannot read it" % account.name
    return None


def strict_modes_reason(path, account, stat=os.stat):
    """Why StrictModes makes sshd ignore path (owner not root or the user, group or world writable), or None.

    The file, then each directory up to the home (or / for a file outside it), as sshd checks them.
    """
    st = stat(path)
    if not stat_module.S_ISREG(st.st_mode):
        return "not a regular file"
    if st.st_uid not in (0, account.uid) or st.st_mode & 0o022:
        return "StrictModes: bad ownership or modes for the file (owner uid %d, mode %04o)" % (
            st.st_uid, stat_module.S_IMODE(st.st_mode))
    directory = path
    while directory not in ("/", account.home.rstrip("/") or "/"):
        directory = os.path.dirname(directory)
        st = stat(directory)
        if st.st_uid not in (0, account.uid) or st.st_mode & 0o022:
            return "StrictModes: bad ownership or modes for directory %s (owner uid %d, mode %04o)" % (
                directory, st.st_uid, stat_module.S_IMODE(st.st_mode))
    return None


def expiry(value):
    """The time an expiry-time= value (YYYYMMDD[HHMM[SS]], local time; Z: UTC) ends, None if malformed."""
    utc = value.upper().endswith("Z")
    digits = value[:-1] if utc else value
    if not digits.isdigit() or len(digits) not in (8, 12, 14):
        return None
    try:
        fields = time.strptime(digits.ljust(14, "0"), "%Y%m%d%H%M%S")  # refuses month 13 as sshd does
        return calendar.timegm(fields) if utc else time.mktime(fields)
    except (OverflowError, ValueError):
        return None


def type_accepted(key_type, accepted):
    names = set(accepted.split(","))
    if key_type == "ssh-rsa":
        return bool(names.intersection(RSA_ALGORITHMS))
    return key_type in names


def key_refusal(key, client_address, accepted, now):
    """Why sshd would not accept this key from client_address (None: unknown), or None when it would."""
    allowed_from = key.options.get("from")
    if allowed_from is not None:
        if not client_address:
            return 'from="%s" and the client address is unknown' % allowed_from
        # UseDNS no (the default): sshd knows the client by its address only.
        if not ssh_patterns.host_and_address_match(client_address, client_address, str(allowed_from)):
            return 'from="%s" does not let %s in' % (allowed_from, client_address)
    if "expiry-time" in key.options:
        ends = expiry(str(key.options["expiry-time"]))
        if ends is None or ends <= now:
            return "expiry-time=%s has passed" % key.options["expiry-time"]
    if "cert-authority" not in key.options and accepted and not type_accepted(key.key_type, accepted):
        return "%s keys are not in PubkeyAcceptedAlgorithms" % key.key_type
    return None


def label(key):
    return "%s key ...%s%s" % (key.key_type, key.blob[-8:], " (%s)" % key.comment if key.comment else "")


def effective_value(effective, *keywords, **kwargs):
    """The first value sshd -T shows for the first of the keywords it shows (older names follow newer)."""
    for keyword in keywords:
        if effective.get(keyword):
            return " ".join(effective[keyword])
    return kwargs.get("default", "")


def scan_file(path, account, client_address, effective, now, read, stat):
    """(usable {id: label}, refused [reasons]) of one key file."""
    try:
        problem = unreadable_reason(path, account, stat)
        if problem is None and effective_value(effective, "strictmodes", default="yes").lower() == "yes":
            problem = strict_modes_reason(path, account, stat)
        text = None if problem else read(path)
    except OSError as error:
        problem = "no such file" if error.errno == 2 else (error.strerror or str(error))
        text = None
    if problem or text is None:
        return {}, ["%s: %s" % (path, problem or "cannot be read")]
    accepted = effective_value(effective, "pubkeyacceptedalgorithms", "pubkeyacceptedkeytypes")
    usable, refused = {}, []
    for number, line in enumerate(text.splitlines(), 1):
        key = parse_line(line, "%s line %d" % (path, number))
        if key is None:
            continue
        problem = key_refusal(key, client_address, accepted, now)
        if problem:
            refused.append("%s: %s" % (key.where, problem))
        else:
            usable[(key.key_type, key.blob)] = label(key)
    if not usable and not refused:
        refused.append("%s: no key" % path)
    return usable, refused


# A key file as sshd reads it: every failure to read it raises (scan_file names the reason), stray bytes are replaced.
read_key_file = functools.partial(textfiles.read_text, none_on=(), errors="replace", newline="")


def scan(account, client_address, effective, now=None, read=read_key_file, stat=os.stat):
    """KeyScan of the account's keys under an effective configuration (sshd -T -C output, parsed)."""
    if effective_value(effective, "pubkeyauthentication", default="yes").lower() != "yes":
        return KeyScan({}, ["PubkeyAuthentication no"])
    now = time.time() if now is None else now
    usable, refused = {}, []
    command = effective_value(effective, "authorizedkeyscommand", default="none")
    if command.lower() != "none":
        # Its keys cannot be read without running it; it counts while it stays the same.
        usable[("AuthorizedKeysCommand", command)] = "keys from AuthorizedKeysCommand %s" % command
    spec = effective_value(effective, "authorizedkeysfile", default=".ssh/authorized_keys .ssh/authorized_keys2")
    for path in key_files(spec, account):
        found, why = scan_file(os.path.normpath(path), account, client_address, effective, now, read, stat)
        usable.update(found)
        refused.extend(why)
    return KeyScan(usable, refused)
