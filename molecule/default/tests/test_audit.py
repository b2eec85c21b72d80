"""The collection's own audit of each hardened instance proves the hardening,
and the workload the containers role remediated kept its data (shared checks:
molecule/resources/tests/audit_proof.py and remediation_checks.py)."""

from audit_proof import (  # noqa: F401  pylint: disable=unused-import
    audit,
    claimed,
    test_every_rule_the_roles_fix_passes,
    test_every_rule_the_roles_fix_was_decided,
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
