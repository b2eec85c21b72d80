"""Ordinary workloads on the hardened daemon: the shared checks
(molecule/resources/tests/workload_checks.py), run in every instance."""

from workload_checks import (  # noqa: F401  pylint: disable=unused-import
    published,
    test_a_shell_runs,
    test_a_threaded_http_server_answers_on_a_published_port,
    test_a_web_server_answers_on_a_published_port,
    test_clone3_fails_with_enosys_not_eperm,
    test_ptrace_is_refused,
    test_python_runs,
    test_threads_start,
)
