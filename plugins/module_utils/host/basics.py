# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""Updates and basics: unattended security upgrades, no core dumps, login.defs
umask and password aging (also for existing human accounts), time sync, and
AppArmor in use for containers."""

from __future__ import annotations

import re

from ansible_collections.bulwark.hardening.plugins.module_utils.system import host_facts
from ansible_collections.bulwark.hardening.plugins.module_utils.common import textfiles
from ansible_collections.bulwark.hardening.plugins.module_utils.host.area import AreaPlan, command

AUTO_UPGRADES = ('// Managed by bulwark.hardening (host role, basics area): edits are overwritten.\n'
                 'APT::Periodic::Update-Package-Lists "1";\n'
                 'APT::Periodic::Unattended-Upgrade "1";\n')
CORE_LIMITS = ("# Managed by bulwark.hardening (host role, basics area): no core dumps, they can hold secrets.\n"
               "* hard core 0\n")
COREDUMP_CONF = ("# Managed by bulwark.hardening (host role, basics area): systemd-coredump keeps nothing.\n"
                 "[Coredump]\nStorage=none\nProcessSizeMax=0\n")
# login.defs keyword -> chage option, for accounts that exist already (login.defs only shapes new ones).
AGING_OPTIONS = {"PASS_MAX_DAYS": "--maxdays", "PASS_MIN_DAYS": "--mindays", "PASS_WARN_AGE": "--warndays"}
# Index of each aging field in an /etc/shadow line.
SHADOW_FIELDS = {"PASS_MIN_DAYS": 3, "PASS_MAX_DAYS": 4, "PASS_WARN_AGE": 5}
TIME_DAEMONS = ("chronyd", "ntpd", "openntpd", "ntpsec", "systemd-timesyncd")
TIMESYNCD = ("/lib/systemd/systemd-timesyncd", "/usr/lib/systemd/systemd-timesyncd")


def edit_login_defs(text, wanted):
    """login.defs with each keyword set once: the first active line rewritten, others commented out, missing ones added."""
    seen, lines = set(), []
    for line in text.splitlines():
        match = re.match(r"^\s*([A-Z_]+)\s+", line)
        keyword = match.group(1) if match else None
        if keyword in wanted:
            lines.append(("%s\t%s" % (keyword, wanted[keyword])) if keyword not in seen else "# " + line)
            seen.add(keyword)
        else:
            lines.append(line)
    lines.extend("%s\t%s" % (keyword, value) for keyword, value in wanted.items() if keyword not in seen)
    return "\n".join(lines) + "\n"


def login_defs_number(text, keyword, default):
    match = re.search(r"^\s*%s\s+(\d+)" % keyword, text, re.M)
    return int(match.group(1)) if match else default


def human_accounts_to_age(shadow, passwd, uid_min, uid_max, aging):
    """[(user, chage arguments)] for accounts with a usable password whose aging differs.

    Human: uid in [UID_MIN, UID_MAX]; locked (!, *) or empty hashes cannot log in with a
    password, so aging means nothing for them.
    """
    uids = dict((fields[0], int(fields[2])) for fields in (line.split(":") for line in passwd.splitlines())
                if len(fields) > 2 and fields[2].isdigit())
    found = []
    for line in shadow.splitlines():
        fields = line.split(":")
        if len(fields) < 6 or not (uid_min <= uids.get(fields[0], -1) <= uid_max):
            continue
        if not fields[1] or fields[1][0] in "!*":
            continue
        arguments = []
        for keyword, value in aging.items():
            if fields[SHADOW_FIELDS[keyword]] != str(value):
                arguments += [AGING_OPTIONS[keyword], str(value)]
        if arguments:
            found.append((fields[0], arguments))
    return found


def plan_upgrades(area, config_path):
    if not host_facts.find_binary("unattended-upgrade"):
        area.missing_packages.append("unattended-upgrades")
        area.notes.append("unattended-upgrades is not installed: security upgrades are configured once it is")
        return
    area.files.append(textfiles.plan_file(config_path, AUTO_UPGRADES))


def plan_time_sync(area, env):
    if env.in_container:
        area.notes.append("time sync: in a container the host keeps the clock")
        return
    active = [name for name in TIME_DAEMONS if name in env.active_units]
    if active:
        area.report["time_sync"] = active[0]
        return
    if not any(host_facts.stat_path(path) for path in TIMESYNCD):
        area.missing_packages.append("systemd-timesyncd")
        return
    area.report["time_sync"] = "systemd-timesyncd"
    area.actions.append(command("start systemd-timesyncd and enable it at boot",
                                "systemctl", "enable", "--now", "systemd-timesyncd"))


def plan_apparmor(area, env, read):
    if env.in_container:
        area.notes.append("AppArmor: in a container the host's kernel decides")
        return
    enabled = (read("/sys/module/apparmor/parameters/enabled") or "").strip() == "Y"
    profiles = read("/sys/kernel/security/apparmor/profiles") or ""
    area.report["apparmor"] = dict(enabled=enabled, docker_default_loaded="docker-default" in profiles)
    if not enabled:
        area.notes.append("AppArmor is not enabled in the kernel: boot with apparmor=1 security=apparmor")
    elif not host_facts.find_binary("apparmor_parser"):
        # dockerd loads docker-default with apparmor_parser; without it containers do not start.
        area.missing_packages.append("apparmor")
    elif "docker-default" not in profiles:
        area.notes.append("AppArmor is on; docker-default is loaded when dockerd next starts a container")


def plan(settings, env, read=host_facts.read_text):
    area = AreaPlan("basics")
    if settings["unattended_upgrades"]:
        plan_upgrades(area, settings["auto_upgrades_path"])
    if settings["core_dumps_off"]:
        area.files.append(textfiles.plan_file(settings["core_limits_path"], CORE_LIMITS))
        area.files.append(textfiles.plan_file(settings["coredump_conf_path"], COREDUMP_CONF))
    login_defs = read("/etc/login.defs")
    if login_defs is not None and settings["login_defs"]:
        wanted = dict((key, str(value)) for key, value in settings["login_defs"].items())
        area.files.append(textfiles.plan_file("/etc/login.defs", edit_login_defs(login_defs, wanted)))
        aging = dict((key, value) for key, value in wanted.items() if key in AGING_OPTIONS)
        if aging and settings["age_existing_accounts"]:
            accounts = human_accounts_to_age(read("/etc/shadow") or "", read("/etc/passwd") or "",
                                             login_defs_number(login_defs, "UID_MIN", 1000),
                                             login_defs_number(login_defs, "UID_MAX", 60000), aging)
            for user, arguments in accounts:
                area.actions.append(command("password aging of %s: %s" % (user, " ".join(arguments)),
                                            "chage", *(arguments + [user])))
    if settings["time_sync"]:
        plan_time_sync(area, env)
    if settings["apparmor"]:
        plan_apparmor(area, env, read)
    return area
