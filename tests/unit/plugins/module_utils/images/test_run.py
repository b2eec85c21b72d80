# -*- coding: utf-8 -*-
"""run_image_audit: selection, the call budget, the cache's effect on calls, waivers, no secret in the result."""

from __future__ import annotations

import copy
import io
import itertools
import json
import tarfile

import pytest
from docker.errors import NotFound

from ansible_collections.bulwark.hardening.plugins.module_utils.audit.run import AuditError
from ansible_collections.bulwark.hardening.plugins.module_utils.engine.connection import CountingClient, connection_from
from ansible_collections.bulwark.hardening.plugins.module_utils.images.run import run_image_audit, select_images

from rule_fixtures import load

SECRET = "Xq7rT2mLp9vK4wZs8bN3cY6d"
KEY = b"-----BEGIN RSA PRIVATE KEY-----\nMIIE" + SECRET.encode() + b"\n-----END RSA PRIVATE KEY-----\n"


def image_id(number):
    return "sha256:" + str(number) * 64


def tar_of(files):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path, data, mode in files:
            info = tarfile.TarInfo(path)
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


class FakeAPI(object):
    """The APIClient methods run_image_audit uses, over three images; records created containers."""

    def __init__(self):
        base = load("image.json")
        self.images_data = {}
        self.filesystems = {}
        for number, (tags, user, files) in enumerate([
            (["app:1.0"], "65534", [("bin/app", b"x", 0o755)]),
            (["tools:latest"], "", [("usr/bin/su", b"x", 0o4755), ("root/.ssh/id_rsa", KEY, 0o600)]),
            (None, "", [("bin/sh", b"x", 0o755)]),
        ], start=1):
            data = copy.deepcopy(base)
            data.update({"Id": image_id(number), "RepoTags": tags or [], "RepoDigests": []})
            data["Config"]["User"] = user
            self.images_data[image_id(number)] = data
            self.filesystems[image_id(number)] = tar_of(files)
        self.created = {}
        self.removed = []
        self.leftovers = []  # scan containers an interrupted run left behind
        self.numbers = itertools.count()

    def containers(self, all=False, filters=None):  # pylint: disable=redefined-builtin
        assert all and filters == {"label": "bulwark.image-scan=1"}
        return [{"Id": container} for container in self.leftovers]

    def images(self):
        return [{"Id": data["Id"], "RepoTags": data["RepoTags"] or None, "RepoDigests": []}
                for data in self.images_data.values()]

    def inspect_image(self, name):
        if name not in self.images_data:
            raise NotFound("no such image")
        return self.images_data[name]

    def history(self, name):
        if name == image_id(2):
            return [{"CreatedBy": "ENV API_TOKEN=" + SECRET}, {"CreatedBy": "ADD file:abc in / "}]
        return [{"CreatedBy": "COPY app /bin/app # buildkit"}]

    def create_container(self, image, **kwargs):
        container = "c%d" % next(self.numbers)  # scans run in two threads: itertools.count is atomic
        self.created[container] = image
        return {"Id": container}

    def export(self, container):
        data = self.filesystems[self.created[container]]
        return iter([data[:1000], data[1000:]])

    def remove_container(self, container, **kwargs):
        self.removed.append(container)


def audit(fake, tmp_path, **options):
    client = CountingClient(connection_from({}), api_factory=lambda version: fake)
    options.setdefault("cache_dir", str(tmp_path / "cache"))
    options.setdefault("report", "all")
    return run_image_audit(client=client, **options)


def failing(result):
    found = {}
    for finding in result["findings"]:
        if finding["status"] == "fail":
            found.setdefault(finding["target"], set()).add(finding["rule"])
    return found


def test_every_image_audited_with_exact_failures_and_the_call_budget(tmp_path):
    fake = FakeAPI()
    result = audit(fake, tmp_path)
    assert result["images"] == 2  # the dangling one is left out
    assert failing(result) == {
        "app:1.0": {"4.6", "BW-005"},
        "tools:latest": {"4.1", "4.6", "4.8", "4.10", "BW-005", "BW-010", "BW-011"},  # the ENV is in history only
    }
    assert result["api_calls_by_endpoint"] == {"images": 1, "containers": 1, "inspect_image": 2, "history": 2,
                                               "create_container": 2, "export": 2, "remove_container": 2}
    assert sorted(fake.removed) == sorted(fake.created)
    assert result["cache"]["misses"] == 2 and result["cache"]["written"] == 2
    assert result["cache"]["bytes_read"] == sum(len(fake.filesystems[image_id(n)]) for n in (1, 2))
    assert SECRET not in json.dumps(result)


