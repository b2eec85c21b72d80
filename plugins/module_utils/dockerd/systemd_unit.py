# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""docker.service as systemd reads it: its ExecStart, its environment, and a drop-in that replaces it;
docker.socket as systemd reads it: its listeners and the owner and mode of its socket files.

The TLS listener moves dockerd's listeners from its command line (-H) into
daemon.json (`hosts`), because dockerd refuses an option set in both
places. The drop-in that does this must keep every other flag of the
unit's own ExecStart (a distribution's --containerd, an admin's
--data-root), so it is built from the ExecStart systemd would run without
it. Plain functions over unit file text; nothing here runs systemctl.
"""

from __future__ import annotations

import collections
import re
import shlex

from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.flags import BOOLEAN_FLAGS, SHORT_FLAGS

# Characters systemd accepts before the program path of an Exec line.
_EXEC_PREFIXES = "-@:+!"
# A word that is only a variable: systemd splits $NAME's value into words.
_WHOLE_VARIABLE = re.compile(r"^\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)\}|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))$")
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_DOLLAR = re.compile(r"\$(\{[A-Za-z_][A-Za-z0-9_]*\})?")
# Words that need quoting in an Exec line.
_NEEDS_QUOTES = re.compile(r"[\s\"'\\;]")
HOST_FLAG = "host"


def unit_entries(text):
    """(section, key, value) for every assignment in a unit file, in order.

    Backslash-continued lines are joined; lines starting with # or ; are comments,
    also between continued lines, where they do not end the value (systemd.syntax(7)).
    """
    entries, section, pending = [], None, ""
    for raw in (text or "").splitlines():
        if pending and raw.strip()[:1] in ("#", ";"):
            continue
        line = pending + raw.strip() if pending else raw.strip()
        pending = ""
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key, sep, value = line.partition("=")
        if sep:
            entries.append((section, key.strip(), value.strip()))
    return entries


def _service_values(unit_texts, key):
    """Values of a [Service] key over the unit and its drop-ins, in load order; an empty one resets."""
    values = []
    for text in unit_texts:
        for section, name, value in unit_entries(text):
            if section == "Service" and name == key:
                values = [] if value == "" else values + [value]
    return values


def split_exec(line):
    """The words of an Exec line, without systemd's prefix characters on the program path."""
    try:
        words = shlex.split(line, posix=True)
    except ValueError:  # unbalanced quote: systemd would refuse the unit; read words as written
        words = line.split()
    if words:
        words[0] = words[0].lstrip(_EXEC_PREFIXES)
    # %% and $$ are systemd's escapes for a literal % and $ (quote_word writes both).
    return [word.replace("%%", "%").replace("$$", "$") for word in words]


def exec_start(unit_texts):
    """dockerd's argv from the unit file and its drop-ins (texts in load order), or [] without ExecStart."""
    commands = _service_values(unit_texts, "ExecStart")
    return split_exec(commands[-1]) if commands else []


def environment_files(unit_texts):
    """[(path, optional)] of the EnvironmentFile= lines ('-' before the path: missing is fine)."""
    files = []
    for value in _service_values(unit_texts, "EnvironmentFile"):
        optional = value.startswith("-")
        files.append((value.lstrip("-"), optional))
    return files


def parse_environment_file(text):
    """{NAME: value} from an EnvironmentFile (shell-style assignments, quotes, comments)."""
    variables = {}
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("export "):
            line = line[len("export "):].lstrip()
        name, sep, value = line.partition("=")
        if not sep or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name.strip()):
            continue
        try:
            words = shlex.split(value, comments=True, posix=True)
        except ValueError:
            words = [value]
        variables[name.strip()] = " ".join(words)
    return variables


def expand(argv, variables):
    """argv with systemd's variable expansion: $NAME alone splits into words, ${NAME} inside a word substitutes."""
    expanded = []
    for word in argv:
        match = _WHOLE_VARIABLE.match(word)
        if match and match.group("bare"):
            expanded.extend(variables.get(match.group("bare"), "").split())
            continue
        expanded.append(_VARIABLE.sub(lambda found: variables.get(found.group(1), ""), word))
    return expanded


