# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only (molecule/vm/tests/test_ssh_preflight.py): the ssh area of host_harden, planned for several
candidate drop-ins in one round trip, with the real sshd of the VM answering. Plans only, never applies:
each case is exactly what host_harden does in check mode with that case's ssh option alone."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: bulwark_ssh_preflight_cases
short_description: Test-only - the ssh area's plan and access preflight for several cases in one call
description:
  - Reads the host once, as host_harden does, then plans its ssh area for each case (the preflight included)
    and returns each plan's access report or the refusal. Nothing is written or reloaded.
options:
  connection:
    description: As host_harden's connection.
    type: str
    default: ssh
  cases:
    description: Each with name, connecting_user and ssh (host_harden's ssh option).
    type: list
    elements: dict
    required: true
author:
  - bulwark.hardening contributors (@bulwark)
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.bulwark.hardening.plugins.module_utils.host import harden
from ansible_collections.bulwark.hardening.plugins.module_utils.host.area import HostChangeError


def plan_case(case, connection, state, env, run):
    request = dict(connection=connection, connecting_user=case["connecting_user"], ssh=case["ssh"])
    try:
        [plan] = harden.plan_all(request, state, env, run)
    except HostChangeError as error:
        return dict(refused=str(error))
    return dict(refused=None, changed=plan.changed, skipped=plan.skipped, notes=plan.notes,
                access=plan.report.get("access"))


def main():
    module = AnsibleModule(argument_spec=dict(connection=dict(type="str", default="ssh"),
                                              cases=dict(type="list", elements="dict", required=True)),
                           supports_check_mode=True)

    def run(argv):
        try:
            return module.run_command(argv, environ_update=dict(LC_ALL="C"), handle_exceptions=False)
        except OSError as error:
            return 127, "", "%s: %s" % (argv[0], error.strerror or error)

    state, env = harden.read_host(run)
    results = dict((case["name"], plan_case(case, module.params["connection"], state, env, run))
                   for case in module.params["cases"])
    module.exit_json(changed=False, cases=results)


if __name__ == "__main__":
    main()
