# -*- coding: utf-8 -*-
"""run_host_audit: both audits over one client give what the two audits give alone, the image audit reads nothing
the container audit already read, bad input of either fails before any call, check mode writes no cache, and an
Engine failure of the image part leaves the container audit's result standing."""

from __future__ import annotations

import copy

import pytest
from docker.errors import APIError, NotFound

from ansible_collections.bulwark.hardening.plugins.module_utils.audit.host_run import SharedReads, run_host_audit
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.image_run import run_image_audit
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.run import AuditError, run_audit
from ansible_collections.bulwark.hardening.plugins.module_utils.engine.connection import CountingClient, EngineError, connection_from

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.images.save_tars import entry, save_of
from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.rule_fixtures import extras, load

SECRET = "Xq7rT2mLp9vK4wZs8bN3cY6d"
KEY = b"-----BEGIN RSA PRIVATE KEY-----\nMIIE" + SECRET.encode() + b"\n-----END RSA PRIVATE KEY-----\n"
# The image every fixture container runs (image.json), and one no container runs.
USED = load("image.json")["Id"]
UNUSED = "sha256:" + "7" * 64
# Scopes that read the Engine, not this machine's host files or packages; operations lists the images.
SCOPES = ["images", "containers", "bulwark", "operations"]


class FakeEngine(object):
    """The APIClient methods both audits use, over the fixture containers and two images (one the containers run,
    one with a private key in its layer). failing: endpoints that answer with an Engine error."""

    def __init__(self, failing=()):
        self.failing = set(failing)
        used = load("image.json")
        unused = copy.deepcopy(used)
        unused.update({"Id": UNUSED, "RepoTags": ["tools:latest"], "RepoDigests": []})
        self.images_data = {USED: used, UNUSED: unused}
        self.layers = {USED: [[entry("bin/sleep", b"x", 0o755)]], UNUSED: [[entry("root/.ssh/id_rsa", KEY, 0o600)]]}
        self.containers_data = dict((data["Id"], data) for data in load("containers.json").values())

    def _answer(self, endpoint):
        if endpoint in self.failing:
            raise APIError("500 Server Error: %s failed" % endpoint)

    def info(self):
        return load("info.json")

    def containers(self, all=False, filters=None):  # pylint: disable=redefined-builtin
        return [{"Id": data["Id"], "Names": [data["Name"]], "Image": data["Image"], "State": data["State"]["Status"],
                 "Created": 1700000000}
                for data in self.containers_data.values() if all or data["State"]["Running"]]

    def inspect_container(self, container_id):
        return self.containers_data[container_id]

    def images(self):
        self._answer("images")
        return [{"Id": data["Id"], "RepoTags": data["RepoTags"] or None, "RepoDigests": [], "Created": 1700000000,
                 "Size": 1000} for data in self.images_data.values()]

    def inspect_image(self, image_id):
        if image_id not in self.images_data:
            raise NotFound("no such image")
        return self.images_data[image_id]

    def history(self, image_id):
        return extras()["history"]

    def get_image(self, image_id):
        self._answer("get_image")
        data = save_of("classic", self.layers[image_id])[0]
        return iter([data[start:start + 1000] for start in range(0, len(data), 1000)])

    def top(self, container_id):
        return extras()["top"]

    def diff(self, container_id):
        return []

    def inspect_network(self, name):
        return load("network_bridge.json")

    def volumes(self):
        return {"Volumes": [], "Warnings": None}


def client_of(engine):
    return CountingClient(connection_from({}), api_factory=lambda version: engine)


def options(tmp_path, name="cache", **more):
    chosen = {"scope": SCOPES, "report": "all", "cache_dir": str(tmp_path / name)}
    chosen.update(more)
    return chosen


def container_part(result):
    return dict((key, result[key]) for key in ("summary", "rules", "findings", "containers", "images") if key in result)


def image_part(result):
    found = dict((key, result[key]) for key in ("summary", "rules", "findings", "images", "scan_errors", "scans_incomplete"))
    found["cache"] = dict((key, value) for key, value in result["cache"].items() if key != "dir")
    return found


def test_both_audits_in_one_run_give_what_each_gives_alone(tmp_path):
    together = run_host_audit(client=client_of(FakeEngine()), **options(tmp_path))
    alone = run_audit(client=client_of(FakeEngine()), scope=SCOPES, report="all")
    images_alone = run_image_audit(client=client_of(FakeEngine()), report="all", cache_dir=str(tmp_path / "alone"))
    assert container_part(together) == container_part(alone)
    assert image_part(together["image_audit"]) == image_part(images_alone)
    assert together["api_calls_by_endpoint"] == alone["api_calls_by_endpoint"]
    failing = set(finding["rule"] for finding in together["image_audit"]["findings"]
                  if finding["target"] == "tools:latest" and finding["status"] == "fail")
    assert "BW-010" in failing  # the layer scan ran: the key in tools:latest's layer
    assert SECRET not in repr(together)