def without_host_flags(argv):
    """(argv without its -H/--host flags, the listeners they named).

    dockerd's other flags and unexpanded variables ($DOCKER_OPTS) stay in place.
    """
    kept, hosts = [], []
    words = list(argv)
    while words:
        word = words.pop(0)
        if word == "--":
            kept.append(word)
            kept.extend(words)
            break
        if word in ("--host", "-H"):
            if words:
                hosts.append(words.pop(0))
        elif word.startswith("--host="):
            hosts.append(word[len("--host="):])
        elif word.startswith("-") and not word.startswith("--") and "H" in word[1:]:
            kept_letters = _split_short_group(word[1:], words, hosts)
            if kept_letters:
                kept.append("-" + kept_letters)
        else:
            kept.append(word)
    return kept, hosts


def _split_short_group(letters, words, hosts):
    """Take -H out of a group of one-letter flags ("-DH fd://", "-DHfd://"); return the letters kept."""
    kept = ""
    for position, letter in enumerate(letters):
        if letter == "H":
            rest = letters[position + 1:].lstrip("=")
            if rest:
                hosts.append(rest)
            elif words:
                hosts.append(words.pop(0))
            return kept
        if SHORT_FLAGS.get(letter) is None:
            return letters  # an unknown letter: leave the whole group as written
        if SHORT_FLAGS[letter] not in BOOLEAN_FLAGS:
            return letters  # a valued letter takes the rest of the word ("-GHPC" is --group HPC): no -H here
        kept += letter
    return kept


def quote_word(word):
    """One argv word as systemd parses it back: % and literal $ escaped, $NAME / ${NAME} kept, quoted when needed."""
    if _WHOLE_VARIABLE.match(word):
        return word  # keep the unit's own variables for systemd to expand
    # A ${NAME} inside a word stays a reference, as in the unit (systemd expands it there too);
    # any other $ is literal and written $$.
    escaped = _DOLLAR.sub(lambda found: found.group(0) if found.group(1) else "$$", word.replace("%", "%%"))
    if escaped and not _NEEDS_QUOTES.search(escaped):
        return escaped
    return '"%s"' % escaped.replace("\\", "\\\\").replace('"', '\\"')


def render_exec(argv):
    return " ".join(quote_word(word) for word in argv)


def drop_in_without_host_flags(argv, comment):
    """A [Service] drop-in that runs argv (already without -H) instead of the unit's ExecStart."""
    return "\n".join([
        "# %s" % comment,
        "[Service]",
        "ExecStart=",
        "ExecStart=%s" % render_exec(argv),
        "",
    ])


# --- docker.socket -------------------------------------------------------------

# Every Listen*= of a socket unit opens one file descriptor, in the order written; dockerd's
# fd://N picks the Nth from 3.
LISTEN_KEYS = ("ListenStream", "ListenDatagram", "ListenSequentialPacket", "ListenFIFO", "ListenSpecial",
               "ListenNetlink", "ListenMessageQueue", "ListenUSBFunction")
# systemd's defaults for the socket file it creates: root-owned, mode 0666.
DEFAULT_SOCKET_USER = "root"
DEFAULT_SOCKET_GROUP = "root"
DEFAULT_SOCKET_MODE = 0o666

# A socket unit as systemd reads it (the unit and its drop-ins): listens is [(Listen key, value)] in order;
# user, group: owner of the socket files it creates; mode: their permission bits.
SocketUnit = collections.namedtuple("SocketUnit", ["listens", "user", "group", "mode"])


def socket_unit(unit_texts):
    """SocketUnit of a .socket unit and its drop-ins (texts in load order), or None without text.

    An empty Listen*= resets every listener set before it; an empty SocketUser=,
    SocketGroup= or SocketMode= (or an unreadable mode) restores systemd's default.
    """
    if not unit_texts:
        return None
    listens, settings = [], {}
    for text in unit_texts:
        for section, key, value in unit_entries(text):
            if section != "Socket":
                continue
            if key in LISTEN_KEYS:
                listens = listens + [(key, value)] if value else []
            elif key in ("SocketUser", "SocketGroup", "SocketMode"):
                settings[key] = value
    try:
        mode = int(settings.get("SocketMode") or "", 8)
    except ValueError:
        mode = DEFAULT_SOCKET_MODE
    return SocketUnit(listens, settings.get("SocketUser") or DEFAULT_SOCKET_USER,
                      settings.get("SocketGroup") or DEFAULT_SOCKET_GROUP, mode)