def test_second_run_hits_the_cache_without_creating_anything(tmp_path):
    audit(FakeAPI(), tmp_path)
    fake = FakeAPI()
    result = audit(fake, tmp_path)
    assert result["cache"]["hits"] == 2 and result["cache"]["misses"] == 0 and result["cache"]["bytes_read"] == 0
    assert "create_container" not in result["api_calls_by_endpoint"] and "export" not in result["api_calls_by_endpoint"]
    assert fake.created == {}
    assert "BW-010" in failing(result)["tools:latest"]  # decided from the cached scan


def test_scan_containers_left_by_an_interrupted_run_are_removed_first(tmp_path):
    fake = FakeAPI()
    fake.leftovers = ["left-1", "left-2"]
    result = audit(fake, tmp_path)
    assert result["scan_leftovers_removed"] == 2 and fake.removed[:2] == ["left-1", "left-2"]


def test_check_mode_writes_no_cache(tmp_path):
    result = audit(FakeAPI(), tmp_path, write_cache=False)
    assert result["cache"]["written"] == 0 and not (tmp_path / "cache").exists()


def test_without_layer_scan_nothing_is_created_and_file_rules_skip(tmp_path):
    fake = FakeAPI()
    result = audit(fake, tmp_path, layer_scan=False)
    assert fake.created == {} and set(result["api_calls_by_endpoint"]) == {"images", "inspect_image", "history"}
    skipped = set(f["rule"] for f in result["findings"] if f["status"] == "skipped" and f["target"] == "tools:latest")
    assert {"4.8", "BW-010"} <= skipped


def test_dangling_images_with_include_dangling_or_by_id(tmp_path):
    assert audit(FakeAPI(), tmp_path, include_dangling=True)["images"] == 3
    by_id = audit(FakeAPI(), tmp_path, images=[image_id(3)[7:19]])
    assert by_id["images"] == 1 and set(failing(by_id)) == {image_id(3)[7:19]}


def test_waivers_and_bad_input(tmp_path):
    result = audit(FakeAPI(), tmp_path, waivers=[{"rule": "4.6", "target": "app:*", "reason": "batch job"}])
    assert "4.6" not in failing(result)["app:1.0"]
    with pytest.raises(AuditError):
        audit(FakeAPI(), tmp_path, waivers=[{"rule": "4.99", "reason": "x"}])
    with pytest.raises(AuditError):
        audit(FakeAPI(), tmp_path, report="some")


SUMMARIES = [
    {"Id": image_id(1), "RepoTags": ["registry.example.com/team/app:1.0", "app:latest"], "RepoDigests": []},
    {"Id": image_id(2), "RepoTags": ["tools:2"], "RepoDigests": ["docker.io/library/tools@sha256:" + "f" * 64]},
    {"Id": image_id(3), "RepoTags": None, "RepoDigests": None},
    {"Id": image_id(4), "RepoTags": ["<none>:<none>"], "RepoDigests": []},
]


@pytest.mark.parametrize("patterns,dangling,expected", [
    ([], False, [1, 2]),
    ([], True, [1, 2, 3, 4]),
    (["app"], False, [1]),                            # a repository: all its tags
    (["app:latest"], False, [1]),
    (["registry.example.com/*"], False, [1]),
    (["tools"], False, [2]),
    (["docker.io/library/tools@sha256:*"], False, [2]),
    ([image_id(3)[7:19]], False, [3]),                # an id names a dangling image too
    (["sha256:" + "4" * 64], False, [4]),
    (["nothing*"], True, []),
])
def test_select_images(patterns, dangling, expected):
    chosen = select_images(SUMMARIES, patterns, dangling)
    assert [summary["Id"] for summary in chosen] == [image_id(n) for n in expected]


def test_level_1_leaves_out_the_level_2_image_rules(tmp_path):
    result = audit(FakeAPI(), tmp_path, level=1)
    assert failing(result) == {
        "app:1.0": {"4.6"},
        "tools:latest": {"4.1", "4.6", "4.10", "BW-010", "BW-011"},  # not 4.8 (setuid), BW-005 (pinning): Level 2
    }
    assert not set(finding["rule"] for finding in result["findings"]) & {"4.8", "BW-005", "BW-006"}
    assert result["summary"]["level"] == 1 and "4.8" not in result["summary"]["failed_rules"]
    everything = audit(FakeAPI(), tmp_path)
    assert everything["summary"]["level"] == 2
    assert result["summary"]["total"] == sum(1 for finding in everything["findings"] if finding["level"] == 1)


def test_level_1_keeps_waivers_of_level_2_rules_valid(tmp_path):
    result = audit(FakeAPI(), tmp_path, level=1, waivers=[{"rule": "4.8", "reason": "Level 2 only"}])
    assert result["summary"]["by_status"]["waived"] == 0
    with pytest.raises(AuditError, match="level must be one of 1, 2"):
        audit(FakeAPI(), tmp_path, level=3)