def test_the_image_audit_reads_nothing_the_container_audit_read(tmp_path):
    client = client_of(FakeEngine())
    result = run_host_audit(client=client, **options(tmp_path, image_history=True))
    # The container audit inspected (and read the history of) the image its containers run, and listed the images.
    assert result["api_calls_shared"] == {"images": 1, "inspect_image": 1, "history": 1}
    # The image audit asked only about the image no container runs, and saved both.
    assert result["image_audit"]["api_calls_by_endpoint"] == {"inspect_image": 1, "history": 1, "get_image": 2}
    assert result["image_audit"]["api_calls"] == 4
    # One client: every Engine call is in one audit's count or the other's, never in both.
    assert client.total == result["api_calls"] + result["image_audit"]["api_calls"]
    assert result["image_audit"]["images"] == 2


def test_without_the_image_audit_the_result_is_the_container_audits(tmp_path):
    client = client_of(FakeEngine())
    result = run_host_audit(client=client, image_audit=False, **options(tmp_path))
    assert "image_audit" not in result and "api_calls_shared" not in result
    assert client.total == result["api_calls"] and "get_image" not in client.calls
    assert not (tmp_path / "cache").exists()
    assert container_part(result) == container_part(run_audit(client=client_of(FakeEngine()), scope=SCOPES, report="all"))


@pytest.mark.parametrize("bad,message", [
    ({"scan_max_entries": 0}, "scan_max_entries"),
    ({"scope": ["network"]}, "unknown scope"),
    ({"waivers": [{"rule": "4.99", "reason": "r"}]}, "4.99"),
    ({"level": 3}, "level"),
])
def test_bad_input_of_either_audit_fails_before_any_call(tmp_path, bad, message):
    client = client_of(FakeEngine())
    with pytest.raises(AuditError, match=message):
        run_host_audit(client=client, **dict(options(tmp_path), **bad))
    assert client.total == 0


def test_bad_image_input_is_not_checked_when_the_image_audit_is_left_out(tmp_path):
    result = run_host_audit(client=client_of(FakeEngine()), image_audit=False, **dict(options(tmp_path), scan_max_entries=0))
    assert "image_audit" not in result


def test_an_unknown_option_is_a_type_error(tmp_path):
    with pytest.raises(TypeError, match="layer_scans"):
        run_host_audit(client=client_of(FakeEngine()), layer_scans=False)


def test_check_mode_reads_the_cache_and_writes_none(tmp_path):
    run_host_audit(client=client_of(FakeEngine()), **options(tmp_path))
    cached = sorted(path.name for path in (tmp_path / "cache").iterdir())
    checked = run_host_audit(client=client_of(FakeEngine()), check_mode=True, **options(tmp_path))
    assert checked["image_audit"]["cache"]["hits"] == 2 and checked["image_audit"]["cache"]["written"] == 0
    fresh = run_host_audit(client=client_of(FakeEngine()), check_mode=True, **options(tmp_path, name="never"))
    assert fresh["image_audit"]["cache"]["misses"] == 2 and fresh["image_audit"]["cache"]["written"] == 0
    assert not (tmp_path / "never").exists()
    assert sorted(path.name for path in (tmp_path / "cache").iterdir()) == cached


def test_an_engine_failure_of_the_image_audit_leaves_the_container_audit_standing(tmp_path):
    engine = FakeEngine(failing=["images"])
    result = run_host_audit(client=client_of(engine), **options(tmp_path, scope=["images", "containers"]))
    assert result["image_audit"]["failed"] is True and "images failed" in result["image_audit"]["msg"]
    assert result["image_audit"]["msg"].startswith("image audit: ")
    assert result["containers"] == 3 and result["summary"]["total"] > 0


def test_an_engine_failure_of_the_container_audit_fails_the_run(tmp_path):
    engine = FakeEngine(failing=["images"])
    with pytest.raises(EngineError, match="images failed"):
        run_host_audit(client=client_of(engine), **options(tmp_path))  # scope operations lists the images


def test_shared_reads_hand_out_copies_and_share_only_plain_reads():
    engine = FakeEngine()
    user = engine.images_data[USED]["Config"]["User"]
    shared = SharedReads(client_of(engine))
    first = shared.call("inspect_image", USED)  # the fake hands out its own dict, as the Engine's JSON is the caller's
    first["Config"]["User"] = "changed by the first reader"
    second = shared.call("inspect_image", USED)
    assert second["Config"]["User"] == user
    second["Config"]["User"] = "changed by the second reader"
    assert shared.call("inspect_image", USED)["Config"]["User"] == user
    assert shared.calls["inspect_image"] == 1 and shared.shared == {"inspect_image": 2}
    shared.call("containers", all=True)
    shared.call("containers", all=True)
    assert shared.calls["containers"] == 2  # not a shared read: asked each time
    with pytest.raises(NotFound):
        shared.call("inspect_image", "sha256:" + "0" * 64)
