# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Docker daemon's effective settings: its command line merged with daemon.json.

dockerd takes each setting either as a flag or as a daemon.json key (and
refuses to start when both set the same one), so the effective value of a
setting is whichever of the two is present. Flags are translated to their
daemon.json key names here, so section 2 and 3 rules ask one question
("what is `icc`?") and get the value with where it came from.
"""

from __future__ import annotations

# Flags whose daemon.json key is not simply the flag name without dashes.
FLAG_KEYS = {
    "-H": "hosts",
    "--host": "hosts",
    "-l": "log-level",
    "-D": "debug",
    "-g": "data-root",
    "--graph": "data-root",
    "-s": "storage-driver",
    "-p": "pidfile",
    "-b": "bridge",
    "-G": "group",
    "--insecure-registry": "insecure-registries",
    "--authorization-plugin": "authorization-plugins",
    "--storage-opt": "storage-opts",
    "--default-ulimit": "default-ulimits",
    "--log-opt": "log-opts",
    "--registry-mirror": "registry-mirrors",
    "--add-runtime": "runtimes",
    "--label": "labels",
    "--dns": "dns",
    "--exec-opt": "exec-opts",
}

# Flags that are booleans: present means true, `--flag=false` means false,
# and they never consume the next argument.
BOOL_KEYS = frozenset([
    "icc", "iptables", "ip6tables", "ip-forward", "ip-masq", "tls", "tlsverify", "debug",
    "no-new-privileges", "live-restore", "userland-proxy", "experimental", "selinux-enabled",
    "raw-logs", "ipv6", "init", "rootless", "validate",
])

# Flags that may repeat; their values are collected into a list.
LIST_KEYS = frozenset([
    "hosts", "insecure-registries", "authorization-plugins", "storage-opts", "default-ulimits",
    "log-opts", "registry-mirrors", "runtimes", "labels", "dns", "exec-opts",
])

DEFAULT_CONFIG_FILE = "/etc/docker/daemon.json"

TRUE_WORDS = ("1", "t", "true", "yes")


def _key_for(flag):
    return FLAG_KEYS.get(flag, flag.lstrip("-"))


def _split_flag(argument):
    """('-H', 'unix://x') from '-H=unix://x' or '-Hunix://x'; (flag, None) when no inline value."""
    if argument.startswith("--"):
        name, sep, value = argument.partition("=")
        return name, (value if sep else None)
    name, rest = argument[:2], argument[2:]
    if rest.startswith("="):
        rest = rest[1:]
    return name, (rest if rest else None)


def parse_cmdline(argv):
    """Map dockerd arguments (argv[0] excluded) to {daemon.json key: value or [values]}."""
    options = {}
    index = 0
    while index < len(argv):
        flag, value = _split_flag(argv[index])
        index += 1
        if not flag.startswith("-"):
            continue  # dockerd takes no positional arguments; ignore stray ones
        key = _key_for(flag)
        if key in BOOL_KEYS:
            value = True if value is None else value.lower() in TRUE_WORDS
        elif value is None:
            # A valued flag takes the next argument, unless that is another flag
            # (an unknown boolean flag then reads as true).
            if index < len(argv) and not argv[index].startswith("-"):
                value = argv[index]
                index += 1
            else:
                value = True
        if key in LIST_KEYS:
            options.setdefault(key, []).append(value)
        else:
            options[key] = value  # the last occurrence wins, as in dockerd
    return options


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
        """A boolean setting as True/False, or None when unset."""
        found = self.value(key)
        if found is None:
            return None
        if isinstance(found, bool):
            return found
        return str(found).lower() in TRUE_WORDS

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
