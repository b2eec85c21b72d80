# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""The host role's one round trip: read the host once, plan every area, then change.

Each Ansible task costs seconds on a slow host (principle 11), so the role's
area task files only describe what they want, and this module plans and
applies all of it in one process. Every area is planned before any is
carried out: a refusal (the SSH access preflight, an unreadable file)
stops the run with nothing changed.
"""

from __future__ import annotations

from ansible_collections.bulwark.hardening.plugins.module_utils.audit import gather
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.state import AuditState
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd import paths as daemon_paths
from ansible_collections.bulwark.hardening.plugins.module_utils.host import (
    auditd, basics, docker_group, environment, file_modes, kernel_modules, mounts, ssh, sysctl,
)
from ansible_collections.bulwark.hardening.plugins.module_utils.host.area import HostChangeError, carry_out
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.cis1_host import separate_partition

# In the order they are carried out: kernel first, access (ssh) after the files it could affect.
AREAS = ("sysctl", "kernel_modules", "auditd", "docker_group", "ssh", "file_modes", "basics", "mounts")


def read_host(run):
    """The audit's own view of the host (dockerd's configuration, section 1 facts) and the environment."""
    daemon = gather.read_daemon_config()
    state = AuditState(daemon=daemon, host=gather.read_host_facts(daemon, ["host"]))
    return state, environment.detect(daemon, run)


def plan_area(name, wanted, state, env, request, run):
    if name == "sysctl":
        return sysctl.plan(wanted["settings"], wanted["path"], env)
    if name == "kernel_modules":
        return kernel_modules.plan(wanted["blacklist"], wanted["path"], env)
    if name == "auditd":
        return auditd.plan(state, wanted["path"], wanted["key"], env, run)
    if name == "docker_group":
        return docker_group.plan(state.host.docker_group_name, state.host.docker_gid, state.host.docker_group_members,
                                 wanted.get("allowlist"))
    if name == "ssh":
        return ssh.plan(wanted["settings"], wanted["allow_groups"], wanted["path"], request["connection"],
                        request["connecting_user"], env, run, client_address=wanted.get("client_address"))
    if name == "file_modes":
        return file_modes.plan(wanted["paths"], wanted["exclude"] + [daemon_paths.data_root(state)],
                               wanted["setid_remove"], run)
    if name == "basics":
        return basics.plan(wanted, env)
    if name == "mounts":
        return mounts.plan(wanted["options"], separate_partition(state), env)
    raise ValueError("unknown area %s" % name)


def plan_all(request, state, env, run):
    """AreaPlans of the areas the request names (value None: area not asked for)."""
    return [plan_area(name, request[name], state, env, request, run) for name in AREAS if request.get(name) is not None]


def carry_out_all(plans, run):
    """Carry out the plans in order; a failure names the areas already applied (they stay: each is whole)."""
    done = []
    for plan in plans:
        if plan.skipped is not None:
            continue
        try:
            carry_out(plan, run)
        except HostChangeError as error:
            applied = ", ".join(done) if done else "none"
            raise HostChangeError("%s (areas applied before it: %s; later areas not applied)" % (error, applied))
        if plan.changed:
            done.append(plan.name)


def result_of(plans, env):
    areas = dict((plan.name, plan.summary()) for plan in plans)
    missing = []
    for plan in plans:
        missing.extend(package for package in plan.missing_packages if package not in missing)
    notes = ["%s: %s" % (plan.name, note) for plan in plans for note in plan.notes]
    notes += ["%s: skipped, %s" % (plan.name, plan.skipped) for plan in plans if plan.skipped]
    return dict(
        changed=any(plan.changed for plan in plans),
        areas=areas,
        missing_packages=missing,
        # Only asked when something is missing: the package task must update the lists first.
        package_lists_empty=bool(missing) and environment.package_lists_empty(),
        notes=notes,
        environment=dict(in_container=env.in_container, docker_installed=env.docker_installed,
                         userns_remap=env.userns_remap, active_units=sorted(env.active_units)),
    )


def diff_of(plans):
    """Ansible diff entries: every file that changes, then one entry listing the other actions."""
    entries = [change.diff() for plan in plans for change in plan.files if change.changed]
    actions = ["%s: %s" % (plan.name, action.description) for plan in plans for action in plan.actions]
    if actions:
        entries.append(dict(before_header="actions", after_header="actions", before="",
                            after="".join(line + "\n" for line in actions)))
    return entries
