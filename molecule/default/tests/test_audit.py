"""The collection's own audit of each hardened instance proves the hardening,
and the workload the containers role remediated kept its data (shared checks:
molecule/resources/tests/audit_proof.py and remediation_checks.py).

The instances ran a Compose app before harden (the brownfield run), so the
roles leave some rules open here, and the audit must say why
(expected_left_open, read by audit_proof)."""

import re

import pytest

from audit_proof import (  # noqa: F401  pylint: disable=unused-import
    audit,
    claimed,
    test_every_rule_the_roles_fix_passes,
    test_every_rule_the_roles_fix_was_decided,
    test_rules_left_open_on_this_target_fail_with_their_reason,
    test_rules_left_open_say_why_in_the_report,
    test_the_containers_role_claims_rules_of_the_workload,
)
from remediation_checks import (  # noqa: F401  pylint: disable=unused-import
    test_live_fixes_are_in_place,
    test_recreate_fixes_are_in_place,
    test_the_root_filesystem_is_read_only_and_tmp_writable,
    test_the_workload_runs_under_its_name_with_its_label,
    test_the_workload_was_replaced_and_its_volume_data_kept,
    workload,
)


def test_user_namespaces_are_left_open_with_what_they_would_hide(audit):
    # CIS v1.8's 2.10 (v1.6's 2.9): the audit speaks v1.8 by default.
    assert audit["summary"]["cis_version"] == "1.8"
    (finding,) = [finding for finding in audit["findings"] if finding["rule"] == "2.10"]
    assert finding["title"] == "Enable user namespace support", finding
    assert finding["status"] == "fail", finding
    assert re.search(r"\d+ containers?\b", finding.get("left_open") or ""), finding


@pytest.fixture(scope="module")
def expected_left_open():
    """The brownfield app runs from images built on the instance since before harden: remapping would hide it
    (2.9), content trust would refuse its images (4.5), and dockerd keeps the default bridge's icc for the
    containers that ran across its restart (2.2, pending). Canonical (CIS v1.6) ids, as audit_proof compares them:
    2.9 is v1.8's 2.10."""
    return frozenset(["2.2", "2.9", "4.5"])
