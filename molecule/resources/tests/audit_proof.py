"""The audit proves the hardening: the collection's own container_audit, run
on the hardened target, must pass every rule the roles claim to fix (a
rule's fixed_by names their variables). Rules the roles leave open on
purpose say why in the rule catalog (left_open), and the audit's report
carries that reason. Some rules the roles leave open only on some targets (on
a host that already runs containers: user namespaces, content trust, and
what dockerd cannot apply while they run); a scenario's test module names
those it expects (the expected_left_open fixture, none by default): exactly
those are left open there, each finding with its reason. Shared by the
container and VM scenarios: a scenario's test module imports these tests,
which makes pytest run them there.

Rules are named by their canonical (CIS v1.6) ids here, as in fixed_by and the
roles' tags; the audit reports the ids of its cis_version (summary.cis_version,
v1.8 by default), which canonical_id translates back."""

import os
import sys

import pytest

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")
sys.path.insert(0, os.path.join(TOP, "tests"))
import farm  # noqa: E402  pylint: disable=wrong-import-position

farm.link()
from ansible_collections.bulwark.hardening.plugins.filter.audit_report import audit_summary_lines  # noqa: E402
from ansible_collections.bulwark.hardening.plugins.module_utils.rules import catalog  # noqa: E402
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.findings import expand_all  # noqa: E402

# The roles harden.yml runs.
HARDENING_ROLES = ("host", "docker_daemon", "containers")
# The containers role fixes the containers that exist when it runs: in converge.yml, the workload
# remediate.yml hardens (live and, through the scenario's override, recreate fixes). The verify
# fixtures start other containers later (bulwark-verify-probe, ...), which no role ever touched, so
# a rule only the containers role claims is asserted on the workload alone; a rule another role
# claims too (5.22, 5.26 through the daemon) still on every container.
WORKLOAD_ROLES = ("containers",)
WORKLOAD_CONTAINER = "bulwark-workload"  # converge.yml starts it
# In a container the host role skips the areas that belong to the host's kernel (auditd among
# them), so the rules those areas fix are only claimed on a real (virtual) machine.
KERNEL_AREA_VARIABLES = ("host_auditd_enabled",)
# A fixed rule may also be not applicable on this target (an absent file): info. On the workload,
# also skipped as not applicable (5.2 where the daemon applies no AppArmor, as in a container).
FIXED_STATUSES = ("pass", "info")
NOT_APPLICABLE = "not applicable"


def claiming_roles(rule, roles=HARDENING_ROLES):
    """The roles that claim a rule: a variable of theirs is in its fixed_by."""
    return [role for role in roles if any(name.startswith(role + "_") for name in rule.fixed_by)]


def claimed_rules(in_container, roles=HARDENING_ROLES):
    """Rules a role fixes (a variable of it in fixed_by) and does not leave open."""
    return [rule for rule in catalog.all_rules()
            if rule.left_open is None and claiming_roles(rule, roles)
            and not (in_container and set(rule.fixed_by) & set(KERNEL_AREA_VARIABLES))]


def workload_only(rule):
    """Only the containers role claims it: decided on the workload alone."""
    return set(claiming_roles(rule)) <= set(WORKLOAD_ROLES)


def is_fixed(rule, finding, expected_left_open=()):
    if finding["status"] in FIXED_STATUSES:
        return True
    if rule.id in expected_left_open and finding.get("left_open"):
        return True  # left open on this target, on purpose, and the report says why
    return workload_only(rule) and finding["status"] == "skipped" and finding["evidence"].startswith(NOT_APPLICABLE)


@pytest.fixture(scope="module")
def expected_left_open():
    """The claimed rules the roles leave open on this scenario's targets, with the reason in the finding:
    none on a fresh host. A scenario's test module defines its own fixture of this name to name them."""
    return frozenset()


