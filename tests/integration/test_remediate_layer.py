"""A recreate never drops what a container wrote outside its volumes (its writable layer), on the real Engine.

A replacement starts from the image: files the old container added, changed or deleted in its own layer
would be gone (or back). Such a recreate is refused, naming the paths, unless every changed path is
disposable per policy.disposable_paths (scratch and cache paths by default).
"""

import pytest

from ansible_collections.bulwark.hardening.tests.integration.remediate_support import clean, engine, entry, remediate, run_container

pytestmark = pytest.mark.integration

PREFIX = "bwrm-layer-"
SERVICE = ["sh", "-c", "exec sleep infinity"]


@pytest.fixture(scope="module")
def api():
    client = engine()
    clean(client, PREFIX)
    try:
        yield client
    finally:
        clean(client, PREFIX)


def _service(api, name, script):
    container_id = run_container(api, PREFIX + name, command=SERVICE)
    run = api.exec_create(container_id, ["sh", "-c", script])
    api.exec_start(run["Id"])
    assert api.exec_inspect(run["Id"])["ExitCode"] == 0
    return container_id


def _recreate(name, state_dir, check=False, **policy):
    return remediate({"containers": [PREFIX + name], "rules": ["5.26"], "policy": dict({"recreate": True}, **policy)},
                     state_dir, check=check)


def test_data_in_the_writable_layer_refuses_the_recreate(api, tmp_path):
    old_id = _service(api, "data", "mkdir -p /srv/orders && echo 42 > /srv/orders/1.json && echo x > /data/note")
    run = _recreate("data", tmp_path)
    item = entry(run.result, PREFIX + "data")
    assert item["action"] == "none" and item["status"] == "unchanged", item
    [reason] = [skip["reason"] for skip in item["skipped"] if skip["rule"] == "5.26"]
    assert "writable layer" in reason and "/srv/orders/1.json" in reason and "/data/note" in reason, reason
    assert "disposable_paths" in reason
    assert api.inspect_container(PREFIX + "data")["Id"] == old_id
    assert run.result["changed"] is False and not run.result.get("failed")


def test_check_mode_shows_the_same_refusal(api, tmp_path):
    run = _recreate("data", tmp_path, check=True)
    item = entry(run.result, PREFIX + "data")
    assert item["action"] == "none" and "/srv/orders/1.json" in item["skipped"][0]["reason"]
    assert {"rule": "5.26", "target": PREFIX + "data", "reason": item["skipped"][0]["reason"]} in run.result["not_fixed"]


def test_a_deleted_image_file_refuses_the_recreate_too(api, tmp_path):
    _service(api, "deleted", "rm /etc/group")
    item = entry(_recreate("deleted", tmp_path).result, PREFIX + "deleted")
    assert item["action"] == "none" and "deleted /etc/group" in item["skipped"][0]["reason"]


def test_scratch_and_cache_paths_are_disposable_by_default(api, tmp_path):
    old_id = _service(api, "scratch", "echo x > /tmp/a; mkdir -p /var/cache/app /run/app /srv/py/__pycache__; "
                                      "echo y > /var/cache/app/b; echo z > /run/app/pid; echo c > /srv/py/__pycache__/m.pyc")
    run = _recreate("scratch", tmp_path)
    item = entry(run.result, PREFIX + "scratch")
    assert item["status"] == "changed", item
    assert api.inspect_container(PREFIX + "scratch")["Id"] != old_id


def test_the_policy_names_more_disposable_paths(api, tmp_path):
    old_id = _service(api, "spool", "mkdir -p /srv/spool && echo x > /srv/spool/job")
    run = _recreate("spool", tmp_path, disposable_paths=["/srv/spool"])
    assert entry(run.result, PREFIX + "spool")["status"] == "changed"
    assert api.inspect_container(PREFIX + "spool")["Id"] != old_id


def test_only_one_changes_call_per_recreate_candidate(api, tmp_path):
    for index in range(3):
        run_container(api, PREFIX + "quiet-%d" % index, command=SERVICE)
    run = remediate({"containers": [PREFIX + "quiet-*"], "rules": ["5.26", "5.12"],
                     "policy": {"recreate": True, "cpu_shares": 512}}, tmp_path, check=True)
    # 3 recreate candidates (5.26 fails on each), one /changes call each; the live-only fixes need none.
    assert run.result["api_calls_by_endpoint"].get("diff") == 3, run.result["api_calls_by_endpoint"]
    live = remediate({"containers": [PREFIX + "quiet-*"], "rules": ["5.12"], "policy": {"cpu_shares": 512}}, tmp_path,
                     check=True)
    assert "diff" not in live.result["api_calls_by_endpoint"]
