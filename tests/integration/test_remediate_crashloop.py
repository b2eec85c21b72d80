"""Verification catches crash loops and rolls a failing replacement back at once, on the real Engine.

The replacement runs with restart policy `no` while it is verified (a restart policy would hide an exit
behind a restart), must keep its restart count and start time for the grace period, and gets the
original restart policy only then. A replacement that exits is rolled back within a poll (0.5 s): the
service is without a running container for at most its stop time plus 5 s.
"""

import datetime

import pytest

from ansible_collections.bulwark.hardening.tests.integration.remediate_support import clean, engine, entry, remediate, run_container

pytestmark = pytest.mark.integration

PREFIX = "bwrm-loop-"
# Runs under a writable root; read-only (5.13) it serves 0.7 s, then exits 0: under `always` the Engine
# restarts it over and over, Running most of the time.
FLAKY = ["sh", "-c", "if touch /probe 2>/dev/null && rm /probe; then exec sleep infinity; fi; sleep 0.7; exit 0"]
STOP_TIMEOUT = 1
ALLOWED_DOWNTIME = STOP_TIMEOUT + 5


@pytest.fixture(scope="module")
def api():
    client = engine()
    clean(client, PREFIX)
    try:
        yield client
    finally:
        clean(client, PREFIX)


def _moment(text):
    """An Engine timestamp (nanoseconds, Z) as an aware datetime."""
    head, _dot, fraction = text.rstrip("Z").partition(".")
    return datetime.datetime.strptime(head, "%Y-%m-%dT%H:%M:%S").replace(
        microsecond=int((fraction + "000000")[:6]), tzinfo=datetime.timezone.utc)


def test_a_replacement_in_a_crash_loop_is_rolled_back_quickly(api, tmp_path):
    name = PREFIX + "flaky"
    old_id = run_container(api, name, command=FLAKY, restart_policy={"Name": "always"},
                           config={"stop_timeout": STOP_TIMEOUT})
    started_before = api.inspect_container(old_id)["State"]["StartedAt"]
    run = remediate({"containers": [name], "rules": ["5.13"], "policy": {"recreate": True}, "grace_period": 5},
                    tmp_path)
    item = entry(run.result, name)
    assert item["status"] == "rolled_back", item
    assert "exit" in item["detail"] or "restart" in item["detail"], item["detail"]
    data = api.inspect_container(name)
    assert data["Id"] == old_id and data["State"]["Running"]
    assert data["HostConfig"]["RestartPolicy"]["Name"] == "always"
    # Down from the old container's stop until it ran again.
    stopped, restarted = _moment(data["State"]["FinishedAt"]), _moment(data["State"]["StartedAt"])
    assert data["State"]["StartedAt"] != started_before
    downtime = (restarted - stopped).total_seconds()
    print("\nfailed replacement: service without a running container for %.2f s (stop timeout %d s)"
          % (downtime, STOP_TIMEOUT))
    assert 0 < downtime <= ALLOWED_DOWNTIME


def test_a_good_replacement_gets_the_restart_policy_back_after_verification(api, tmp_path):
    name = PREFIX + "steady"
    run_container(api, name, command=["sh", "-c", "exec sleep infinity"],
                  restart_policy={"Name": "on-failure", "MaximumRetryCount": 3})
    run = remediate({"containers": [name], "rules": ["5.26"], "policy": {"recreate": True}}, tmp_path)
    assert entry(run.result, name)["status"] == "changed"
    data = api.inspect_container(name)
    assert data["HostConfig"]["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    assert data["RestartCount"] == 0 and data["State"]["Running"]