@pytest.fixture(scope="module")
def claimed(host):
    return claimed_rules(in_container=host.run("systemd-detect-virt --container").rc == 0)


def audit_target(host, **options):
    """container_audit on the target through Ansible, every finding listed with its rule's fields."""
    arguments = " ".join("%s=%s" % item for item in sorted(dict(report="all", **options).items()))
    result = host.ansible("bulwark.hardening.container_audit", arguments, check=False, become=True)
    if "findings" in result:
        # Each finding with its rule's title, fix and reason (the module lists each rule once, in result["rules"]).
        result["findings"] = expand_all(result)
    return result


@pytest.fixture(scope="module")
def audit(host, probe_container):  # pylint: disable=unused-argument
    # A running container, so the container rules the roles fix (5.22, 5.26) are decided too.
    result = audit_target(host)
    print("\n".join(audit_summary_lines(result, "audit of %s" % host.backend.get_hostname())))
    return result


def canonical_id(audit_result, finding):
    """The canonical (v1.6) id of a finding's rule, which the audit named in its summary's cis_version."""
    return catalog.ids_in(audit_result["summary"]["cis_version"])[finding["rule"]]


def _findings_of(audit_result, rule):
    """The findings that decide a claimed rule: the workload's alone for the containers role's rules."""
    return [finding for finding in audit_result["findings"] if canonical_id(audit_result, finding) == rule.id
            and (not workload_only(rule) or finding["target"] == WORKLOAD_CONTAINER)]


def test_every_rule_the_roles_fix_passes(audit, claimed, expected_left_open):
    wrong = ["%s %s on %s: %s" % (finding["rule"], finding["status"], finding["target"], finding["evidence"])
             for rule in claimed for finding in _findings_of(audit, rule)
             if not is_fixed(rule, finding, expected_left_open)]
    assert wrong == []


def test_rules_left_open_on_this_target_fail_with_their_reason(audit, claimed, expected_left_open):
    # Exactly the scenario's: a claimed rule the roles leave open here fails with the reason in its finding,
    # and no other claimed rule is left open.
    left_open = sorted(set(rule.id for rule in claimed for finding in _findings_of(audit, rule)
                           if finding["status"] == "fail" and finding.get("left_open")))
    assert left_open == sorted(expected_left_open)
    without_reason = ["%s on %s: %s" % (finding["rule"], finding["target"], finding["evidence"])
                      for finding in audit["findings"] if canonical_id(audit, finding) in expected_left_open
                      and finding["status"] not in FIXED_STATUSES and not finding.get("left_open")]
    assert without_reason == []


def test_every_rule_the_roles_fix_was_decided(audit, claimed):
    undecided = [rule.id for rule in claimed if not _findings_of(audit, rule)]
    assert undecided == []
    assert any(finding["status"] == "pass" for rule in claimed for finding in _findings_of(audit, rule))


def test_the_containers_role_claims_rules_of_the_workload(claimed):
    # Guards the split above: the containers role claims live and recreate rules, decided on the workload.
    assert {"5.11", "5.13", "BW-008"} <= set(rule.id for rule in claimed if workload_only(rule))


def test_rules_left_open_say_why_in_the_report(audit):
    left_open = dict((rule.id, rule.left_open) for rule in catalog.all_rules() if rule.left_open)
    failing = [finding for finding in audit["findings"]
               if finding["status"] == "fail" and canonical_id(audit, finding) in left_open]
    assert [finding["left_open"] for finding in failing] == [left_open[canonical_id(audit, finding)] for finding in failing]
    # v1.6's 2.12 (no authorization plugin) and 2.13 (no remote log target) stay open by default: 2.13 and 2.14 in
    # v1.8, the audit's default.
    assert audit["summary"]["cis_version"] == "1.8"
    assert {"2.13", "2.14"} <= set(finding["rule"] for finding in failing)
    assert {"2.12", "2.13"} <= set(canonical_id(audit, finding) for finding in failing)
