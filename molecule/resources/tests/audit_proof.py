"""The audit proves the hardening: the collection's own container_audit, run
on the hardened target, must pass every rule the roles claim to fix (a
rule's fixed_by names their variables). Rules the roles leave open on
purpose say why in the rule catalog (left_open), and the audit's report
carries that reason. Shared by the container and VM scenarios: a scenario's
test module imports these tests, which makes pytest run them there."""

import os
import sys

import pytest

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")
sys.path.insert(0, os.path.join(TOP, "tests"))
import farm  # noqa: E402  pylint: disable=wrong-import-position

farm.link()
from ansible_collections.bulwark.hardening.plugins.filter.audit_report import audit_summary_lines  # noqa: E402
from ansible_collections.bulwark.hardening.plugins.module_utils.rules import catalog  # noqa: E402

# The roles harden.yml runs.
HARDENING_ROLES = ("host", "docker_daemon")
# In a container the host role skips the areas that belong to the host's kernel (auditd among
# them), so the rules those areas fix are only claimed on a real (virtual) machine.
KERNEL_AREA_VARIABLES = ("host_auditd_enabled",)
# A fixed rule may also be not applicable on this target (an absent file): info.
FIXED_STATUSES = ("pass", "info")


def claimed_rules(in_container, roles=HARDENING_ROLES):
    """Rules a role fixes (a variable of it in fixed_by) and does not leave open."""
    prefixes = tuple(role + "_" for role in roles)
    return [rule for rule in catalog.all_rules()
            if rule.left_open is None and any(name.startswith(prefixes) for name in rule.fixed_by)
            and not (in_container and set(rule.fixed_by) & set(KERNEL_AREA_VARIABLES))]


@pytest.fixture(scope="module")
def claimed(host):
    return claimed_rules(in_container=host.run("systemd-detect-virt --container").rc == 0)


def audit_target(host, **options):
    """container_audit on the target through Ansible, every finding listed."""
    arguments = " ".join("%s=%s" % item for item in sorted(dict(report="all", **options).items()))
    return host.ansible("bulwark.hardening.container_audit", arguments, check=False, become=True)


@pytest.fixture(scope="module")
def audit(host, probe_container):  # pylint: disable=unused-argument
    # A running container, so the container rules the roles fix (5.22, 5.26) are decided too.
    result = audit_target(host)
    print("\n".join(audit_summary_lines(result, "audit of %s" % host.backend.get_hostname())))
    return result


def _findings_of(audit_result, rule_id):
    return [finding for finding in audit_result["findings"] if finding["rule"] == rule_id]


def test_every_rule_the_roles_fix_passes(audit, claimed):
    wrong = ["%s %s on %s: %s" % (finding["rule"], finding["status"], finding["target"], finding["evidence"])
             for rule in claimed for finding in _findings_of(audit, rule.id)
             if finding["status"] not in FIXED_STATUSES]
    assert wrong == []


def test_every_rule_the_roles_fix_was_decided(audit, claimed):
    undecided = [rule.id for rule in claimed if not _findings_of(audit, rule.id)]
    assert undecided == []
    assert any(finding["status"] == "pass" for rule in claimed for finding in _findings_of(audit, rule.id))


def test_rules_left_open_say_why_in_the_report(audit):
    left_open = dict((rule.id, rule.left_open) for rule in catalog.all_rules() if rule.left_open)
    failing = [finding for finding in audit["findings"] if finding["status"] == "fail" and finding["rule"] in left_open]
    assert [finding["left_open"] for finding in failing] == [left_open[finding["rule"]] for finding in failing]
    # 2.12 (no authorization plugin) and 2.13 (no remote log target) stay open by default.
    assert {"2.12", "2.13"} <= set(finding["rule"] for finding in failing)
