# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""The Docker daemon's effective settings: its command line merged with daemon.json.

dockerd takes each setting either as a flag or as a daemon.json key (and
refuses to start when both set the same one), so the effective value of a
setting is whichever of the two is present. Flags are translated to their
daemon.json key names here, so section 2 and 3 rules ask one question
("what is `icc`?") and get the value with where it came from.
"""

from __future__ import annotations

from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.flags import (
    BOOLEAN_FLAGS, LIST_KEYS, go_bool, key_for, parse_flags,
)

DEFAULT_CONFIG_FILE = "/etc/docker/daemon.json"


def parse_cmdline(argv):
    """Map dockerd arguments (argv[0] excluded) to {daemon.json key: value or [values]}."""
    options = {}
    for _written, name, value in parse_flags(argv):
        key = key_for(name)
        if name in BOOLEAN_FLAGS:
            value = _flag_value(value)
        elif value is None:
            value = True  # given bare: most likely a boolean of a newer dockerd than we know
        if key in LIST_KEYS:
            options.setdefault(key, []).append(value)
        else:
            options[key] = value  # the last occurrence wins, as in dockerd
    return options


def _flag_value(text):
    """A boolean flag's value: True when given bare, else as ParseBool reads it.

    Text ParseBool refuses ("--icc=yes") is kept as written: dockerd would not
    start with it, so no setting is inferred, and evidence shows what was there.
    """
    if text is None:
        return True
    parsed = go_bool(text)
    return text if parsed is None else parsed


class DaemonConfig(object):
    """Effective daemon settings with provenance.

    cmdline: parsed flags (parse_cmdline) or None when the process was not
    readable; file_options: daemon.json content or None when absent/unreadable.
    """

    def __init__(self, cmdline=None, file_options=None, config_path=DEFAULT_CONFIG_FILE,
                 file_error=None, pid=None):
        self.cmdline = cmdline
        self.file_options = file_options
        self.config_path = config_path
        self.file_error = file_error
        self.pid = pid

    def lookup(self, key):
        """(value, source) for a setting, source like 'dockerd --icc' or 'daemon.json'; (None, None) if unset.

        List settings are merged from both places; scalars come from whichever sets them.
        """
        from_cmdline = (self.cmdline or {}).get(key)
        from_file = (self.file_options or {}).get(key)
        if key in LIST_KEYS and from_cmdline is not None and from_file is not None:
            return _as_list(from_cmdline) + _as_list(from_file), "dockerd --%s and %s" % (key, self.config_path)
        if from_cmdline is not None:
            return from_cmdline, "dockerd command line"
        if from_file is not None:
            return from_file, self.config_path
        return None, None

    def value(self, key, default=None):
        found, _source = self.lookup(key)
        return default if found is None else found

    def flag(self, key):
        """A boolean setting as True/False; None when unset or not a boolean dockerd would accept.

        Command-line text is read as ParseBool reads it; daemon.json takes only
        JSON true/false for a boolean (dockerd refuses "true" as a string there).
        """
        found = self.value(key)
        if found is None or isinstance(found, bool):
            return found
        if isinstance((self.cmdline or {}).get(key), str):
            return go_bool(found)
        return None

    def describe(self, key):
        """Evidence text: 'icc=false (daemon.json)' or 'icc not set (default)'."""
        found, source = self.lookup(key)
        if found is None:
            return "%s not set (%s)" % (key, self.sources_read())
        if isinstance(found, bool):
            found = str(found).lower()
        return "%s=%s (%s)" % (key, _render(found), source)

    def sources_read(self):
        """Which sources were consulted, so 'not set' evidence says where we looked."""
        parts = []
        parts.append("dockerd command line" if self.cmdline is not None else "dockerd command line unreadable")
        if self.file_options is not None:
            parts.append(self.config_path)
        elif self.file_error:
            parts.append("%s unreadable: %s" % (self.config_path, self.file_error))
        else:
            parts.append("no %s" % self.config_path)
        return ", ".join(parts)


def _as_list(value):
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _render(value):
    if isinstance(value, (list, tuple)):
        return "[%s]" % ", ".join(str(item) for item in value)
    if isinstance(value, dict):
        return "{%s}" % ", ".join("%s: %s" % (key, value[key]) for key in sorted(value))
    return str(value)
